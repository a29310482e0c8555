"""What every Training cell should hold given the values of the cells it reads, and how exactly.

The intended expression of each column (equations/graph.py) is evaluated in NumPy on a matrix
of Training values (the reference core's, or an engine's own) and the Network values, with the
rounding-error bound of every cell (bound.py). The formulas engine's cells are then compared
with the reference, each within its own bound; a whole-chain engine's cells (LibreOffice,
Gnumeric) with the intended expression evaluated on that engine's own earlier values, so that
a wrong formula fails locally in every engine while the engines' drift is reported apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sheetnet.model import ids
from sheetnet.sheets.layered_network import network_layout
from sheetnet.verify.bound import Leaves, evaluate
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float


def intended_training(
    book: Workbook, values: np.ndarray, network: dict[tuple[int, int], Any], leaf_rel: float = 0.0,
    *, with_values: bool = True,
) -> tuple[np.ndarray | None, np.ndarray]:
    """(intended value, rounding-error bound) of every Training cell; NaN where no formula.

    with_values=False gives the bounds only (None for the values), and never holds a second
    array the size of the sheet.
    """
    col_of = {qid: c for c, qid in enumerate(ids.all_ids(book.spec))}
    cells = network_layout(book.spec).input_cells
    n_rows = values.shape[0]

    def const(key: str) -> float:
        value = network.get(cells[key])
        return 0.0 if value is None else as_float(value)  # an empty cell reads as 0

    columns: dict[str, np.ndarray] = {}

    def column(key: str) -> np.ndarray:
        if key not in columns:
            columns[key] = np.array([const(f"{key}@{k + 1}") for k in range(book.spec.n_samples)])
        return columns[key]

    intended = np.full(values.shape, np.nan) if with_values else None
    bound = np.zeros(values.shape)
    for c, col in enumerate(book.columns):
        n = n_rows if col.in_final_row else n_rows - 1
        parts = [(0, 1, col.first), (1, n, col.formula)] if col.first is not None else [(0, n, col.formula)]
        for start, stop, expr in parts:
            if expr is None or stop <= start:
                continue
            rows = np.arange(start, stop)

            def cell(qid: str, prev: bool, rows: np.ndarray = rows) -> np.ndarray:
                src = rows - 1 if prev else rows
                out = np.full(len(rows), np.nan)
                out[src >= 0] = values[src[src >= 0], col_of[qid]]
                return out

            v, e = evaluate(expr, Leaves(cell, const, column, leaf_rel))
            if intended is not None:
                intended[start:stop, c] = np.broadcast_to(v, rows.shape)
            bound[start:stop, c] = np.broadcast_to(e, rows.shape)
    return intended, bound
