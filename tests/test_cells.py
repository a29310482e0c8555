"""The Training cells held as shapes (verify/cells.py), read in one pass (sheetxml.read_training),
and the reference trajectory trained into shared memory (verify/trajectory.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from sheetnet.model.spec import load_template
from sheetnet.verify import cells, sheetxml
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.stored import sheet_part
from sheetnet.verify.trajectory import read_while_training, trajectory
from tests.conftest import build


def test_shapes_give_back_every_text_exactly() -> None:
    contents = np.array([
        [0, "=B4*2", "=IF(A4>0,\"x{1}\",A4)"],
        [1, "=B4*2", "=IF(A5>0,\"x{1}\",A5)"],
        [2, "=B5*2", "=IF(A06>0,\"x{1}\",A06)"],  # a row written with a leading zero
        ["text", "=B6*2", None],
    ], dtype=object)
    held = cells.from_values(contents, 4, "TRAINING")
    assert np.array_equal(held.to_array(), contents)
    # B4*2 at rows 4 and 5 are two shapes (offsets 0 and −1); rows 6 and 7 repeat the second.
    assert held.ids[:, 1].tolist() == [0, 1, 1, 1]
    assert held.ids[0, 2] == held.ids[1, 2] and (2, 2) in held.texts  # A06 kept as written
    assert held.is_formula(0).tolist() == [False] * 4
    assert held.constants(0)[:3].tolist() == [0.0, 1.0, 2.0] and held.others == {(3, 0): "text"}
    groups = [(shape.key, rows.tolist()) for shape, rows in held.groups(1)]
    assert groups == [("=B[0]*2", [0]), ("=B[-1]*2", [1, 2, 3])]


def _sheet(rows: list[str]) -> io.BytesIO:
    body = "".join(f'<row r="{4 + i}">{cells}</row>' for i, cells in enumerate(rows))
    return io.BytesIO(f"<worksheet><sheetData>{body}</sheetData></worksheet>".encode())


def _read(rows: list[str], n_columns: int = 2) -> tuple[cells.TrainingCells, object] | None:
    return sheetxml.read_training(_sheet(rows), first_row=4, n_rows=len(rows), n_columns=n_columns,
                                  own_sheet="TRAINING", shared_strings=[], date_styles=set())


def test_one_pass_reads_formulas_and_their_stored_values() -> None:
    rows = [f'<c r="A{r}"><v>{r - 4}</v></c><c r="B{r}"><f>IF(A{r}&gt;0,A{r},0)</f><v>{r - 4}.5</v></c>'
            for r in range(4, 7)]
    rows.append('<c r="A7"><v>3</v></c><c r="B7" t="e"><f>IF(A7&gt;0,A7,0)</f><v>#NUM!</v></c>')
    rows.append('<c r="A8"><v>4</v></c><c r="B8"><f>IF(A8>0,A7,0)</f><v>1</v></c>')  # > unescaped, A7
    got = _read(rows)
    assert got is not None
    held, stored = got
    assert [held[t, 1] for t in range(5)] == [
        "=IF(A4>0,A4,0)", "=IF(A5>0,A5,0)", "=IF(A6>0,A6,0)", "=IF(A7>0,A7,0)", "=IF(A8>0,A7,0)"]
    assert held.ids[:4, 1].tolist() == [0] * 4 and held.ids[4, 1] == 1  # the moved reference
    assert stored.present[:, 1].all() and not stored.present[:, 0].any()
    assert stored.numbers[:3, 1].tolist() == [0.5, 1.5, 2.5] and stored.other == {(3, 1): "#NUM!"}


def test_shape_ids_widen_past_32767_shapes_and_keep_every_text() -> None:
    # Ids are int16 (2 bytes a cell of Excel's largest sheet); a sheet edited into more shapes
    # than int16 holds (here every cell adds its own constant) widens them, losing no cell.
    n = 33_000
    rows = [f'<c r="A{r}"><f>B{r}+{r}</f><v>{r}</v></c>' for r in range(4, 4 + n)]
    got = _read(rows, 1)
    assert got is not None
    held, stored = got
    assert held.ids.dtype == np.int32 and held.ids[:, 0].tolist() == list(range(n))
    assert held[n - 1, 0] == f"=B{n + 3}+{n + 3}" and held[32_767, 0] == "=B32771+32771"
    assert stored.numbers[-1, 0] == n + 3
    assert cells.ShapeTable(2, 2, 4, "TRAINING").cells.ids.dtype == np.int16


def test_one_pass_declines_a_shared_formula() -> None:
    assert _read(['<c r="A4"><f t="shared" si="0">B4</f><v>1</v></c>'], 1) is None


def test_the_trajectory_trained_in_shared_memory_equals_numpy(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(iterations=40)
    path = build(tmp_path, spec)
    book, result = read_while_training(path)
    assert np.array_equal(result(), trajectory(read_workbook(path).spec), equal_nan=True)
    assert book.stored is not None and book.stored.present.any()


def test_one_pass_in_tiny_blocks_reads_what_one_block_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks cut after every few rows: the same cells, values and conditional formats (which
    follow the last row, in the last block)."""
    rows = [f'<c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f><v>{2 * r}</v></c>' for r in range(4, 40)]
    rule = ('<conditionalFormatting sqref="A4:B39"><cfRule type="expression" priority="1">'
            '<formula>ISERROR($B4)</formula></cfRule></conditionalFormatting>')
    body = "".join(f'<row r="{r}">{c}</row>' for r, c in zip(range(4, 40), rows, strict=True))
    xml = f"<worksheet><sheetData>{body}</sheetData>{rule}</worksheet>".encode()

    def read() -> tuple[list[object], list[float], object]:
        got = sheetxml.read_training(io.BytesIO(xml), first_row=4, n_rows=36, n_columns=2, own_sheet="T",
                                     shared_strings=[], date_styles=set())
        assert got is not None
        held, stored = got
        return [held[t, 1] for t in range(36)], stored.numbers[:, 1].tolist(), stored.rules

    whole = read()
    monkeypatch.setattr(sheetxml, "BLOCK_BYTES", 50)
    assert read() == whole
    assert whole[0][-1] == "=A39*2" and whole[1][-1] == 78.0 and whole[2] != []


def _held(read: tuple[cells.TrainingCells, object] | None) -> tuple[object, ...]:
    assert read is not None
    held, stored = read
    def plain(values: np.ndarray) -> list[object]:  # NaN as a string, so that == compares it
        return np.where(np.isnan(values), "NaN", values.astype(object)).tolist()

    numbers = {c: plain(column) for c, column in held.numbers.items()}
    return (held.ids.tolist(), [s.key for s in held.shapes], held.texts, held.others, numbers,
            plain(stored.numbers), stored.present.tolist(), stored.other)


def _by_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every row cell by cell: no row template is ever learnt."""
    monkeypatch.setattr(sheetxml._RowTemplate, "learn", staticmethod(lambda reader, text: None))


ROWS = 60
# Rows the template of the row before does not give back, each read cell by cell (and the rows
# after still taken whole): a changed formula, an error stored, an empty value, a missing
# value, a style, a row written twice, rows out of order, a self-closed formula.
ODD = {
    20: '<c r="A{r}"><v>{t}</v></c><c r="B{r}"><f>A{r}*3</f><v>9</v></c>'
        '<c r="C{r}"><f>B{r}+A{p}</f><v>1</v></c>',
    21: '<c r="A{r}"><v>{t}</v></c><c r="B{r}" t="e"><f>A{r}*2</f><v>#NUM!</v></c>'
        '<c r="C{r}"><f>B{r}+A{p}</f><v>1</v></c>',
    30: '<c r="A{r}"><v>{t}</v></c><c r="B{r}"><f>A{r}*2</f><v></v></c><c r="C{r}"><f>B{r}+A{p}</f></c>',
    31: '<c r="A{r}" s="2"><v>{t}</v></c><c r="B{r}"><f>A{r}*2</f><v>1.5</v></c>'
        '<c r="C{r}"><f>B{r}+A{p}</f><v>1</v></c>',
    40: '<c r="A{r}"><v>{t}</v></c><c r="B{r}"><f/></c><c r="C{r}"><f>B{r}+A{p}</f><v>2</v></c>',
}


PLAIN = ('<c r="A{r}"><v>{t}</v></c><c r="B{r}"><f>A{r}*2</f><v>{v}</v></c>'
         '<c r="C{r}"><f>B{r}+A{p}</f><v>1e-3</v></c>')
EMPTY = ('<c r="A{r}"><v>{t}</v></c><c r="B{r}"><f>A{r}*2</f><v></v></c>'
         '<c r="C{r}"><f>B{r}+A{p}</f><v>{v}</v></c>')


def _training_xml(order: list[int]) -> bytes:
    """Rows t in that order; rows 50 to 55 store no value for B (<v></v>), a row written again
    stores other values."""
    rows, seen = [], set()
    for t in order:
        cells = ODD.get(t, EMPTY if 50 <= t <= 55 else PLAIN)
        rows.append(f'<row r="{4 + t}" spans="1:3">'
                    + cells.format(r=4 + t, p=3 + t, t=t, v=999 if t in seen else 2 * t) + "</row>")
        seen.add(t)
    return f'<?xml version="1.0"?><worksheet><sheetData>{"".join(rows)}</sheetData></worksheet>'.encode()


@pytest.mark.parametrize("order", [
    list(range(ROWS)),
    [*range(45), 44, *range(45, ROWS)],  # row 48 written twice: the later one holds
    [*range(10), 11, 10, *range(12, ROWS)],  # two rows swapped
])
@pytest.mark.parametrize("block", [1 << 22, 300])
def test_rows_taken_whole_read_as_cell_by_cell(monkeypatch: pytest.MonkeyPatch, order: list[int],
                                                block: int) -> None:
    """The row-template path gives exactly what reading every cell gives, with odd rows between."""
    monkeypatch.setattr(sheetxml, "BLOCK_BYTES", block)
    xml = _training_xml(order)

    def read() -> tuple[object, ...]:
        return _held(sheetxml.read_training(io.BytesIO(xml), first_row=4, n_rows=ROWS, n_columns=3,
                                            own_sheet="TRAINING", shared_strings=[], date_styles={7}))

    taken = read()
    learnt: list[object] = []
    learn = sheetxml._RowTemplate.learn
    monkeypatch.setattr(sheetxml._RowTemplate, "learn",
                        staticmethod(lambda reader, text: learnt.append(learn(reader, text)) or learnt[-1]))
    assert read() == taken
    assert sum(t is not None for t in learnt) >= 5  # templates were learnt, and rows taken whole
    _by_cell(monkeypatch)
    assert read() == taken


def test_a_date_styled_number_in_a_row_still_declines_the_sheet() -> None:
    xml = _training_xml(list(range(ROWS))).replace(b'<c r="A50">', b'<c r="A50" s="7">')
    assert sheetxml.read_training(io.BytesIO(xml), first_row=4, n_rows=ROWS, n_columns=3,
                                  own_sheet="TRAINING",
                                  shared_strings=[], date_styles={7}) is None


@pytest.mark.parametrize("template", ["seed-001-bp-demo", "iris", "xor"])
def test_every_template_s_training_sheet_reads_as_cell_by_cell(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str) -> None:
    path = build(tmp_path, load_template(template).replace(iterations=30))
    book = read_workbook(path)
    with __import__("zipfile").ZipFile(path) as archive:
        xml = archive.read(sheet_part(archive, book.training_sheet))

    def read() -> tuple[object, ...]:
        return _held(sheetxml.read_training(io.BytesIO(xml), first_row=4, n_rows=31,
                                            n_columns=len(book.columns),
                                            own_sheet=book.training_sheet.upper(), shared_strings=[],
                                            date_styles=set()))

    taken = read()
    _by_cell(monkeypatch)
    assert read() == taken
