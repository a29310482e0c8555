"""The check of the Decision map (or Fitted curve) sheet: every grid cell against NumPy's forward
pass at the parameters of the iteration t in the sheet's t cell, on the grid's points.

Every grid cell holds the same formula up to the cells of its x₁ and x₂, so the formulas engine
replaces those two references by placeholders, checks that every cell then reads the same, and
evaluates that one formula for all cells at once. The parameter cells it reads (INDEX into the
Training sheet) get the NumPy core's parameters of row t, μ and σ their Network values. With
LibreOffice the recalculated values are compared instead.

A softmax map's cells read the z grids below it: its z cells are checked as above, and the
class cells with each z reference replaced by a placeholder that gets NumPy's z of its point.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.model import ids
from sheetnet.sheets import decision_map as dm
from sheetnet.sheets import layout
from sheetnet.sheets.i18n import sheet_names
from sheetnet.verify.mapcells import check_helpers
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import Unsupported, as_float, input_cell
from sheetnet.verify.referencerun import ReferenceRun
from sheetnet.verify.report import SAFETY, Report, WrongCell, judge
from sheetnet.verify.vectorised import ROW_MAX, ROW_MIN, fast_functions

GROUP = "map"
_MAX_CALL = re.compile(r"(?<![\w.])MAX\s*\(", re.IGNORECASE)
_MIN_CALL = re.compile(r"(?<![\w.])MIN\s*\(", re.IGNORECASE)
_X1, _X2 = "SHEETNETXA!A1", "SHEETNETXB!A1"


def map_sheet(names: list[str]) -> str | None:
    """The workbook's Decision map or Fitted curve sheet, if it has one."""
    wanted = [*sheet_names("sheet.map"), *sheet_names("sheet.curve")]
    return next((name for name in names if name in wanted), None)


def check_map(book: Workbook, frame: ReferenceRun, report: Report,
              recalculated: dict[tuple[int, int], Any] | None = None) -> None:
    """Add the map's cells to the report (recalculated: LibreOffice's values of the map sheet)."""
    sheet = map_sheet(book.sheetnames)
    if sheet is None or not dm.kind(book.spec) or sheet not in book.others:
        return
    cells = book.others[sheet]
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
    k = dm.classes(spec) if is_map else 0
    subs = [_axis_refs(spec, r, c) for r in range(n) for c in range(n)] if is_map else \
        [[(f"${layout.column_letter(dm.AXIS_COL)}{dm.GRID_ROW + 1 + r}", _X1)] for r in range(n)]
    columns = {"SHEETNETXA": points[:, 0], "SHEETNETXB": points[:, 1] if is_map else points[:, 0]}
    if k:  # the z grids, each cell from its x₁ and x₂; the class cells from NumPy's z
        z = dm.output_sums(spec, params, points)
        z_where = [(dm.z_grid_row(n, j) + 1 + r, dm.AXIS_COL + 1 + c)
                   for j in range(k) for r in range(n) for c in range(n)]
        z_subs = subs * k
        class_subs = [[(layout.address(dm.z_grid_row(n, j) + 1 + r, dm.AXIS_COL + 1 + c), f"SHEETNETZ{j}!A1")
                       for j in range(k)] for r in range(n) for c in range(n)]
        # every placeholder's value per checked cell: the class cells first, then the z cells
        columns = {name: np.tile(values, k + 1) for name, values in columns.items()}
        columns |= {f"SHEETNETZ{j}": np.concatenate((z[j], np.full(k * n * n, math.nan))) for j in range(k)}
        where, subs = where + z_where, class_subs + z_subs
        expected = np.concatenate((expected, z.ravel()))
    if recalculated is not None:
        got, notes = np.array([as_float(recalculated.get(w)) for w in where]), {}
    else:
        got, notes = _recompute(book, frame, t, cells, where, subs, columns)
    # The ranges, parameters and axes first: a wrong one is the cause of the grid's errors.
    check_helpers(book, sheet, cells, frame, t, axes, report, recalculated, GROUP)
    if k:  # where two z tie to rounding, either class is right
        got_class = got[: n * n]
        alternative = _tie_alternative(z, expected[: n * n])
        expected[: n * n] = np.where(np.abs(got_class - alternative) < np.abs(got_class - expected[: n * n]),
                                     alternative, expected[: n * n])
    _compare(report, sheet, where, cells, expected, got, notes, t)


def _axis_refs(spec: object, r: int, c: int) -> list[tuple[str, str]]:
    """The x₁ and x₂ references of grid point (r, c), with their placeholders."""
    return [(f"{layout.column_letter(dm.AXIS_COL + 1 + c)}${dm.GRID_ROW}", _X1),
            (f"${layout.column_letter(dm.AXIS_COL)}{dm.GRID_ROW + 1 + r}", _X2)]


def _tie_alternative(z: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The value with the runner-up class where the two largest z are equal to rounding."""
    order = np.sort(z, axis=0)
    runner_up = np.argsort(-z, axis=0, kind="stable")[1] + 1
    tie = order[-1] - order[-2] <= 1e-12 * np.maximum(np.abs(z).max(axis=0), 1e-300)
    return np.where(tie, runner_up + (expected - np.floor(expected)), expected)


def grid_size(book: Workbook, cells: dict[tuple[int, int], Any]) -> int:
    """Points a side of the workbook's map or curve sheet (its --decision-map)."""
    return _grid_size(cells, dm.kind(book.spec) == "map") if dm.kind(book.spec) else 0


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


def _recompute(book: Workbook, frame: ReferenceRun, t: int, cells: dict[tuple[int, int], Any],
               where: list[tuple[int, int]], subs: list[list[tuple[str, str]]],
               columns: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[int, str]]:
    """Every grid cell from its own formula text, each shape at once (see the module docstring):
    subs[k] are cell k's references to replace by placeholders, columns the placeholders' values."""
    texts, notes = [], {}
    for k, (row, col) in enumerate(where):
        text = cells.get((row, col))
        if not (isinstance(text, str) and text.startswith("=")):
            notes[k] = "the cell holds no formula"
            texts.append("")
            continue
        for ref, placeholder in subs[k]:
            text = re.sub(rf"(?<![\w$]){re.escape(ref)}(?!\d)", placeholder, text)
        texts.append(text)
    got = np.full(len(where), math.nan)
    shapes: dict[str, list[int]] = {}  # one shape for an untouched grid; an edited cell has its own
    for k, text in enumerate(texts):
        if k not in notes:
            shapes.setdefault(text, []).append(k)
    for text, members in shapes.items():
        try:
            got[members] = _evaluate(text, frame, t, book, {name: values[members] for name, values in
                                                             columns.items()})
        except Exception as exc:  # the formulas package raises many kinds of errors
            notes.update(dict.fromkeys(members, f"the check cannot evaluate it ({exc})"))
    return got, notes


def _evaluate(text: str, frame: ReferenceRun, t: int, book: Workbook,
              columns: dict[str, np.ndarray]) -> np.ndarray:
    """One formula shape for all its cells at once: x₁, x₂ (and z) go in as columns. MAX and MIN
    of single cells (a softmax map's class cells) are taken per cell, not over the column."""
    import formulas

    text = _MIN_CALL.sub(ROW_MIN + "(", _MAX_CALL.sub(ROW_MAX + "(", text))
    with fast_functions():
        function = formulas.Parser().ast(text)[1].compile()
    args = [_input(name, frame, t, book, columns) for name in function.inputs]
    with np.errstate(all="ignore"):
        result = np.asarray(function(*args), dtype=object).reshape(-1)
    size = len(next(iter(columns.values())))
    if result.size == 1 and size > 1:
        result = np.repeat(result, size)
    return np.array([as_float(v) for v in result])


def _input(name: str, frame: ReferenceRun, t: int, book: Workbook, columns: dict[str, np.ndarray]) -> Any:
    """A grid formula's input: x₁, x₂ (or z) of every cell, a parameter at t, or a Network cell."""
    sheet, letters, row = input_cell(name)
    if sheet in columns:
        return columns[sheet].reshape(-1, 1)
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
    report.cells += len(where)
    report.wrong += int(bad.sum())
    report.covered.add(sheet, where)
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
