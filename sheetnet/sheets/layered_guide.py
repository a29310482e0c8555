"""The Guide of a layered network (the first tab): the title and description, the sheets, and
per layer what it computes forward and how its backward pass applies the chain rule, in words
and equations (no drawing yet)."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from sheetnet.model.layers import shape_text
from sheetnet.sheets.context import Context
from sheetnet.sheets.guide import (
    COL_WIDTH,
    FIRST_COL,
    LAST_COL,
    LINE_HEIGHT,
    _formats,
    _GuideSheet,
    _write_intro,
    _write_sheet_list,
)


def write_layered_guide_sheet(ctx: Context, ws: Worksheet) -> None:
    sheet = _GuideSheet(ws, _formats(ctx.book), LINE_HEIGHT.get(ctx.options.lang, 15))
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 2)
    ws.set_column(FIRST_COL, LAST_COL, COL_WIDTH)
    ws.activate()  # the tab shown when the file opens
    _write_intro(ctx, sheet)
    _write_sheet_list(ctx, sheet)
    _write_layers(ctx, sheet)


def _write_layers(ctx: Context, sheet: _GuideSheet) -> None:
    fmt, words = sheet.fmt, ctx.words
    sheet.gap()
    sheet.line(words["guide.layers_heading"], fmt.heading)
    sheet.line(words["guide.layers_intro"], fmt.body)
    for n, layer in enumerate(ctx.spec.layers):
        sheet.gap(6)
        title = words["guide.layer_row"].format(l=n + 1, kind=layer.kind, shape=shape_text(layer.out_shape))
        sheet.line(title, fmt.bold)
        sheet.line(words[f"guide.layer.{layer.kind}"], fmt.body)
        sheet.line(words[f"guide.back.{layer.kind}"], fmt.body)
    sheet.gap()
    sheet.line(words["guide.layers_check"], fmt.subtitle)
