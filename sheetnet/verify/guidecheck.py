"""The check of the live cells of a layered network's Guide (sheets/layer_drawings.py places them):
every number a drawing shows must be what it says at the typed iteration t and choices (the
Training column at t, sample 1's input, z summed over the chosen window, one row's softmax), and
every line of text must write those numbers out.

With the formulas engine each cell's own formula text is evaluated (cellformula.py), the Guide
cells it reads evaluated in turn, Training cells read from NumPy's run and Network cells from the
file, and a text line must be the formula the build writes (the `formulas` package does not turn
numbers into text as spreadsheets do). With a whole-chain engine the values it computed are
compared, and a line's text with the text of NumPy's numbers.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.equations import graph
from sheetnet.sheets import layer_drawings
from sheetnet.sheets.i18n import STRINGS, sheet_names
from sheetnet.sheets.layer_drawings import Drawing, Sheets
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, TrainingLayout
from sheetnet.verify.cellformula import evaluate
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report
from sheetnet.verify.sheetcells import Cells, Found, judge_found, words_of
from sheetnet.verify.workingcheck import judge_texts

GROUP = "drawings"
TEXT_GROUP = "drawing texts"  # not "texts": that group is the Working sheet's lines


def guide_sheet(names: list[str]) -> str | None:
    return next((name for name in sheet_names("sheet.guide") if name in names), None)


def t_row(cells: Cells) -> int | None:
    """The row of the Guide's yellow t cell, found by its label in any language."""
    labels = {words["guide.draw.t"] for words in STRINGS.values()}
    return next((row for (row, col), value in sorted(cells.items())
                 if col == layer_drawings.FIRST_COL and value in labels), None)


def check_guide(book: Workbook, training: np.ndarray, report: Report, engine: Cells | None) -> None:
    """training: the Training values the drawings read (NumPy's, or the engine's own); engine:
    the Guide's values as a whole-chain engine computed them (None with the formulas engine)."""
    sheet = guide_sheet(book.sheetnames)
    if sheet is None or sheet not in book.heads or not layer_drawings.drawn(book.spec):
        return
    cells = book.heads[sheet]
    row = t_row(cells)
    if row is None:  # the drawings are gone: name the t cell the build writes
        report.group(GROUP, sheet)
        judge_found(sheet, GROUP, [((1, layer_drawings.T_COL), 0.0, math.nan, None, 0.0)], report)
        return
    training_layout = TrainingLayout(book.spec, network_layout(book.spec), book.network_sheet)
    sheets = Sheets(training_layout, book.training_sheet, row, words_of(sheet, "sheet.guide"))
    t = _whole(cells.get((row, layer_drawings.T_COL)), 0, book.spec.iterations)
    col_of = {c.qid: n for n, c in enumerate(book.columns)}
    evaluated = _Evaluator(book, cells, training)
    found: list[Found] = []
    texts: list[tuple[tuple[int, int], str | None, Any, Any]] = []
    for drawing in layer_drawings.drawings(book.spec, sheets):
        probe = _Probe(book, training, col_of, t, drawing, cells)
        for item in drawing.items:
            if item.expect is None:
                continue
            at = (item.row, item.col)
            want = item.expect(probe) if probe.valid else math.nan
            if item.style == "line":
                texts.append(_line(at, item.content, want, cells.get(at), engine, probe.valid))
            else:
                got = as_float(engine.get(at)) if engine is not None else as_float(evaluated(at))
                found.append((at, float(want), got, _formula(cells.get(at)), 0.0))
        report.covered.add(sheet, [(c.row, c.col) for c in drawing.choices])
    report.covered.add(sheet, [(row, layer_drawings.T_COL)])
    judge_found(sheet, GROUP, found, report, iteration=t or 0)
    if texts:
        judge_texts(book, sheet, texts, report, TEXT_GROUP)


def _line(at: tuple[int, int], built: Any, want: Any, held: Any, engine: Cells | None,
          valid: bool) -> tuple[tuple[int, int], str | None, Any, Any]:
    """A text line: the formula the build writes (formulas engine), or the text of NumPy's numbers."""
    if engine is None:
        return at, str(built), held, held
    return at, str(want) if valid else None, engine.get(at), held


def _formula(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith("=") else None


def _whole(value: Any, lowest: int, highest: int) -> int | None:
    """A typed whole number in range, else None (the drawing's cells cannot be predicted)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if float(value).is_integer() and lowest <= value <= highest else None


class _Probe:
    """The values the drawings' cells must show, at the file's typed t and choices."""

    def __init__(self, book: Workbook, training: np.ndarray, col_of: dict[str, int], t: int | None,
                 drawing: Drawing, cells: Cells) -> None:
        self.training, self.col_of, self.t = training, col_of, t
        typed = {c.name: _whole(cells.get((c.row, c.col)), c.lowest, c.highest) for c in drawing.choices}
        self.valid = t is not None and all(v is not None for v in typed.values())
        self.choices: dict[str, int] = {k: v or 0 for k, v in typed.items()}
        input_cells = network_layout(book.spec).input_cells
        self.inputs = [as_float(book.network.get(input_cells[graph.input_key(i, 0).key]))
                       for i in range(book.spec.sizes[0])]

    def at(self, qid: str) -> float:
        return float(self.training[self.t or 0, self.col_of[qid]])

    def x(self, i: int) -> float:
        return self.inputs[i]


class _Evaluator:
    """A Guide cell's value from its own formula: Guide cells it reads evaluated in turn,
    Training cells NumPy's values, Network cells the file's."""

    def __init__(self, book: Workbook, cells: Cells, training: np.ndarray) -> None:
        self.book, self.cells, self.training = book, cells, training
        self.network, self.training_sheet = book.network_sheet.upper(), book.training_sheet.upper()
        self.value = functools.lru_cache(maxsize=None)(self._value)

    def __call__(self, at: tuple[int, int]) -> Any:
        return self.value(at)

    def _value(self, at: tuple[int, int]) -> Any:
        held = self.cells.get(at)
        if isinstance(held, str) and held.startswith("="):
            return evaluate(held, self._lookup)
        return held

    def _lookup(self, sheet: str, letters: str, row: int) -> Any:
        at = (row, column_index_from_string(letters))
        if sheet == "":
            return self.value(at)
        if sheet == self.network:
            return self.book.network.get(at)
        if sheet == self.training_sheet:
            t, c = row - FIRST_DATA_ROW, at[1] - 1
            inside = 0 <= t < self.training.shape[0] and 0 <= c < self.training.shape[1]
            return float(self.training[t, c]) if inside else None
        return None
