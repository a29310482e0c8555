"""The Working sheet: iteration 1 worked by hand, one quantity per line, as a student writes it.

Each line reads  a₃ = σ(z₃) = σ(0.505) = 0.6236336 : the symbol, the equation in symbols, the
same equation with the numbers substituted, and the value. All three come from the expression
trees of graph.py (the same ones the Training sheet prints), with different leaves:
the value is that tree as a formula over this sheet's own earlier lines and the Network inputs,
so the sheet recomputes the hand calculation top to bottom by itself; the numbers are a formula
joining the text of those same cells (numbertext.py), so editing the Network sheet rewrites the text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph, labels, numbertext, textprint, updates
from sheetnet.equations.update_notes import leaf_name
from sheetnet.expr.formula import Cell, Const, to_excel
from sheetnet.memo import remembered
from sheetnet.model import ids, schedule
from sheetnet.model.spec import Spec, model_inputs
from sheetnet.sheets import layered_working, limits, styles
from sheetnet.sheets.context import stored_value
from sheetnet.sheets.layout import TrainingLayout, address
from sheetnet.sheets.working_lines import (  # re-exported: the classroom and the check read them here
    Heading,
    Item,
    Line,
    bound,
    first_batch,
    optimizer_headings,
)

if TYPE_CHECKING:
    import pandas as pd

    from sheetnet.sheets.context import Context

TITLE_ROW, NOTE_ROW, SAMPLES_ROW, HEADER_ROW = 1, 2, 3, 4
FIRST_ROW = HEADER_ROW + 1
# symbol | = | in symbols | = | with the numbers | = | value  (the "=" columns make it read
# like the seeds' chains while every cell keeps one clean piece: a label, a text, a number).
SYMBOL, EQ1, EQUATION, EQ2, NUMBERS, EQ3, VALUE = range(1, 8)
SECTIONS = ("forward", "loss", "backward", "gradient", "optimizer", "update")


# --- what goes on the sheet, in order ------------------------------------------------------


def items(spec: Spec) -> list[Item]:
    """Every row below the header, in the order a student computes iteration 1."""
    return list(_layered_items(spec) if spec.layered else _items(spec))


# The Working sheet, the Exercise sheet, the questions and the checks of one build each ask for
# these, and a class builds each student's network twice: worked out once per spec.
@remembered()
def _layered_items(spec: Spec) -> tuple[Item, ...]:
    return tuple(layered_working.layered_items(spec))


@remembered()
def _items(spec: Spec) -> tuple[Item, ...]:
    columns = {c.qid: c for c in graph.training_columns(spec)}
    K = spec.slots
    batch = schedule.batches(spec, rows=1)[0]  # the samples of iteration 1 (from 0)
    numbers = [int(k) + 1 for k in batch]
    result: list[Item] = [Heading("forward")]
    for k in range(K):
        result += [Heading("forward", numbers[k])] if K > 1 else []
        for layer in range(spec.n_layers):
            for j in range(spec.sizes[layer + 1]):
                for name in ("z", "a"):  # z₃ then a₃: each neuron finished before the next
                    qid = ids.neuron(name, layer, j, k, spec)
                    result.append(Line(qid, "forward", bound(columns[qid], spec, batch)))
    result.append(Heading("loss"))  # per-sample losses, the loss and the accuracy (classification)
    result += [Line(q, "loss", bound(columns[q], spec, batch)) for q in ids.losses(spec)]
    result.append(Heading("backward"))
    for k in range(K):
        result += [Heading("backward", numbers[k])] if K > 1 else []
        for layer in reversed(range(spec.n_layers)):
            for j in range(spec.sizes[layer + 1]):
                qid = ids.neuron("delta", layer, j, k, spec)
                result.append(Line(qid, "backward", bound(columns[qid], spec, batch)))
    result.append(Heading("gradient"))
    result += [Line(q, "gradient", bound(columns[q], spec, batch)) for q in ids.gradients(spec)]
    result += optimizer_headings(spec, columns)
    trained = set(ids.gradients(spec))
    for qid in ids.params(spec):
        if ids.gradient_of(qid) in trained:  # the next row's formula: θ − η·∂L/∂θ
            result.append(Line(qid, "update", bound(columns[qid], spec, batch)))
    return tuple(result)


def rows_of(entries: list[Item]) -> list[int]:
    """The row of each item: a blank row before every section header but the first."""
    rows, row = [], FIRST_ROW
    for n, item in enumerate(entries):
        if isinstance(item, Heading) and item.is_section and n > 0:
            row += 1
        rows.append(row)
        row += 1
    return rows


# --- leaves: names, cells and values -------------------------------------------------------


@dataclass
class Leaves:
    """How each leaf of a tree is named, addressed and valued on this sheet.

    A quantity with a line is its value cell here; a parameter has no line (iteration 1 uses
    the initial values) and is its Network cell, as is every Const.
    """

    spec: Spec
    value_row: dict[str, int]
    params: set[str]
    constant_address: dict[str, str]
    constant_label: dict[str, str]
    constant_value: dict[str, float]
    reference: pd.DataFrame
    accuracy_label: str = "accuracy"

    def address(self, node: Cell | Const) -> str:
        if isinstance(node, Const):
            return self.constant_address[node.key]
        if node.qid in self.params:
            return self.constant_address[graph.initial_key(node.qid).key]
        return address(self.value_row[node.qid], VALUE)

    def label(self, node: Cell | Const) -> str:
        if isinstance(node, Const):
            return self.constant_label[node.key]
        if node.qid in ids.BIAS_CORRECTIONS:  # bracketed: m₃₁/(1 − β₁ᵗ⁺¹)
            return leaf_name(self.spec, node)
        return quantity_label(self.spec, node.qid)

    def value(self, node: Cell | Const) -> float:
        # Row t = 0 of the reference: iteration 1 reads only initial parameters and its own lines
        # (an update's Cell(prev=True) is row 0 too).
        if isinstance(node, Const):
            return self.constant_value[node.key]
        return float(self.reference.loc[0, node.qid])


def quantity_label(spec: Spec, qid: str) -> str:
    """w₃₁, a₃, δ₅, ∂L/∂w₅₃; with several samples a superscript names the sample: a₃⁽²⁾
    (in minibatch mode the sample that slot k holds in iteration 1)."""
    if qid == "loss":
        return "L"
    if qid == ids.ACCURACY:
        return "acc"
    if qid in ids.BIAS_CORRECTIONS:
        return leaf_name(spec, Cell(qid)).strip("()")
    if spec.layered:
        return layered_working.layered_label(spec, qid)
    if ":" in qid:  # an optimizer column: m₃₁, Δw₃₁
        return labels.label(spec, qid)
    parts = ids.parse(qid)
    base, slot = str(parts.replace(sample=None)), parts.sample
    k = "" if slot is None else str(slot + 1 if spec.mode == "batch" else first_batch(spec)[slot])
    if parts.kind == "loss":  # a sample's loss
        return "L" + labels.sup(f"({k})")
    if base == "correct":  # whether the sample is right: 1 or 0
        return "c" + labels.sup(f"({k})")
    return labels.label(spec, base) + (labels.sup(f"({k})") if k else "")


def input_name(spec: Spec, i: int) -> str:
    """Input number i (from 0) in the equations: x₁, or x[c,r,s] in a network of layers."""
    return layered_working.input_label(spec, i) if spec.layered else labels.input_label(i)


def target_name(spec: Spec, j: int) -> str:
    """Target number j (from 0) in the equations: t₁, or t[1] in a network of layers."""
    return layered_working.target_label(j) if spec.layered else labels.target_label(j)


def _leaves(ctx: Context, value_row: dict[str, int]) -> Leaves:
    spec = ctx.spec
    K = spec.n_samples
    mark = [labels.sup(f"({k + 1})") if K > 1 else "" for k in range(K)]
    names: dict[str, str] = {graph.LEARNING_RATE.key: "η", graph.LEAKY.key: "α"}
    values: dict[str, float] = {graph.LEARNING_RATE.key: spec.learning_rate,
                                graph.LEAKY.key: spec.leaky_slope}
    # The Training sheet reads x̃ = (x − μ)/σ when the inputs are standardised: so does this sheet.
    for k, (x, t) in enumerate(zip(model_inputs(spec).tolist(), spec.targets, strict=True)):
        for i, v in enumerate(x):
            names[graph.input_key(i, k).key] = input_name(spec, i) + mark[k]
            values[graph.input_key(i, k).key] = v
        for j, v in enumerate(t):
            names[graph.target_key(j, k).key] = target_name(spec, j) + mark[k]
            values[graph.target_key(j, k).key] = v
    for key in updates.network_keys(spec):  # the optimizer's hyperparameters and 1 − β
        names[key] = leaf_name(spec, Const(key))
        field = next((f for f, c in updates.COMPLEMENTS.items() if c == key), "")
        values[key] = 1 - getattr(spec, field) if field else getattr(spec, key)
    params = ids.params(spec)
    for qid in params:
        names[graph.initial_key(qid).key] = quantity_label(spec, qid)
        values[graph.initial_key(qid).key] = float(ctx.reference.loc[0, qid])
    cells = {key: ctx.training.constant_address(key) for key in ctx.network.input_cells}
    return Leaves(spec, value_row, set(params), cells, names, values, ctx.reference,
                  ctx.words["label.accuracy"])


# --- writing -------------------------------------------------------------------------------


@dataclass
class _Formats:
    title: Format
    note: Format
    header: Format
    section: dict[str, Format]
    sample: Format
    symbol: dict[str, Format]
    equals: Format
    text: Format
    value: dict[tuple[str, str], Format]  # (group, number format) → the value cell's format, made once
    add: Callable[..., Format]

    def value_cell(self, group: str, x: float) -> Format:
        """A value cell's format: bold on its section's colour, 7 significant digits of x."""
        key = (group, value_format(x))
        if key not in self.value:
            self.value[key] = self.add(bold=True, bg_color=styles.GROUP_COLOURS[group][1], num_format=key[1])
        return self.value[key]


def _formats(ctx: Context) -> _Formats:
    def add(**props: object) -> Format:
        return ctx.book.add_format({"font_name": "Calibri", "font_size": 11, **props})

    colours = styles.GROUP_COLOURS
    return _Formats(
        title=add(bold=True, font_size=16),
        note=add(italic=True, font_color="#595959", text_wrap=True, valign="top"),
        header=add(bold=True, bg_color="#D9D9D9", bottom=1),
        section={g: add(bold=True, bg_color=colours[g][0], font_size=12) for g in SECTIONS},
        sample=add(bold=True, italic=True, bottom=1, bottom_color="#A6A6A6"),
        symbol={g: add(bold=True, bg_color=colours[g][1], align="right") for g in SECTIONS},
        equals=add(align="center", font_color="#7F7F7F"),
        text=add(),
        value={},
        add=add,
    )


def value_format(x: float) -> str:
    """The number format that shows x with 7 significant digits, as the text beside it does
    (numbertext): 0.6236336, 12.34568, 1.234568E-05; fixed decimals from 10⁻⁴ to 10⁷, else
    scientific, where numbertext switches. Chosen from the NumPy value at build time; a plain
    format code (no locale's separators, no conditions), so every engine and locale reads it
    alike, and an edited input that moves the value a decade or two still shows it readably."""
    if not math.isfinite(x) or x == 0:
        return "0." + "0" * numbertext.DIGITS  # nothing to size it by: seven decimals
    exponent = int(f"{x:.{numbertext.DIGITS - 1}e}".split("e")[1])  # of x rounded to 7 digits
    if not numbertext.SMALL <= abs(x) < numbertext.LARGE or exponent >= 7:
        return "0." + "0" * (numbertext.DIGITS - 1) + "E+00"
    decimals = numbertext.DIGITS - 1 - exponent
    return "0." + "0" * decimals if decimals else "0"


def write_working_sheet(ctx: Context, ws: Worksheet) -> None:
    entries = items(ctx.spec)
    rows = rows_of(entries)
    value_row = {e.qid: r for e, r in zip(entries, rows, strict=True)
                 if isinstance(e, Line) and e.group != "update"}
    leaves = _leaves(ctx, value_row)
    fmt = _formats(ctx)
    # Both texts first: the column widths depend on them, and widths go before any row.
    texts = {r: (textprint.symbolic(e.expr, leaves.label), textprint.text_value(e.expr, leaves.value))
             for e, r in zip(entries, rows, strict=True) if isinstance(e, Line)}
    _set_columns(ws, list(texts.values()), 22 if ctx.spec.layered else 14)  # ∂L/∂Wx⁽¹⁾[1,2]⁽³⁾
    _write_top(ws, ctx, fmt)
    for entry, row in zip(entries, rows, strict=True):
        if isinstance(entry, Heading):
            _write_heading(ws, row - 1, entry, ctx.words, fmt, ctx.spec)
        else:
            _write_line(ws, row - 1, entry, texts[row], leaves, fmt)


def _set_columns(ws: Worksheet, texts: list[tuple[str, str | None]], symbol_width: float) -> None:
    # Wide enough for the longest equation, within reason (long sums are already shortened).
    widest_symbolic = max((len(s) for s, _ in texts), default=20)
    widest_numbers = max((len(n or "") for _, n in texts), default=20)
    ws.set_column(SYMBOL - 1, SYMBOL - 1, symbol_width)
    for col in (EQ1, EQ2, EQ3):
        ws.set_column(col - 1, col - 1, 2.5)
    # Character counts overstate the width of proportional text with sub/superscripts a little.
    ws.set_column(EQUATION - 1, EQUATION - 1, min(70, max(24, widest_symbolic * 0.9 + 2)))
    ws.set_column(NUMBERS - 1, NUMBERS - 1, min(100, max(30, widest_numbers * 0.9 + 2)))
    ws.set_column(VALUE - 1, VALUE - 1, 16)


def _write_top(ws: Worksheet, ctx: Context, fmt: _Formats) -> None:
    words = ctx.words
    ws.write_string(TITLE_ROW - 1, 0, words["working.title"], fmt.title)
    ws.set_row(NOTE_ROW - 1, 48)
    note = words["working.note"].format(network=words["sheet.network"])
    ws.merge_range(NOTE_ROW - 1, 0, NOTE_ROW - 1, VALUE - 1, note, fmt.note)
    if ctx.spec.layered:  # what the superscripts name: the layer, and the sample
        ws.set_row(SAMPLES_ROW - 1, 32)
        ws.merge_range(SAMPLES_ROW - 1, 0, SAMPLES_ROW - 1, VALUE - 1, _layers_note(ctx), fmt.note)
    elif ctx.spec.mode != "batch":
        samples = ", ".join(map(str, first_batch(ctx.spec)))
        ws.merge_range(SAMPLES_ROW - 1, 0, SAMPLES_ROW - 1, VALUE - 1,
                       words["working.batch"].format(samples=samples), fmt.note)
    elif ctx.spec.n_samples > 1:
        ws.merge_range(SAMPLES_ROW - 1, 0, SAMPLES_ROW - 1, VALUE - 1, words["working.samples"], fmt.note)
    heads = {SYMBOL: "working.symbol", EQUATION: "working.equation", NUMBERS: "working.numbers",
             VALUE: "working.value"}
    for col in range(SYMBOL, VALUE + 1):
        ws.write_string(HEADER_ROW - 1, col - 1, words[heads[col]] if col in heads else "", fmt.header)
    ws.freeze_panes(HEADER_ROW, 0)
    # Printed, a line must never break across pages sideways: one page wide, header repeated.
    ws.set_landscape()
    ws.set_paper(9 if ctx.options.paper == "a4" else 1)  # XlsxWriter's codes: 9 = A4, 1 = Letter
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW - 1)


def _layers_note(ctx: Context) -> str:
    words, spec = ctx.words, ctx.spec
    if spec.mode != "batch":
        samples = ", ".join(map(str, first_batch(spec)))
        return words["working.layers_note"] + words["working.layers_batch"].format(samples=samples)
    return words["working.layers_note"] + (words["working.layers_samples"] if spec.n_samples > 1 else "")


def _write_heading(ws: Worksheet, r0: int, heading: Heading, words: dict[str, str],
                   fmt: _Formats, spec: Spec) -> None:
    if heading.layer is not None:  # a layer of a network of layers: "Layer 2: maxpool2d"
        kind = spec.layers[heading.layer].kind
        ws.write_string(r0, 0, words["network.layer_row"].format(l=heading.layer + 1, kind=kind), fmt.sample)
        return
    if heading.sample is not None:
        ws.write_string(r0, 0, words["working.sample"].format(k=heading.sample), fmt.sample)
        return
    text = words[heading.text_key or f"working.{heading.group}"]
    if heading.group == "optimizer":
        text = text.format(optimizer=spec.optimizer)
    ws.merge_range(r0, 0, r0, VALUE - 1, text, fmt.section[heading.group])
    ws.set_row(r0, 20)


def _write_line(ws: Worksheet, r0: int, line: Line, texts: tuple[str, str | None], leaves: Leaves,
                fmt: _Formats) -> None:
    symbolic, numbers = texts
    symbol = quantity_label(leaves.spec, line.qid) + ("′" if line.group == "update" else "")
    if line.qid == ids.ACCURACY:
        symbol = leaves.accuracy_label
    ws.write_string(r0, SYMBOL - 1, symbol, fmt.symbol[line.group])
    for col in (EQ1, EQ2, EQ3):
        ws.write_string(r0, col - 1, "=", fmt.equals)
    ws.write_string(r0, EQUATION - 1, symbolic, fmt.text)
    text = textprint.text_formula(line.expr, leaves.address)
    if len(text) <= limits.MAX_FORMULA_CHARS:
        ws.write_formula(r0, NUMBERS - 1, text, fmt.text, numbers if numbers is not None else "#NUM!")
    else:  # each number is a formula of its own (numbertext.py): a line of many is written as text
        ws.write_string(r0, NUMBERS - 1, numbers if numbers is not None else "#NUM!", fmt.text)
    t = 1 if line.group == "update" else 0  # an update's value is the parameter of row t = 1
    value = float(leaves.reference.loc[t, line.qid])
    ws.write_formula(r0, VALUE - 1, to_excel(line.expr, leaves.address), fmt.value_cell(line.group, value),
                     stored_value(value))


# --- limits --------------------------------------------------------------------------------


def check_formulas(spec: Spec, training: TrainingLayout) -> None:
    """Refuse, before writing, a value formula longer than a spreadsheet allows.

    Each line's value is its Training column's expression over this sheet's value cells and the
    same Network cells (parameters: their initial values), addressed as Leaves.address does.
    A text formula that would be too long (each number in it is a formula of its own,
    numbertext.py) is written as its text instead: that line does not follow an edit.
    """
    entries = items(spec)
    rows = rows_of(entries)
    value_row = {e.qid: r for e, r in zip(entries, rows, strict=True)
                 if isinstance(e, Line) and e.group != "update"}
    params = set(ids.params(spec))

    def ref(node: Cell | Const) -> str:
        if isinstance(node, Const):
            return training.constant_address(node.key)
        if node.qid in params:
            return training.constant_address(graph.initial_key(node.qid).key)
        return address(value_row[node.qid], VALUE)

    lines = [graph.Column(e.qid, e.group, e.expr) for e in entries if isinstance(e, Line)]
    limits.check_formulas(lines, lambda expr: to_excel(expr, ref), rows[-1],
                          what="the Working sheet's formula for {qid}")
