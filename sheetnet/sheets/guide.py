"""The Guide sheet (说明): the first tab, what a student reads before the numbers.

It says what each sheet shows, draws the network as labelled cells (x₁ x₂ → a₃ a₄ → a₅ a₆ → L,
big layers collapsed with ⋮), gives the chain rule behind each column group of the Training sheet
in the seeds' notation (with this network's own first equations, from notes.py), and three things
to try. Everything is cells rather than text boxes, so it prints and reads back (openpyxl, pdftotext).

Another sheet module gets a line under "What each sheet shows" by adding the i18n key
`guide.<its sheet key>`, e.g. `guide.sheet.summary`.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import labels, notes
from sheetnet.equations.labels import collapse
from sheetnet.model import ids, ops
from sheetnet.sheets import limits, styles

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

FIRST_COL, N_COLS, COL_WIDTH = 1, 12, 8.6  # text spans B:M; A is a narrow margin
LAST_COL = FIRST_COL + N_COLS - 1
MAX_SHOWN = 5  # a bigger layer is drawn as its first three neurons, ⋮ and its last
LINE_HEIGHT = {"en": 15, "zh": 17}  # points per wrapped line (CJK fonts have taller lines)
BOX_ROW_HEIGHT = 18


def write_guide_sheet(ctx: Context, ws: Worksheet) -> None:
    sheet = _GuideSheet(ws, _formats(ctx.book), LINE_HEIGHT.get(ctx.options.lang, 15))
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 2)
    ws.set_column(FIRST_COL, max(LAST_COL, _drawing_last_col(ctx)), COL_WIDTH)
    ws.activate()  # the tab shown when the file opens
    _write_intro(ctx, sheet)
    _write_sheet_list(ctx, sheet)
    _write_network(ctx, sheet)
    _write_chain_rule(ctx, sheet)
    _write_optimizers(ctx, sheet)
    _write_things_to_try(ctx, sheet)


# --- a small cursor over the sheet: rows are written strictly in order (constant_memory) -----


@dataclass
class _Formats:
    title: Format
    subtitle: Format
    heading: Format
    body: Format
    bold: Format
    number: Format
    caption: Format
    arrow: Format
    box: dict[str, Format]
    band: dict[str, Format]
    pale: dict[str, Format]


def _formats(book: Any) -> _Formats:
    def add(**props: Any) -> Format:
        return book.add_format({"font_name": "Calibri", "font_size": 11, "valign": "top", **props})

    box_fill = {"input": styles.INPUT_FILL, "neuron": styles.GROUP_COLOURS["forward"][1],
                "loss": styles.GROUP_COLOURS["loss"][1], "more": "#FFFFFF"}
    return _Formats(
        title=add(bold=True, font_size=16, text_wrap=True),
        subtitle=add(italic=True, font_color="#595959", text_wrap=True),
        heading=add(bold=True, font_size=13, font_color="#1F3864", bottom=2, bottom_color="#1F3864"),
        body=add(text_wrap=True),
        bold=add(bold=True, text_wrap=True),
        number=add(bold=True, align="right"),
        caption=add(font_size=9, font_color="#404040", align="center", text_wrap=True),
        arrow=add(font_size=16, bold=True, font_color="#595959", align="center", valign="vcenter"),
        box={k: add(bold=True, bg_color=fill, border=2 if k != "more" else 0, align="center",
                    valign="vcenter") for k, fill in box_fill.items()},
        band={g: add(bold=True, bg_color=band, border=1, text_wrap=True, valign="vcenter")
              for g, (band, _) in styles.GROUP_COLOURS.items()},
        pale={g: add(bg_color=pale, border=1, text_wrap=True, valign="vcenter")
              for g, (_, pale) in styles.GROUP_COLOURS.items()},
    )


@dataclass
class _GuideSheet:
    ws: Worksheet
    fmt: _Formats
    line_height: int
    row: int = 0  # the next row to write, from 0

    def line(self, text: str, cell_format: Format, *, first: int = FIRST_COL, last: int = LAST_COL,
             scale: float = 1.0) -> None:
        """One merged, wrapped row of text, tall enough for its lines."""
        self.cells([(first, last, text, cell_format)], scale=scale)

    def cells(self, spans: list[tuple[int, int, str, Format]], *, scale: float = 1.0,
              height: float | None = None) -> None:
        """One row of (first col, last col, text, format) spans; the tallest span sets the height."""
        if height is None:
            lines = max(_lines(text, _width(first, last) / scale) for first, last, text, _ in spans)
            height = lines * self.line_height * scale + 4
        self.ws.set_row(self.row, limits.row_height(height))
        for first, last, text, cell_format in spans:
            if last > first:
                self.ws.merge_range(self.row, first, self.row, last, text, cell_format)
            else:
                self.ws.write(self.row, first, text, cell_format)
        self.row += 1

    def gap(self, height: float = 8) -> None:
        self.ws.set_row(self.row, height)
        self.row += 1


def _width(first: int, last: int) -> float:
    return (last - first + 1) * COL_WIDTH


def _display_width(text: str) -> float:
    # In units of a column width (one digit): a CJK character takes about two, and the average
    # Latin letter about 0.8 in Calibri or in LibreOffice's stand-in; 0.9 leaves a margin.
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 0.9 for ch in text)


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(_display_width(part) / max(width - 1, 1))) for part in text.split("\n"))


# --- the sections ----------------------------------------------------------------------------


def _write_intro(ctx: Context, sheet: _GuideSheet) -> None:
    fmt, words = sheet.fmt, ctx.words
    sheet.line(ctx.spec.title, fmt.title, scale=1.5)
    sheet.line(words["guide.subtitle" if has_training(ctx) else "guide.subtitle.exercise"], fmt.subtitle)
    sheet.gap()
    sheet.line(ctx.spec.description.strip(), fmt.body)


def _write_sheet_list(ctx: Context, sheet: _GuideSheet) -> None:
    fmt, words = sheet.fmt, ctx.words
    sheet.gap()
    sheet.line(words["guide.sheets_heading"], fmt.heading)
    for key in ctx.sheets:
        about = words.get(f"guide.{key}")
        if key == "sheet.network" and not has_training(ctx):  # nothing recomputes in a student's file
            about = words["guide.sheet.network.exercise"]
        if key == "sheet.guide" or about is None:
            continue
        sheet.cells([(FIRST_COL, FIRST_COL + 1, words[key], fmt.bold),
                     (FIRST_COL + 2, LAST_COL, about, fmt.body)])


def _write_things_to_try(ctx: Context, sheet: _GuideSheet) -> None:
    spec, fmt, words = ctx.spec, sheet.fmt, ctx.words
    first_a = ids.neuron("a", 0, 0, 0, spec)
    # Only the seed templates come with a tutorial's printed numbers to compare against.
    by_hand = "guide.try.seed" if spec.name.startswith("seed-") else "guide.try.hand"
    texts = [
        words["guide.try.lr"].format(lr=f"{spec.learning_rate:g}"),
        words["guide.try.weight"].format(w=_w(spec, 0, 0, 0), value=f"{spec.weights[0][0][0]:g}"),
    ]
    if not ctx.options.hide_answers:  # a graded exercise must not print a₃ or the loss
        texts.append(words[by_hand].format(a=labels.neuron_label(spec, 0, 0),
                                           value=_number(ctx.reference.loc[0, first_a]),
                                           loss=_number(ctx.reference.loc[0, "loss"])))
    heading = "guide.try_heading"
    if not has_training(ctx):  # a student's file: nothing recomputes, no Training or Working sheet
        texts, heading = [words["guide.try.exercise.order"], words["guide.try.exercise.key"]], \
            "guide.try_heading.exercise"
    sheet.gap()
    sheet.line(words[heading], fmt.heading)
    for n, text in enumerate(texts, start=1):
        sheet.cells([(FIRST_COL, FIRST_COL, f"{n}.", fmt.number), (FIRST_COL + 1, LAST_COL, text, fmt.body)])


def has_training(ctx: Context) -> bool:
    """False in a student's file, which holds the Guide, Network and Exercise sheets only."""
    return "sheet.training" in ctx.sheets


def _number(value: float) -> str:
    return f"{value:.7g}"  # as many digits as the tutorials print (a₃ = 0.6236336)


# --- the network drawing ---------------------------------------------------------------------


def _shown(n: int) -> list[int | None]:
    """Neurons drawn for a layer of n: all, or the first three, None (⋮) and the last."""
    if n <= MAX_SHOWN:
        return list(range(n))
    return [0, 1, 2, None, n - 1]


def _layer_col(layer: int) -> int:
    """Column of layer −1 (the input), 0, 1, …; arrows sit in the columns between."""
    return FIRST_COL + 2 * (layer + 1)


def _drawing_last_col(ctx: Context) -> int:
    return _layer_col(ctx.spec.n_layers - 1) + 2  # the output layer, an arrow, the loss


def _write_network(ctx: Context, sheet: _GuideSheet) -> None:
    spec, fmt, words = ctx.spec, sheet.fmt, ctx.words
    last = _drawing_last_col(ctx)
    sheet.gap()
    sheet.line(words["guide.network_heading"], fmt.heading)
    j, i = labels.neuron_number(spec, 1, 1), labels.neuron_number(spec, 0, 1)
    sheet.line(words["guide.numbering"].format(w=_w(spec, 0, 0, 0), j=j, i=i), fmt.body)
    sheet.gap()
    sheet.cells([(FIRST_COL, last, words["guide.forward_arrow"], fmt.band["forward"])])
    _draw_neurons(ctx, sheet)
    _draw_captions(ctx, sheet)
    sheet.cells([(FIRST_COL, last, words["guide.backward_arrow"], fmt.band["backward"])])


def _draw_neurons(ctx: Context, sheet: _GuideSheet) -> None:
    spec, fmt = ctx.spec, sheet.fmt
    layers = list(range(-1, spec.n_layers))
    shown = {layer: _shown(spec.sizes[layer + 1]) for layer in layers}
    tallest = max(len(s) for s in shown.values())
    n_rows = 2 * tallest - 1  # a box, a gap, a box, …
    middle = n_rows // 2
    for r in range(n_rows):
        spans = []
        for layer in layers:
            offset = tallest - len(shown[layer])  # centres a shorter layer
            if (r - offset) % 2 == 0 and 0 <= (r - offset) // 2 < len(shown[layer]):
                spans.append(_box(spec, layer, shown[layer][(r - offset) // 2], fmt))
            if r == middle:
                spans.append((_layer_col(layer) + 1, _layer_col(layer) + 1, "→", fmt.arrow))
        if r == middle:
            loss_col = _layer_col(spec.n_layers - 1) + 2
            spans.append((loss_col, loss_col, "L", fmt.box["loss"]))
        if spans:
            sheet.cells(spans, height=BOX_ROW_HEIGHT)
        else:
            sheet.gap(BOX_ROW_HEIGHT)


def _box(spec: Any, layer: int, j: int | None, fmt: _Formats) -> tuple[int, int, str, Format]:
    col = _layer_col(layer)
    if j is None:
        return col, col, "⋮", fmt.box["more"]
    kind = "input" if layer < 0 else "neuron"
    return col, col, labels.neuron_label(spec, layer, j), fmt.box[kind]


def _draw_captions(ctx: Context, sheet: _GuideSheet) -> None:
    """Under each layer its name, activation and biases; under each arrow its weights."""
    spec, fmt, words = ctx.spec, sheet.fmt, ctx.words
    loss_col = _layer_col(spec.n_layers - 1) + 2
    names, formulas, extras = [], [], []
    for layer in range(-1, spec.n_layers):
        col = _layer_col(layer)
        names.append((col, col, _layer_name(spec, layer, words), fmt.caption))
        if layer < 0:
            continue
        act = spec.activations[layer]
        formulas.append((col, col, words[ops.activation(act, spec.leaky_slope).words], fmt.caption))
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        weights = f"{_w(spec, layer, 0, 0)}…{_w(spec, layer, n_to - 1, n_from - 1)}" if n_to * n_from > 1 \
            else _w(spec, layer, 0, 0)
        names.append((col - 1, col - 1, weights, fmt.caption))
        formulas.append((col - 1, col - 1, "z = Σ w·a" + (" + b" if spec.bias != "none" else ""),
                         fmt.caption))
        if spec.bias != "none":
            biases = [labels.label(spec, ids.bias(spec, layer, j))
                      for j in range(n_to if spec.bias == "per-neuron" else 1)]
            extras.append((col, col, "+ " + collapse(biases, ", "), fmt.caption))
    names.append((loss_col, loss_col, words["guide.loss_box"], fmt.caption))
    formulas.append((loss_col, loss_col, _loss_formula(spec), fmt.caption))
    targets = [labels.target_label(j) for j in range(spec.sizes[-1])]
    extras.append((loss_col, loss_col, collapse(targets, ", "), fmt.caption))
    for spans in (names, formulas, extras):
        sheet.cells(sorted(spans, key=lambda s: s[0]), scale=0.8)


def _layer_name(spec: Any, layer: int, words: dict[str, str]) -> str:
    if layer < 0:
        return words["guide.input_layer"]
    if layer == spec.n_layers - 1:
        return words["guide.output_layer"]
    return words["guide.hidden_layer"].format(l=layer + 1)


def _w(spec: Any, layer: int, j: int, i: int) -> str:
    return labels.label(spec, ids.weight(layer, j, i))


def _loss_formula(spec: Any) -> str:
    return ops.LOSSES[spec.loss].formula


def _general_loss(spec: Any) -> str:
    """The loss for the chain-rule table, with the output index j written out."""
    text = _loss_formula(spec).replace("Σ", "Σⱼ ")
    pairs = (("(a − t)", "(aⱼ − tⱼ)"), ("t·ln a", "tⱼ·ln aⱼ"), ("(1 − t)·ln(1 − a)", "(1 − tⱼ)·ln(1 − aⱼ)"))
    for old, new in pairs:
        text = text.replace(old, new)
    return "L = " + text


# --- the chain rule, one row per column group --------------------------------------------------


def _write_chain_rule(ctx: Context, sheet: _GuideSheet) -> None:
    spec, fmt, words = ctx.spec, sheet.fmt, ctx.words
    sheet.gap()
    sheet.line(words["guide.chain_heading"], fmt.heading)
    sheet.line(words["guide.reading" if has_training(ctx) else "guide.reading.exercise"], fmt.body)
    if spec.slots > 1:
        how = words["guide.mean" if spec.reduction == "mean" else "guide.sum"]
        sheet.line(words["guide.samples"].format(n=spec.slots, how=how), fmt.body)
    if spec.mode != "batch":
        sheet.line(words["guide.batches"].format(b=spec.slots, n=spec.n_samples,
                                                 e=spec.n_samples // spec.slots), fmt.body)
    sheet.gap(4)
    group_end, general_end = FIRST_COL + 2, FIRST_COL + 6
    sheet.cells([(FIRST_COL, group_end, words["guide.col_group"], fmt.band["iter"]),
                 (group_end + 1, general_end, words["guide.col_general"], fmt.band["iter"]),
                 (general_end + 1, LAST_COL, words["guide.col_example"], fmt.band["iter"])])
    for group, general, example in _chain_rows(ctx):
        name = words["guide.group.update"] if group == "update" else words[f"group.{group}"]
        sheet.cells([(FIRST_COL, group_end, name, fmt.band[group]),
                     (group_end + 1, general_end, general, fmt.pale[group]),
                     (general_end + 1, LAST_COL, example, fmt.pale[group])])
    sheet.gap(4)
    last = spec.n_layers - 1
    z, d = (labels.label(spec, str(ids.Qid(kind, last, 0))) for kind in ("z", "delta"))
    why = words["guide.chain_why"].format(w=_w(spec, last, 0, 0), z=z, d=d,
                                          a=labels.neuron_label(spec, last - 1, 0))
    sheet.line(why, fmt.body)
    if spec.classifies:  # why the output δ has no f′(z): the note the Training sheet relies on
        key = "guide.cancel.softmax" if spec.loss == "cross_entropy" else "guide.cancel.sigmoid"
        sheet.line(words[key], fmt.body)
    sheet.line(words["guide.derivatives"] + "  " + _derivatives(spec, words), fmt.body)


def _write_optimizers(ctx: Context, sheet: _GuideSheet) -> None:
    """The optimizer in a few lines and its pitfall, and those of the Optimizers sheet."""
    spec, fmt, words = ctx.spec, sheet.fmt, ctx.words
    shown = [spec.optimizer] if spec.has_optimizer_state else []
    shown += [name for name in ctx.options.compare_optim if name not in shown and name != "sgd"]
    if not shown:
        return
    sheet.gap()
    sheet.line(words["guide.optimizer_heading"].format(optimizer=", ".join(shown)), fmt.heading)
    for name in shown:
        sheet.line(words[f"guide.opt.{name}"], fmt.body)
    if spec.has_optimizer_state:
        states = ", ".join(dict.fromkeys(q.partition(":")[0] for q in ids.optimizer(spec)
                                         if ":" in q and not q.startswith("step:")))
        sheet.line(words["guide.opt.columns"].format(states=states), fmt.body)


def _chain_rows(ctx: Context) -> list[tuple[str, str, str]]:
    """(group, the general equation, this network's first instance) for each column group."""
    spec, words = ctx.spec, ctx.words
    columns = {c.qid: c for c in ctx.training.columns}

    def eq(qid: str) -> str:  # the equation of the column's header note
        return notes.equation(spec, words, columns[qid])

    last = spec.n_layers - 1
    bias = " + bⱼ" if spec.bias != "none" else ""
    w0, value = _w(spec, 0, 0, 0), f"{spec.weights[0][0][0]:g}"
    param = "guide.eq.param" if has_training(ctx) else "guide.eq.param.exercise"
    first = {kind: [ids.neuron(kind, layer, 0, 0, spec) for layer in range(spec.n_layers)]
             for kind in ("z", "a", "delta")}
    backward = [eq(first["delta"][last])]
    if spec.n_layers > 1:
        backward.append(eq(first["delta"][last - 1]))
    gradient = "∂L/∂wⱼᵢ = ∂L/∂zⱼ · ∂zⱼ/∂wⱼᵢ = δⱼ · aᵢ"
    if spec.trains_bias:
        gradient += "\n∂L/∂bⱼ = δⱼ"
    update = ("update", words["guide.eq.update"], eq(ids.weight(0, 0, 0)))
    if spec.has_optimizer_state:  # the optimizer makes the step: θ − Δθ
        update = ("update", "θ (next row) = θ − Δθ", f"{w0}{words['note.next_row']} = {w0} − Δ{w0}")
    return [
        ("param", words[param], f"{w0} = {value}  (t = 0)"),
        ("forward", f"zⱼ = Σᵢ wⱼᵢ·aᵢ{bias}\naⱼ = f(zⱼ)", f"{eq(first['z'][0])}\n{eq(first['a'][0])}"),
        ("loss", _general_loss(spec), eq("loss")),
        ("backward", words["guide.eq.backward"], "\n".join(backward)),
        ("gradient", gradient, eq(ids.weight(last, 0, 0, "dW"))),
        update,
    ]


def _derivatives(spec: Any, words: dict[str, str]) -> str:
    # in order, once each; softmax's derivative cancels (δ = a − t), so it needs none
    seen = [act for act in dict.fromkeys(spec.activations) if act in ops.ACTIVATIONS]
    texts = [ops.ACTIVATIONS[act].derivative_text for act in seen]
    return ";  ".join(words.get(text, text).format(slope=f"{spec.leaky_slope:g}") for text in texts)
