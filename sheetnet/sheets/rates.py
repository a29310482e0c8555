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
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec
from sheetnet.sheets import blocks as block_sheets
from sheetnet.sheets import layout
from sheetnet.sheets.context import FormulaWorksheet
from sheetnet.sheets.layout import TrainingLayout

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

MAX_RATES = 8
# Rows, counted from 1: title and note, the overview table (and the chart beside it),
# then per block its rate, the group band, labels, ids and the iterations.
TITLE_ROW, NOTE_ROW, OVERVIEW_ROW = 1, 2, 4
CHART_COL = 3  # 0-based: the chart sits right of the three-column overview table
RATE_ROW, BAND_ROW, LABEL_ROW, ID_ROW = 23, 24, 25, 26
FIRST_DATA_ROW = 27
HEADER_ROWS = block_sheets.HeaderRows(BAND_ROW, LABEL_ROW, ID_ROW)


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


def check_columns(spec: Spec, count: int) -> None:
    """Fail before anything is trained or written when count blocks of spec's Training columns
    (one empty column between blocks) would pass a sheet's last column; say how many fit."""
    width = len(ids.all_ids(spec)) + 1
    total = width * count - 1
    if total > layout.MAX_COLS:
        fit = (layout.MAX_COLS + 1) // width
        raise SheetnetError(
            f"--compare-lr: {count} rates need {total:,} columns, more than a spreadsheet holds "
            f"({layout.MAX_COLS:,}); a block of this network is {width - 1:,} columns wide, so "
            f"{fit} fit: give {fit} rates or fewer"
        )


def make_blocks(ctx: Context, rates: tuple[float, ...]) -> list[Block]:
    check_columns(ctx.spec, len(rates))
    width = len(ctx.training.columns) + 1  # one empty column between blocks
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
    block_sheets.write_blocks(ctx, ws, blocks, HEADER_ROWS)
    chart = loss_chart(ctx, blocks, curve_cells, log_y=True)
    ws.insert_chart(OVERVIEW_ROW - 1, CHART_COL, chart, {"x_offset": 10})
    ws.freeze_panes(0, 1)


def _rate_address(block: Block) -> str:
    return layout.address(RATE_ROW, block.rate_col + 1, absolute=True)


def _write_overview(ctx: Context, ws: Worksheet, blocks: list[Block]) -> list[str]:
    """Per rate: its legend text, its rate and its final loss, all formulas. Returns the
    legend cells (absolute, with the sheet name) for the chart's series names."""
    words, fmt = ctx.words, ctx.fmt
    header = OVERVIEW_ROW - 1
    block_sheets.write_overview_head(ctx, ws, header, words["compare.curve"])
    prefix = layout.sheet_prefix(words["sheet.compare"])
    cells = []
    for n, block in enumerate(blocks):
        row = header + 1 + n
        rate = _rate_address(block)
        series = words["compare.series"]
        ws.write_formula(row, 0, f'="{series}"&{rate}', fmt.label, f"{series}{block.rate:g}")
        ws.write_formula(row, 1, f"={rate}", None, block.rate)
        block_sheets.write_final_loss(ctx, ws, row, 2, block)
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


def loss_chart(ctx: Context, blocks: list[Block], names: list[str], *, log_y: bool = True) -> Chart:
    """The loss curve of every rate in one chart; each series named by its overview cell."""
    title = ctx.words["compare.chart_log_title" if log_y else "compare.chart_title"]
    return block_sheets.loss_chart(ctx, title, ctx.words["sheet.compare"], blocks, names, log_y=log_y)
