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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.progress import Progress, stage
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify import datacheck, mapcheck
from sheetnet.verify.readback import Workbook, open_workbook, sheet_values, training_cells
from sheetnet.verify.recompute import as_float, is_formula, recompute_training
from sheetnet.verify.report import (
    ENGINES,
    GroupResult,
    Report,
    WrongCell,
    both_not_finite,
    count_not_finite,
    disagree,
)
from sheetnet.verify.trajectory import read_while_training


def run_check(
    path: Path, *, engine: str = "formulas", rtol: float = 1e-9, progress: Progress | None = None
) -> Report:
    """Check every Training cell of the workbook at path against the NumPy reference core.

    progress (see sheetnet.progress) hears of the reading, the recomputing and LibreOffice.
    """
    start = time.perf_counter()
    path = Path(path)
    if engine not in ENGINES:
        raise SheetnetError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise SheetnetError(f"--rtol must be a non-negative number, got {rtol}")
    with stage(progress, "reading the workbook"):
        book, training = read_while_training(path)  # the NumPy training runs meanwhile
    data = datacheck.expected_cells(book)
    datacheck.reference_cells(book, data)
    with stage(progress, "training with NumPy"):
        reference = training()
    frame = pd.DataFrame(reference, columns=ids.all_ids(book.spec))  # the map check reads row t
    report = Report(path, engine, rtol)
    raw, seconds, notes, map_values = None, {}, {}, None
    if engine == "formulas":
        got, seconds, notes = recompute_training(book, reference, progress)
        data_start = time.perf_counter()
        data_got, data_notes = datacheck.recompute(book, data)
        seconds["data"] = time.perf_counter() - data_start
    else:
        with stage(progress, "recalculating in LibreOffice"):
            raw, got, network, map_values = _recalculate(path, book)
        data_got = {e.cell: as_float(network.get(e.cell)) for e in data}
        data_notes = datacheck.missing_formulas(book, data)
    _compare(book, reference, got, report, notes, raw)
    datacheck.compare(book, data, data_got, data_notes, report)
    map_start = time.perf_counter()
    mapcheck.check_map(book, frame, report, map_values)  # a Decision map or Fitted curve sheet
    if mapcheck.GROUP in report.groups:
        report.groups[mapcheck.GROUP].seconds += time.perf_counter() - map_start
    for group, spent in seconds.items():
        if group in report.groups:
            report.groups[group].seconds += spent
    report.seconds = time.perf_counter() - start
    return report


# --- the LibreOffice engine ----------------------------------------------------------------


def _recalculate(path: Path, book: Workbook) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], Any],
                                                      dict[tuple[int, int], Any] | None]:
    """The Training values after a full recalculation in headless LibreOffice (raw and as
    floats), the recalculated Network sheet's values and those of the map sheet (if any)."""
    from sheetnet.engines.libreoffice import LibreOfficeError, recalculate

    with tempfile.TemporaryDirectory(prefix="sheetnet-check-") as tmp:
        try:
            out = recalculate(path, Path(tmp) / "recalculated.xlsx")
        except LibreOfficeError as exc:
            raise SheetnetError(f"{path}: {exc}") from None
        with open_workbook(out, data_only=True) as values:
            raw = training_cells(values[book.training_sheet], book.spec, len(book.columns))
            network = sheet_values(values[book.network_sheet])  # x̃, μ, σ and 1 − β recalculated
            map_sheet = mapcheck.map_sheet(values.sheetnames)
            map_values = sheet_values(values[map_sheet]) if map_sheet else None
    return raw, np.vectorize(as_float, otypes=[float])(raw), network, map_values


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
        count_not_finite(report, both_not_finite(expected, values))
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
