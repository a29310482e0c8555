"""The Guide's drawings of a layered network's layers, as live cells (every engine and every locale
recomputes them; a picture would not): for a conv2d layer the input grid of sample 1, the kernel
at iteration t and the window of a chosen output position, with z at that position written out
and summed; for a pooling layer its windows outlined and the arg-max marked; for an attention
layer the matrix P at t, the scores S and the softmax of a chosen row worked out; for an rnn
layer the unrolled chain h₀ → h₁ → … with x feeding in and BPTT's δ flowing back.

This module only places the cells: each cell's content (words, a formula) and, for a formula,
what it must show (`expect`, a function of the values a Probe gives). The Guide writes the
cells (layered_guide.py) and the check recomputes and judges them (verify/guidecheck.py), both
from the same placement. Rows and columns count from 1. Numbers read a Training column at the
iteration t typed in the one yellow t cell of the Guide (at_iteration.py), or the Network sheet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sheetnet.equations import graph, layer_names
from sheetnet.equations.numbertext import fixed_text, fixed_text_formula
from sheetnet.expr.formula import Cell, to_excel
from sheetnet.model import layer_ids
from sheetnet.model.layers import Layer
from sheetnet.model.ops import Activation, activation
from sheetnet.model.spec import Spec
from sheetnet.sheets import at_iteration, layout, limits
from sheetnet.sheets.layout import TrainingLayout

FIRST_COL = 2  # B: the Guide's text starts there (A is a margin)
T_LABEL_SPAN, T_COL = 5, 7  # the t row: its label across B:F, the yellow t cell in G
# The drawings open at t = 0, the forward pass the Working sheet does by hand. (At the last row,
# LibreOffice, drawing the Guide first, computes the whole chain of an rnn's rows recursively
# from there and gives up with Err:522; after the Training sheet is computed, any t is quick.)
FIRST_T = 0
DECIMALS = 4  # in the written-out sums: 0.3003·1 + (−0.2372)·0 + …
DRAWN = ("conv2d", "maxpool2d", "avgpool2d", "attention", "rnn")


class Probe(Protocol):
    """The values a drawing's cells are computed from: the typed choices, the Training columns
    at iteration t and sample 1's inputs."""

    choices: dict[str, int]

    def at(self, qid: str) -> float: ...

    def x(self, i: int) -> float: ...


Expect = Callable[[Probe], float | str]


@dataclass(frozen=True)
class Item:
    """One cell: words, a number or a formula ("=…"); style names the Guide's format."""

    row: int
    col: int
    content: str | float
    style: str
    span: int = 1  # merged across this many columns
    expect: Expect | None = None  # what a formula cell must show (a number, or a text for a line)


@dataclass(frozen=True)
class Choice:
    """A yellow cell the student changes: the channel, the output position, the query row."""

    row: int
    col: int
    name: str
    default: int
    lowest: int
    highest: int


@dataclass
class Drawing:
    layer: int
    first_row: int
    rows: int = 0
    items: list[Item] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    # (first row, first col, last row, last col, xlsxwriter conditional-format options)
    rules: list[tuple[int, int, int, int, dict]] = field(default_factory=list)
    tall_rows: dict[int, int] = field(default_factory=dict)  # row → lines of wrapped text

    @property
    def last_col(self) -> int:
        return max((i.col + i.span - 1 for i in self.items), default=FIRST_COL)


@dataclass(frozen=True)
class Sheets:
    """Where the drawings read: the Training layout and sheet, and the Guide's t cell."""

    training: TrainingLayout
    training_sheet: str
    t_row: int
    words: dict[str, str]

    @property
    def t(self) -> str:
        return layout.address(self.t_row, T_COL, absolute=True)

    def column(self, qid: str) -> str:
        return at_iteration.index_formula(self.training, self.training_sheet, qid, self.t)

    def network(self, key: str) -> str:
        return self.training.constant_address(key)


def drawn(spec: Spec) -> bool:
    """Whether the Guide draws this network: a layer with a drawing, one sample per row first
    (in batch mode slot 1 is sample 1 in every row; sgd and minibatch rows take other samples)."""
    return spec.layered and spec.mode == "batch" and any(layer.kind in DRAWN for layer in spec.layers)


def drawings(spec: Spec, sheets: Sheets) -> list[Drawing]:
    """Every layer's drawing, placed below its words: the Guide writes, after the t row, per
    layer a gap, its title, its forward and its backward words, then its drawing."""
    result, row = [], sheets.t_row + 1
    for n, layer in enumerate(spec.layers):
        row += 4
        draw = _DRAW.get(layer.kind)
        if draw is not None:
            drawing = Drawing(n, row)
            draw(spec, n, layer, sheets, drawing)
            result.append(drawing)
            row += drawing.rows
    return result


def _qid(spec: Spec, name: str, n: int, index: tuple[int, ...]) -> str:
    return layer_names.quantity(spec, name, n, index, 0)


def _input_cells(spec: Spec, n: int, sheets: Sheets) -> tuple[list[str], list[Expect]]:
    """Layer n's input for sample 1 in C order: formulas (no "=") and what each shows."""
    if layer_ids.output_source(spec, n - 1) == layer_ids.INPUT:
        keys = [graph.input_key(i, 0).key for i in range(spec.sizes[0])]
        return [sheets.network(k) for k in keys], [_x(i) for i in range(len(keys))]
    qids = layer_ids.input_ids(spec, n, 0)
    return [sheets.column(q) for q in qids], [_at(q) for q in qids]


def _at(qid: str) -> Expect:
    return lambda probe: probe.at(qid)


def _x(i: int) -> Expect:
    return lambda probe: probe.x(i)


def _chosen(qids: list[str], pick: str) -> Expect:
    return lambda probe: probe.at(qids[probe.choices[pick] - 1]) if 1 <= probe.choices[pick] <= len(qids) \
        else math.nan


def _header(d: Drawing, row: int, first_col: int, n: int) -> None:
    """Column numbers 1 … n over a grid."""
    d.items += [Item(row, first_col + c, c + 1, "index") for c in range(n)]


def _row_numbers(d: Drawing, first_row: int, col: int, n: int) -> None:
    d.items += [Item(first_row + r, col, r + 1, "index") for r in range(n)]


def _choice(d: Drawing, row: int, col: int, words: str, name: str, highest: int, default: int = 1) -> None:
    """A label across two columns and the yellow cell right of it."""
    d.items.append(Item(row, col, words, "label", span=2))  # words: the text itself
    d.choices.append(Choice(row, col + 2, name, min(default, highest), 1, highest))


def choice_address(d: Drawing, name: str) -> str:
    c = next(c for c in d.choices if c.name == name)
    return layout.address(c.row, c.col, absolute=True)


# --- conv2d: the kernel sliding -------------------------------------------------------------------


def _conv(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing) -> None:
    c_in, h, w = layer.in_shape
    c_out, h2, w2 = layer.out_shape
    k = layer.kernel
    top = d.first_row
    words = sheets.words
    _choice(d, top, FIRST_COL, words["guide.draw.channel"], "c", c_out)
    _choice(d, top, FIRST_COL + 3, words["guide.draw.row"], "r", h2)
    _choice(d, top, FIRST_COL + 6, words["guide.draw.column"], "s", w2)
    c, r, s = (choice_address(d, name) for name in ("c", "r", "s"))
    x_col, k_col = FIRST_COL + 1, FIRST_COL + w + 2
    map_col = k_col + k + 2  # the map's row numbers one column left of it
    inputs, input_expects = _input_cells(spec, n, sheets)
    block = max(h, k) + 2  # a caption, the column numbers, the grid
    kernel_cells: list[tuple[str, str, Expect]] = []  # (address, formula, expect) of K[c,i,u,v]
    grids: list[str] = []
    for i in range(c_in):
        caption = top + 1 + i * block
        d.items.append(Item(caption, x_col, words["guide.draw.x"].format(i=i + 1), "caption", span=w))
        d.items.append(Item(caption, k_col, words["guide.draw.kernel"].format(i=i + 1), "caption", span=k))
        _header(d, caption + 1, x_col, w)
        _row_numbers(d, caption + 2, x_col - 1, h)
        for p in range(h):
            for q in range(w):
                flat = (i * h + p) * w + q
                d.items.append(Item(caption + 2 + p, x_col + q, "=" + inputs[flat], "x",
                                    expect=input_expects[flat]))
        grid = (layout.address(caption + 2, x_col, absolute=True) + ":"
                + layout.address(caption + 1 + h, x_col + w - 1, absolute=True))
        grids.append(grid)
        d.items.append(Item(caption + 2 + k // 2, k_col - 1, "⊙", "arrow"))
        for u in range(k):
            for v in range(k):
                qids = [layer_names.parameter(spec, n, "weight", (ch, i, u, v)) for ch in range(c_out)]
                text = at_iteration.choose_formula(c, [sheets.column(q) for q in qids])
                d.items.append(Item(caption + 2 + u, k_col + v, "=" + text, "kernel",
                                    expect=_chosen(qids, "c")))
                kernel_cells.append((layout.address(caption + 2 + u, k_col + v, absolute=True), text,
                                     _chosen(qids, "c")))
        # The window of output (r, s) in this channel's grid, marked while r and s change.
        rule = (f"=AND(ROW()-{caption + 2}+1>={r},ROW()-{caption + 2}+1<{r}+{k},"
                f"COLUMN()-{x_col}+1>={s},COLUMN()-{x_col}+1<{s}+{k})")
        d.rules.append((caption + 2, x_col, caption + 1 + h, x_col + w - 1,
                        {"type": "formula", "criteria": rule, "format": "window"}))
    # The map of z[c] beside the first grid, the chosen position marked.
    d.items.append(Item(top + 3 + k // 2, k_col + k, "→", "arrow"))
    d.items.append(Item(top + 1, map_col, words["guide.draw.zmap"], "caption", span=w2 + 1))
    _header(d, top + 2, map_col + 1, w2)
    _row_numbers(d, top + 3, map_col, h2)
    for p in range(h2):
        for q in range(w2):
            qids = [_qid(spec, "z", n, (ch, p, q)) for ch in range(c_out)]
            d.items.append(Item(top + 3 + p, map_col + 1 + q,
                                "=" + at_iteration.choose_formula(c, [sheets.column(x) for x in qids]), "map",
                                expect=_chosen(qids, "c")))
    first_map, last_map = (top + 3, map_col + 1), (top + 2 + h2, map_col + w2)
    d.rules.append((*first_map, *last_map, {"type": "formula", "criteria":
                    f"=AND(ROW()-{first_map[0]}+1={r},COLUMN()-{first_map[1]}+1={s})", "format": "window"}))
    row = top + 1 + c_in * block
    bias_qids = [layer_names.parameter(spec, n, "bias", (ch,)) for ch in range(c_out)]
    bias = at_iteration.choose_formula(c, [sheets.column(q) for q in bias_qids])
    d.items.append(Item(row, FIRST_COL, words["guide.draw.bias"], "label", span=3))
    d.items.append(Item(row, FIRST_COL + 3, "=" + bias, "kernel", expect=_chosen(bias_qids, "c")))
    bias_at = layout.address(row, FIRST_COL + 3, absolute=True)
    # Σ K·x + b from the cells above: each window value read with INDEX at the chosen r, s.
    terms, parts = [], [_Part("z["), _Part(choice="c"), _Part(","), _Part(choice="r"), _Part(","),
                        _Part(choice="s"), _Part("] = ")]
    window: list[tuple[int, int, int]] = [(i, u, v) for i in range(c_in) for u in range(k) for v in range(k)]
    for n_term, (i, u, v) in enumerate(window):
        x_ref = f"INDEX({grids[i]},{_plus(r, u)},{_plus(s, v)})"
        k_ref, _, k_expect = kernel_cells[n_term]
        terms.append(f"{x_ref}*{k_ref}")
        parts += [_Part(" + ") if n_term else _Part(""), _Part(number=k_ref, expect=k_expect), _Part("·"),
                  _Part(number=x_ref, expect=_window_x(input_expects, i, u, v, h, w))]
    parts += [_Part(" + "), _Part(number=bias_at, expect=_chosen(bias_qids, "c")), _Part(" = ")]
    row += 1
    z_qids = [[[_qid(spec, "z", n, (ch, p, q)) for q in range(w2)] for p in range(h2)] for ch in range(c_out)]
    z_at = layout.address(row, FIRST_COL + 3, absolute=True)
    d.items.append(Item(row, FIRST_COL, words["guide.draw.zsum"], "label", span=3))
    d.items.append(Item(row, FIRST_COL + 3, "=" + "+".join(terms) + "+" + bias, "value",
                        expect=_z_expect(z_qids)))
    parts.append(_Part(number=z_at, expect=_z_expect(z_qids)))
    row += 1
    last = max(map_col + w2, FIRST_COL + 11)
    _line(d, row, parts, last)
    d.rows = row - top + 1


def _plus(address: str, offset: int) -> str:
    return address if offset == 0 else f"{address}+{offset}"


def _window_x(expects: list[Expect], i: int, u: int, v: int, h: int, w: int) -> Expect:
    def expect(probe: Probe) -> float:
        p, q = probe.choices["r"] - 1 + u, probe.choices["s"] - 1 + v
        return expects[(i * h + p) * w + q](probe) if 0 <= p < h and 0 <= q < w else math.nan
    return expect


def _z_expect(z_qids: list[list[list[str]]]) -> Expect:
    def expect(probe: Probe) -> float:
        c, r, s = (probe.choices[name] - 1 for name in ("c", "r", "s"))
        inside = 0 <= c < len(z_qids) and 0 <= r < len(z_qids[0]) and 0 <= s < len(z_qids[0][0])
        return probe.at(z_qids[c][r][s]) if inside else math.nan
    return expect


# --- a live line of text: words and numbers -------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """Words, a typed whole number (a choice cell), or a number rounded to DECIMALS."""

    words: str = ""
    choice: str = ""  # a choice's name: its whole number as typed
    number: str = ""  # an expression whose value is shown rounded
    expect: Expect | None = None


def _line(d: Drawing, row: int, parts: list[_Part], last_col: int) -> None:
    """A merged row whose formula writes the parts out; too long a formula for a spreadsheet
    keeps the first terms and "…"."""
    formula, shown = _line_formula(d, parts)
    if len(formula) > limits.MAX_FORMULA_CHARS:
        def cut(n: int) -> list[_Part]:
            return [*parts[:n], _Part(" … = "), parts[-1]]
        end = next(n for n in range(len(parts), 0, -1)
                   if len(_line_formula(d, cut(n))[0]) <= limits.MAX_FORMULA_CHARS)
        formula, shown = _line_formula(d, cut(end))
    d.items.append(Item(row, FIRST_COL, formula, "line", span=last_col - FIRST_COL + 1, expect=shown))
    d.tall_rows[row] = 2


def _line_formula(d: Drawing, parts: list[_Part]) -> tuple[str, Expect]:
    pieces = []
    for part in parts:
        if part.choice:
            pieces.append(choice_address(d, part.choice))
        elif part.number:
            pieces.append(fixed_text_formula(part.number, DECIMALS))
        elif part.words:
            pieces.append('"' + part.words.replace('"', '""') + '"')

    def shown(probe: Probe) -> str:
        texts = []
        for part in parts:
            if part.choice:
                texts.append(str(probe.choices[part.choice]))
            elif part.number:
                texts.append(fixed_text(part.expect(probe), DECIMALS) if part.expect else "")
            else:
                texts.append(part.words)
        return "".join(texts)

    return "=" + "&".join(pieces), shown



# --- max-pool and avg-pool: the windows outlined, the arg-max marked ------------------------------


def _pool(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing) -> None:
    channels, h, w = layer.in_shape
    _, h2, w2 = layer.out_shape
    size, words = layer.size, sheets.words
    is_max = layer.kind == "maxpool2d"
    inputs, expects = _input_cells(spec, n, sheets)
    x_col = FIRST_COL + 1
    a_col = x_col + w + 2  # the pooled map's row numbers one column left of it
    m_col = a_col + w2 + 2
    block = max(h, 1) + 2
    for c in range(channels):
        caption = d.first_row + c * block
        d.items.append(Item(caption, x_col, words["guide.draw.pool_in"].format(c=c + 1), "caption", span=w))
        d.items.append(Item(caption, a_col, words["guide.draw.pool_out"].format(c=c + 1), "caption",
                            span=w2 + 1))
        if is_max:
            d.items.append(Item(caption, m_col, words["guide.draw.argmax"], "caption", span=w2 + 1))
        for col, width in [(x_col, w), (a_col + 1, w2)] + ([(m_col + 1, w2)] if is_max else []):
            _header(d, caption + 1, col, width)
        _row_numbers(d, caption + 2, x_col - 1, h)
        _row_numbers(d, caption + 2, a_col, h2)
        if is_max:
            _row_numbers(d, caption + 2, m_col, h2)
        for p in range(h):
            for q in range(w):
                flat = (c * h + p) * w + q
                edges = (p % size == 0, p % size == size - 1 or p == h - 1,
                         q % size == 0, q % size == size - 1 or q == w - 1)
                d.items.append(Item(caption + 2 + p, x_col + q, "=" + inputs[flat], "pool" + _edges(edges),
                                    expect=expects[flat]))
                if is_max and p < h2 * size and q < w2 * size:
                    m_at = layout.address(caption + 2 + p // size, m_col + 1 + q // size, absolute=True)
                    position = (p % size) * size + q % size + 1
                    d.rules.append((caption + 2 + p, x_col + q, caption + 2 + p, x_col + q,
                                    {"type": "formula", "criteria": f"={m_at}={position}",
                                     "format": "argmax"}))
        for p in range(h2):
            for q in range(w2):
                a_qid = _qid(spec, "a", n, (c, p, q))
                d.items.append(Item(caption + 2 + p, a_col + 1 + q, "=" + sheets.column(a_qid), "map",
                                    expect=_at(a_qid)))
                if is_max:
                    m_qid = _qid(spec, "arg", n, (c, p, q))
                    d.items.append(Item(caption + 2 + p, m_col + 1 + q, "=" + sheets.column(m_qid),
                                        "index_value",
                                        expect=_at(m_qid)))
    d.rows = channels * block


def _edges(edges: tuple[bool, bool, bool, bool]) -> str:
    """A style name for a cell's thick window edges: pool:TBLR with 0 or 1 for each."""
    return ":" + "".join("1" if e else "0" for e in edges)


# --- attention: the matrix P, the scores S and one row's softmax ----------------------------------


def _attention(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing) -> None:
    steps, words = layer.in_shape[0], sheets.words
    top = d.first_row
    _choice(d, top, FIRST_COL, words["guide.draw.query"], "q", steps, default=steps)
    q = choice_address(d, "q")
    p_col, s_col = FIRST_COL + 1, FIRST_COL + steps + 3
    caption = "guide.draw.p_causal" if layer.causal else "guide.draw.p"
    d.items.append(Item(top + 1, FIRST_COL, words[caption], "caption", span=steps + 1))
    d.items.append(Item(top + 1, s_col - 1, words["guide.draw.s"].format(d=layer.dim), "caption",
                        span=steps + 1))
    for col in (p_col, s_col):
        _header(d, top + 2, col, steps)
    _row_numbers(d, top + 3, p_col - 1, steps)
    _row_numbers(d, top + 3, s_col - 1, steps)
    for r in range(steps):
        for u in range(steps):
            p_qid, s_qid = _qid(spec, "P", n, (r, u)), _qid(spec, "S", n, (r, u))
            masked = layer.causal and u > r
            d.items.append(Item(top + 3 + r, p_col + u, "=" + sheets.column(p_qid),
                                "masked" if masked else "map",
                                expect=_at(p_qid)))
            d.items.append(Item(top + 3 + r, s_col + u, "=" + sheets.column(s_qid), "value",
                                expect=_at(s_qid)))
    first, last = top + 3, top + 2 + steps
    # Row q marked: its number beside P (a rule on P's cells would hide their colours), its S.
    row_rule = {"type": "formula", "criteria": f"=ROW()-{first}+1={q}", "format": "chosen_row"}
    d.rules.append((first, p_col - 1, last, p_col - 1, dict(row_rule)))
    d.rules.append((first, s_col - 1, last, s_col + steps - 1, dict(row_rule)))
    scale = at_iteration.PROBABILITY_SCALE
    for r in range(steps):  # a causal row's masked cells keep their grey
        d.rules.append((first + r, p_col, first + r, p_col + (r if layer.causal else steps - 1), dict(scale)))
    # Row q's softmax worked out: e = EXP(S − the row's max) (0 where masked), P = e / Σ e.
    s_grid = layout.address(first, s_col, absolute=True) + ":" + layout.address(last, s_col + steps - 1,
                                                                                absolute=True)
    s_row = [f"INDEX({s_grid},{q},{u + 1})" for u in range(steps)]
    top_s = f"MAX({','.join(s_row)})"
    e_row, p_row = last + 1, last + 2
    d.items.append(Item(e_row, FIRST_COL, words["guide.draw.exp"], "label"))
    d.items.append(Item(p_row, FIRST_COL, words["guide.draw.softmax"], "label"))
    s_qids = [[_qid(spec, "S", n, (r, u)) for u in range(steps)] for r in range(steps)]
    p_qids = [[_qid(spec, "P", n, (r, u)) for u in range(steps)] for r in range(steps)]
    e_cells = [layout.address(e_row, p_col + u, absolute=True) for u in range(steps)]
    e_sum = f"SUM({e_cells[0]}:{e_cells[-1]})"
    parts = [_Part("P["), _Part(choice="q"), _Part(",·] = softmax(")]
    for u in range(steps):
        e = f"EXP({s_row[u]}-{top_s})"
        if layer.causal:
            e = f"IF({u + 1}>{q},0,{e})"
        d.items.append(Item(e_row, p_col + u, "=" + e, "value", expect=_exp_expect(s_qids, u, layer.causal)))
        d.items.append(Item(p_row, p_col + u, f"={e_cells[u]}/{e_sum}", "map", expect=_row_expect(p_qids, u)))
        parts += [_Part(", ") if u else _Part(""), _Part(number=s_row[u], expect=_row_expect(s_qids, u))]
    parts.append(_Part(") = ("))
    for u in range(steps):
        parts += [_Part(", ") if u else _Part(""),
                  _Part(number=layout.address(p_row, p_col + u, absolute=True),
                        expect=_row_expect(p_qids, u))]
    parts.append(_Part(")"))
    last_col = max(s_col + steps - 1, FIRST_COL + 11)
    _line(d, p_row + 1, parts, last_col)
    _score(spec, n, layer, sheets, d, p_row + 3, last_col)  # after a gap


def _score(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing, top: int, last_col: int) -> None:
    """One score worked out: Q[q,·] and K[u,·] at t for row q and a chosen column u, and
    S[q,u] = Q[q]·K[u]/√d summed from them and written out."""
    steps, dim, words = layer.in_shape[0], layer.dim, sheets.words
    _choice(d, top, FIRST_COL, words["guide.draw.key"], "u", steps)
    q, u = choice_address(d, "q"), choice_address(d, "u")
    vectors: dict[str, list[tuple[str, Expect]]] = {}
    for r, (name, pick, label) in enumerate((("Q", q, "guide.draw.q_row"), ("K", u, "guide.draw.k_row")),
                                            start=1):
        d.items.append(Item(top + r, FIRST_COL, words[label], "label", span=3))
        for i in range(dim):
            qids = [_qid(spec, name, n, (step, i)) for step in range(steps)]
            text = at_iteration.choose_formula(pick, [sheets.column(x) for x in qids])
            expect = _chosen(qids, "q" if name == "Q" else "u")
            d.items.append(Item(top + r, FIRST_COL + 3 + i, "=" + text, "value", expect=expect))
            vectors.setdefault(name, []).append((layout.address(top + r, FIRST_COL + 3 + i, absolute=True),
                                                 expect))
    s_qids = [[_qid(spec, "S", n, (r, c)) for c in range(steps)] for r in range(steps)]
    s_row = top + 3
    products = "+".join(f"{a}*{b}" for (a, _), (b, _) in zip(vectors["Q"], vectors["K"], strict=True))
    d.items.append(Item(s_row, FIRST_COL, words["guide.draw.score"], "label", span=3))
    d.items.append(Item(s_row, FIRST_COL + 3, f"=({products})/SQRT({dim})", "value",
                        expect=_score_expect(s_qids)))
    parts = [_Part("S["), _Part(choice="q"), _Part(","), _Part(choice="u"), _Part("] = (")]
    for i, ((a, a_expect), (b, b_expect)) in enumerate(zip(vectors["Q"], vectors["K"], strict=True)):
        parts += [_Part(" + ") if i else _Part(""), _Part(number=a, expect=a_expect), _Part("·"),
                  _Part(number=b, expect=b_expect)]
    parts += [_Part(f")/√{dim} = "), _Part(number=layout.address(s_row, FIRST_COL + 3, absolute=True),
                                           expect=_score_expect(s_qids))]
    _line(d, s_row + 1, parts, last_col)
    d.rows = s_row + 2 - d.first_row


def _score_expect(s_qids: list[list[str]]) -> Expect:
    def expect(probe: Probe) -> float:
        q, u = probe.choices["q"] - 1, probe.choices["u"] - 1
        return probe.at(s_qids[q][u]) if 0 <= q < len(s_qids) and 0 <= u < len(s_qids) else math.nan
    return expect


def _row_expect(qids: list[list[str]], u: int) -> Expect:
    def expect(probe: Probe) -> float:
        q = probe.choices["q"] - 1
        return probe.at(qids[q][u]) if 0 <= q < len(qids) else math.nan
    return expect


def _exp_expect(s_qids: list[list[str]], u: int, causal: bool) -> Expect:
    def expect(probe: Probe) -> float:
        q = probe.choices["q"] - 1
        if not 0 <= q < len(s_qids):
            return math.nan
        if causal and u > q:
            return 0.0
        row = [probe.at(x) for x in s_qids[q]]
        return math.exp(row[u] - max(row))
    return expect


# --- rnn: the unrolled chain and BPTT --------------------------------------------------------------


def _rnn(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing) -> None:
    steps, features = layer.in_shape
    hidden, words = layer.size, sheets.words
    inputs, expects = _input_cells(spec, n, sheets)
    top = d.first_row

    def col(step: int) -> int:  # step 0 is h₀
        return FIRST_COL + 1 + 2 * step

    d.items.append(Item(top, FIRST_COL, words["guide.draw.rnn"], "caption", span=col(steps) - FIRST_COL + 1))
    d.items.append(Item(top + 1, FIRST_COL, words["guide.draw.step"], "label"))
    d.items += [Item(top + 1, col(step), step, "index") for step in range(steps + 1)]
    x_row = top + 2
    d.items.append(Item(x_row, FIRST_COL, "x", "label"))
    for step in range(1, steps + 1):
        for f in range(features):
            flat = (step - 1) * features + f
            d.items.append(Item(x_row + f, col(step), "=" + inputs[flat], "x", expect=expects[flat]))
        d.items.append(Item(x_row + features, col(step), "↓", "arrow"))
    h_row = x_row + features + 1
    d.items.append(Item(h_row, FIRST_COL, "h", "label"))
    middle = h_row + (hidden - 1) // 2
    for j in range(hidden):
        d.items.append(Item(h_row + j, col(0), 0, "h0"))
    for step in range(1, steps + 1):
        d.items.append(Item(middle, col(step) - 1, "→", "arrow"))
        for j in range(hidden):
            qid = _qid(spec, "h", n, (step - 1, j))
            d.items.append(Item(h_row + j, col(step), "=" + sheets.column(qid), "map", expect=_at(qid)))
    back_row = h_row + hidden
    d.items.append(Item(back_row, FIRST_COL, words["guide.draw.bptt"], "label"))
    for step in range(1, steps):
        d.items.append(Item(back_row, col(step) + 1, "←", "back_arrow"))
    delta_row = back_row + 1
    d.items.append(Item(delta_row, FIRST_COL, "δ", "label"))
    for step in range(1, steps + 1):
        for j in range(hidden):
            qid = _qid(spec, "delta", n, (step - 1, j))
            d.items.append(Item(delta_row + j, col(step), "=" + sheets.column(qid), "delta", expect=_at(qid)))
    x_range = layout.address(x_row, col(1), absolute=True) + ":" + layout.address(
        x_row + features - 1, col(steps), absolute=True)
    h_range = layout.address(h_row, col(0), absolute=True) + ":" + layout.address(
        h_row + hidden - 1, col(steps), absolute=True)
    _rnn_step(spec, n, layer, sheets, d, delta_row + hidden + 1, x_range, h_range)  # after a gap
    d.rules.append((h_row, col(1), h_row + hidden - 1, col(steps),
                    {"type": "3_color_scale", "min_type": "num", "min_value": -1, "mid_type": "num",
                     "mid_value": 0, "max_type": "num", "max_value": 1, "min_color": "#5B9BD5",
                     "mid_color": "#FFFFFF", "max_color": "#C0504D"}))


def _rnn_step(spec: Spec, n: int, layer: Layer, sheets: Sheets, d: Drawing, top: int, x_range: str,
              h_range: str) -> None:
    """One step of the recurrence worked out for a chosen step τ and unit j: the parameters
    into unit j at t, z[τ,j] = Σ Wx·x[τ] + Σ Wh·h[τ−1] + b summed from the chain's cells, and
    h[τ,j] = f(z), written out with their numbers."""
    steps, features = layer.in_shape
    hidden, words = layer.size, sheets.words
    _choice(d, top, FIRST_COL, words["guide.draw.rnn_step"], "tau", steps)
    _choice(d, top, FIRST_COL + 3, words["guide.draw.rnn_unit"], "j", hidden)
    tau, j = choice_address(d, "tau"), choice_address(d, "j")
    rows = (("weight_ih", "guide.draw.wx", features), ("weight_hh", "guide.draw.wh", hidden),
            ("bias", "guide.draw.rnn_bias", 1))
    cells: dict[str, list[tuple[str, Expect]]] = {}
    for r, (name, label, width) in enumerate(rows, start=1):
        d.items.append(Item(top + r, FIRST_COL, words[label], "label", span=3))
        for i in range(width):
            qids = [layer_names.parameter(spec, n, name, (unit, i) if name != "bias" else (unit,))
                    for unit in range(hidden)]
            expect = _chosen(qids, "j")
            text = at_iteration.choose_formula(j, [sheets.column(q) for q in qids])
            d.items.append(Item(top + r, FIRST_COL + 3 + i, "=" + text, "kernel", expect=expect))
            at = layout.address(top + r, FIRST_COL + 3 + i, absolute=True)
            cells.setdefault(name, []).append((at, expect))
    x_at = [f"INDEX({x_range},{i + 1},2*{tau}-1)" for i in range(features)]
    h_at = [f"INDEX({h_range},{m + 1},2*{tau}-1)" for m in range(hidden)]  # h[τ−1]: h₀ leads the chain
    z_qids = [[_qid(spec, "z", n, (s, u)) for u in range(hidden)] for s in range(steps)]
    h_qids = [[_qid(spec, "h", n, (s, u)) for u in range(hidden)] for s in range(steps)]
    z_row = top + 4
    terms = [f"{w}*{x}" for (w, _), x in zip(cells["weight_ih"], x_at, strict=True)]
    terms += [f"{w}*{h}" for (w, _), h in zip(cells["weight_hh"], h_at, strict=True)]
    d.items.append(Item(z_row, FIRST_COL, words["guide.draw.rnn_z"], "label", span=3))
    d.items.append(Item(z_row, FIRST_COL + 3, "=" + "+".join(terms) + "+" + cells["bias"][0][0], "value",
                        expect=_step_expect(z_qids)))
    z_at = layout.address(z_row, FIRST_COL + 3, absolute=True)
    act = activation(layer.activation, spec.leaky_slope)
    assert isinstance(act, Activation)  # an rnn's activation is elementwise

    def ref(node: object) -> str:
        return z_at if isinstance(node, Cell) else sheets.training.constant_address(graph.LEAKY.key)

    symbol = act.symbol or "f"
    d.items.append(Item(z_row, FIRST_COL + 4, words["guide.draw.rnn_h"].format(f=symbol), "label", span=3))
    d.items.append(Item(z_row, FIRST_COL + 7, to_excel(act.excel(Cell("z")), ref), "map",
                        expect=_step_expect(h_qids)))
    parts = [_Part("z["), _Part(choice="tau"), _Part(","), _Part(choice="j"), _Part("] = ")]
    for i, ((w, w_expect), x) in enumerate(zip(cells["weight_ih"], x_at, strict=True)):
        parts += [_Part(" + ") if i else _Part(""), _Part(number=w, expect=w_expect), _Part("·"),
                  _Part(number=x, expect=_step_value(_x_of(spec, n, sheets, i)))]
    for m, ((w, w_expect), h) in enumerate(zip(cells["weight_hh"], h_at, strict=True)):
        parts += [_Part(" + "), _Part(number=w, expect=w_expect), _Part("·"),
                  _Part(number=h, expect=_previous_h(h_qids, m))]
    parts += [_Part(" + "), _Part(number=cells["bias"][0][0], expect=cells["bias"][0][1]), _Part(" = "),
              _Part(number=z_at, expect=_step_expect(z_qids)), _Part(f";  h = {symbol}(z) = "),
              _Part(number=layout.address(z_row, FIRST_COL + 7, absolute=True), expect=_step_expect(h_qids))]
    _line(d, z_row + 1, parts, max(FIRST_COL + 1 + 2 * steps, FIRST_COL + 11))
    d.rows = z_row + 2 - d.first_row


def _step_expect(qids: list[list[str]]) -> Expect:
    def expect(probe: Probe) -> float:
        tau, j = probe.choices["tau"] - 1, probe.choices["j"] - 1
        inside = 0 <= tau < len(qids) and 0 <= j < len(qids[0])
        return probe.at(qids[tau][j]) if inside else math.nan
    return expect


def _previous_h(h_qids: list[list[str]], m: int) -> Expect:
    def expect(probe: Probe) -> float:
        tau = probe.choices["tau"] - 1
        return probe.at(h_qids[tau - 1][m]) if 1 <= tau < len(h_qids) else 0.0 if tau == 0 else math.nan
    return expect


def _x_of(spec: Spec, n: int, sheets: Sheets, i: int) -> Callable[[Probe, int], float]:
    """Feature i of the layer's input at step τ (0-based), for sample 1."""
    features = spec.layers[n].in_shape[1]
    _, expects = _input_cells(spec, n, sheets)
    return lambda probe, tau: expects[tau * features + i](probe)


def _step_value(x_of: Callable[[Probe, int], float]) -> Expect:
    def expect(probe: Probe) -> float:
        tau = probe.choices["tau"] - 1
        return x_of(probe, tau) if tau >= 0 else math.nan
    return expect


_DRAW: dict[str, Callable[[Spec, int, Layer, Sheets, Drawing], None]] = {
    "conv2d": _conv, "maxpool2d": _pool, "avgpool2d": _pool, "attention": _attention, "rnn": _rnn}
