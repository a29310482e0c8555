"""The check of a layered workbook's Maps sheet (sheets/layer_maps.py): every map cell must hold
its INDEX formula, and its value must be the Training column's at the typed iteration t."""

from __future__ import annotations

from typing import Any

import numpy as np

from sheetnet.sheets import layer_maps
from sheetnet.sheets.i18n import sheet_names
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report
from sheetnet.verify.sheetcells import Found, judge_found

GROUP = "maps"


def maps_sheet(names: list[str]) -> str | None:
    return next((name for name in sheet_names("sheet.layer_maps") if name in names), None)


def check_maps(book: Workbook, training: np.ndarray, report: Report,
               engine: dict[tuple[int, int], Any] | None) -> None:
    """training: the Training values the maps read (NumPy's, or the engine's own); engine: the
    sheet's values as a whole-chain engine computed them (None with the formulas engine)."""
    sheet = maps_sheet(book.sheetnames)
    if sheet is None or not book.spec.layered or sheet not in book.others:
        return
    cells = book.others[sheet]
    t = _iteration(cells.get(layer_maps.T_CELL), book.spec.iterations)
    layout_ = TrainingLayout(book.spec, network_layout(book.spec), book.network_sheet)
    col_of = {c.qid: n for n, c in enumerate(book.columns)}
    found: list[Found] = []
    for m in layer_maps.maps(book.spec):
        for cell in m.cells:
            at = (cell.row, cell.col)
            text = cells.get(at)
            want = layer_maps.formula(layout_, book.training_sheet, cell.qid)
            expected = float(training[t, col_of[cell.qid]]) if t is not None else np.nan
            if text != want:
                got: Any = np.nan  # not the formula that reads row t
            elif engine is not None:
                got = as_float(engine.get(at))
            else:
                got = expected
            found.append((at, expected, got, text if isinstance(text, str) else None, 0.0))
    judge_found(sheet, GROUP, found, report, iteration=t or 0)
    if t is not None:
        report.covered.add(sheet, [layer_maps.T_CELL])


def _iteration(value: Any, last: int) -> int | None:
    """The typed t, if it is a whole number of a row the Training sheet has."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if float(value).is_integer() and 0 <= value <= last:
        return int(value)
    return None
