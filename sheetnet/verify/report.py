"""The check's report: per sheet and group figures, the first wrong cell, stale stored values,
and the rule that decides whether a cell agrees (`judge`).

A cell agrees when |got − expected| ≤ max(SAFETY · bound, rtol · |expected|), where bound is the
rounding-error bound carried through that cell's own expression (bound.py): the tolerance comes
from the cell, never from its column's history, so a wrong cell cannot hide behind a column
that was once large.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.equations import graph

ENGINES = ("formulas", "libreoffice", "gnumeric", "ironcalc")
WHOLE_CHAIN = ("libreoffice", "gnumeric", "ironcalc")  # engines that recalculate the whole file themselves
# The bound counts one side's rounding; the NumPy core rounds too (in another order) and the
# bound's per-operation rules are estimates: four times the bound covers both with room to spare
# (the largest error measured over every template was 0.47 of one bound).
SAFETY = 4.0
LOOSE = 1e-6  # a cell whose allowed error exceeds this share of its value is reported as loose
# How far a whole-chain engine's trajectory may drift from NumPy's, relative to the largest
# |value| of the column so far: rounding accumulated over thousands of iterations stays far
# below; a chaotic (diverging) run may exceed it, which is reported, not failed.
DRIFT_RTOL = 1e-6
# Training groups in order; "data" is the Network sheet's formulas (datacheck.py), "map" the
# Decision map or Fitted curve sheet (mapcheck.py); iter is checked, not listed.
TRAINING_GROUPS = tuple(g for g in graph.GROUPS if g != "iter")
REPORTED_GROUPS = ("data", *TRAINING_GROUPS, "map")


@dataclass
class GroupResult:
    """Cells of one group of one sheet: how many were checked and how far the worst one was off."""

    sheet: str = ""
    cells: int = 0
    max_abs: float = 0.0
    max_bound: float = 0.0  # largest |error| / (SAFETY·bound): above 1 fails unless rtol allows it
    max_rel: float = 0.0  # largest |error| / |expected|: what "relative error" means
    loose: int = 0  # cells whose allowed error exceeds LOOSE of their value
    drift: float | None = None  # whole-chain engines: largest drift from NumPy (DRIFT_RTOL rule)
    seconds: float = 0.0
    wrong: int = 0  # cells that differ, where a group counts them (the text groups)

    def add(self, verdict: Verdict) -> None:
        self.cells += verdict.bad.size
        self.max_abs = max(self.max_abs, _max(verdict.abs_err))
        self.max_bound = max(self.max_bound, _max(verdict.of_bound))
        self.max_rel = max(self.max_rel, _max(verdict.of_value))
        self.loose += int(verdict.loose.sum())

    def line(self, name: str) -> str:
        drift = "" if self.drift is None else f"  drift {self.drift:.1e}"
        return (f"{self.sheet:<14} {name:<16} {self.cells:>9,} cells  max error {self.max_abs:.1e}"
                f" = {self.max_bound:.2g} of its bound, {self.max_rel:.1e} of its value"
                f"{drift}  {self.loose:,} loose  {self.seconds:5.2f} s")


# The one-line verdict stays readable: a Working cell's formula can pass 5,000 characters, so
# the line shows at most this much of any formula or value; --json and -v give them whole.
VERDICT_CHARS = 300
_ONE_REFERENCE = re.compile(r"=(?:'(?:[^']|'')+'!|[^'!=]+!)?\$?[A-Z]{1,3}\$?\d+")
SHOWN_CHARS = 60


@dataclass(frozen=True)
class WrongCell:
    address: str  # sheet-qualified, e.g. Training!K17
    qid: str
    iteration: int
    formula: str | None  # None when the cell holds no formula
    expected: float
    got: Any  # a number, or the error / text the cell gave
    note: str = ""  # what is wrong, in words
    build_formula: str | None = None  # the formula the build writes there, when it is known

    def what(self) -> str:
        """What is wrong, in words: the note, or that the formula is not the build's."""
        if self.note:
            return self.note
        if self.build_formula is not None and self.formula != self.build_formula:
            kind = "reference" if _ONE_REFERENCE.fullmatch(self.build_formula) else "formula"
            return f"not the {kind} the build writes: {shorten(self.build_formula)}"
        return ""

    def _rewritten(self) -> bool:
        return self.build_formula is not None and self.formula != self.build_formula

    def describe(self) -> str:
        """The one-line verdict, at most VERDICT_CHARS characters (formulas shortened)."""
        head = f"first wrong cell {self.address} (id {self.qid}, iteration {self.iteration}): "
        found = _show(self.got)
        if self.formula is not None and not _is_number(self.got):
            # A formula the check does not evaluate (not the build's) is shown, not called an error.
            found = shorten(self.formula) if self._rewritten() else f"{found} from {shorten(self.formula)}"
        # No number is expected of a text cell (its note says what is): NaN with a note. Without a
        # note NaN is NumPy's overflow, which the cell should show as an error.
        unknown = math.isnan(self.expected) and bool(self.note)
        expected = "" if unknown else f"expected {_show(self.expected)}, "
        text = f"{head}{expected}got {found}"
        what = self.what()
        return shorten(f"{text}; {what}" if what else text, VERDICT_CHARS)

    def details(self) -> str:
        """The cell's whole formulas (-v): the one in the file and the one the build writes."""
        lines = [f"  formula in the file: {self.formula if self.formula is not None else '(none)'}"]
        if self.build_formula is not None:
            lines.append(f"  formula the build writes: {self.build_formula}")
        return "\n".join(lines)


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """text cut to limit characters, with … where it was cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is_number(value: Any) -> bool:
    return (isinstance(value, float | int | np.number) and not isinstance(value, bool)
            and math.isfinite(float(value)))


@dataclass(frozen=True)
class StaleValue:
    """A stored value that differs from what its formula computes."""

    address: str
    stored: Any
    computed: float


@dataclass
class Coverage:
    """Which cells the check compared, per sheet: the proof that every formula cell is checked
    (tests/test_check_coverage.py compares it with the formula cells each sheet holds).

    Whole columns are kept as row ranges, so a million-row Training sheet costs a few tuples.
    """

    cells: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    columns: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # (col, first, last row)

    def add(self, sheet: str, cells: Iterable[tuple[int, int]]) -> None:
        self.cells.setdefault(sheet, set()).update(cells)

    def add_column(self, sheet: str, col: int, first_row: int, last_row: int) -> None:
        self.columns.setdefault(sheet, []).append((col, first_row, last_row))

    def of(self, sheet: str) -> set[tuple[int, int]]:
        """Every (row, col) of the sheet the check compared (1-based, as in an address)."""
        spans = {(r, c) for c, first, last in self.columns.get(sheet, []) for r in range(first, last + 1)}
        return spans | self.cells.get(sheet, set())


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
    stale: int = 0  # stored values that differ from the formulas' results
    first_stale: StaleValue | None = None
    strict: bool = False  # stale stored values fail the check
    covered: Coverage = field(default_factory=Coverage)  # the cells compared, per sheet

    @property
    def training_cells(self) -> int:
        """Cells of the Training sheet's columns that were checked (its groups, iter included)."""
        return sum(g.cells for name, g in self.groups.items() if name in graph.GROUPS)

    def group(self, name: str, sheet: str) -> GroupResult:
        return self.groups.setdefault(name, GroupResult(sheet))

    def count(self, verdict: Verdict) -> None:
        self.cells += verdict.bad.size
        self.wrong += int(verdict.bad.sum())

    def divergence_line(self) -> str | None:
        """Why cells that show an error still agree: both sides overflowed in the same cells."""
        if not self.not_finite:
            return None
        return (f"{self.not_finite:,} cells are not finite in both the workbook and NumPy, from "
                f"iteration {self.not_finite_from} on (training diverged; they count as agreeing)")

    def stale_line(self) -> str | None:
        if self.first_stale is None:
            return None
        s = self.first_stale
        return (f"{self.stale:,} stored values differ from the formulas' results, first {s.address}: "
                f"stored {_show(s.stored)}, computed {_show(s.computed)}; a spreadsheet program that "
                f"does not recalculate on load shows the stored numbers")

    def drift_line(self) -> str | None:
        drifted = [n for n, g in self.groups.items() if g.drift is not None and g.drift > DRIFT_RTOL]
        if not drifted:
            return None
        return (f"the {self.engine} trajectory drifts from NumPy's by more than {DRIFT_RTOL:g} in "
                f"{', '.join(drifted)} (rounding amplified over the iterations; each cell agrees locally)")

    @property
    def ok(self) -> bool:
        return self.wrong == 0 and not (self.strict and self.stale)

    def listed(self) -> list[str]:
        """The groups in report order: the Network sheet's data, the Training groups (iter is
        checked, not listed), then the other sheets as they were checked."""
        known = [g for g in REPORTED_GROUPS if g in self.groups]
        return known + [g for g in self.groups if g not in known and g != "iter"]

    def summary(self, verbose: bool = False) -> str:
        lines = [self.groups[name].line(name) for name in self.listed()]
        lines += [x for x in (self.divergence_line(), self.drift_line(), self.stale_line()) if x]
        what = f"({self.engine}, {self.seconds:.1f} s)"
        if self.wrong == 0:
            if self.ok:
                lines.append(f"OK: {self.cells:,} cells agree with the NumPy core, each within "
                             f"{SAFETY:g}× its rounding bound or rtol={self.rtol:g} of its value {what}")
            else:
                lines.append(f"FAIL: {self.stale:,} stale stored values (--strict) {what}")
        else:
            assert self.first_wrong is not None
            lines.append(f"FAIL: {self.first_wrong.describe()}")
            if verbose:
                lines.append(self.first_wrong.details())
            lines.append(f"{self.wrong:,} of {self.cells:,} cells differ from the NumPy core"
                         f" beyond their bound {what}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The figures for `check --json`."""
        first = self.first_wrong
        stale = self.first_stale
        return {
            "path": str(self.path), "engine": self.engine, "ok": self.ok, "rtol": self.rtol,
            "safety": SAFETY, "cells": self.cells, "wrong": self.wrong, "seconds": self.seconds,
            "groups": [{"group": n, "sheet": g.sheet, "cells": g.cells, "max_abs_error": _num(g.max_abs),
                        "max_error_of_bound": _num(g.max_bound), "max_error_of_value": _num(g.max_rel),
                        "loose": g.loose, "drift": _num(g.drift) if g.drift is not None else None}
                       for n, g in self.groups.items()],
            "first_wrong": None if first is None else {
                "address": first.address, "id": first.qid, "iteration": first.iteration,
                "formula": first.formula, "expected": _num(first.expected), "got": _value(first.got),
                "note": first.note, "what": first.what(), "build_formula": first.build_formula,
                "verdict": first.describe()},
            "flags": {"diverged_cells": self.not_finite, "diverged_from": self.not_finite_from,
                      "drift_over_tolerance": self.drift_line() is not None,
                      "stale": self.stale, "strict": self.strict},
            "first_stale": None if stale is None else {
                "address": stale.address, "stored": _value(stale.stored), "computed": _num(stale.computed)},
        }


def to_json(reports: list[Report]) -> str:
    body: Any = reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports]
    return json.dumps(body, indent=2, ensure_ascii=False)


def table(reports: list[Report], verbose: bool = False) -> str:
    """One table for several engines: per group the largest error as a share of its bound."""
    names = list(dict.fromkeys(n for r in reports for n in r.listed()))
    head = f"{'sheet':<14} {'group':<16} {'cells':>9}  " + "  ".join(f"{r.engine:>12}" for r in reports)
    lines = [head, "error / bound".rjust(len(head))]
    for n in names:
        first = next(r.groups[n] for r in reports if n in r.groups)
        cols = "  ".join(f"{r.groups[n].max_bound:>12.2g}" if n in r.groups else f"{'-':>12}"
                         for r in reports)
        lines.append(f"{first.sheet:<14} {n:<16} {first.cells:>9,}  {cols}")
    for r in reports:
        verdict = "OK" if r.ok else "FAIL"
        extra = [x for x in (r.drift_line(), r.stale_line(), r.divergence_line()) if x]
        wrong = f": {r.first_wrong.describe()}" if r.first_wrong else ""
        drifts = [g.drift for g in r.groups.values() if g.drift is not None]
        drifted = f", drift from NumPy ≤ {max(drifts):.1e}" if drifts else ""
        lines.append(f"{r.engine}: {verdict}{wrong}{drifted} ({r.seconds:.1f} s)")
        lines += [f"  {x}" for x in extra]
        if verbose and r.first_wrong is not None:
            lines.append(r.first_wrong.details())
    return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "an error (not a finite number)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return repr(float(value))
    return "an empty cell" if value is None else shorten(repr(value))


def _num(value: float) -> float | str:
    return float(value) if math.isfinite(value) else repr(float(value))


def _value(value: Any) -> Any:
    if isinstance(value, float | int | np.number) and not isinstance(value, bool):
        return _num(float(value))
    return None if value is None else str(value)


def _max(values: np.ndarray) -> float:
    return float(np.max(values, initial=0.0))


# --- the rule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Per cell: off or not, the absolute error, the error as a share of SAFETY times its rounding
    bound and of its own value, and whether the allowed error is loose (above LOOSE of the value)."""

    bad: np.ndarray
    abs_err: np.ndarray
    of_bound: np.ndarray
    of_value: np.ndarray
    loose: np.ndarray


def judge(expected: np.ndarray, got: np.ndarray, bound: np.ndarray | float, rtol: float) -> Verdict:
    """Compare cell by cell: |got − expected| ≤ max(SAFETY·bound, rtol·|expected|).

    Both sides not finite (NumPy overflowed where the spreadsheet shows #NUM!) counts as
    agreement, and the report counts those cells; a non-finite value on one side only is a
    mismatch. A cell whose bound is not finite (a division by a number that may be 0) is only
    held to rtol.
    """
    expected, got = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    both_off = both_not_finite(expected, got)
    with np.errstate(all="ignore"):
        scale = np.abs(expected)
        bound = np.where(np.isfinite(bound), np.asarray(bound, dtype=float), 0.0)
        allowed = np.maximum(SAFETY * bound, rtol * scale)
        err = np.where(both_off, 0.0, np.abs(got - expected))
        err = np.where(np.isnan(err), np.inf, err)
        bad = ~((err <= allowed) | both_off)
        of_bound = np.where(err == 0, 0.0, err / (SAFETY * bound))
        of_value = np.where(err == 0, 0.0, err / scale)
        loose = np.isfinite(expected) & (allowed > LOOSE * scale)
    return Verdict(bad, err, _no_nan(of_bound), _no_nan(of_value), loose)


def _no_nan(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), np.inf, values)


def drift(expected: np.ndarray, got: np.ndarray) -> float:
    """Largest |got − expected| relative to max(|expected|, the column's largest |value| so far)."""
    finite = np.isfinite(expected) & np.isfinite(got)
    if not finite.any():
        return 0.0
    scale = np.maximum.accumulate(np.where(finite, np.abs(expected), 0.0))
    with np.errstate(all="ignore"):
        rel = np.where(finite, np.abs(got - expected) / np.maximum(np.abs(expected), scale), 0.0)
    return float(np.nanmax(rel, initial=0.0))


def both_not_finite(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Cells where NumPy and the workbook both give no finite number (an error in the sheet)."""
    return ~np.isfinite(expected) & ~np.isfinite(got)


def count_not_finite(report: Report, both: np.ndarray) -> None:
    if both.any():
        report.not_finite += int(both.sum())
        first = int(np.argmax(both))
        if report.not_finite_from is None or first < report.not_finite_from:
            report.not_finite_from = first
