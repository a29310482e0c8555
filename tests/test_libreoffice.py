"""Tests for the headless LibreOffice driver (recalculation and PDF export)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from sheetnet.engines import libreoffice
from sheetnet.engines.libreoffice import LibreOfficeError, find_soffice, recalculate, to_pdf
from tests.conftest import IN_CI, needs_libreoffice

pytestmark = [pytest.mark.libreoffice, needs_libreoffice]


def _planted(path: Path) -> Path:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write("A1", 2)
    ws.write_formula("B1", "=A1*3", None, 123)  # deliberately wrong cached value
    ws.write("C1", "sheetnet-pdf-probe")
    wb.close()
    return path


def _values(path: Path, column: str, rows: range) -> list:
    ws = openpyxl.load_workbook(path, data_only=True).active
    return [ws[f"{column}{r}"].value for r in rows]


def test_soffice_is_available() -> None:
    assert find_soffice() is not None


def test_recalculate_replaces_planted_cached_value(tmp_path: Path) -> None:
    src = _planted(tmp_path / "planted.xlsx")
    assert _values(src, "B", range(1, 2)) == [123]  # the file really stores the wrong value
    out = recalculate(src, tmp_path / "out" / "recalc.xlsx")
    assert out == tmp_path / "out" / "recalc.xlsx"
    assert _values(out, "B", range(1, 2)) == [6]
    assert openpyxl.load_workbook(out)["Sheet1"]["B1"].value == "=A1*3"  # formula kept


def test_recalculate_nonlinear_chain_matches_python(tmp_path: Path) -> None:
    src = tmp_path / "chain.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet()
    ws.write("A1", 0.5)
    for n in range(2, 51):
        ws.write_formula(f"A{n}", f"=A{n - 1}*1.01+EXP(-A{n - 1})", None, 0)
    wb.close()
    expected = [0.5]
    for _ in range(49):
        expected.append(expected[-1] * 1.01 + math.exp(-expected[-1]))
    got = _values(recalculate(src, tmp_path / "chain_out.xlsx"), "A", range(1, 51))
    # LibreOffice 7.4 stores 15 significant digits, hence a tolerance rather than equality.
    for g, e in zip(got, expected, strict=True):
        assert g == pytest.approx(e, rel=1e-12, abs=0)


def test_custom_property_survives_recalculation(tmp_path: Path) -> None:
    src = tmp_path / "props.xlsx"
    wb = xlsxwriter.Workbook(src)
    wb.add_worksheet().write_formula("A1", "=1+1", None, 0)
    wb.set_custom_property("sheetnet", "x")
    wb.close()
    props = openpyxl.load_workbook(recalculate(src, tmp_path / "o.xlsx")).custom_doc_props
    assert {p.name: p.value for p in props.props}.get("sheetnet") == "x"


def test_to_pdf_contains_cell_text(tmp_path: Path) -> None:
    out = to_pdf(_planted(tmp_path / "planted.xlsx"), tmp_path / "sheet.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) not installed")
        pytest.skip("pdftotext not installed")
    text = subprocess.run(
        [pdftotext, str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "sheetnet-pdf-probe" in text
    assert "123" not in text  # the PDF shows the recomputed value, not the planted one


@pytest.mark.parametrize("how", ["patched", "env"])
def test_missing_soffice_raises_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "patched":
        monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    else:
        monkeypatch.setenv("SHEETNET_SOFFICE", str(tmp_path / "no-such-soffice"))
    src = _planted(tmp_path / "planted.xlsx")
    with pytest.raises(LibreOfficeError) as info:
        recalculate(src, tmp_path / "never.xlsx")
    message = str(info.value)
    assert "\n" not in message
    assert "LibreOffice" in message and "--engine formulas" in message
    assert not (tmp_path / "never.xlsx").exists()


def test_unloadable_input_raises(tmp_path: Path) -> None:
    src = tmp_path / "garbage.xlsx"
    src.write_bytes(b"this is not a zip file")
    with pytest.raises(LibreOfficeError) as info:
        recalculate(src, tmp_path / "never.xlsx")
    assert "\n" not in str(info.value)
