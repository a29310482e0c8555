"""Where everything goes: quantity → cell. The only module that makes A1 addresses."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from sheetnet.equations import graph, updates
from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Cell, Const, ConstRange, Expr, Leaf, to_excel
from sheetnet.model import ids
from sheetnet.model.spec import Spec, divisors
from sheetnet.sheets import limits, settings

MAX_ROWS, MAX_COLS = limits.MAX_ROWS, limits.MAX_COLS
LAYERED_HINT = ("use fewer features, units or steps (z, attention's Q, K, V and every gradient are split "
                "into columns of at most 64 terms, other sums are one formula), or fewer samples a row "
                "(minibatch)")

# Training sheet: a band row naming the groups, a row of labels, the row of ids, then data.
BAND_ROW, LABEL_ROW, ID_ROW = 1, 2, 3
FIRST_DATA_ROW = 4

# Network sheet: the settings that apply to the network, one a row (settings.py; the check finds
# each by its label), then the data table, always at DATA_HEADER_ROW.
TITLE_ROW, DESCRIPTION_ROW = 1, 2
FIRST_SETTING_ROW = 4  # then one row per setting (settings.py), value in column B
DATA_HEADER_ROW = FIRST_SETTING_ROW + len(settings.NAMES) + 1


def setting_cells(spec: Spec | None = None) -> dict[str, tuple[int, int]]:
    """(row, column) of each setting's value: those that apply to spec (all without one)."""
    shown = [s.name for s in settings.SETTINGS if spec is None or settings.applies(s, spec)]
    return {name: (FIRST_SETTING_ROW + n, 2) for n, name in enumerate(shown)}


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
    # Standardised inputs (spec.standardize): input_cells["x[i]@k"] is then the x̃ cell, the
    # typed value sits in raw_cells["x[i]@k"], and μ, σ sit in two rows under the raw data.
    raw_cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    mean_cells: list[tuple[int, int]] = field(default_factory=list)
    std_cells: list[tuple[int, int]] = field(default_factory=list)
    first_standardized_col: int = 0
    layer_title_rows: list[int] = field(default_factory=list)
    last_row: int = 0

    def __post_init__(self) -> None:
        self.setting_cells = setting_cells(self.spec)
        self.input_cells["lr"] = self.setting_cells["learning_rate"]
        if "leaky_slope" in self.setting_cells:  # read by every leaky_relu formula
            self.input_cells[graph.LEAKY.key] = self.setting_cells["leaky_slope"]
        for key in updates.network_keys(self.spec):  # only the cells the optimizer reads
            self.input_cells[key] = self.setting_cells[key]
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
        if spec.standardize:
            self._place_standardization()

    def _place_standardization(self) -> None:
        """x̃ columns right of the targets after a blank column; μ and σ rows under the raw data."""
        spec = self.spec
        n_in, n_out = spec.sizes[0], spec.sizes[-1]
        self.first_standardized_col = 2 + n_in + n_out + 1
        for k in range(spec.n_samples):
            for i in range(n_in):
                key = graph.input_key(i, k).key
                self.raw_cells[key] = self.input_cells[key]
                self.input_cells[key] = (DATA_HEADER_ROW + 1 + k, self.first_standardized_col + i)
        mean_row = self.last_row + 1
        self.mean_cells = [(mean_row, 2 + i) for i in range(n_in)]
        self.std_cells = [(mean_row + 1, 2 + i) for i in range(n_in)]
        self.last_row = mean_row + 1

    def typed_cells(self) -> dict[str, tuple[int, int]]:
        """Every cell holding a typed number (what the check reads back), by Const key."""
        typed = {k: v for k, v in self.input_cells.items() if k not in updates.COMPLEMENTS.values()}
        return {**typed, **self.raw_cells}

    def standardization_formula(self, expr: Expr) -> str:
        """Formula text of a Network-sheet standardisation cell (standardize.py's expressions).

        Raw values are relative references and μ, σ and the column ranges fix only their row,
        so each formula is its neighbour's copied down or across, as a student would fill it.
        """
        return to_excel(expr, self._standardization_ref)

    def _standardization_ref(self, node: Cell | Const) -> str:
        kind, _, key = node.key.partition(":") if isinstance(node, Const) else ("", "", "")
        qid = ids.parse(key) if kind else None
        i = qid.neuron if qid is not None and qid.kind == "x" and qid.neuron is not None else -1
        if kind == "raw":
            return address(*self.raw_cells[key])
        if kind in ("mean", "std"):
            row, col = (self.mean_cells if kind == "mean" else self.std_cells)[i]
            return f"{column_letter(col)}${row}"
        if kind == "column":
            col, first = 2 + i, DATA_HEADER_ROW + 1
            return f"{column_letter(col)}${first}:{column_letter(col)}${first + self.spec.n_samples - 1}"
        raise ValueError(f"not a Network standardisation cell: {node!r}")

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

    def data_range(self, column: str) -> tuple[int, int, int]:
        """(first row, last row, column) of a data column, e.g. "x[1]": the cells of the Const
        keys x[1]@1 … x[1]@K, which must lie one below the other."""
        cells = [self.input_cells[f"{column}@{k + 1}"] for k in range(self.spec.n_samples)]
        (first, col), (last, _) = cells[0], cells[-1]
        if cells != [(first + k, col) for k in range(len(cells))]:
            raise ValueError(f"the cells of data column {column} are not one contiguous column")
        return first, last, col

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
        try:
            limits.check_formulas(self.columns, self.template, self.last_row)
        except SheetnetError as exc:
            if not self.spec.layered:
                raise
            # A layer's sums run over features and steps too, which batches alone do not
            # shorten (sums of products are split into parts: layer_ids.split).
            raise SheetnetError(str(exc).replace(limits.FORMULA_HINT, LAYERED_HINT)) from None

    def row_of(self, t: int) -> int:
        return self.first_data_row + t

    @property
    def last_row(self) -> int:
        return self.row_of(self.spec.iterations)

    def template(self, expr: Expr) -> str:
        """Formula text with {r} for this row and {p} for the row above."""
        return to_excel(expr, self._ref)

    def _ref(self, node: Leaf) -> str:
        if isinstance(node, Cell):
            return f"{column_letter(self.col_of[node.qid])}{{{'p' if node.prev else 'r'}}}"
        if isinstance(node, ConstRange):
            return self.constant_range(node.key)
        return self.constant_address(node.key)

    def constant_range(self, column: str) -> str:
        """A Network data column as an absolute range: Network!$B$14:$B$163."""
        first, last, col = self.network.data_range(column)
        return (sheet_prefix(self.network_sheet) + address(first, col, absolute=True) + ":"
                + address(last, col, absolute=True))

    def constant_address(self, key: str) -> str:
        if key in self.overrides:
            return self.overrides[key]
        row, col = self.network.input_cells[key]
        return sheet_prefix(self.network_sheet) + address(row, col, absolute=True)

    def cell(self, qid: str, t: int) -> str:
        return address(self.row_of(t), self.col_of[qid])

    def data_area(self) -> tuple[int, int, int, int]:
        """(first row, first column, last row, last column) of the data cells, counted from 1."""
        first_col = 1 + self.col_offset
        return self.first_data_row, first_col, self.last_row, first_col + len(self.columns) - 1

    def diverged_row_rule(self) -> str:
        """Conditional-format formula, true in the first data row whose loss is an error.

        Written for the area's first row; a spreadsheet shifts its row numbers for every row.
        The row above the first data row holds the column ids (text, never an error).
        """
        col, row = column_letter(self.col_of["loss"]), self.first_data_row
        return f"=AND(ISERROR(${col}{row}),NOT(ISERROR(${col}{row - 1})))"

    def error_cell_rule(self) -> str:
        """Conditional-format formula, true in a data cell that shows an error (e.g. #NUM!)."""
        return f"=ISERROR({address(self.first_data_row, 1 + self.col_offset)})"

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
            f"this network needs {n_columns:,} Training columns, more than a spreadsheet holds "
            f"({MAX_COLS:,}); {_narrower(spec)}"
        )


def _narrower(spec: Spec) -> str:
    """How to fit: the largest batch size (a divisor of the samples) whose row fits, if any."""

    def columns(b: int) -> int:  # the Training columns of this spec with batches of b samples
        return len(ids.all_ids(dataclasses.replace(spec, mode="sgd" if b == 1 else "minibatch",
                                                   batch_size=b)))

    fitting = [b for b in divisors(spec.n_samples) if columns(b) <= MAX_COLS]
    if not fitting:
        return "use fewer neurons"
    best = max(fitting)
    if best == 1:
        return 'use mode = "sgd" (one sample per update) or fewer neurons'
    return (f'use mode = "minibatch" with batch_size = {best} (the largest divisor of the'
            f' {spec.n_samples} samples that fits) or smaller, or mode = "sgd"')
