"""The check's report: per-group figures, the first wrong cell, and the rule that decides
whether a recomputed cell agrees with the NumPy core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.equations import graph

ENGINES = ("formulas", "libreoffice")
# iter is checked, not listed; "data" is the Network sheet's formulas (datacheck.py), "map" the
# Decision map or Fitted curve sheet (mapcheck.py)
REPORTED_GROUPS = ("data", *(g for g in graph.GROUPS if g != "iter"), "map")

# --- the report ----------------------------------------------------------------------------


@dataclass
class GroupResult:
    """Cells of one column group: how many were checked and how far the worst one was off."""

    cells: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0  # relative to max(|expected|, the column's scale): what rtol bounds
    seconds: float = 0.0

    def line(self, name: str) -> str:
        return (f"{name:<9} {self.cells:>9,} cells  max abs error {self.max_abs:.2e}"
                f"  max rel error {self.max_rel:.2e}  {self.seconds:6.2f} s")


@dataclass(frozen=True)
class WrongCell:
    address: str  # sheet-qualified, e.g. Training!K17
    qid: str
    iteration: int
    formula: str | None  # None when the cell holds no formula
    expected: float
    got: Any  # a number, or the error / text the cell gave
    note: str = ""

    def describe(self) -> str:
        formula = self.formula if self.formula is not None else "(none)"
        text = (f"first wrong cell {self.address} (id {self.qid}, iteration {self.iteration}): "
                f"formula {formula}, expected {_show(self.expected)}, got {_show(self.got)}")
        return f"{text} ({self.note})" if self.note else text


@dataclass
class Report:
    path: Path
    engine: str
    rtol: float
    groups: dict[str, GroupResult] = field(default_factory=dict)
    cells: int = 0
    wrong: int = 0
    first_wrong: WrongCell | None = None
    seconds: float = 0.0
    not_finite: int = 0  # cells not finite in both the workbook and NumPy: training diverged
    not_finite_from: int | None = None  # the first iteration with such a cell

    def divergence_line(self) -> str | None:
        """Why cells that show an error still agree: both sides overflowed in the same cells."""
        if not self.not_finite:
            return None
        return (f"{self.not_finite:,} cells are not finite in both the workbook and NumPy, from "
                f"iteration {self.not_finite_from} on (training diverged; they count as agreeing)")

    @property
    def ok(self) -> bool:
        return self.wrong == 0

    def summary(self) -> str:
        lines = [self.groups[g].line(g) for g in REPORTED_GROUPS if g in self.groups]
        if (diverged := self.divergence_line()) is not None:
            lines.append(diverged)
        if self.ok:
            lines.append(f"OK: {self.cells:,} cells agree with the NumPy core within rtol={self.rtol:g}"
                         f" ({self.engine}, {self.seconds:.1f} s)")
        else:
            assert self.first_wrong is not None
            lines.append(f"FAIL: {self.first_wrong.describe()}")
            lines.append(f"{self.wrong:,} of {self.cells:,} cells differ from the NumPy core"
                         f" beyond rtol={self.rtol:g} ({self.engine}, {self.seconds:.1f} s)")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "an error (not a finite number)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return repr(float(value))
    return "an empty cell" if value is None else repr(value)


# --- entry point ---------------------------------------------------------------------------


def disagree(expected: np.ndarray, got: np.ndarray, rtol: float) -> tuple[np.ndarray, ...]:
    """Which cells are off, their absolute errors and their errors relative to the bound.

    A cell passes iff |got − expected| ≤ rtol·max(|expected|, scale), scale = max |reference|
    over the column up to that row. With the formulas engine each cell is evaluated from exact
    reference inputs, so only rounding differs; a value that is the small difference of large
    numbers (a gradient near convergence) carries rounding error of the size of those numbers,
    i.e. of the size the column had before, not of its own tiny size. Only rows up to the cell's
    own count: a diverging column ends near 1e308, which would excuse any error in its first rows.
    Both sides not finite (NumPy overflowed where the spreadsheet shows #NUM!) counts as agreement,
    and the report counts those cells; a non-finite value on one side only is a mismatch.
    """
    finite = np.isfinite(expected)
    scale = np.maximum.accumulate(np.where(finite, np.abs(expected), 0.0)) if expected.size else 0.0
    bound = np.maximum(np.abs(expected), scale)
    both_off = both_not_finite(expected, got)
    with np.errstate(all="ignore"):
        err = np.where(both_off, 0.0, np.abs(got - expected))
        err = np.where(np.isnan(err), np.inf, err)
        bad = ~((err <= rtol * bound) | both_off)
        rel = np.where(err == 0, 0.0, err / bound)
    return bad, err, np.where(np.isnan(rel), np.inf, rel)


def both_not_finite(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Cells where NumPy and the workbook both give no finite number (an error in the sheet)."""
    return ~np.isfinite(expected) & ~np.isfinite(got)


def count_not_finite(report: Report, both: np.ndarray) -> None:
    if both.any():
        report.not_finite += int(both.sum())
        first = int(np.argmax(both))
        if report.not_finite_from is None or first < report.not_finite_from:
            report.not_finite_from = first
