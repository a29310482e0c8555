"""`sheetnet check`: recompute a workbook and compare every cell with the NumPy core.

The network is read back from the workbook's own Network sheet, so a workbook whose inputs a
student edited is checked against those edited inputs. Each cell is judged within its own
rounding-error bound (bound.py, report.judge). Three engines:

* "formulas" recomputes every Training formula from its text with the `formulas` package
  (recompute.py). Each cell is evaluated on the reference values of the cells it reads, so a
  wrong formula shows up in exactly the cell that holds it.
* "libreoffice", "gnumeric" and "ironcalc" recalculate the whole file themselves. Each of their cells is
  checked locally (the intended expression evaluated in NumPy on that engine's own inputs,
  local.py), and how far their trajectory drifts from NumPy's is reported per group.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.progress import Progress, stage
from sheetnet.progress import report as report_progress
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify import constants, datacheck, mapcheck, othersheets
from sheetnet.verify.local import IntendedColumns, intended_training
from sheetnet.verify.readback import Workbook, open_workbook, sheet_values, training_cells
from sheetnet.verify.recompute import ColumnRecompute, as_float, is_formula
from sheetnet.verify.referencerun import ReferenceRun
from sheetnet.verify.report import (
    DRIFT_RTOL,
    ENGINES,
    Report,
    StaleValue,
    WrongCell,
    both_not_finite,
    count_not_finite,
    drift,
    judge,
)
from sheetnet.verify.stored import Stored, stored_formula_values
from sheetnet.verify.trajectory import read_while_training

Cells = dict[tuple[int, int], Any]

# How exactly each whole-chain engine's written results are known: LibreOffice keeps 15
# significant digits (a relative rounding of up to 5e-15); Gnumeric writes 21 digits, but its
# results differ from an IEEE double evaluation of the same inputs by up to two units in the
# last place (measured: 0.5 of the bound without this allowance), so 4 units of roundoff.
# IronCalc writes every double exactly (17 digits); its functions may round differently from
# NumPy's, so it gets Gnumeric's allowance of 4 units of roundoff.
LEAF_REL = {"libreoffice": 5e-15, "gnumeric": 4 * 2.0**-53, "ironcalc": 4 * 2.0**-53}
ENGINE_NAMES = {"libreoffice": "LibreOffice", "gnumeric": "Gnumeric", "ironcalc": "IronCalc"}


@dataclass(frozen=True)
class SheetCheck:
    """The check of a sheet that a higher layer writes (the classroom's Exercise sheet).

    check(book, sheet, cells, frame, report, recalculated) adds the sheet's cells to the report:
    cells are its formula texts and typed values, frame NumPy's run, recalculated the values a
    whole-chain engine computed for the sheet (None with the formulas engine).
    """

    names: tuple[str, ...]  # the sheet's name in every language
    check: Callable[[Workbook, str, Cells, ReferenceRun, Report, Cells | None], None]
    key: str = ""  # its key in the build's sheet list (the Guide describes it)


def run_check(
    path: Path, *, engine: str = "formulas", rtol: float = 1e-9, strict: bool = False,
    progress: Progress | None = None, sheet_checks: Sequence[SheetCheck] = (),
) -> Report:
    """Check every formula cell of the workbook at path against the NumPy reference core.

    progress (see sheetnet.progress) hears of the reading, the recomputing and the engines;
    sheet_checks check the sheets of higher layers (api.check passes the Exercise sheet's).
    """
    start = time.perf_counter()
    path = Path(path)
    if engine not in ENGINES:
        raise SheetnetError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}, all")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise SheetnetError(f"--rtol must be a non-negative number, got {rtol}")
    with stage(progress, "reading the workbook"):
        book, training = read_while_training(path)  # the NumPy training runs meanwhile
    extra = tuple((c.key, name) for c in sheet_checks for name in c.names if name in book.sheetnames)
    data = datacheck.expected_cells(book)
    datacheck.reference_cells(book, data)
    with np.errstate(all="ignore"), stage(progress, "training with NumPy"):
        reference = training()  # a diverging run overflows, in NumPy as in the workbook
    # The text around the formulas, rebuilt from this run while the formulas are recomputed.
    rebuilt = constants.start_rebuild(book, extra, reference)
    # Other sheets read rows of it; a view, not a copy (pandas 3 copies an array by default).
    frame = ReferenceRun(reference, ids.all_ids(book.spec))
    report = Report(path, engine, rtol, strict=strict)
    if engine == "formulas":
        run = _formulas(book, data, reference)
    else:
        with stage(progress, f"recalculating in {ENGINE_NAMES[engine]}"):
            run = _whole_chain(book, data, reference, engine, sheet_checks)
    stored = book.stored  # read with the formulas, or else now
    if stored is None:
        stored = stored_formula_values(book.path, book.training_sheet, FIRST_DATA_ROW, book.contents.shape)
    # The formulas engine recomputes each column as it is judged: progress hears of that.
    compare_training(book, run.column, report, run.notes, stored, run.raw,
                     progress if run.got is None else None)
    if run.got is not None:
        _drift(book, reference, run.got, report)
    datacheck.compare(book, data, run.data_got, run.data_notes, report, LEAF_REL.get(engine, 0.0))
    sheets_start = time.perf_counter()
    othersheets.check_sheets(run.book, reference if run.got is None else run.got, report,
                             run.engine_cells, LEAF_REL.get(engine, 0.0), frame)
    othersheets.check_rules(book, stored.rules, report)
    run.seconds["other sheets"] = time.perf_counter() - sheets_start
    map_start = time.perf_counter()
    map_values = (run.engine_cells or {}).get(mapcheck.GROUP) if engine != "formulas" else None
    mapcheck.check_map(book, frame, report, map_values)  # a Decision map or Fitted curve sheet
    run.seconds[mapcheck.GROUP] = time.perf_counter() - map_start
    _sheet_checks(book, frame, report, sheet_checks, run.engine_cells if engine != "formulas" else None)
    text_start = time.perf_counter()
    constants.compare(book, rebuilt(), _file_cells(book), report)
    run.seconds[constants.GROUP] = time.perf_counter() - text_start
    for group, spent in run.seconds.items():
        if group in report.groups:
            report.groups[group].seconds += spent
    report.seconds = time.perf_counter() - start
    return report


# Column c of the Training sheet: what each cell should be, what the engine computed, and the
# bound of each cell's rounding error.
ColumnValues = Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class _Run:
    """What an engine computed and what each Training cell should be, with its bound, one
    column at a time (column); got is the whole sheet's values for a whole-chain engine, None
    for the formulas engine, which computes each column when it is judged and lets it go."""

    book: Workbook  # with the engine's own Network values (x̃) for a whole-chain engine
    got: np.ndarray | None
    column: ColumnValues
    data_got: dict[tuple[int, int], float]
    data_notes: dict[tuple[int, int], str]
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    raw: np.ndarray | None = None
    engine_cells: dict[str, dict[tuple[int, int], Any]] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _formulas(book: Workbook, data: list[datacheck.Expected], reference: np.ndarray) -> _Run:
    """Each cell evaluated from its formula text on NumPy's inputs; expected: NumPy's value.

    A column is recomputed and bounded only when compare_training asks for it, and dropped once
    judged: at Excel's largest sheet the whole sheet's results and bounds would be 600 MB.
    """
    recompute = ColumnRecompute(book, reference)
    bounds = IntendedColumns(book, reference, book.network)

    def column(c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return reference[:, c], recompute.column(c), bounds.column(c, with_values=False)[1]

    data_start = time.perf_counter()
    data_got, data_notes = datacheck.recompute(book, data)
    seconds = {"data": time.perf_counter() - data_start}
    return _Run(book, None, column, data_got, data_notes, recompute.notes, seconds=seconds)


def _whole_chain(book: Workbook, data: list[datacheck.Expected], reference: np.ndarray, engine: str,
                 sheet_checks: Sequence[SheetCheck] = ()) -> _Run:
    """The engine's own chain; expected: each cell's expression on the engine's own inputs."""
    extra = tuple(name for c in sheet_checks for name in c.names)
    raw, got, network, engine_cells = _recalculate(book.path, book, engine, extra)
    data_got = {e.cell: as_float(network.get(e.cell)) for e in data}
    engine_book = dataclasses.replace(book, network={**book.network, **network})  # its own x̃
    expected, bound = _local_bound(book, reference, got, engine_book.network, LEAF_REL[engine])
    return _Run(engine_book, got, lambda c: (expected[:, c], got[:, c], bound[:, c]), data_got,
                datacheck.missing_formulas(book, data), raw=raw, engine_cells=engine_cells)


def _local_bound(
    book: Workbook, reference: np.ndarray, got: np.ndarray, network: dict[tuple[int, int], Any],
    leaf_rel: float,
) -> tuple[np.ndarray, np.ndarray]:
    """What each cell should be given the engine's own inputs, and its bound (including the
    rounding of the engine's written result). Columns without a formula keep the reference."""
    intended, bound = intended_training(book, got, network, leaf_rel)
    assert intended is not None
    fixed = [c for c, column in enumerate(book.columns) if column.formula is None]
    intended[:, fixed] = reference[:, fixed]
    with np.errstate(all="ignore"):
        bound = bound + leaf_rel * np.abs(got)
    return intended, bound


# --- the whole-chain engines ---------------------------------------------------------------


def _recalculate(
    path: Path, book: Workbook, engine: str, extra: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], Any], dict[str, dict[tuple[int, int], Any]]]:
    """The Training values after a full recalculation in the engine (raw and as floats), the
    recalculated Network sheet's values, and those of the Summary and Charts sheets."""
    if engine == "libreoffice":
        from sheetnet.engines.libreoffice import LibreOfficeError as EngineError
        from sheetnet.engines.libreoffice import recalculate
    elif engine == "ironcalc":
        from sheetnet.engines.ironcalc import IronCalcError as EngineError  # type: ignore[assignment]
        from sheetnet.engines.ironcalc import recalculate  # type: ignore[assignment]
    else:
        from sheetnet.engines.gnumeric import GnumericError as EngineError  # type: ignore[assignment]
        from sheetnet.engines.gnumeric import recalculate  # type: ignore[assignment]

    with tempfile.TemporaryDirectory(prefix="sheetnet-check-") as tmp:
        try:
            out = recalculate(path, Path(tmp) / "recalculated.xlsx")
        except EngineError as exc:
            raise SheetnetError(f"{path}: {exc}") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Gnumeric's files have no default style
            with open_workbook(out, data_only=True) as values:
                raw = training_cells(values[book.training_sheet], book.spec, len(book.columns))
                network = sheet_values(values[book.network_sheet])  # x̃, μ, σ and 1 − β recalculated
                present = othersheets.present_sheets(book.sheetnames).items()
                others = {key: sheet_values(values[n]) for key, n in present if n in values.sheetnames}
                if (map_sheet := mapcheck.map_sheet(values.sheetnames)) is not None:
                    others[mapcheck.GROUP] = sheet_values(values[map_sheet])
                others |= {name: sheet_values(values[name]) for name in extra if name in values.sheetnames}
    return raw, np.vectorize(as_float, otypes=[float])(raw), network, others


def _file_cells(book: Workbook) -> dict[str, Cells]:
    """Every cell of the file the text check compares, by sheet (the Training sheet's head)."""
    return {**book.others, **book.heads, book.network_sheet: book.network}


def _sheet_checks(book: Workbook, frame: ReferenceRun, report: Report, checks: Sequence[SheetCheck],
                  recalculated: dict[str, Cells] | None) -> None:
    """Each higher layer's sheet the workbook has, checked by its own check."""
    for sheet_check in checks:
        for name in (name for name in sheet_check.names if name in book.others):
            cells = book.others[name]
            sheet_check.check(book, name, cells, frame, report,
                              None if recalculated is None else recalculated.get(name, {}))


def _drift(book: Workbook, reference: np.ndarray, got: np.ndarray, report: Report) -> None:
    """Per group, how far the engine's own chain drifted from NumPy's (reported, not failed)."""
    for c, column in enumerate(book.columns):
        if column.group in report.groups:
            group = report.groups[column.group]
            group.drift = max(group.drift or 0.0, drift(reference[:, c], got[:, c]))


# --- comparison ----------------------------------------------------------------------------


def compare_training(
    book: Workbook, column_values: ColumnValues, report: Report, notes: dict[tuple[int, int], str],
    stored: Stored, raw: np.ndarray | None = None, progress: Progress | None = None,
) -> None:
    """Fill the report column by column: per-group statistics, the first wrong cell (lowest row,
    then column) and the stale stored values. Only the column being judged is held."""
    first: tuple[int, int, float, Any] | None = None
    stale = _Stale(book, stored, report)
    n_rows = book.contents.shape[0]
    for c, column in enumerate(book.columns):
        report_progress(progress, c, len(book.columns), "recomputing Training columns")
        start = time.perf_counter()
        expected, got, bound = column_values(c)
        n = n_rows if column.in_final_row else n_rows - 1
        verdict = judge(expected[:n], got[:n], bound[:n], report.rtol)
        count_not_finite(report, both_not_finite(expected[:n], got[:n]))
        bad = verdict.bad
        if column.formula is not None:  # every cell of a computed column must be a live formula
            bad |= ~book.contents.is_formula(c, n)
        report.group(column.group, book.training_sheet).add(verdict)
        report.covered.add_column(book.training_sheet, c + 1, FIRST_DATA_ROW, FIRST_DATA_ROW + n - 1)
        report.cells += n
        report.wrong += int(bad.sum())
        if bad.any():
            t = int(np.argmax(bad))
            if first is None or t < first[0]:
                first = (t, c, float(expected[t]), got[t])
        stale.add(c, got)
        report.groups[column.group].seconds += time.perf_counter() - start
    report_progress(progress, len(book.columns), len(book.columns), "recomputing Training columns")
    if first is not None:
        report.first_wrong = _wrong_cell(book, raw, notes, *first)
    stale.finish()


def _wrong_cell(
    book: Workbook, raw: np.ndarray | None, notes: dict[tuple[int, int], str], t: int, c: int,
    expected: float, got: Any,
) -> WrongCell:
    content = book.contents[t, c]
    column = book.columns[c]
    note = notes.get((t, c), "")
    if column.formula is not None and not is_formula(content):
        held = "" if content is None else f" but {content!r}"
        note = f"the cell holds no formula{held}"
    address = layout.sheet_prefix(book.training_sheet) + layout.address(FIRST_DATA_ROW + t, c + 1)
    value = raw[t, c] if raw is not None and not isinstance(raw[t, c], int | float) else got
    return WrongCell(address, column.qid, t, content if is_formula(content) else None, expected, value, note)


# --- stored values -------------------------------------------------------------------------


class _Stale:
    """Counts the stored values of formula cells that differ from what the engine computed,
    column by column.

    A value differs when it is off by more than DRIFT_RTOL of its column's scale (so values
    written by another spreadsheet program, which drift a little from NumPy, are not stale),
    or is an error or text where a number was computed. Formulas without a stored value are
    not counted: such a file shows nothing stale, it shows nothing until recalculated.
    """

    def __init__(self, book: Workbook, stored: Stored, report: Report):
        self.book, self.stored, self.report = book, stored, report
        self.first: tuple[int, int, float] | None = None

    def add(self, c: int, got: np.ndarray) -> None:
        """Column c's stored values against got, the engine's values of the column."""
        rows = self.stored.present[:, c]
        if not rows.any():
            return
        off = _off(got, self.stored.numbers[:, c]) & rows
        self.report.stale += int(off.sum())
        if off.any():
            t = int(np.argmax(off))
            if self.first is None or t < self.first[0]:
                self.first = (t, c, float(got[t]))

    def finish(self) -> None:
        if self.first is not None:
            t, c, got = self.first
            at = layout.sheet_prefix(self.book.training_sheet) + layout.address(FIRST_DATA_ROW + t, c + 1)
            self.report.first_stale = StaleValue(at, self.stored.value(t, c), got)


def _off(computed: np.ndarray, stored: np.ndarray) -> np.ndarray:
    finite = np.isfinite(computed)
    scale = np.maximum.accumulate(np.where(finite, np.abs(computed), 0.0))
    with np.errstate(all="ignore"):
        far = np.abs(stored - computed) > DRIFT_RTOL * np.maximum(np.abs(computed), scale)
    return np.where(finite, far | ~np.isfinite(stored), np.isfinite(stored))
