"""The Guide of a layered network (the first tab): the title and description, the sheets, and
per layer what it computes forward and how its backward pass applies the chain rule, in words
and equations, each followed by its drawing in live cells (layer_drawings.py places them): the
kernel sliding, the pooling windows, the attention matrix, the unrolled rnn, all at the
iteration t typed in one yellow cell."""

from __future__ import annotations

from typing import Any

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.model.layers import shape_text
from sheetnet.sheets import at_iteration, layer_drawings, limits, styles
from sheetnet.sheets.context import Context, stored_value
from sheetnet.sheets.guide import (
    BOX_ROW_HEIGHT,
    COL_WIDTH,
    FIRST_COL,
    LAST_COL,
    LINE_HEIGHT,
    _formats,
    _GuideSheet,
    _lines,
    _width,
    _write_intro,
    _write_sheet_list,
    has_training,
)
from sheetnet.sheets.layer_drawings import Choice, Drawing, Item, Sheets


def write_layered_guide_sheet(ctx: Context, ws: Worksheet) -> None:
    sheet = _GuideSheet(ws, _formats(ctx.book), LINE_HEIGHT.get(ctx.options.lang, 15))
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 2)
    ws.set_column(FIRST_COL, LAST_COL + 4, COL_WIDTH)  # drawings may reach four columns further
    ws.activate()  # the tab shown when the file opens
    _write_intro(ctx, sheet)
    _write_sheet_list(ctx, sheet)
    _write_layers(ctx, sheet)


def _write_layers(ctx: Context, sheet: _GuideSheet) -> None:
    fmt, words = sheet.fmt, ctx.words
    if has_training(ctx) and layer_drawings.drawn(ctx.spec):  # printed, the drawings start a page
        sheet.ws.set_h_pagebreaks([sheet.row])
    sheet.gap()
    sheet.line(words["guide.layers_heading"], fmt.heading)
    sheet.line(words["guide.layers_intro"], fmt.body)
    pictures = _drawings(ctx, sheet)
    for n, layer in enumerate(ctx.spec.layers):
        sheet.gap(6)
        title = words["guide.layer_row"].format(l=n + 1, kind=layer.kind, shape=shape_text(layer.out_shape))
        sheet.line(title, fmt.bold)
        sheet.line(words[f"guide.layer.{layer.kind}"], fmt.body)
        sheet.line(words[f"guide.back.{layer.kind}"], fmt.body)
        if n in pictures:
            _DrawingWriter(ctx, sheet).write(pictures[n])
    sheet.gap()
    sheet.line(words["guide.layers_check"], fmt.subtitle)


def _drawings(ctx: Context, sheet: _GuideSheet) -> dict[int, Drawing]:
    """The yellow t row and the drawings it drives (none in a student's file, which has no
    Training sheet to read, nor where a row's first sample is not always sample 1)."""
    if not (has_training(ctx) and layer_drawings.drawn(ctx.spec)):
        return {}
    words, fmt = ctx.words, sheet.fmt
    t_row = sheet.row + 1
    sheets = Sheets(ctx.training, ctx.words["sheet.training"], t_row, words)
    first, last = FIRST_COL, layer_drawings.T_COL - 2  # 0-based, as the sheet writes
    sheet.cells([(first, last, words["guide.draw.t"], fmt.bold)], height=20)
    at_iteration.write_choice(sheet.ws, t_row - 1, layer_drawings.T_COL - 1, layer_drawings.FIRST_T,
                              ctx.spec.iterations, ctx.fmt.input, lowest=0)
    return {d.layer: d for d in layer_drawings.drawings(ctx.spec, sheets)}


class _Probe:
    """The build's values of a drawing's cells: NumPy's run at the default choices."""

    def __init__(self, ctx: Context, drawing: Drawing) -> None:
        self.ctx = ctx
        self.t = layer_drawings.FIRST_T
        self.choices = {c.name: c.default for c in drawing.choices}
        self.inputs = np.asarray(ctx.spec.inputs[0], dtype=float).reshape(-1)

    def at(self, qid: str) -> float:
        return float(self.ctx.reference.loc[self.t, qid])

    def x(self, i: int) -> float:
        return float(self.inputs[i])


class _DrawingWriter:
    """Writes a drawing's rows in order (the workbook is written with constant_memory)."""

    def __init__(self, ctx: Context, sheet: _GuideSheet) -> None:
        self.ctx, self.sheet, self.ws = ctx, sheet, sheet.ws
        self.styles = _styles(ctx.book, sheet.fmt)

    def write(self, d: Drawing) -> None:
        assert self.sheet.row + 1 == d.first_row, "the drawing's placement and the Guide's rows differ"
        probe = _Probe(self.ctx, d)
        by_row: dict[int, list[Item]] = {}
        for item in d.items:
            by_row.setdefault(item.row, []).append(item)
        choices: dict[int, list[Choice]] = {}
        for choice in d.choices:
            choices.setdefault(choice.row, []).append(choice)
        for row in range(d.first_row, d.first_row + d.rows):
            items = sorted(by_row.get(row, []), key=lambda i: i.col)
            self.ws.set_row(row - 1, self._height(items, probe))
            for item in items:
                self._item(item, probe)
            for choice in choices.get(row, []):
                at_iteration.write_choice(self.ws, row - 1, choice.col - 1, choice.default, choice.highest,
                                          self.ctx.fmt.input, lowest=choice.lowest)
            self.sheet.row += 1
        for first_row, first_col, last_row, last_col, options in d.rules:
            rule = dict(options)
            if isinstance(rule.get("format"), str):
                rule["format"] = self.styles[rule["format"]]
            self.ws.conditional_format(first_row - 1, first_col - 1, last_row - 1, last_col - 1, rule)

    def _height(self, items: list[Item], probe: _Probe) -> float:
        lines = 1
        for item in items:
            if item.style in ("line", "caption"):
                text = item.expect(probe) if item.expect is not None else str(item.content)
                first = item.col - 1  # 0-based, as guide._width counts
                lines = max(lines, _lines(str(text), _width(first, first + item.span - 1)))
        return limits.row_height(max(BOX_ROW_HEIGHT, lines * self.sheet.line_height + 4))

    def _item(self, item: Item, probe: _Probe) -> None:
        row, col = item.row - 1, item.col - 1
        cell_format = self._style(item.style)
        if item.span > 1:
            self.ws.merge_range(row, col, row, col + item.span - 1, "", cell_format)
        if isinstance(item.content, str) and item.content.startswith("="):
            value = item.expect(probe) if item.expect is not None else ""
            stored = value if isinstance(value, str) else stored_value(value)
            self.ws.write_formula(row, col, item.content, cell_format, stored)
        else:
            self.ws.write(row, col, item.content, cell_format)

    def _style(self, name: str) -> Format:
        if name not in self.styles:  # a pooling cell's window edges, pool:TBLR
            top, bottom, left, right = (5 if e == "1" else 1 for e in name.split(":")[1])  # thick or thin
            self.styles[name] = self.ctx.book.add_format({
                **_GRID, "bg_color": styles.GROUP_COLOURS["forward"][1], "top": top, "bottom": bottom,
                "left": left, "right": right})
        return self.styles[name]


_GRID = {"font_name": "Calibri", "font_size": 10, "num_format": "0.000", "align": "center",
         "valign": "vcenter",
         "border": 1, "border_color": "#808080"}


def _styles(book: Any, fmt: Any) -> dict[str, Format]:
    """The drawings' formats by the names layer_drawings.py gives its cells."""
    def add(**props: Any) -> Format:
        return book.add_format({**_GRID, **props})

    forward, param, backward = (styles.GROUP_COLOURS[g][1] for g in ("forward", "param", "backward"))
    return {
        # shrunk to fit rather than wrapped: a label sits in one narrow column left of its grid
        "label": book.add_format({"font_name": "Calibri", "font_size": 10, "bold": True, "align": "right",
                                  "valign": "vcenter", "shrink": True}),
        "caption": fmt.caption,
        "index": add(num_format="0", border=0, font_color="#808080", font_size=9),
        "index_value": add(num_format="0", bg_color="#F2F2F2"),
        "x": add(bg_color="#F2F2F2"),
        "kernel": add(bg_color=param),
        "map": add(),
        "value": add(bg_color=forward),
        "masked": add(bg_color="#BFBFBF", font_color="#808080"),
        "h0": add(num_format="0", bg_color="#F2F2F2"),
        "delta": add(bg_color=backward),
        "line": book.add_format({"font_name": "Calibri", "font_size": 11, "text_wrap": True, "valign": "top",
                                 "bg_color": "#F2F2F2", "border": 1, "border_color": "#BFBFBF"}),
        "arrow": fmt.arrow,
        "back_arrow": book.add_format({"font_size": 16, "bold": True, "font_color": "#C00000",
                                       "align": "center",
                                       "valign": "vcenter"}),
        "window": book.add_format({"bg_color": "#F4B183", "bold": True}),
        "argmax": book.add_format({"bg_color": "#FFC000", "bold": True, "font_color": "#C00000"}),
        "chosen_row": book.add_format({"bold": True, "font_color": "#C00000", "bg_color": "#F4B183"}),
    }
