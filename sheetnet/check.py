"""`sheetnet check`: recompute a workbook's Training sheet and compare every cell with the NumPy core.

The network is read back from the workbook's own Network sheet, so a workbook whose inputs a
student edited is checked against those edited inputs. Two engines:

* "formulas" recomputes every Training formula from its text with the `formulas` package
  (recompute.py). Each cell is evaluated on the reference values of the cells it reads, so a
  wrong formula shows up in exactly the cell that holds it.
* "libreoffice" lets headless LibreOffice recalculate the whole file and compares the values it
  writes with the reference chained from the Network inputs (a whole-chain comparison).
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet import graph, ids, layout
from sheetnet.errors import SheetnetError
from sheetnet.layout import FIRST_DATA_ROW
from sheetnet.readback import Workbook, open_workbook, read_workbook, sheet_values, training_cells
from sheetnet.recompute import as_float, is_formula, recompute_training
from sheetnet.reference import train

ENGINES = ("formulas", "libreoffice")
# iter is checked, not listed; "data" is the Network sheet's standardised inputs (datacheck.py)
REPORTED_GROUPS = ("data", *(g for g in graph.GROUPS if g != "iter"))

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


def run_check(path: Path, *, engine: str = "formulas", rtol: float = 1e-9) -> Report:
    """Check every Training cell of the workbook at path against the NumPy reference core."""
    start = time.perf_counter()
    path = Path(path)
    if engine not in ENGINES:
        raise SheetnetError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise SheetnetError(f"--rtol must be a non-negative number, got {rtol}")
    from sheetnet import datacheck  # it builds on this module's helpers

    book = read_workbook(path)
    data = datacheck.expected_cells(book)
    datacheck.reference_cells(book, data)
    with np.errstate(all="ignore"):  # a diverging run overflows, in NumPy as in the workbook
        reference = train(book.spec)[ids.all_ids(book.spec)].to_numpy(dtype=float)
    report = Report(path, engine, rtol)
    raw, seconds, notes = None, {}, {}
    if engine == "formulas":
        got, seconds, notes = recompute_training(book, reference)
        data_start = time.perf_counter()
        data_got, data_notes = datacheck.recompute(book, data)
        seconds["data"] = time.perf_counter() - data_start
    else:
        raw, got, network = _recalculate(path, book)
        data_got = {e.cell: as_float(network.get(e.cell)) for e in data}
        data_notes = datacheck.missing_formulas(book, data)
    _compare(book, reference, got, report, notes, raw)
    datacheck.compare(book, data, data_got, data_notes, report)
    for group, spent in seconds.items():
        if group in report.groups:
            report.groups[group].seconds += spent
    report.seconds = time.perf_counter() - start
    return report


# --- the LibreOffice engine ----------------------------------------------------------------


def _recalculate(path: Path, book: Workbook) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], Any]]:
    """The Training values after a full recalculation in headless LibreOffice (raw and as
    floats), and the recalculated Network sheet's values."""
    from sheetnet.libreoffice import LibreOfficeError, recalculate

    with tempfile.TemporaryDirectory(prefix="sheetnet-check-") as tmp:
        try:
            out = recalculate(path, Path(tmp) / "recalculated.xlsx")
        except LibreOfficeError as exc:
            raise SheetnetError(f"{path}: {exc}") from None
        with open_workbook(out, data_only=True) as values:
            raw = training_cells(values[book.training_sheet], book.spec, len(book.columns))
            network = sheet_values(values[book.network_sheet]) if book.spec.standardize else {}
    return raw, np.vectorize(as_float, otypes=[float])(raw), network


# --- comparison ----------------------------------------------------------------------------


def _compare(
    book: Workbook, reference: np.ndarray, got: np.ndarray, report: Report,
    notes: dict[tuple[int, int], str], raw: np.ndarray | None = None,
) -> None:
    """Fill the report: per-group statistics and the first wrong cell (lowest row, then column)."""
    first: tuple[int, int] | None = None
    n_rows = reference.shape[0]
    for c, column in enumerate(book.columns):
        start = time.perf_counter()
        n = n_rows if column.in_final_row else n_rows - 1
        expected, values = reference[:n, c], got[:n, c]
        bad, abs_err, rel_err = disagree(expected, values, report.rtol)
        _count_not_finite(report, _both_not_finite(expected, values))
        if column.formula is not None:  # every cell of a computed column must be a live formula
            bad |= ~np.fromiter((is_formula(v) for v in book.contents[:n, c]), bool, n)
        stats = report.groups.setdefault(column.group, GroupResult())
        stats.cells += n
        stats.max_abs = max(stats.max_abs, float(abs_err.max(initial=0.0)))
        stats.max_rel = max(stats.max_rel, float(rel_err.max(initial=0.0)))
        stats.seconds += time.perf_counter() - start
        report.cells += n
        report.wrong += int(bad.sum())
        if bad.any():
            t = int(np.argmax(bad))
            if first is None or t < first[0]:
                first = (t, c)
    if first is not None:
        report.first_wrong = _wrong_cell(book, reference, got, raw, notes, *first)


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
    both_off = _both_not_finite(expected, got)
    with np.errstate(all="ignore"):
        err = np.where(both_off, 0.0, np.abs(got - expected))
        err = np.where(np.isnan(err), np.inf, err)
        bad = ~((err <= rtol * bound) | both_off)
        rel = np.where(err == 0, 0.0, err / bound)
    return bad, err, np.where(np.isnan(rel), np.inf, rel)


def _both_not_finite(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Cells where NumPy and the workbook both give no finite number (an error in the sheet)."""
    return ~np.isfinite(expected) & ~np.isfinite(got)


def _count_not_finite(report: Report, both: np.ndarray) -> None:
    if both.any():
        report.not_finite += int(both.sum())
        first = int(np.argmax(both))
        if report.not_finite_from is None or first < report.not_finite_from:
            report.not_finite_from = first


def _wrong_cell(
    book: Workbook, reference: np.ndarray, got: np.ndarray, raw: np.ndarray | None,
    notes: dict[tuple[int, int], str], t: int, c: int,
) -> WrongCell:
    content = book.contents[t, c]
    column = book.columns[c]
    note = notes.get((t, c), "")
    if column.formula is not None and not is_formula(content):
        held = "" if content is None else f" but {content!r}"
        note = f"the cell holds no formula{held}"
    address = layout.sheet_prefix(book.training_sheet) + layout.address(FIRST_DATA_ROW + t, c + 1)
    value = raw[t, c] if raw is not None and not isinstance(raw[t, c], int | float) else got[t, c]
    return WrongCell(address, column.qid, t, content if is_formula(content) else None,
                     float(reference[t, c]), value, note)
