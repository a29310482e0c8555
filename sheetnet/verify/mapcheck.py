"""The check of the Decision map (or Fitted curve) sheet: every grid cell against NumPy's forward
pass at the parameters of the iteration t in the sheet's t cell, on the grid's points.

Every grid cell holds the same formula up to the cells of its x₁ and x₂, so the formulas engine
replaces those two references by placeholders, checks that every cell then reads the same, and
evaluates that one formula for all cells at once. The parameter cells it reads (INDEX into the
Training sheet) get the NumPy core's parameters of row t, μ and σ their Network values. With
LibreOffice the recalculated values are compared instead.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import column_index_from_string

from sheetnet.model import ids
from sheetnet.sheets import decision_map as dm
from sheetnet.sheets import layout
from sheetnet.sheets.i18n import sheet_names
from sheetnet.verify.mapcells import check_helpers
from sheetnet.verify.readback import Workbook, open_workbook, sheet_values
from sheetnet.verify.recompute import Unsupported, as_float, input_cell
from sheetnet.verify.report import SAFETY, Report, WrongCell, judge

GROUP = "map"
_X1, _X2 = "SHEETNETXA!A1", "SHEETNETXB!A1"


def map_sheet(names: list[str]) -> str | None:
    """The workbook's Decision map or Fitted curve sheet, if it has one."""
    wanted = [*sheet_names("sheet.map"), *sheet_names("sheet.curve")]
    return next((name for name in names if name in wanted), None)


def check_map(book: Workbook, frame: pd.DataFrame, report: Report,
              recalculated: dict[tuple[int, int], Any] | None = None) -> None:
    """Add the map's cells to the report (recalculated: LibreOffice's values of the map sheet)."""
    with open_workbook(book.path, data_only=False) as formulas:
        sheet = map_sheet(formulas.sheetnames)
        if sheet is None or not dm.kind(book.spec):
            return
        cells = sheet_values(formulas[sheet])
    spec, is_map = book.spec, dm.kind(book.spec) == "map"
    t = cells.get((dm.T_ROW, 2))
    if not isinstance(t, int | float) or not 0 <= t <= spec.iterations or t != int(t):
        _fail(report, sheet, (dm.T_ROW, 2), "t", t, f"t must be a whole number from 0 to {spec.iterations}")
        return
    t = int(t)
    n = _grid_size(cells, is_map)
    axes = [dm.axis(spec, i, n) for i in range(spec.sizes[0])]
    params = dm.parameters_at(spec, frame, t)
    if is_map:
        points = np.array([[a, b] for b in axes[1].points() for a in axes[0].points()])
        where = [(dm.GRID_ROW + 1 + r, dm.AXIS_COL + 1 + c) for r in range(n) for c in range(n)]
    else:
        points = axes[0].points().reshape(-1, 1)
        where = [(dm.GRID_ROW + 1 + r, dm.AXIS_COL + 1) for r in range(n)]
    expected = dm.outputs(spec, params, points)
    if recalculated is not None:
        got, notes = np.array([as_float(recalculated.get(w)) for w in where]), {}
    else:
        got, notes = _recompute(book, frame, t, cells, where, points)
    # The ranges, parameters and axes first: a wrong one is the cause of the grid's errors.
    check_helpers(book, sheet, cells, frame, t, axes, report, recalculated, GROUP)
    _compare(report, sheet, where, cells, expected, got, notes, t)


def _grid_size(cells: dict[tuple[int, int], Any], is_map: bool) -> int:
    """Points a side: the x₁ axis cells of a map, the x cells of a curve."""
    n = 0
    if is_map:
        while (dm.GRID_ROW, dm.AXIS_COL + 1 + n) in cells:
            n += 1
    else:
        while (dm.GRID_ROW + 1 + n, dm.AXIS_COL) in cells:
            n += 1
    return n


def _recompute(book: Workbook, frame: pd.DataFrame, t: int, cells: dict[tuple[int, int], Any],
               where: list[tuple[int, int]], points: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Every grid cell from its own formula text, each shape at once (see the module docstring)."""
    texts, notes = [], {}
    for k, (row, col) in enumerate(where):
        text = cells.get((row, col))
        if not (isinstance(text, str) and text.startswith("=")):
            notes[k] = "the cell holds no formula"
            texts.append("")
            continue
        x1 = f"{layout.column_letter(col)}${dm.GRID_ROW}"
        x2 = f"${layout.column_letter(dm.AXIS_COL)}{row}"
        if dm.kind(book.spec) == "curve":
            x1, x2 = x2, "\0"
        generic = re.sub(rf"(?<![\w$]){re.escape(x1)}(?!\d)", _X1, text)
        texts.append(re.sub(rf"(?<![\w$]){re.escape(x2)}(?!\d)", _X2, generic))
    got = np.full(len(where), math.nan)
    shapes: dict[str, list[int]] = {}  # one shape for an untouched grid; an edited cell has its own
    for k, text in enumerate(texts):
        if k not in notes:
            shapes.setdefault(text, []).append(k)
    for text, members in shapes.items():
        try:
            got[members] = _evaluate(text, frame, t, book, points[members])
        except Exception as exc:  # the formulas package raises many kinds of errors
            notes.update(dict.fromkeys(members, f"the check cannot evaluate it ({exc})"))
    return got, notes


def _evaluate(text: str, frame: pd.DataFrame, t: int, book: Workbook, points: np.ndarray) -> np.ndarray:
    """One formula shape for all its cells at once: x₁ and x₂ go in as columns."""
    import formulas

    function = formulas.Parser().ast(text)[1].compile()
    args = [_input(name, frame, t, book, points) for name in function.inputs]
    with np.errstate(all="ignore"):
        result = np.asarray(function(*args), dtype=object).reshape(-1)
    if result.size == 1 and len(points) > 1:
        result = np.repeat(result, len(points))
    return np.array([as_float(v) for v in result])


def _input(name: str, frame: pd.DataFrame, t: int, book: Workbook, points: np.ndarray) -> Any:
    """A grid formula's input: x₁ or x₂ of every cell, a parameter at t, or a Network cell."""
    sheet, letters, row = input_cell(name)
    if sheet in ("SHEETNETXA", "SHEETNETXB"):
        return points[:, 0 if sheet == "SHEETNETXA" else 1].reshape(-1, 1)
    col = column_index_from_string(letters)
    if sheet == book.network_sheet.upper():
        return book.network.get((row, col), 0.0)
    qids = ids.params(book.spec)
    if sheet == "" and row == dm.PARAM_ROW and 2 <= col < 2 + len(qids):
        return float(frame.loc[t, qids[col - 2]])
    raise Unsupported(f"a grid cell reads {name}: not its x₁, x₂, a parameter or a Network cell")


def _compare(report: Report, sheet: str, where: list[tuple[int, int]], cells: dict[tuple[int, int], Any],
             expected: np.ndarray, got: np.ndarray, notes: dict[int, str], t: int) -> None:
    # A grid cell is a whole forward pass from parameters that the check holds exactly; as the
    # Training columns once were, it is held to rtol of the largest |value| of the grid, which
    # covers the cancellation of a weighted sum near 0 without a bound per cell.
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max(initial=0.0))
    verdict = judge(expected, got, report.rtol * scale / SAFETY, report.rtol)
    bad = verdict.bad
    for k in notes:
        bad[k] = True
    report.group(GROUP, sheet).add(verdict)
    report.covered.add(sheet, where)
    report.cells += len(where)
    report.wrong += int(bad.sum())
    if bad.any() and report.first_wrong is None:
        k = int(np.argmax(bad))
        text = cells.get(where[k])
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(*where[k]), "map", t,
                                       text if isinstance(text, str) else None, float(expected[k]),
                                       got[k], notes.get(k, ""))


def _fail(report: Report, sheet: str, at: tuple[int, int], qid: str, got: Any, note: str) -> None:
    report.cells += 1
    report.wrong += 1
    if report.first_wrong is None:
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(*at), qid, 0, None,
                                       math.nan, got, note)
