"""Printing: page setup on every sheet, and the PDF through LibreOffice (`--pdf`, `sheetnet pdf`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import LibreOfficeError
from sheetnet.errors import SheetnetError
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout, printing
from sheetnet.sheets.context import BuildOptions
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.writer import build_workbook
from tests.conftest import IN_CI, build, needs_libreoffice

runner = CliRunner()
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils (pdftotext) not installed"
)


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


# --- page setup --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "paper", "code"), [("en", "a4", 9), ("zh", "letter", 1)])
def test_every_sheet_is_set_up_for_printing(tmp_path: Path, lang: str, paper: str, code: int) -> None:
    spec = load_template("seed-004-2-2-2")
    wb = openpyxl.load_workbook(build(tmp_path, spec, lang=lang, paper=paper))
    words = STRINGS[lang]
    assert len(wb.worksheets) >= 3
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert int(setup.paperSize) == code, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert int(setup.fitToHeight) == 0, ws.title  # as many pages tall as it takes
        assert ws.oddHeader.left.text == spec.in_language(lang).title
        assert ws.oddHeader.right.text == "&A"  # the sheet's name
        assert ws.oddFooter.center.text == words["print.page"]
        assert ws.page_margins.left == 0.5 and ws.page_margins.header == 0.3
    assert wb[words["sheet.guide"]].page_setup.orientation == "portrait"
    training = wb[words["sheet.training"]]
    assert training.page_setup.orientation == "landscape"
    assert training.print_title_rows == f"${layout.BAND_ROW}:${layout.ID_ROW}"
    assert training.print_title_cols == "$A:$A"
    # 37 columns of 96 pixels: 1 page wide would be a 29% scale, so 2 pages wide (58%), read across
    assert int(training.page_setup.fitToWidth) == 2
    assert training.page_setup.pageOrder == "overThenDown"
    footer = {"en": "Page &P of &N", "zh": "第 &P 页，共 &N 页"}[lang]
    assert training.oddFooter.center.text == footer


def test_narrow_training_sheet_fits_one_page_wide(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(build(tmp_path, "seed-003-single-update"))
    setup = wb["Training"].page_setup
    assert setup.fitToWidth in (None, 1)  # 1 is the default, which openpyxl reads as None
    assert wb["Training"].sheet_properties.pageSetUpPr.fitToPage


def test_pages_wide_keeps_half_scale() -> None:
    printable = printing.printable_pixels(9, landscape=True)
    assert round(printable) == round((11.69 - 1) * 96)
    assert printing.pages_wide(500, printable) == 1
    assert printing.pages_wide(2 * printable, printable) == 1  # exactly 50%
    assert printing.pages_wide(2 * printable + 10, printable) == 2
    assert printing.pages_wide(5 * printable, printable) == 3
    assert printing.printable_pixels(1, landscape=False) == (8.5 - 1) * 96


def test_page_header_escapes_and_fits() -> None:
    assert printing.page_header("x & y") == "&Lx && y&R&A"
    long = printing.page_header("w" * 400)
    assert len(long) <= printing.HEADER_LIMIT and long.endswith("…&R&A")


def test_title_with_ampersand_reads_back(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(title="Tom & Jerry")
    ws = openpyxl.load_workbook(build(tmp_path, spec)).worksheets[0]
    assert ws.oddHeader.left.text.replace("&&", "&") == "Tom & Jerry"


# --- bad input ------------------------------------------------------------------------------


def test_bad_paper_fails_before_writing(tmp_path: Path) -> None:
    with pytest.raises(SheetnetError, match="paper size 'b5'"):
        build_workbook(load_template("seed-004-2-2-2"), tmp_path / "x.xlsx", options=BuildOptions(paper="b5"))
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_paper(tmp_path: Path) -> None:
    result = invoke("build", tmp_path / "x.xlsx", "--paper", "b5")
    assert_one_line_error(result, "b5", "a4", "letter")
    assert list(tmp_path.iterdir()) == []


def test_cli_pdf_without_libreoffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETNET_SOFFICE", str(tmp_path / "no-such-soffice"))
    result = invoke("build", tmp_path / "x.xlsx", "--pdf", tmp_path / "x.pdf")
    assert_one_line_error(result, "LibreOffice")
    assert list(tmp_path.iterdir()) == []  # neither the PDF nor the workbook
    workbook = build(tmp_path, "seed-003-single-update")
    result = invoke("pdf", workbook, tmp_path / "y.pdf")
    assert_one_line_error(result, "LibreOffice")
    assert sorted(p.name for p in tmp_path.iterdir()) == [workbook.name]


def test_cli_pdf_bad_paths(tmp_path: Path) -> None:
    assert_one_line_error(invoke("pdf", tmp_path / "missing.xlsx", tmp_path / "y.pdf"), "missing.xlsx")
    workbook = build(tmp_path, "seed-003-single-update")
    assert_one_line_error(invoke("pdf", workbook, tmp_path / "y.png"), ".pdf")
    assert_one_line_error(invoke("pdf", workbook, tmp_path / "no" / "y.pdf"), "does not exist")


def test_failed_export_leaves_no_partial_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = build(tmp_path, "seed-003-single-update")
    old = tmp_path / "old.pdf"
    old.write_bytes(b"%PDF old")

    def half_written(src: Path, dst: Path, **_: Any) -> Path:
        Path(dst).write_bytes(b"%PDF-1.7 trunc")
        raise LibreOfficeError("LibreOffice failed on out.xlsx (1): crashed")

    monkeypatch.setattr(printing, "to_pdf", half_written)
    with pytest.raises(SheetnetError, match="crashed"):
        printing.export_pdf(workbook, tmp_path / "new.pdf")
    with pytest.raises(SheetnetError):
        printing.export_pdf(workbook, old)
    assert old.read_bytes() == b"%PDF old"  # an existing PDF survives a failed export
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([workbook.name, old.name])


# --- through LibreOffice ----------------------------------------------------------------------


def pdf_text(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


@pytest.mark.libreoffice
@needs_libreoffice
@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_shows_title_and_first_equations(tmp_path: Path, lang: str) -> None:
    xlsx, pdf = tmp_path / "out.xlsx", tmp_path / "out.pdf"
    result = invoke("build", xlsx, "--iters", "100", "--lang", lang, "--pdf", pdf)
    assert result.exit_code == 0, result.output
    assert f"wrote {pdf}" in result.stdout
    words = STRINGS[lang]
    first_page = pdf_text(pdf, 1)
    assert load_template("seed-004-2-2-2").in_language(lang).title in first_page
    assert words["sheet.guide"] in first_page  # the page header names the sheet
    assert words["print.page"].replace("&P", "1").replace("&N", pdf_info(pdf)["Pages"].strip()) in first_page
    guide = pdf_text(pdf, 1, 2)
    for text in ("z₃ = w₃₁·x₁ + w₃₂·x₂ + b₃", "a₃ = σ(z₃)", "δ₅ = (a₅ − t₁)·a₅·(1 − a₅)",
                 words["guide.chain_heading"]):
        assert text in guide
    assert "595" in pdf_info(pdf)["Page size"]  # A4: 595 × 842 points
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf", "out.xlsx"]


@pytest.mark.libreoffice
@needs_libreoffice
@needs_poppler
def test_pdf_of_1000_iterations_on_letter(tmp_path: Path) -> None:
    xlsx, pdf = tmp_path / "big.xlsx", tmp_path / "big.pdf"
    assert invoke("build", xlsx, "--iters", "1000", "--paper", "letter").exit_code == 0
    result = invoke("pdf", xlsx, pdf, "--all")
    assert result.exit_code == 0, result.output
    info = pdf_info(pdf)
    pages = int(info["Pages"])
    print(f"1000 iterations of the 2-2-2 network: {pages} pages, {pdf.stat().st_size} bytes")
    assert "612 x 792" in info["Page size"]  # Letter
    assert 10 <= pages <= 80
    # the repeated header rows and iteration column label every Training page
    texts = [pdf_text(pdf, n) for n in range(1, pages + 1)]
    training = [text for text in texts if text.lstrip().split("\n", 1)[0].rstrip().endswith("Training")]
    assert len(training) >= 4
    for text in training:
        assert re.search(r"^\s*iter\s", text, re.MULTILINE), text[:500]  # the id row's first cell


@pytest.mark.libreoffice
@needs_libreoffice
@needs_poppler
def test_handout_of_1000_iterations_is_a_few_pages(tmp_path: Path) -> None:
    """build --pdf and plain `sheetnet pdf` print the handout: Training's first page only."""
    xlsx, pdf = tmp_path / "big.xlsx", tmp_path / "big.pdf"
    result = invoke("build", xlsx, "--iters", "1000", "--compare-lr", "0.1,2", "--pdf", pdf)
    assert result.exit_code == 0, result.output
    pages = int(pdf_info(pdf)["Pages"])
    print(f"handout of 1000 iterations: {pages} pages")
    assert 5 <= pages <= 12
    names = [pdf_text(pdf, n).lstrip().split("\n", 1)[0].split()[-1] for n in range(1, pages + 1)]
    assert {"Guide", "Network", "Training", "Working", "Charts", "Summary"} <= set(names)
    assert "rates" not in names  # the learning-rate sheet is left out
    training = "".join(pdf_text(pdf, n) for n, name in enumerate(names, 1) if name == "Training")
    rows = re.findall(r"^\s*(\d+)\s+-?\d\.\d", training, re.MULTILINE)
    assert rows[:2] == ["0", "1"] and int(rows[-1]) == printing.FIRST_PAGE_ITERATIONS - 1
    again = tmp_path / "again.pdf"
    assert invoke("pdf", xlsx, again).exit_code == 0
    assert int(pdf_info(again)["Pages"]) == pages


def test_handout_copy_hides_long_sheets_and_cuts_training(tmp_path: Path) -> None:
    import zipfile

    for lang, training in (("en", "Training"), ("zh", "训练")):
        xlsx = tmp_path / f"{lang}.xlsx"
        invoke("build", xlsx, "--iters", "300", "--lang", lang, "--compare-lr", "0.1,2")
        copy = printing.handout_copy(xlsx, tmp_path / f"{lang}-handout.xlsx")
        book = zipfile.ZipFile(copy).read("xl/workbook.xml").decode("utf-8")
        hidden = re.findall(r'<sheet name="([^"]*)" sheetId="\d+" state="hidden"', book)
        assert hidden == [STRINGS[lang]["sheet.compare"]]
        last = 3 + printing.FIRST_PAGE_ITERATIONS
        assert re.search(rf"_xlnm.Print_Area[^>]*>'{training}'!\$A\$1:\$[A-Z]+\${last}<", book), book
        original = zipfile.ZipFile(xlsx)
        assert sorted(zipfile.ZipFile(copy).namelist()) == sorted(original.namelist())
        assert "Print_Area" not in original.read("xl/workbook.xml").decode("utf-8")
