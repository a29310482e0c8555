"""The Decision map sheet (`--decision-map N`): the network's output over an N × N grid of its two
inputs, at the parameters of a chosen iteration t, every cell a live formula.

A yellow cell holds t (the last row by default). A row of helper cells reads the parameters of
row t of the Training sheet with INDEX, and each grid cell is the forward pass written out for
its x₁ (the grid's first row) and x₂ (its first column), in raw units: standardised networks
read μ and σ from the Network sheet. The axes span the data's range with a 10% margin, as
formulas of the data columns, so editing the data moves the grid. A colour scale shades the
output (a probability for a sigmoid output), the data points' cells are framed, and changing t
replays training: t = 0, 10, 100 show the boundary forming.

A network with one input and one output gets the fitted curve instead: N points of x, the
output at iteration t beside each, and a chart of the curve over the data points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph, labels
from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Cell, Const, Expr, add, div, mul, sub, to_excel
from sheetnet.model import ids
from sheetnet.model.ops import activation
from sheetnet.model.reference import Parameters, forward
from sheetnet.model.spec import Spec
from sheetnet.sheets import layout, limits, styles

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

MIN_GRID, MAX_GRID = 2, 200  # 200 × 200 = 40,000 live forward passes: seconds in a spreadsheet
MARGIN = 0.1  # of the data's span, on each side
TITLE_ROW, NOTE_ROW, T_ROW, X1_ROW, X2_ROW = 1, 2, 4, 5, 6
PARAM_LABEL_ROW, PARAM_ID_ROW, PARAM_ROW = 8, 9, 10
GRID_ROW = 12  # the x₁ axis; the grid's cells start one row lower, one column right of the x₂ axis
AXIS_COL = 2  # 1-based column of the x₂ axis (and of the curve's x)


def kind(spec: Spec) -> str:
    """"map" for two inputs, "curve" for one input and one output."""
    if spec.sizes[0] == 2 and spec.sizes[-1] == 1:
        return "map"
    if spec.sizes[0] == 1 and spec.sizes[-1] == 1:
        return "curve"
    return ""


def check_grid(spec: Spec, n: int) -> None:
    """One-line errors for a network without a map or a grid of the wrong size, before writing."""
    if not kind(spec):
        shape = "-".join(map(str, spec.sizes))
        raise SheetnetError(f"--decision-map: a decision map is drawn for networks with two inputs and one "
                            f"output, a fitted curve for one input and one output; this network is {shape}")
    if not MIN_GRID <= n <= MAX_GRID:
        raise SheetnetError(f"--decision-map: the grid must have {MIN_GRID} to {MAX_GRID} points a side (the "
                            f"sheet recomputes every forward pass on each edit), got {n}")
    # Each cell writes the whole forward pass out (the stable sigmoid repeats its z three times).
    inputs: list[Expr] = [_standardised(spec, i, Const("axis:$XFD1048576")) for i in range(spec.sizes[0])]
    length = len(to_excel(network_output(spec, inputs), lambda node: "'Network'!$XFD$1048576"))
    if length > limits.MAX_FORMULA_CHARS:
        raise SheetnetError(f"--decision-map: a cell of this network's map would need a formula of "
                            f"{length:,} characters, more than the {limits.MAX_FORMULA_CHARS:,} a "
                            "spreadsheet allows; use fewer or narrower hidden layers")


@dataclass(frozen=True)
class Axis:
    """An input's grid: n points from the data's minimum − margin to its maximum + margin."""

    lo: float
    hi: float
    n: int

    def points(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, self.n) if self.n > 1 else np.array([self.lo])


def axis(spec: Spec, i: int, n: int) -> Axis:
    """Input i's grid in raw units (the sheet's MIN/MAX formulas compute the same ends)."""
    column = np.asarray(spec.inputs, dtype=float)[:, i]
    span = column.max() - column.min()
    return Axis(column.min() - MARGIN * span, column.max() + MARGIN * span, n)


def parameters_at(spec: Spec, ctx_reference: object, t: int) -> Parameters:
    """The parameters of Training row t, as the NumPy core holds them."""
    row = ctx_reference.loc[t]  # type: ignore[attr-defined]
    weights = [np.array([[row[ids.weight(layer, j, i)] for i in range(spec.sizes[layer])]
                         for j in range(spec.sizes[layer + 1])]) for layer in range(spec.n_layers)]
    biases = [np.array([row[q] for q in ids.bias_ids(spec, layer)], dtype=float).reshape(-1, 1)
              for layer in range(spec.n_layers)]
    return Parameters(weights, biases)


def outputs(spec: Spec, params: Parameters, raw: np.ndarray) -> np.ndarray:
    """The network's output for raw inputs (one row per point), standardised as the sheet does."""
    x = raw
    if spec.standardize:
        data = np.asarray(spec.inputs, dtype=float)
        x = (raw - data.mean(axis=0)) / data.std(axis=0)
    with np.errstate(all="ignore"):
        _, a = forward(spec, params, x.T)
    return a[-1][0]


def network_output(spec: Spec, inputs: list[Expr]) -> Expr:
    """The forward pass as one expression of the input cells and the parameter cells (Cell(id))."""
    a = inputs
    for layer, act in enumerate(spec.activations):
        f = activation(act, spec.leaky_slope)
        nxt = []
        for j in range(spec.sizes[layer + 1]):
            terms = [mul(Cell(ids.weight(layer, j, i)), a[i]) for i in range(spec.sizes[layer])]
            if spec.bias != "none":
                terms.append(Cell(ids.bias(spec, layer, j)))
            nxt.append(f.excel(add(*terms)))
        a = nxt
    return a[0]


def _standardised(spec: Spec, i: int, x: Expr) -> Expr:
    return div(sub(x, Const(f"mean:{i}")), Const(f"std:{i}")) if spec.standardize else x


def write_map_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, words, fmt = ctx.spec, ctx.words, ctx.fmt
    n = ctx.options.decision_map
    check_grid(spec, n)
    t = spec.iterations
    ws.write(TITLE_ROW - 1, 0, words[f"map.title.{kind(spec)}"], fmt.title)
    ws.write(NOTE_ROW - 1, 0, words[f"map.note.{kind(spec)}"].format(training=words["sheet.training"]),
             fmt.note)
    ws.write(T_ROW - 1, 0, words["map.t"], fmt.label)
    ws.write_number(T_ROW - 1, 1, t, fmt.input)
    ws.data_validation(T_ROW - 1, 1, T_ROW - 1, 1, {
        "validate": "integer", "criteria": "between", "minimum": 0, "maximum": t,
        "error_title": words["map.t"], "error_message": words["map.t_error"].format(n=t)})
    axes = [axis(spec, i, n) for i in range(spec.sizes[0])]
    _write_ranges(ctx, ws, axes)
    params = parameters_at(spec, ctx.reference, t)
    cells = _write_parameters(ctx, ws)
    refs = _References(ctx, cells)
    if kind(spec) == "map":
        _write_grid(ctx, ws, axes, params, refs)
    else:
        _write_curve(ctx, ws, axes[0], params, refs)


def _write_ranges(ctx: Context, ws: Worksheet, axes: list[Axis]) -> None:
    """Per input: from (data minimum − 10% of the span) to (maximum + 10%), live formulas."""
    words, fmt = ctx.words, ctx.fmt
    number = ctx.book.add_format({"num_format": "0.000", "bg_color": "#F2F2F2", "border": 1,
                                  "border_color": "#BFBFBF"})
    for i, ax in enumerate(axes):
        row = X1_ROW - 1 + i
        first, last, col = ctx.network.data_range(f"x[{i + 1}]")
        if ctx.spec.standardize:  # the raw column, not x̃
            first, col = ctx.network.raw_cells[f"x[{i + 1}]@1"]
            last = first + ctx.spec.n_samples - 1
        data = (layout.sheet_prefix(ctx.training.network_sheet) + layout.address(first, col, absolute=True)
                + ":" + layout.address(last, col, absolute=True))
        ws.write(row, 0, words["map.range"].format(x=labels.input_label(i)), fmt.label)
        ws.write_formula(row, 1, f"=MIN({data})-{MARGIN}*(MAX({data})-MIN({data}))", number, ax.lo)
        ws.write(row, 2, words["map.to"], fmt.label)
        ws.write_formula(row, 3, f"=MAX({data})+{MARGIN}*(MAX({data})-MIN({data}))", number, ax.hi)


def _write_parameters(ctx: Context, ws: Worksheet) -> dict[str, str]:
    """A row of the parameters at iteration t, each INDEX(its Training column, t + 1)."""
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    qids = ids.params(spec)
    ws.write(PARAM_LABEL_ROW - 1, 0, words["map.parameters"], fmt.label)
    for c, qid in enumerate(qids, start=1):
        ws.write(PARAM_LABEL_ROW - 1, c, labels.label(spec, qid), fmt.label_cell["param"])
    for c, qid in enumerate(qids, start=1):
        ws.write(PARAM_ID_ROW - 1, c, qid, fmt.id_cell)
    t_cell = layout.address(T_ROW, 2, absolute=True)
    prefix = layout.sheet_prefix(ctx.words["sheet.training"])
    cells = {}
    small = ctx.book.add_format({"num_format": "0.000", "font_size": 8,
                                 "bg_color": styles.GROUP_COLOURS["param"][1]})
    for c, qid in enumerate(qids, start=1):
        column = prefix + ctx.training.column_range(qid)
        ws.write_formula(PARAM_ROW - 1, c, f"=INDEX({column},{t_cell}+1)", small,
                         float(ctx.reference.loc[spec.iterations, qid]))
        cells[qid] = layout.address(PARAM_ROW, c + 1, absolute=True)
    return cells


@dataclass
class _References:
    ctx: Context
    params: dict[str, str]

    def ref(self, node: object) -> str:
        if isinstance(node, Cell):
            return self.params[node.qid]
        assert isinstance(node, Const)
        kind_, _, key = node.key.partition(":")
        if kind_ in ("mean", "std"):
            net = self.ctx.network
            row, col = (net.mean_cells if kind_ == "mean" else net.std_cells)[int(key)]
            sheet = layout.sheet_prefix(self.ctx.training.network_sheet)
            return sheet + layout.address(row, col, absolute=True)
        if kind_ == "leaky_slope":
            return self.ctx.training.constant_address(graph.LEAKY.key)
        return key  # an axis cell, given as its address


def _write_grid(ctx: Context, ws: Worksheet, axes: list[Axis], params: Parameters, refs: _References) -> None:
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    n = axes[0].n
    x1, x2 = axes[0].points(), axes[1].points()
    ws.write(GRID_ROW - 1, AXIS_COL - 1, words["map.corner"], fmt.header)
    axis_format = ctx.book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "align": "center",
                                       "num_format": "0.00", "font_size": 8})
    lo1, hi1 = layout.address(X1_ROW, 2, absolute=True), layout.address(X1_ROW, 4, absolute=True)
    lo2, hi2 = layout.address(X2_ROW, 2, absolute=True), layout.address(X2_ROW, 4, absolute=True)
    step = n - 1
    for c in range(n):
        ws.write_formula(GRID_ROW - 1, AXIS_COL + c, f"={lo1}+{c}*({hi1}-{lo1})/{step}", axis_format,
                         float(x1[c]))
    values = outputs(spec, params, np.array([[a, b] for b in x2 for a in x1])).reshape(n, n)
    marked = _data_cells(spec, axes)
    plain = ctx.book.add_format({"num_format": "0.00", "font_size": 8, "align": "center"})
    framed = ctx.book.add_format({"num_format": "0.00", "font_size": 8, "align": "center", "bold": True,
                                  "border": 2, "border_color": "#000000"})
    for r in range(n):
        row = GRID_ROW + r  # 0-based row of grid row r
        ws.write_formula(row, AXIS_COL - 1, f"={lo2}+{r}*({hi2}-{lo2})/{step}", axis_format, float(x2[r]))
        for c in range(n):
            x1_ref = f"{layout.column_letter(AXIS_COL + 1 + c)}${GRID_ROW}"
            x2_ref = f"${layout.column_letter(AXIS_COL)}{row + 1}"
            expr = network_output(spec, [_standardised(spec, 0, Const(f"axis:{x1_ref}")),
                                         _standardised(spec, 1, Const(f"axis:{x2_ref}"))])
            value = float(values[r, c])
            ws.write_formula(row, AXIS_COL + c, to_excel(expr, refs.ref),
                             framed if (r, c) in marked else plain, value if np.isfinite(value) else "#NUM!")
    area = (GRID_ROW, AXIS_COL, GRID_ROW + n - 1, AXIS_COL + n - 1)
    scale = {"type": "3_color_scale", "min_color": "#D7301F", "mid_color": "#FFFFFF", "max_color": "#2B8CBE"}
    if spec.activations[-1] == "sigmoid":  # a probability: 0 red, ½ white, 1 blue, whatever the range
        scale |= {"min_type": "num", "min_value": 0, "mid_type": "num", "mid_value": 0.5,
                  "max_type": "num", "max_value": 1}
    ws.conditional_format(*area, scale)
    ws.set_column(0, 0, 16)
    ws.set_column(AXIS_COL - 1, AXIS_COL - 1, 9)
    ws.set_column(AXIS_COL, AXIS_COL + n - 1, 5.5)


def _data_cells(spec: Spec, axes: list[Axis]) -> set[tuple[int, int]]:
    """(grid row, grid column) of the cell nearest to each data point."""
    result = set()
    for x in spec.inputs:
        c = int(np.argmin(np.abs(axes[0].points() - x[0])))
        r = int(np.argmin(np.abs(axes[1].points() - x[1])))
        result.add((r, c))
    return result


def _write_curve(ctx: Context, ws: Worksheet, ax: Axis, params: Parameters, refs: _References) -> None:
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    n = ax.n
    lo, hi = layout.address(X1_ROW, 2, absolute=True), layout.address(X1_ROW, 4, absolute=True)
    ws.write(GRID_ROW - 1, AXIS_COL - 1, labels.input_label(0), fmt.header)
    ws.write(GRID_ROW - 1, AXIS_COL, words["map.output"], fmt.header)
    xs = ax.points()
    values = outputs(spec, params, xs.reshape(-1, 1))
    for r in range(n):
        row = GRID_ROW + r
        ws.write_formula(row, AXIS_COL - 1, f"={lo}+{r}*({hi}-{lo})/{n - 1}", fmt.computed, float(xs[r]))
        x_ref = f"${layout.column_letter(AXIS_COL)}{row + 1}"
        expr = network_output(spec, [_standardised(spec, 0, Const(f"axis:{x_ref}"))])
        value = float(values[r])
        ws.write_formula(row, AXIS_COL, to_excel(expr, refs.ref), fmt.data["forward"],
                         value if np.isfinite(value) else "#NUM!")
    chart = ctx.book.add_chart({"type": "scatter"})
    chart.set_title({"name": words["map.curve_chart"], "name_font": {"size": 12, "bold": True}})
    sheet = "=" + layout.sheet_prefix(words["sheet.curve"])
    first, last = GRID_ROW + 1, GRID_ROW + n
    x_col, y_col = layout.column_letter(AXIS_COL), layout.column_letter(AXIS_COL + 1)
    chart.add_series({
        "name": words["map.output"],
        "categories": sheet + f"${x_col}${first}:${x_col}${last}",
        "values": sheet + f"${y_col}${first}:${y_col}${last}",
        "line": {"color": "#2B8CBE", "width": 2}, "marker": {"type": "none"},
    })
    data_first, data_last, data_col = ctx.network.data_range("x[1]")
    if spec.standardize:
        data_first, data_col = ctx.network.raw_cells["x[1]@1"]
        data_last = data_first + spec.n_samples - 1
    _, _, t_col = ctx.network.data_range("t[1]")
    network = "=" + layout.sheet_prefix(ctx.training.network_sheet)
    chart.add_series({
        "name": words["map.data"],
        "categories": network + layout.address(data_first, data_col, absolute=True) + ":"
        + layout.address(data_last, data_col, absolute=True),
        "values": network + layout.address(data_first, t_col, absolute=True) + ":"
        + layout.address(data_last, t_col, absolute=True),
        "marker": {"type": "circle", "size": 7, "fill": {"color": "#D7301F"}, "border": {"color": "#D7301F"}},
    })
    chart.set_x_axis({"name": labels.input_label(0), "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": labels.target_label(0), "major_gridlines": {"visible": True,
                                                                         "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 380})
    ws.insert_chart(GRID_ROW - 1, AXIS_COL + 2, chart)
    ws.set_column(AXIS_COL - 1, AXIS_COL, 12)
