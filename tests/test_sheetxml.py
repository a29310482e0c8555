"""The one-pass sheet reader (verify/sheetxml.py) gives exactly openpyxl's values, or declines.

And the check it serves still proves every cell: one cell tampered in a 10,000-iteration
workbook (edited in the XML, so that the fast reader is the one that reads it) is caught.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from sheetnet.model import ids
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify import sheetxml
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from sheetnet.verify.stored import stored_formula_values
from tests.conftest import TEMPLATES, build


def openpyxl_cells(ws, n_rows: int, n_columns: int) -> np.ndarray:
    """What openpyxl's read-only iter_rows gives, rows 1..n_rows, columns 1..n_columns."""
    cells = np.full((n_rows, n_columns), None, dtype=object)
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=n_rows, max_col=n_columns, values_only=True)):
        cells[r, : len(row)] = row
    return cells


def fast_cells(ws, n_rows: int, n_columns: int) -> np.ndarray | None:
    book = ws.parent
    with ws._get_source() as source:
        return sheetxml.read_cells(source, first_row=1, n_rows=n_rows, n_columns=n_columns,
                                   shared_strings=ws._shared_strings, data_only=book.data_only,
                                   date_styles=set(book._date_formats))


def assert_same_cells(path: Path, *, data_only: bool = False) -> int:
    """Every sheet of the workbook read both ways; returns how many cells were compared."""
    compared = 0
    book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    try:
        for ws in book.worksheets:
            n_rows, n_columns = ws.max_row or 1, ws.max_column or 1
            want, got = openpyxl_cells(ws, n_rows, n_columns), fast_cells(ws, n_rows, n_columns)
            assert got is not None, f"{ws.title}: the fast reader declined a plain sheet"
            for (r, c), value in np.ndenumerate(want):
                assert type(got[r, c]) is type(value) and got[r, c] == value, (ws.title, r + 1, c + 1)
            compared += want.size
    finally:
        book.close()
    return compared


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_sheet_of_every_template_reads_as_openpyxl_reads_it(tmp_path: Path, name: str) -> None:
    spec = load_template(name)
    path = build(tmp_path, spec.replace(iterations=min(spec.iterations, 12)), compare_lr=(0.1, 2.0))
    assert assert_same_cells(path) > 1000  # formulas with &gt; and "…"&TEXT(…): entities unescaped
    assert_same_cells(path, data_only=True)  # the stored values


def test_a_file_saved_by_openpyxl_reads_the_same(tmp_path: Path) -> None:
    """openpyxl's own forms: shared strings, booleans, error values, text with entities, t="n"."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([1, 2.5, -3e-20, True, False, "text <&> \"quoted\" 'x'", "#NUM!", None, "=A1+B1",
               "=IF(A1>0,\"a&b\",0)"])
    ws.append(["日本語 σ(z₃)", 10**15, 0.1, "=A2&\"<\"", "", "  spaced  "])
    path = tmp_path / "openpyxl.xlsx"
    book.save(path)
    assert assert_same_cells(path) == 20


def _rewrite_part(path: Path, part: str, change) -> None:
    """Rewrite one part of the zip through change(text) -> text, keeping every other part."""
    with zipfile.ZipFile(path) as old:
        items = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in items:
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(info, data)


def _training_part(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return book["Training"]._worksheet_path.lstrip("/")
    finally:
        book.close()


@pytest.mark.parametrize("form", [
    '<c r="A5"><f t="shared" ref="A5:A6" si="0">1</f></c>',  # Excel's and LibreOffice's shared formulas
    '<c r="A5" cm="1"><f>1</f></c>',  # an attribute the fast path does not know
    '<c><v>1</v></c>',  # a cell without its reference
    '<c r="A5" t="inlineStr"><is><r><t>rich</t></r></is></c>',  # rich text
])
def test_unusual_cells_leave_the_sheet_to_openpyxl(form: str) -> None:
    xml = f'<worksheet><sheetData><row r="5">{form}<c r="B5"><v>2</v></c></row></sheetData></worksheet>'
    source = __import__("io").BytesIO(xml.encode())
    got = sheetxml.read_cells(source, first_row=5, n_rows=1, n_columns=2, shared_strings=[],
                              data_only=False, date_styles=set())
    assert got is None


def test_a_doctype_leaves_the_sheet_to_openpyxl() -> None:
    xml = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "1">]><worksheet><sheetData>'
           '<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>')
    got = sheetxml.read_cells(__import__("io").BytesIO(xml.encode()), first_row=1, n_rows=1, n_columns=1,
                              shared_strings=[], data_only=False, date_styles=set())
    assert got is None


def test_blocks_cut_between_rows_and_inside_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks: every row and every multi-byte character cut somewhere; same cells."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>σ₃{r}</t></is></c>'
                   f'<c r="B{r}"><f>A{r}&amp;"€"</f><v>x</v></c></row>' for r in range(1, 40))
    xml = f"<worksheet><sheetData>{rows}</sheetData></worksheet>".encode()
    monkeypatch.setattr(sheetxml, "BLOCK_BYTES", 7)
    got = sheetxml.read_cells(__import__("io").BytesIO(xml), first_row=1, n_rows=39, n_columns=2,
                              shared_strings=[], data_only=False, date_styles=set())
    assert got is not None
    assert got[:, 0].tolist() == [f"σ₃{r}" for r in range(1, 40)]
    assert got[:, 1].tolist() == [f'=A{r}&"€"' for r in range(1, 40)]


# --- a big workbook, one cell tampered in its XML --------------------------------------------

BIG = 10_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    spec = load_template("seed-001-bp-demo").replace(iterations=BIG)
    return build(tmp_path_factory.mktemp("big"), spec), spec


def _address(spec, qid: str, t: int) -> str:
    return layout.address(FIRST_DATA_ROW + t, ids.all_ids(spec).index(qid) + 1)


def _tamper(big: tuple[Path, object], tmp_path: Path, qid: str, t: int, change) -> tuple[Path, str]:
    source, spec = big
    path = tmp_path / "tampered.xlsx"
    path.write_bytes(source.read_bytes())
    address = _address(spec, qid, t)
    cell = re.compile(rf'<c r="{address}"[^>]*>.*?</c>')

    def edit(xml: str) -> str:
        found = cell.search(xml)
        assert found is not None
        edited = change(found[0])
        assert edited != found[0]
        return xml[: found.start()] + edited + xml[found.end():]

    _rewrite_part(path, _training_part(path), edit)
    return path, address


def test_the_big_workbook_is_read_by_the_fast_reader_and_passes(big: tuple[Path, object]) -> None:
    path, spec = big
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = book["Training"]
        n_columns = len(ids.all_ids(spec))
        with ws._get_source() as source:
            fast = sheetxml.read_cells(source, first_row=FIRST_DATA_ROW, n_rows=BIG + 1, n_columns=n_columns,
                                       shared_strings=ws._shared_strings, data_only=False, date_styles=set())
    finally:
        book.close()
    book = read_workbook(path)  # formulas kept compactly as shapes (verify/cells.py), texts rebuilt
    assert fast is not None and np.array_equal(fast, book.contents.to_array())
    assert len(book.contents.shapes) < 100 and not book.contents.texts
    # The stored values read in the same pass equal those read apart (verify/stored.py).
    apart = stored_formula_values(path, "Training", FIRST_DATA_ROW, book.contents.shape)
    assert book.stored is not None and np.array_equal(book.stored.present, apart.present)
    assert np.array_equal(book.stored.numbers, apart.numbers, equal_nan=True)
    assert book.stored.other == apart.other and book.stored.rules == apart.rules
    report = run_check(path)
    assert report.ok and report.cells >= (BIG + 1) * n_columns - n_columns


def _row_above(m: re.Match[str]) -> str:
    return f"{m[1]}{int(m[2]) - 1}"


@pytest.mark.parametrize(("qid", "change", "why"), [
    ("W2[1,3]", lambda c: c.replace("-", "+", 1), ""),  # a flipped sign in a weight update
    ("a1[2]", lambda c: re.sub(r"<f>.*</f>", "", c), "no formula"),  # the formula gone, its value kept
    # the weight read from the row above: B7781 → B7780
    ("z1[1]", lambda c: re.sub(r"(?<=<f>)([A-Z]+)(\d+)", _row_above, c, count=1), ""),
])
def test_one_tampered_cell_of_ten_thousand_iterations_is_caught(
    big: tuple[Path, object], tmp_path: Path, qid: str, change, why: str,
) -> None:
    t = 7_777  # deep inside, in a middle block of the XML
    path, address = _tamper(big, tmp_path, qid, t, change)
    report = run_check(path)
    assert not report.ok and report.wrong == 1, report.summary()
    assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"
    assert why in report.summary()
