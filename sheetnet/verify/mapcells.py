"""The Decision map's (or Fitted curve's) cells besides its grid: the axis ranges (MIN and MAX of
the data columns with a margin), the row of parameters at iteration t (INDEX into Training) and
each axis point. Each is evaluated from its own formula text (cellformula.py) on the Network's
data, NumPy's Training values and NumPy's ends of the ranges, and compared with NumPy's value:
the ends from the data, the parameters of row t, the points of numpy.linspace. A whole-chain
engine's values are compared instead when it recalculated the sheet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.model import ids
from sheetnet.sheets import decision_map as dm
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify.bound import U
from sheetnet.verify.cellformula import Lookup
from sheetnet.verify.readback import Workbook
from sheetnet.verify.referencerun import ReferenceRun
from sheetnet.verify.report import SAFETY, Report
from sheetnet.verify.sheetcells import Cells, Found, judge_found, value_cell

ENGINE_DRIFT = 1e-13


def check_helpers(book: Workbook, sheet: str, cells: Cells, frame: ReferenceRun, t: int,
                  axes: list[dm.Axis], report: Report, recalculated: Cells | None, group: str) -> None:
    """Add the ranges, parameters and axis points of the map sheet to the report's group."""
    spec = book.spec
    ends = {(dm.X1_ROW + i, col): end for i, ax in enumerate(axes) for col, end in ((2, ax.lo), (4, ax.hi))}
    lookup = _lookup(book, cells, frame, ends)
    found: list[Found] = []
    for (row, col), end in ends.items():
        ax = axes[row - dm.X1_ROW]
        bound = 4 * U * (abs(ax.lo) + abs(ax.hi))  # MIN, MAX, a span, a tenth of it, a sum
        found.append(value_cell((row, col), end, cells, recalculated, lookup, bound))
    for c, qid in enumerate(ids.params(spec), start=2):
        # A whole-chain engine's parameter at t is its own chain's, which drifts from NumPy's by
        # rounding (docs/check.md: ≤ 3·10⁻¹⁴ of the column's scale): allow 10⁻¹³ of that scale.
        drift = 0.0 if recalculated is None else ENGINE_DRIFT * float(np.nanmax(np.abs(frame[qid])))
        found.append(value_cell((dm.PARAM_ROW, c), float(frame.loc[t, qid]), cells, recalculated, lookup,
                                drift / SAFETY))
    for at, point, ax in _points(spec, axes):
        found.append(value_cell(at, point, cells, recalculated, lookup, 4 * U * (abs(ax.lo) + abs(ax.hi))))
    judge_found(sheet, group, found, report, iteration=t)


def _points(spec: Any, axes: list[dm.Axis]) -> list[tuple[tuple[int, int], float, dm.Axis]]:
    """Each axis cell, its point and its axis: x₁ along the grid's first row and x₂ down its
    first column for a map; x down the first column for a curve."""
    down_from = dm.GRID_ROW + 1
    if dm.kind(spec) == "curve":
        return [((down_from + r, dm.AXIS_COL), float(x), axes[0]) for r, x in enumerate(axes[0].points())]
    along = [((dm.GRID_ROW, dm.AXIS_COL + 1 + c), float(x), axes[0]) for c, x in enumerate(axes[0].points())]
    down = [((down_from + r, dm.AXIS_COL), float(x), axes[1]) for r, x in enumerate(axes[1].points())]
    return along + down


def _lookup(book: Workbook, cells: Cells, frame: ReferenceRun, ends: dict[tuple[int, int], float]) -> Lookup:
    """Network cells read the workbook's data, Training cells NumPy's values, this sheet's range
    ends NumPy's (so each axis point is judged on its own), any other cell its content."""
    values = frame.to_numpy(dtype=float)
    network, training = book.network_sheet.upper(), book.training_sheet.upper()

    def lookup(sheet: str, letters: str, row: int) -> Any:
        at = (row, column_index_from_string(letters))
        if sheet == network:
            return book.network.get(at)
        if sheet == training:
            t, c = row - FIRST_DATA_ROW, at[1] - 1
            return float(values[t, c]) if 0 <= t < len(values) and 0 <= c < values.shape[1] else None
        if sheet == "":
            return ends.get(at, cells.get(at))
        return None

    return lookup
