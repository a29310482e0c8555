"""The optimizer comparison sheet (`--compare-optim sgd,momentum,adam`): the same network, data and
initial weights trained by each optimizer, side by side, with one chart of their loss curves.

Each block is the Training sheet of the spec trained by that optimizer (its own optimizer group),
printed by the same formula printer and shifted right. Its formulas read the data and initial
weights from the Network sheet but η and the optimizer's hyperparameters from the block's own
yellow cells at its top (1 − β a formula of the block's β), so each block can be tuned alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import updates
from sheetnet.errors import SheetnetError
from sheetnet.model import ids, optimizers
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, with_optimizer
from sheetnet.sheets import blocks as block_sheets
from sheetnet.sheets import layout
from sheetnet.sheets.layout import NetworkLayout, TrainingLayout

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

MAX_OPTIMIZERS = 7
TITLE_ROW, NOTE_ROW, OVERVIEW_ROW = 1, 2, 4
CHART_COL = 3
BLOCK_TITLE_ROW, HYPER_LABEL_ROW, HYPER_ROW = 22, 23, 24
BAND_ROW, LABEL_ROW, ID_ROW, FIRST_DATA_ROW = 25, 26, 27, 28
HEADER_ROWS = block_sheets.HeaderRows(BAND_ROW, LABEL_ROW, ID_ROW)


def parse_optimizers(text: str) -> tuple[str, ...]:
    """`sgd,momentum,adam` → ("sgd", "momentum", "adam"); anything else is a one-line error."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise SheetnetError("--compare-optim: give at least one optimizer, like sgd,momentum,adam")
    for name in names:
        if name not in optimizers.OPTIMIZERS:
            raise SheetnetError(f"--compare-optim: unknown optimizer {name!r}; expected some of:"
                                f" {', '.join(optimizers.NAMES)}")
    if len(set(names)) != len(names):
        raise SheetnetError("--compare-optim: each optimizer once (give other hyperparameters in"
                            " the block's yellow cells)")
    if len(names) > MAX_OPTIMIZERS:
        raise SheetnetError(f"--compare-optim: at most {MAX_OPTIMIZERS} optimizers, got {len(names)}")
    return names


@dataclass
class Block:
    spec: Spec
    offset: int  # columns left of the block
    training: TrainingLayout
    values: np.ndarray  # reference values, one row per iteration, columns as training.columns
    cells: dict[str, str]  # hyperparameter key → its absolute address on this sheet

    @property
    def name(self) -> str:
        return self.spec.optimizer


def block_spec(spec: Spec, name: str) -> Spec:
    """The spec trained by `name`: the spec's own hyperparameters where it is that optimizer,
    else that optimizer's defaults (and the spec's weight decay)."""
    return spec if name == spec.optimizer else with_optimizer(spec, name)


def make_blocks(ctx: Context, names: tuple[str, ...]) -> list[Block]:
    blocks = []
    for spec, offset, training, cells in placements(ctx.spec, ctx.network, ctx.training.network_sheet, names):
        with np.errstate(all="ignore"):  # a large rate may diverge: inf and NaN are expected
            frame = train(spec)
        values = frame[[c.qid for c in training.columns]].to_numpy()
        blocks.append(Block(spec, offset, training, values, cells))
    return blocks


def placements(
    spec: Spec, network: NetworkLayout, network_sheet: str, names: tuple[str, ...]
) -> list[tuple[Spec, int, TrainingLayout, dict[str, str]]]:
    """Where each optimizer's block sits: (its spec, its column offset, its columns, its
    hyperparameter cells by key). The check reads the sheet back with the same placement."""
    check_columns(spec, names)
    result, offset = [], 0
    for name in names:
        own = block_spec(spec, name)
        keys = ["lr", *updates.network_keys(own)]
        cells = {key: layout.address(HYPER_ROW, offset + 2 + n, absolute=True) for n, key in enumerate(keys)}
        training = TrainingLayout(own, network, network_sheet, col_offset=offset,
                                  first_data_row=FIRST_DATA_ROW, overrides=cells)
        result.append((own, offset, training, cells))
        offset += block_width(own) + 1  # one empty column between blocks
    return result


def block_width(spec: Spec) -> int:
    """The columns of a block: its Training columns, or its row of hyperparameter cells if wider."""
    return max(len(ids.all_ids(spec)), len(updates.network_keys(spec)) + 2)


def check_columns(spec: Spec, names: tuple[str, ...]) -> None:
    """Fail before anything is trained or written when the blocks (one empty column between
    them) would pass a sheet's last column; say how many of them fit."""
    widths = [block_width(block_spec(spec, name)) + 1 for name in names]
    total = sum(widths) - 1
    if total > layout.MAX_COLS:
        fit = next(n for n in range(len(names), -1, -1) if sum(widths[:n]) - 1 <= layout.MAX_COLS)
        raise SheetnetError(
            f"--compare-optim: {len(names)} optimizers need {total:,} columns, more than a spreadsheet "
            f"holds ({layout.MAX_COLS:,}); {_widths(widths)}, so the first {fit} fit: give {fit} "
            "optimizers or fewer"
        )


def _widths(widths: list[int]) -> str:
    """"a block of this network is 2,135 columns wide" (or "2,100 to 2,178"): gaps not counted."""
    low, high = min(widths) - 1, max(widths) - 1
    span = f"{low:,}" if low == high else f"{low:,} to {high:,}"
    return f"a block of this network is {span} columns wide"


def write_compare_optim_sheet(ctx: Context, ws: Worksheet) -> None:
    blocks = make_blocks(ctx, parse_optimizers(",".join(ctx.options.compare_optim)))
    words, fmt = ctx.words, ctx.fmt
    ws.write(TITLE_ROW - 1, 0, words["compare_optim.title"], fmt.title)
    ws.write(NOTE_ROW - 1, 0, words["compare_optim.note"], fmt.note)
    names = _write_overview(ctx, ws, blocks)
    _write_block_heads(ctx, ws, blocks)
    block_sheets.write_blocks(ctx, ws, blocks, HEADER_ROWS)
    ws.insert_chart(OVERVIEW_ROW - 1, CHART_COL, loss_chart(ctx, blocks, names), {"x_offset": 10})
    ws.freeze_panes(0, 1)


def _write_overview(ctx: Context, ws: Worksheet, blocks: list[Block]) -> list[str]:
    """Per optimizer: its name, η and final loss (formulas). Returns the name cells for the legend."""
    words, fmt = ctx.words, ctx.fmt
    header = OVERVIEW_ROW - 1
    block_sheets.write_overview_head(ctx, ws, header, words["compare_optim.optimizer"])
    prefix = layout.sheet_prefix(words["sheet.compare_optim"])
    result = []
    for n, block in enumerate(blocks):
        row = header + 1 + n
        ws.write_string(row, 0, block.name, fmt.label)
        ws.write_formula(row, 1, "=" + block.cells["lr"], None, block.spec.learning_rate)
        block_sheets.write_final_loss(ctx, ws, row, 2, block)
        result.append("=" + prefix + layout.address(row + 1, 1, absolute=True))
    return result


def _write_block_heads(ctx: Context, ws: Worksheet, blocks: list[Block]) -> None:
    """Each block's title, then its hyperparameters: a row of names and a row of yellow cells."""
    words, fmt = ctx.words, ctx.fmt
    for n, block in enumerate(blocks):
        text = words["compare_optim.block"].format(n=n + 1, total=len(blocks), optimizer=block.name)
        ws.write(BLOCK_TITLE_ROW - 1, block.offset, text, fmt.heading)
    for block in blocks:
        for key, at in block.cells.items():
            col = _col(at)
            ws.write(HYPER_LABEL_ROW - 1, col, _symbol(key), fmt.header)
    for block in blocks:
        ws.write(HYPER_ROW - 1, block.offset, words["compare_optim.cells"], fmt.label)
        for key, at in block.cells.items():
            col, value = _col(at), _value(block.spec, key)
            if key in updates.COMPLEMENTS.values():
                field = next(f for f, c in updates.COMPLEMENTS.items() if c == key)
                ws.write_formula(HYPER_ROW - 1, col, f"=1-{block.cells[field].replace('$', '')}",
                                 fmt.computed, value)
            else:
                ws.write_number(HYPER_ROW - 1, col, value, fmt.input)


def _col(address: str) -> int:
    """0-based column of an absolute address like $C$24."""
    letters = address.split("$")[1]
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col - 1


def _symbol(key: str) -> str:
    if key == "lr":
        return "η"
    if key in optimizers.SYMBOLS:
        return optimizers.SYMBOLS[key]
    field = next(f for f, c in updates.COMPLEMENTS.items() if c == key)
    return f"1 − {optimizers.SYMBOLS[field]}"


def _value(spec: Spec, key: str) -> float:
    if key == "lr":
        return spec.learning_rate
    field = next((f for f, c in updates.COMPLEMENTS.items() if c == key), None)
    return 1 - getattr(spec, field) if field else getattr(spec, key)


def loss_chart(ctx: Context, blocks: list[Block], names: list[str]) -> Chart:
    """The loss of every optimizer in one chart (log scale), each series named by its overview cell."""
    words = ctx.words
    return block_sheets.loss_chart(ctx, words["compare_optim.chart_title"], words["sheet.compare_optim"],
                                   blocks, names)
