"""Single formula cells of the sheets beside Training (overview tables, target rows, hyperparameter
complements): what each should show, what it shows, and their judgement into the report.

With the formulas engine a cell's value is its own formula text evaluated (cellformula.py) on
the values the check holds for the cells it reads; with a whole-chain engine it is the value
the engine computed.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from sheetnet.sheets import layout
from sheetnet.sheets.i18n import STRINGS
from sheetnet.verify.cellformula import Lookup, evaluate
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report, WrongCell, judge

Cells = dict[tuple[int, int], Any]
Found = tuple[tuple[int, int], float, Any, str | None, float]  # cell, expected, got, formula, bound


def words_of(sheet: str, key: str) -> dict[str, str]:
    """The words of the language whose name for the sheet `key` is `sheet` (English if none)."""
    return next((words for words in STRINGS.values() if words.get(key) == sheet), STRINGS["en"])


def formula_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith("=") else None


def value_cell(at: tuple[int, int], want: float, cells: Cells, engine: Cells | None, lookup: Lookup,
               bound: float = 0.0) -> Found:
    """A cell that should show the number want."""
    text = cells.get(at)
    got = as_float(engine.get(at)) if engine is not None else as_float(evaluate(text, lookup))
    return (at, want, got, formula_text(text), bound)


def label_cell(at: tuple[int, int], prefix: str, number: float, cells: Cells, engine: Cells | None,
               lookup: Lookup) -> Found:
    """A cell that should show prefix followed by the number (a legend like "η = 0.5"): judged
    as the number it shows after that prefix (NaN when the prefix differs)."""
    text = cells.get(at)
    shown = engine.get(at) if engine is not None else evaluate(text, lookup)
    return (at, number, _number_after(shown, prefix), formula_text(text), 0.0)


def _number_after(shown: Any, prefix: str) -> float:
    """The number a text shows after prefix, in any spreadsheet's spelling (1E-05, 0,5)."""
    if not isinstance(shown, str) or not shown.startswith(prefix):
        return math.nan
    tail = shown[len(prefix):].strip().replace(",", ".")
    return float(tail) if re.fullmatch(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", tail) else math.nan


def judge_found(sheet: str, group: str, found: list[Found], report: Report, iteration: int = 0,
                built: dict[tuple[int, int], str] | None = None) -> None:
    """Judge the cells into the report's group of that sheet; the first bad one may be the first
    wrong cell. built holds the formulas the build writes, where known, for the verdict's words."""
    if not found:
        return
    want = np.array([f[1] for f in found])
    got = np.array([as_float(f[2]) for f in found])
    verdict = judge(want, got, np.array([f[4] for f in found]), report.rtol)
    report.group(group, sheet).add(verdict)
    report.count(verdict)
    report.covered.add(sheet, (f[0] for f in found))
    if verdict.bad.any() and report.first_wrong is None:
        (row, col), expected, value, text, _ = found[int(np.argmax(verdict.bad))]
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(row, col), group,
                                       iteration, text, expected, value,
                                       build_formula=(built or {}).get((row, col)))
