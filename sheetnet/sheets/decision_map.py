"""The Decision map sheet (`--decision-map N`): the network's output over an N × N grid of its two
inputs, at the parameters of a chosen iteration t, every cell a live formula.

A yellow cell holds t (the last row by default). A row of helper cells reads the parameters of
row t of the Training sheet with INDEX, and each grid cell is the forward pass written out for
its x₁ (the grid's first row) and x₂ (its first column), in raw units: standardised networks
read μ and σ from the Network sheet. The axes span the data's range with a 10% margin, as
formulas of the data columns, so editing the data moves the grid. A colour scale shades the
output (a probability for a sigmoid output), the data points' cells are framed, and changing t
replays training: t = 0, 10, 100 show the boundary forming.

A softmax classifier (two inputs, K outputs) gets one grid of z (the output layer's weighted
sum) per class below the map, and each map cell reads its K z cells: the predicted class (the
largest z, the first on a tie) plus its softmax probability, capped at 0.99 so the value never
shows as the next class: 2.87 is class 2 with probability 0.87. Conditional formats, one rule a
class and probability band (plain "cell value between" rules), paint each class its colour,
darker where the network is surer.

A network with one input and one output gets the fitted curve instead: N points of x, the
output at iteration t beside each, and a chart of the curve over the data points.
"""

from __future__ import annotations

import math
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
LEGEND_COL, LEGEND_SPAN = 6, 3  # a softmax map's class colours in the t row, 3 grid columns each


CAP = 0.99  # a softmax map cell is class + min(p, CAP): 2.99 never rounds to 3.00
# The shades of a class, light to dark, by its probability p: (lowest p, colour mixed with white).
BANDS = ((0.0, 0.2), (0.6, 0.4), (0.7, 0.6), (0.8, 0.8), (0.9, 1.0))
CLASS_COLOURS = ("#D7301F", "#2B8CBE", "#31A354", "#756BB1", "#E6550D", "#636363", "#DD3497", "#8C6D31",
                 "#17BECF", "#BCBD22")


def classes(spec: Spec) -> int:
    """The classes of a softmax classifier's map (its outputs); 0 for a network of one output."""
    return spec.sizes[-1] if spec.activations[-1] == "softmax" else 0


def kind(spec: Spec) -> str:
    """"map" for two inputs (one output, or a softmax output), "curve" for one input and one output."""
    if spec.sizes[0] == 2 and (spec.sizes[-1] == 1 or classes(spec)):
        return "map"
    if spec.sizes[0] == 1 and spec.sizes[-1] == 1:
        return "curve"
    return ""


def check_grid(spec: Spec, n: int) -> None:
    """One-line errors for a network without a map or a grid of the wrong size, before writing."""
    if spec.layered:  # a map has one axis per input number: a 4×4 image would need sixteen
        raise SheetnetError(f"--decision-map: a decision map is drawn for a dense network (sizes and "
                            f"activations) of one or two inputs; {_layered_reason(spec)}")
    if not kind(spec):
        shape = "-".join(map(str, spec.sizes))
        raise SheetnetError(f"--decision-map: a decision map is drawn for networks with two inputs and one "
                            f"output or a softmax output, a fitted curve for one input and one output; this "
                            f"network is {shape}")
    if classes(spec) > len(CLASS_COLOURS):
        raise SheetnetError(f"--decision-map: a map has a colour for {len(CLASS_COLOURS)} classes at most; "
                            f"this network has {classes(spec)}")
    if not MIN_GRID <= n <= MAX_GRID:
        raise SheetnetError(f"--decision-map: the grid must have {MIN_GRID} to {MAX_GRID} points a side (the "
                            f"sheet recomputes every forward pass on each edit), got {n}")
    # Each cell writes the whole forward pass out (the stable sigmoid repeats its z three times).
    inputs: list[Expr] = [_standardised(spec, i, Const("axis:$XFD1048576")) for i in range(spec.sizes[0])]
    length = len(to_excel(network_output(spec, inputs), lambda node: "'Network'!$XFD$1048576"))
    if classes(spec):
        length = max(length, len(class_formula(["XFD1048576"] * classes(spec))))
    if length > limits.MAX_FORMULA_CHARS:
        raise SheetnetError(f"--decision-map: a cell of this network's map would need a formula of "
                            f"{length:,} characters, more than the {limits.MAX_FORMULA_CHARS:,} a "
                            "spreadsheet allows; use fewer or narrower hidden layers")


def _layered_reason(spec: Spec) -> str:
    numbers = math.prod(spec.input_shape)
    if numbers > 2:
        return (f"this network of [[network.layers]] reads {numbers} numbers a sample (input_shape "
                f"{list(spec.input_shape)}), one axis each, too many for a map; build it without "
                "--decision-map")
    return ("this network is given as [[network.layers]], and a map's cells write out the forward pass of "
            "sizes and activations only; give it as network.sizes and network.activations for a map")


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


def _forward(spec: Spec, params: Parameters, raw: np.ndarray) -> tuple[list, list]:
    """z and a of every layer for raw inputs (one row per point), standardised as the sheet does."""
    x = raw
    if spec.standardize:
        data = np.asarray(spec.inputs, dtype=float)
        x = (raw - data.mean(axis=0)) / data.std(axis=0)
    with np.errstate(all="ignore"):
        return forward(spec, params, x.T)


def outputs(spec: Spec, params: Parameters, raw: np.ndarray) -> np.ndarray:
    """The map's value at raw inputs (one row per point): the output, or for a softmax output
    the predicted class plus its probability (class_values)."""
    z, a = _forward(spec, params, raw)
    return class_values(z[-1]) if classes(spec) else a[-1][0]


def output_sums(spec: Spec, params: Parameters, raw: np.ndarray) -> np.ndarray:
    """z of the output layer, one row per output and a column per point (the map's z grids)."""
    return _forward(spec, params, raw)[0][-1]


def class_values(z: np.ndarray) -> np.ndarray:
    """Class (from 1) + min(p, 0.99) of each column of z, as the sheet's cells compute it:
    m = MAX(z), the first z equal to m, p = 1/(EXP(z₁ − m) + … + EXP(z_K − m))."""
    with np.errstate(all="ignore"):
        m = z.max(axis=0)
        total = np.zeros_like(m)
        for row in z:  # summed in the formula's order
            total = total + np.exp(row - m)
        return (np.argmax(z == m, axis=0) + 1) + np.minimum(CAP, 1 / total)


def network_output(spec: Spec, inputs: list[Expr], output: int = 0) -> Expr:
    """The forward pass as one expression of the input cells and the parameter cells (Cell(id)):
    the output's a, or for a softmax output the weighted sum z of output `output`."""
    a = inputs
    for layer, act in enumerate(spec.activations):
        softmax = act == "softmax"
        f = None if softmax else activation(act, spec.leaky_slope)
        nxt = []
        for j in range(spec.sizes[layer + 1]):
            terms = [mul(Cell(ids.weight(layer, j, i)), a[i]) for i in range(spec.sizes[layer])]
            if spec.bias != "none":
                terms.append(Cell(ids.bias(spec, layer, j)))
            nxt.append(add(*terms) if f is None else f.excel(add(*terms)))
        a = nxt
    return a[output]


def z_grid_row(n: int, j: int) -> int:
    """1-based title row of output j's z grid below a softmax map of n points a side; its cells
    start one row lower, in the map's columns."""
    return GRID_ROW + n + 2 + j * (n + 2)


def class_formula(z_refs: list[str]) -> str:
    """A softmax map cell from the K z cells of its point: class + MIN(0.99, probability)."""
    m = f"MAX({','.join(z_refs)})"
    pick = str(len(z_refs))
    for c in range(len(z_refs) - 1, 0, -1):
        pick = f"IF({z_refs[c - 1]}={m},{c},{pick})"
    total = "+".join(f"EXP({z}-{m})" for z in z_refs)
    return f"={pick}+MIN({CAP},1/({total}))"


def _standardised(spec: Spec, i: int, x: Expr) -> Expr:
    return div(sub(x, Const(f"mean:{i}")), Const(f"std:{i}")) if spec.standardize else x


def write_map_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, words, fmt = ctx.spec, ctx.words, ctx.fmt
    n = ctx.options.decision_map
    check_grid(spec, n)
    t = spec.iterations
    ws.write(TITLE_ROW - 1, 0, words[f"map.title.{kind(spec)}"], fmt.title)
    note = "map.note.classes" if classes(spec) else f"map.note.{kind(spec)}"
    ws.write(NOTE_ROW - 1, 0, words[note].format(training=words["sheet.training"]), fmt.note)
    ws.write(T_ROW - 1, 0, words["map.t"], fmt.label)
    ws.write_number(T_ROW - 1, 1, t, fmt.input)
    ws.data_validation(T_ROW - 1, 1, T_ROW - 1, 1, {
        "validate": "integer", "criteria": "between", "minimum": 0, "maximum": t,
        "error_title": words["map.t"], "error_message": words["map.t_error"].format(n=t)})
    if classes(spec):
        _write_legend(ctx, ws)
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
    points = np.array([[a, b] for b in x2 for a in x1])
    values = outputs(spec, params, points).reshape(n, n)
    marked = _data_cells(spec, axes)
    plain = ctx.book.add_format({"num_format": "0.00", "font_size": 8, "align": "center"})
    framed = ctx.book.add_format({"num_format": "0.00", "font_size": 8, "align": "center", "bold": True,
                                  "border": 2, "border_color": "#000000"})
    k = classes(spec)
    for r in range(n):
        row = GRID_ROW + r  # 0-based row of grid row r
        ws.write_formula(row, AXIS_COL - 1, f"={lo2}+{r}*({hi2}-{lo2})/{step}", axis_format, float(x2[r]))
        for c in range(n):
            if k:
                text = class_formula([layout.address(z_grid_row(n, j) + 1 + r, AXIS_COL + 1 + c)
                                      for j in range(k)])
            else:
                text = to_excel(network_output(spec, grid_inputs(spec, r, c)), refs.ref)
            value = float(values[r, c])
            ws.write_formula(row, AXIS_COL + c, text, framed if (r, c) in marked else plain,
                             value if np.isfinite(value) else "#NUM!")
    area = (GRID_ROW, AXIS_COL, GRID_ROW + n - 1, AXIS_COL + n - 1)
    if k:  # below the map (constant_memory: rows are written in order)
        _write_z_grids(ctx, ws, n, output_sums(spec, params, points), refs)
        _paint_classes(ctx, ws, area, k)
    else:
        scale = {"type": "3_color_scale", "min_color": "#D7301F", "mid_color": "#FFFFFF",
                 "max_color": "#2B8CBE"}
        if spec.activations[-1] == "sigmoid":  # a probability: 0 red, ½ white, 1 blue, whatever the range
            scale |= {"min_type": "num", "min_value": 0, "mid_type": "num", "mid_value": 0.5,
                      "max_type": "num", "max_value": 1}
        ws.conditional_format(*area, scale)
    ws.set_column(0, 0, 16)
    ws.set_column(AXIS_COL - 1, AXIS_COL - 1, 9)
    ws.set_column(AXIS_COL, AXIS_COL + n - 1, 5.5)


def grid_inputs(spec: Spec, r: int, c: int) -> list[Expr]:
    """The inputs of grid point (r, c): its x₁ in the axis row, its x₂ in the axis column."""
    x1_ref = f"{layout.column_letter(AXIS_COL + 1 + c)}${GRID_ROW}"
    x2_ref = f"${layout.column_letter(AXIS_COL)}{GRID_ROW + 1 + r}"
    return [_standardised(spec, 0, Const(f"axis:{x1_ref}")), _standardised(spec, 1, Const(f"axis:{x2_ref}"))]


def _write_z_grids(ctx: Context, ws: Worksheet, n: int, z: np.ndarray, refs: _References) -> None:
    """Per output j, its weighted sum z at every grid point (x₁, x₂ read from the map's axes)."""
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    small = ctx.book.add_format({"num_format": "0.00", "font_size": 8, "align": "center",
                                 "font_color": "#595959"})
    for j in range(classes(spec)):
        title = z_grid_row(n, j)
        ws.write(title - 1, AXIS_COL - 1, words["map.z_grid"].format(
            z=labels.label(spec, f"z{spec.n_layers}[{j + 1}]"), name=class_name(ctx, j)), fmt.label)
        for r in range(n):
            for c in range(n):
                value = float(z[j, r * n + c])
                ws.write_formula(title + r, AXIS_COL + c,
                                 to_excel(network_output(spec, grid_inputs(spec, r, c), j), refs.ref),
                                 small, value if np.isfinite(value) else "#NUM!")


def class_name(ctx: Context, j: int) -> str:
    names = ctx.spec.class_names or ctx.spec.target_names
    return str(names[j]) if j < len(names) else ctx.words["map.class"].format(n=j + 1)


def shade(colour: str, strength: float) -> str:
    """The colour mixed with white: strength 1 is the colour itself."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - v) * strength):02X}" for v in rgb)


def _paint_classes(ctx: Context, ws: Worksheet, area: tuple[int, int, int, int], k: int) -> None:
    """One "cell value between" rule per class and probability band (plain conditional formats
    that Excel, LibreOffice and Gnumeric all apply)."""
    for c in range(1, k + 1):
        colour = CLASS_COLOURS[c - 1]
        for b, (low, strength) in enumerate(BANDS):
            high = BANDS[b + 1][0] if b + 1 < len(BANDS) else 1.0
            fill = ctx.book.add_format({"bg_color": shade(colour, strength),
                                        "font_color": "#FFFFFF" if strength >= 0.8 else "#000000"})
            ws.conditional_format(*area, {"type": "cell", "criteria": "between", "minimum": c + low,
                                          "maximum": c + high, "format": fill})


def _write_legend(ctx: Context, ws: Worksheet) -> None:
    """The class colours, right of the t cell: "1: setosa" on its class's colour."""
    ws.write(T_ROW - 1, LEGEND_COL - 1, ctx.words["map.legend"], ctx.fmt.label)
    for j in range(classes(ctx.spec)):
        cell = ctx.book.add_format({"bg_color": CLASS_COLOURS[j], "font_color": "#FFFFFF", "bold": True,
                                    "align": "center"})
        first = LEGEND_COL + LEGEND_SPAN * j  # 0-based: one right of the label
        ws.merge_range(T_ROW - 1, first, T_ROW - 1, first + LEGEND_SPAN - 1, f"{j + 1}: {class_name(ctx, j)}",
                       cell)


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
