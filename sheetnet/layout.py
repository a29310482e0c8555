"""Where everything goes: quantity → cell. The only module that makes A1 addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sheetnet import graph, ids
from sheetnet.errors import SheetnetError
from sheetnet.formula import Cell, Const, Expr, to_excel
from sheetnet.spec import Spec

MAX_ROWS, MAX_COLS = 1_048_576, 16_384

# Training sheet: a band row naming the groups, a row of labels, the row of ids, then data.
BAND_ROW, LABEL_ROW, ID_ROW = 1, 2, 3
FIRST_DATA_ROW = 4

# Network sheet: fixed rows for the settings, so the check can read them back.
TITLE_ROW, DESCRIPTION_ROW = 1, 2
SETTINGS = ("learning_rate", "iterations", "sizes", "activations", "bias", "train_bias", "loss",
            "reduction", "leaky_slope")
FIRST_SETTING_ROW = 4
DATA_HEADER_ROW = FIRST_SETTING_ROW + len(SETTINGS) + 1


def column_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def address(row: int, col: int, *, absolute: bool = False) -> str:
    if absolute:
        return f"${column_letter(col)}${row}"
    return f"{column_letter(col)}{row}"


def sheet_prefix(sheet: str) -> str:
    """`Network!`, or `'网络'!` where the name needs quotes."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet):
        return f"{sheet}!"
    return "'" + sheet.replace("'", "''") + "'!"


@dataclass
class NetworkLayout:
    """Cells of the Network sheet: settings, the data table and one weight block per layer."""

    spec: Spec
    setting_cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    input_cells: dict[str, tuple[int, int]] = field(default_factory=dict)  # Const key → cell
    header_cells: list[tuple[int, int, str]] = field(default_factory=list)  # (row, col, role)
    layer_title_rows: list[int] = field(default_factory=list)
    last_row: int = 0

    def __post_init__(self) -> None:
        for n, name in enumerate(SETTINGS):
            self.setting_cells[name] = (FIRST_SETTING_ROW + n, 2)
        self.input_cells["lr"] = self.setting_cells["learning_rate"]
        self.input_cells[graph.LEAKY.key] = self.setting_cells["leaky_slope"]
        self._place_data()
        self._place_parameters()

    def _place_data(self) -> None:
        spec = self.spec
        n_in, n_out = spec.sizes[0], spec.sizes[-1]
        for k in range(spec.n_samples):
            row = DATA_HEADER_ROW + 1 + k
            for i in range(n_in):
                self.input_cells[graph.input_key(i, k).key] = (row, 2 + i)
            for j in range(n_out):
                self.input_cells[graph.target_key(j, k).key] = (row, 2 + n_in + j)
        self.last_row = DATA_HEADER_ROW + spec.n_samples

    def _place_parameters(self) -> None:
        spec = self.spec
        row = self.last_row + 2
        for layer in range(spec.n_layers):
            n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
            self.layer_title_rows.append(row)
            for j in range(n_to):
                r = row + 2 + j
                for i in range(n_from):
                    self.input_cells[graph.initial_key(ids.weight(layer, j, i)).key] = (r, 2 + i)
                if spec.bias == "per-neuron" or (spec.bias == "shared" and j == 0):
                    key = graph.initial_key(ids.bias(spec, layer, j)).key
                    self.input_cells[key] = (r, 2 + n_from)
            row += 2 + n_to + 1
        self.last_row = row - 2

    def weight_block(self, layer: int) -> tuple[int, int]:
        """(title row, first neuron row) of a layer's block."""
        title = self.layer_title_rows[layer]
        return title, title + 2


@dataclass
class TrainingLayout:
    """Columns of the Training sheet and the formula text of every cell, as row templates."""

    spec: Spec
    network: NetworkLayout
    network_sheet: str
    columns: list[graph.Column] = field(init=False)
    col_of: dict[str, int] = field(init=False)
    # Optional placement for a second copy of the columns (the learning-rate comparison sheet):
    # shift every column right, start the data lower, and read some Consts (e.g. "lr") from
    # given absolute addresses instead of their Network cells.
    col_offset: int = 0
    first_data_row: int = FIRST_DATA_ROW
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = graph.training_columns(self.spec)
        self.col_of = {c.qid: n + self.col_offset for n, c in enumerate(self.columns, start=1)}
        check_fits(self.spec, len(self.columns) + self.col_offset, first_data_row=self.first_data_row)

    def row_of(self, t: int) -> int:
        return self.first_data_row + t

    @property
    def last_row(self) -> int:
        return self.row_of(self.spec.iterations)

    def template(self, expr: Expr) -> str:
        """Formula text with {r} for this row and {p} for the row above."""
        return to_excel(expr, self._ref)

    def _ref(self, node: Cell | Const) -> str:
        if isinstance(node, Cell):
            return f"{column_letter(self.col_of[node.qid])}{{{'p' if node.prev else 'r'}}}"
        return self.constant_address(node.key)

    def constant_address(self, key: str) -> str:
        if key in self.overrides:
            return self.overrides[key]
        row, col = self.network.input_cells[key]
        return sheet_prefix(self.network_sheet) + address(row, col, absolute=True)

    def cell(self, qid: str, t: int) -> str:
        return address(self.row_of(t), self.col_of[qid])

    def column_range(self, qid: str, *, absolute: bool = True, last: int | None = None) -> str:
        """The data cells of a column, e.g. $K$4:$K$104 (up to row `last` if given)."""
        col = self.col_of[qid]
        end = self.last_row if last is None else last
        first = address(self.first_data_row, col, absolute=absolute)
        return f"{first}:{address(end, col, absolute=absolute)}"


def check_fits(spec: Spec, n_columns: int, *, first_data_row: int = FIRST_DATA_ROW) -> None:
    """Fail before writing anything when the Training sheet would exceed Excel's grid."""
    rows = first_data_row + spec.iterations
    if rows > MAX_ROWS:
        most = MAX_ROWS - first_data_row
        raise SheetnetError(
            f"{spec.iterations} iterations need {rows} rows, more than a spreadsheet holds "
            f"({MAX_ROWS}); use --iters {most} or fewer"
        )
    if n_columns > MAX_COLS:
        raise SheetnetError(
            f"this network needs {n_columns} Training columns, more than a spreadsheet holds "
            f"({MAX_COLS}); use fewer neurons or samples"
        )
