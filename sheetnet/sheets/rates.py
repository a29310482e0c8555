"""The learning-rate comparison sheet: the Training sheet's columns once per rate, side by side.

Each block is the whole Training sheet (t, parameters, forward pass, loss, backward pass,
gradients) printed by the same formula printer; only its columns are shifted right and its
update step reads the block's own rate cell (yellow, at the top of the block) instead of the
Network sheet's. Row t is iteration t in every block. Above the blocks, a small table and one
chart (log-scale y axis) put the loss curves of all rates side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.sheets import charts, layout
from sheetnet.sheets.context import FormulaWorksheet, column_label, mark_divergence, stored_value
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.sheets.training import RowWriter

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

MAX_RATES = 8
# Rows, counted from 1: title and note, the overview table (and the chart beside it),
# then per block its rate, the group band, labels, ids and the iterations.
TITLE_ROW, NOTE_ROW, OVERVIEW_ROW = 1, 2, 4
CHART_COL = 3  # 0-based: the chart sits right of the three-column overview table
CHART_WIDTH, CHART_HEIGHT = 620, 360  # fits beside the table on a landscape page
RATE_ROW, BAND_ROW, LABEL_ROW, ID_ROW = 23, 24, 25, 26
FIRST_DATA_ROW = 27


def parse_rates(text: str) -> tuple[float, ...]:
    """`0.1,0.5,2` → (0.1, 0.5, 2.0); anything else is a one-line SheetnetError."""
    rates = []
    for part in text.split(","):
        try:
            rates.append(float(part.strip()))
        except ValueError:
            raise SheetnetError(
                f"--compare-lr: {part.strip()!r} is not a number; give rates like 0.1,0.5,2"
            ) from None
    return check_rates(tuple(rates))


def check_rates(rates: tuple[float, ...]) -> tuple[float, ...]:
    if not rates:
        raise SheetnetError("--compare-lr: give at least one learning rate, like 0.1,0.5,2")
    if len(rates) > MAX_RATES:
        raise SheetnetError(f"--compare-lr: at most {MAX_RATES} learning rates, got {len(rates)}")
    for rate in rates:
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise SheetnetError(f"--compare-lr: every learning rate must be a positive number, got {rate}")
    return tuple(float(r) for r in rates)


@dataclass
class Block:
    """One learning rate: its columns' placement, its rate cell and the NumPy run it shows."""

    rate: float
    offset: int  # columns left of the block
    training: TrainingLayout
    values: np.ndarray  # reference values, one row per iteration, columns as training.columns

    @property
    def rate_col(self) -> int:
        """0-based column of the rate cell: right of the block's t column."""
        return self.offset + 1


def make_blocks(ctx: Context, rates: tuple[float, ...]) -> list[Block]:
    width = len(ctx.training.columns) + 1  # one empty column between blocks
    total = width * len(rates) - 1
    if total > layout.MAX_COLS:
        raise SheetnetError(
            f"--compare-lr: {len(rates)} rates need {total} columns, more than a spreadsheet holds "
            f"({layout.MAX_COLS}); give fewer rates"
        )
    blocks = []
    for n, rate in enumerate(rates):
        offset = n * width
        rate_cell = layout.address(RATE_ROW, offset + 2, absolute=True)
        training = TrainingLayout(ctx.spec, ctx.network, ctx.training.network_sheet, col_offset=offset,
                                  first_data_row=FIRST_DATA_ROW, overrides={"lr": rate_cell})
        spec = ctx.spec.replace(learning_rate=rate)
        with np.errstate(all="ignore"):  # a large rate may diverge: inf and NaN are expected
            frame = train(spec)
        values = frame[[c.qid for c in training.columns]].to_numpy()
        blocks.append(Block(rate, offset, training, values))
    return blocks


def write_compare_sheet(ctx: Context, ws: Worksheet) -> None:
    if not isinstance(ws, FormulaWorksheet):
        raise TypeError("the learning-rate sheet must be added with worksheet_class=FormulaWorksheet")
    blocks = make_blocks(ctx, check_rates(ctx.options.compare_lr))
    ws.write(TITLE_ROW - 1, 0, ctx.words["compare.title"], ctx.fmt.title)
    ws.write(NOTE_ROW - 1, 0, ctx.words["compare.note"], ctx.fmt.note)
    curve_cells = _write_overview(ctx, ws, blocks)
    _write_rate_row(ctx, ws, blocks)
    _write_headers(ctx, ws, blocks)
    _write_data(ctx, ws, blocks)
    for block in blocks:
        mark_divergence(ws, block.training, ctx.fmt)
    chart = loss_chart(ctx, blocks, curve_cells, log_y=True)
    ws.insert_chart(OVERVIEW_ROW - 1, CHART_COL, chart, {"x_offset": 10})
    ws.freeze_panes(0, 1)


def _rate_address(block: Block) -> str:
    return layout.address(RATE_ROW, block.rate_col + 1, absolute=True)


def _write_overview(ctx: Context, ws: Worksheet, blocks: list[Block]) -> list[str]:
    """Per rate: its legend text, its rate and its final loss, all formulas. Returns the
    legend cells (absolute, with the sheet name) for the chart's series names."""
    words, fmt, last = ctx.words, ctx.fmt, ctx.spec.iterations
    header = OVERVIEW_ROW - 1
    for c, text in enumerate((words["compare.curve"], words["compare.rate"],
                              words["compare.final"].format(n=last))):
        ws.write(header, c, text, fmt.header)
    prefix = layout.sheet_prefix(words["sheet.compare"])
    cells = []
    for n, block in enumerate(blocks):
        row = header + 1 + n
        rate = _rate_address(block)
        series = words["compare.series"]
        ws.write_formula(row, 0, f'="{series}"&{rate}', fmt.label, f"{series}{block.rate:g}")
        ws.write_formula(row, 1, f"={rate}", None, block.rate)
        loss = ctx.training.col_of["loss"] - 1  # index into block.values (no offset there)
        ws.write_formula(row, 2, "=" + block.training.cell("loss", last), fmt.data["loss"],
                         stored_value(block.values[last, loss]))
        cells.append("=" + prefix + layout.address(row + 1, 1, absolute=True))
    return cells


def _write_rate_row(ctx: Context, ws: Worksheet, blocks: list[Block]) -> None:
    words, fmt = ctx.words, ctx.fmt
    right = ctx.book.add_format({"font_name": "Calibri", "font_size": 11, "bold": True, "align": "right"})
    for n, block in enumerate(blocks):
        row = RATE_ROW - 1
        ws.write(row, block.offset, words["compare.rate_label"], right)
        ws.write_number(row, block.rate_col, block.rate, fmt.input)
        ws.data_validation(row, block.rate_col, row, block.rate_col, {
            "validate": "decimal", "criteria": ">", "value": 0,
            "error_title": words["setting.learning_rate"], "error_message": words["network.lr_error"],
        })
        text = words["compare.block"].format(n=n + 1, total=len(blocks))
        ws.write(row, block.rate_col + 1, text, fmt.heading)


def _write_headers(ctx: Context, ws: Worksheet, blocks: list[Block]) -> None:
    """The Training sheet's three header rows, once per block (row by row: constant memory)."""
    fmt, words, columns = ctx.fmt, ctx.words, ctx.training.columns
    # constant_memory writes a row out once the next is begun: set its height before its cells.
    ws.set_row(BAND_ROW - 1, 45)
    for block in blocks:
        start = 0
        for c in range(1, len(columns) + 1):
            if c == len(columns) or columns[c].group != columns[start].group:
                group, first, last = columns[start].group, block.offset + start, block.offset + c - 1
                if last > first:
                    ws.merge_range(BAND_ROW - 1, first, BAND_ROW - 1, last, words[f"group.{group}"],
                                   fmt.band[group])
                else:
                    ws.write(BAND_ROW - 1, first, words[f"group.{group}"], fmt.band[group])
                start = c
    for block in blocks:
        for c, column in enumerate(columns):
            label = column_label(ctx.spec, column.qid, words)
            ws.write(LABEL_ROW - 1, block.offset + c, label, fmt.label_cell[column.group])
    for block in blocks:
        for c, column in enumerate(columns):
            ws.write(ID_ROW - 1, block.offset + c, column.qid, fmt.id_cell)
    for block in blocks:
        ws.set_column(block.offset, block.offset, 16)  # the t band's text in two lines
        ws.set_column(block.offset + 1, block.offset + len(columns) - 1, 13)
        ws.set_column(block.offset + len(columns), block.offset + len(columns), 3)


def _write_data(ctx: Context, ws: FormulaWorksheet, blocks: list[Block]) -> None:
    """Every block's rows, row by row across the blocks (constant memory writes rows in order)."""
    writers = [RowWriter.of(ws, block.training, ctx.fmt) for block in blocks]
    for t in range(ctx.spec.iterations + 1):
        for block, rows in zip(blocks, writers, strict=True):
            rows.write(ws, t, block.values[t].tolist())


def loss_chart(ctx: Context, blocks: list[Block], names: list[str], *, log_y: bool = True) -> Chart:
    """The loss curve of every rate in one chart; each series named by its overview cell."""
    words = ctx.words
    title = words["compare.chart_log_title" if log_y else "compare.chart_title"]
    chart = charts.new_chart(ctx, title, words["charts.loss_axis"], log_y=log_y)
    chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    prefix = "=" + layout.sheet_prefix(words["sheet.compare"])
    iters = charts.cache(range(ctx.spec.iterations + 1))
    loss = ctx.training.col_of["loss"] - 1
    for n, (block, name) in enumerate(zip(blocks, names, strict=True)):
        chart.add_series({
            "name": name,
            "categories": prefix + block.training.column_range("iter"),
            "values": prefix + block.training.column_range("loss"),
            "categories_data": iters, "values_data": charts.cache(block.values[:, loss]),
            "line": {"color": charts.PALETTE[n % len(charts.PALETTE)], "width": 1.75},
        })
    return chart
