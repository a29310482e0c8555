"""The check of a practice Exercise sheet (`sheetnet exercise`, and a class's key files).

Each question row holds two formulas: the ✓/✗ self-check of the answer typed beside it, and
the expected value the reveal switch shows, both reading the Working sheet's value of that
quantity. The check evaluates each formula from its own text (the `formulas` package), the
Working cells it reads holding NumPy's iteration-1 values:

* expected: with the switch on it must show NumPy's value of the row's quantity (iteration,
  id), with it off nothing;
* self-check: with the answer typed right, off by a tenth of the sheet's tolerance, off by ten
  times it either way, left blank, and typed as text, it must show ✓, ✓, ✗, ✗, nothing and ✗.
  The tolerance (5·10⁻ˢ for --sig-figs s, not recorded in the file) is the one most rows use.

With a whole-chain engine the value the engine shows for the file as it is (its answers and
switch) must also be what its formula gives for them. A
student's sheet (no formulas) has nothing to check.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import column_index_from_string

from sheetnet.classroom.exercise import ABS_TOL, ANSWER, CHECK, EXPECTED, FIRST_ROW, ID, ITER, REVEAL_ROW
from sheetnet.classroom.exercise import EQUATION as SWITCH_COL
from sheetnet.classroom.words import WORDS
from sheetnet.sheets import working
from sheetnet.sheets.i18n import STRINGS
from sheetnet.verify.cellformula import evaluate
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import DRIFT_RTOL, Report
from sheetnet.verify.sheetcells import Cells, Found, judge_found

RIGHT, WRONG = "✓", "✗"
_TOLERANCE = re.compile(r"MAX\(([0-9.]+E-?\d+)\*ABS\(", re.IGNORECASE)


def check_exercise(book: Workbook, sheet: str, cells: Cells, frame: pd.DataFrame, report: Report,
           recalculated: Cells | None) -> None:
    lang = next(code for code, words in STRINGS.items() if words["sheet.exercise"] == sheet)
    yes, no = WORDS[lang]["exercise.yes"], WORDS[lang]["exercise.no"]
    working_sheet = STRINGS[lang]["sheet.working"].upper()
    numpy_working = _working_values(book, frame)
    expected_found: list[Found] = []
    check_found: list[Found] = []
    rows = _question_rows(cells)
    rel = sheet_tolerance(cells, rows)
    for row in rows:
        want = float(frame.loc[int(cells[row, ITER]), str(cells[row, ID])])
        if _is_formula(cells.get((row, EXPECTED))):
            ok = _expected_ok(cells, row, want, yes, no, working_sheet, numpy_working)
            if ok and recalculated is not None:
                ok = _shows_as_file(cells, recalculated, (row, EXPECTED), working_sheet, numpy_working)
            expected_found.append(_found(row, EXPECTED, want, ok, cells))
        if _is_formula(cells.get((row, CHECK))):
            ok = _check_ok(cells, row, want, rel, working_sheet, numpy_working)
            if ok and recalculated is not None:
                ok = _shows_as_file(cells, recalculated, (row, CHECK), working_sheet, numpy_working)
            check_found.append(_found(row, CHECK, want, ok, cells))
    judge_found(sheet, "expected", expected_found, report, iteration=1)
    judge_found(sheet, "self-check", check_found, report, iteration=1)


def _question_rows(cells: Cells) -> list[int]:
    """Rows with an iteration number and a quantity id (the group headings have neither)."""
    last = max((r for r, _ in cells), default=0)
    return [r for r in range(FIRST_ROW, last + 1)
            if isinstance(cells.get((r, ITER)), int | float) and isinstance(cells.get((r, ID)), str)]


def _working_values(book: Workbook, frame: pd.DataFrame) -> dict[tuple[int, int], float]:
    """NumPy's value of every Working line's value cell (an update's is the parameter at t = 1)."""
    entries = working.items(book.spec)
    values = {}
    for entry, row in zip(entries, working.rows_of(entries), strict=True):
        if isinstance(entry, working.Line):
            t = 1 if entry.group == "update" else 0
            values[row, working.VALUE] = float(frame.loc[t, entry.qid])
    return values


def _lookup(cells: Cells, working_sheet: str, working_values: dict[tuple[int, int], Any],
            typed: dict[tuple[int, int], Any]) -> Any:
    """A reference: a Working cell reads working_values, one of this sheet typed, else its content."""
    def lookup(sheet: str, letters: str, row: int) -> Any:
        at = (row, column_index_from_string(letters))
        if sheet == working_sheet:
            return working_values.get(at)
        if sheet == "":
            return typed[at] if at in typed else cells.get(at)
        return None

    return lookup


def _expected_ok(cells: Cells, row: int, want: float, yes: str, no: str, working_sheet: str,
                 working_values: dict[tuple[int, int], float]) -> bool:
    text = cells[row, EXPECTED]
    shown = evaluate(text, _lookup(cells, working_sheet, working_values, {(REVEAL_ROW, SWITCH_COL): yes}))
    hidden = evaluate(text, _lookup(cells, working_sheet, working_values, {(REVEAL_ROW, SWITCH_COL): no}))
    return as_float(shown) == want and hidden == ""


def sheet_tolerance(cells: Cells, rows: list[int]) -> float:
    """The relative tolerance the sheet's self-checks use, 5·10⁻ˢ for --sig-figs s: the one most
    rows' formulas give (the file does not record s; a row with another tolerance is then wrong)."""
    found = [float(m[1]) for r in rows if isinstance(text := cells.get((r, CHECK)), str)
             if (m := _TOLERANCE.search(text))]
    allowed = [5 * 10.0**-s for s in range(1, 13)]
    common = Counter(found).most_common(1)
    rel = common[0][0] if common else 5e-4
    return rel if any(math.isclose(rel, a) for a in allowed) else 5e-4


def _check_ok(cells: Cells, row: int, want: float, rel: float, working_sheet: str,
              working_values: dict[tuple[int, int], float]) -> bool:
    """The self-check shows ✓ for right answers (exact, and within a tenth of the tolerance),
    ✗ for wrong ones (ten times the tolerance off, either way, or text) and nothing for a blank."""
    off = 10 * rel * abs(want) + 10 * ABS_TOL
    answers = [(want, RIGHT), (want * (1 + rel / 10), RIGHT), (want + off, WRONG), (want - off, WRONG),
               (None, ""), ("x", WRONG)]
    text = cells[row, CHECK]
    for answer, mark in answers:
        if evaluate(text, _lookup(cells, working_sheet, working_values, {(row, ANSWER): answer})) != mark:
            return False
    return True


def _shows_as_file(cells: Cells, recalculated: Cells, at: tuple[int, int], working_sheet: str,
                   working_values: dict[tuple[int, int], float]) -> bool:
    """The engine shows what the cell's formula gives for the file as it is (its answers and
    switch): the same text, or the same number to within the engine's drift from NumPy."""
    want = evaluate(cells[at], _lookup(cells, working_sheet, working_values, {}))
    shown = recalculated.get(at)
    shown = "" if shown is None else shown
    if isinstance(want, str) or isinstance(shown, str):
        return want == shown
    return bool(abs(as_float(shown) - want) <= DRIFT_RTOL * abs(want))


def _found(row: int, col: int, want: float, ok: bool, cells: Cells) -> Found:
    text = cells.get((row, col))
    return ((row, col), want, want if ok else np.nan, text if _is_formula(text) else None, 0.0)


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=") and len(value) > 1
