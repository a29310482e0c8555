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

_BLOCK = 1 << 16  # rows evaluated at once


def intended_training(
    book: Workbook, values: np.ndarray, network: dict[tuple[int, int], Any], leaf_rel: float = 0.0,
    *, with_values: bool = True,
) -> tuple[np.ndarray | None, np.ndarray]:
    """(intended value, rounding-error bound) of every Training cell; NaN where no formula.

    with_values=False gives the bounds only (None for the values), and never holds a second
    array the size of the sheet.
    """
    columns = IntendedColumns(book, values, network, leaf_rel)
    intended = np.full(values.shape, np.nan) if with_values else None
    bound = np.zeros(values.shape)
    for c in range(len(book.columns)):
        v, bound[:, c] = columns.column(c, with_values=with_values)
        if intended is not None:
            intended[:, c] = v
    return intended, bound


class IntendedColumns:
    """The intended values and bounds of one Training column at a time, so that a check can
    judge a column and let it go without ever holding a bound for the whole sheet."""

    def __init__(self, book: Workbook, values: np.ndarray, network: dict[tuple[int, int], Any],
                 leaf_rel: float = 0.0):
        self.book, self.values, self.network, self.leaf_rel = book, values, network, leaf_rel
        self.col_of = {qid: c for c, qid in enumerate(ids.all_ids(book.spec))}
        self.cells = network_layout(book.spec).input_cells
        self.data: dict[str, np.ndarray] = {}

    def const(self, key: str) -> float:
        value = self.network.get(self.cells[key])
        return 0.0 if value is None else as_float(value)  # an empty cell reads as 0

    def data_column(self, key: str) -> np.ndarray:
        if key not in self.data:
            self.data[key] = np.array([self.const(f"{key}@{k + 1}") for k in range(self.book.spec.n_samples)])
        return self.data[key]

    def column(self, c: int, *, with_values: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
        """(intended values or None, bounds) of column c's rows; NaN values and 0 bounds where
        the column has no formula."""
        values, col = self.values, self.book.columns[c]
        n_rows = values.shape[0]
        n = n_rows if col.in_final_row else n_rows - 1
        intended = np.full(n_rows, np.nan) if with_values else None
        bound = np.zeros(n_rows)
        parts = [(0, 1, col.first), (1, n, col.formula)] if col.first is not None else [(0, n, col.formula)]
        for first, end, expr in parts:
            if expr is None:
                continue
            # A block of rows at a time: an expression's temporaries are a dozen arrays of its
            # rows, 100 MB for a column of Excel's largest sheet. Every operation is row by row,
            # so the blocks give the same values as the whole column would.
            for start in range(first, end, _BLOCK):
                stop = min(start + _BLOCK, end)
                rows = np.arange(start, stop)

                def cell(qid: str, prev: bool, rows: np.ndarray = rows) -> np.ndarray:
                    src = rows - 1 if prev else rows
                    out = np.full(len(rows), np.nan)
                    out[src >= 0] = values[src[src >= 0], self.col_of[qid]]
                    return out

                v, e = evaluate(expr, Leaves(cell, self.const, self.data_column, self.leaf_rel))
                if intended is not None:
                    intended[start:stop] = np.broadcast_to(v, rows.shape)
                bound[start:stop] = np.broadcast_to(e, rows.shape)
        return intended, bound
