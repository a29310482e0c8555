"""Blocks of Training columns: the Training sheet is one block, the learning-rate and optimizer
comparisons put one block per run side by side. What every block has is written here once: the
band of group headings ("forward", "backward", …) merged over each group's columns, the row of
labels, the row of ids, the column widths, the rows of iterations, and the loss chart of several
blocks. The Summary sheet's heading (its own columns, one block) is written by write_headers too.

A block is a TrainingLayout (its spec and its columns, shifted right by its col_offset) and, for
the rows, the NumPy values it shows. XlsxWriter's constant_memory mode writes a row out once a
later row is begun, so every writer here finishes a row across all blocks before the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import notes
from sheetnet.expr.formula import Expr
from sheetnet.model import layer_ids
from sheetnet.sheets import charts, layout, styles
from sheetnet.sheets.context import FormulaWorksheet, column_label, mark_divergence, stored_value
from sheetnet.sheets.layout import TrainingLayout

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

BAND_HEIGHT = 45  # points: a group heading in up to three lines
CHART_WIDTH, CHART_HEIGHT = 620, 360  # a comparison's chart: fits beside its overview table


class Block(Protocol):
    """One run on a comparison sheet: its columns' placement and the NumPy values it shows."""

    training: TrainingLayout
    values: np.ndarray  # one row per iteration, columns as training.columns


@dataclass(frozen=True)
class HeaderRows:
    """The rows of a block's heading, counted from 1."""

    band: int
    label: int
    id: int


def write_blocks(ctx: Context, ws: FormulaWorksheet, blocks: Sequence[Block], rows: HeaderRows) -> None:
    """Blocks side by side (a comparison sheet): their headings, widths, rows and red divergence."""
    trainings = [block.training for block in blocks]
    write_training_headers(ctx, ws, trainings, rows)
    set_widths(ws, trainings)
    write_rows(ctx, ws, blocks)
    for training in trainings:
        mark_divergence(ws, training, ctx.fmt)


@dataclass(frozen=True)
class Heading:
    """One column's heading: its id, its group (the band it stands under) and its label."""

    qid: str
    group: str
    label: str
    note: str | None = None  # the equation, a cell note on the label


def write_training_headers(ctx: Context, ws: Worksheet, trainings: Sequence[TrainingLayout],
                           rows: HeaderRows, *, with_notes: bool = False) -> None:
    """The headings of Training blocks: group bands, labels (with each column's equation as a
    cell note if with_notes) and ids."""
    words = ctx.words
    blocks = []
    for training in trainings:
        column_notes = notes.column_notes(training.spec, words) if with_notes else {}
        blocks.append((training.col_offset, [
            Heading(c.qid, c.group, column_label(training.spec, c.qid, words), column_notes.get(c.qid))
            for c in training.columns]))
    write_headers(ws, ctx.fmt, rows, blocks, lambda group: words[f"group.{group}"])


def write_headers(ws: Worksheet, fmt: styles.Formats, rows: HeaderRows,
                  blocks: Sequence[tuple[int, Sequence[Heading]]], band_text: Callable[[str], str]) -> None:
    """Each block's band, labels and ids; a block is its first column (from 0) and its headings.
    Row by row across the blocks, as constant_memory needs."""
    ws.set_row(rows.band - 1, BAND_HEIGHT)  # before the row's cells: constant_memory drops a later set_row
    for offset, headings in blocks:
        _write_band(ws, rows.band - 1, offset, [h.group for h in headings], fmt, band_text)
    for offset, headings in blocks:
        for c, heading in enumerate(headings, start=offset):
            ws.write(rows.label - 1, c, heading.label, fmt.label_cell[heading.group])
            if heading.note is not None:
                ws.write_comment(rows.label - 1, c, heading.note, comment_options(heading.note))
    for offset, headings in blocks:
        for c, heading in enumerate(headings, start=offset):
            ws.write(rows.id - 1, c, heading.qid, fmt.id_cell)


def _write_band(ws: Worksheet, row: int, offset: int, groups: list[str], fmt: styles.Formats,
                band_text: Callable[[str], str]) -> None:
    """One heading per run of columns of the same group, merged over the run's columns."""
    start = 0
    for c in range(1, len(groups) + 1):
        if c == len(groups) or groups[c] != groups[start]:
            group, first, last = groups[start], offset + start, offset + c - 1
            if last > first:
                ws.merge_range(row, first, row, last, band_text(group), fmt.band[group])
            else:
                ws.write(row, first, band_text(group), fmt.band[group])
            start = c


def set_widths(ws: Worksheet, trainings: Sequence[TrainingLayout]) -> None:
    """Blocks side by side: a wide t column (its band's text in two lines), the block's columns,
    then a narrow empty column before the next block."""
    for training in trainings:
        offset, width = training.col_offset, len(training.columns)
        ws.set_column(offset, offset, 16)
        ws.set_column(offset + 1, offset + width - 1, 13)
        ws.set_column(offset + width, offset + width, 3)
        widen_parts(ws, training)


PART_WIDTH = 25  # "z⁽¹⁾[2,3,4] part 1 of 3 (sample 1)" is twice a quantity's label


def widen_parts(ws: Worksheet, training: TrainingLayout) -> None:
    """The columns of a long sum's parts (layer_ids.split) wide enough for their labels."""
    for qid, col in training.col_of.items():
        if layer_ids.PART in qid:
            ws.set_column(col - 1, col - 1, PART_WIDTH)  # col_of counts from 1 (A), XlsxWriter from 0


def write_rows(ctx: Context, ws: FormulaWorksheet, blocks: Sequence[Block]) -> None:
    """Every block's rows, row by row across the blocks (constant memory writes rows in order)."""
    writers = [RowWriter.of(ws, block.training, ctx.fmt) for block in blocks]
    for t in range(ctx.spec.iterations + 1):
        for block, rows in zip(blocks, writers, strict=True):
            rows.write(ws, t, block.values[t].tolist())


def write_overview_head(ctx: Context, ws: Worksheet, row: int, first: str) -> None:
    """The overview table's header (row from 0): the run's name column, η, the final loss."""
    final = ctx.words["compare.final"].format(n=ctx.spec.iterations)
    for c, text in enumerate((first, ctx.words["compare.rate"], final)):
        ws.write(row, c, text, ctx.fmt.header)


def write_final_loss(ctx: Context, ws: Worksheet, row: int, col: int, block: Block) -> None:
    """A formula reading the block's loss after the last iteration (row and col from 0)."""
    last = ctx.spec.iterations
    ws.write_formula(row, col, "=" + block.training.cell("loss", last), ctx.fmt.data["loss"],
                     stored_value(block.values[last, _loss_index(block)]))


def _loss_index(block: Block) -> int:
    return block.training.col_of["loss"] - 1 - block.training.col_offset  # into block.values


def loss_chart(ctx: Context, title: str, sheet: str, blocks: Sequence[Block], names: list[str],
               *, log_y: bool = True) -> Chart:
    """The loss curve of every block in one chart; each series named by a cell (names)."""
    chart = charts.new_chart(ctx, title, ctx.words["charts.loss_axis"], log_y=log_y)
    chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    prefix = "=" + layout.sheet_prefix(sheet)
    iters = charts.cache(range(ctx.spec.iterations + 1))
    for n, (block, name) in enumerate(zip(blocks, names, strict=True)):
        chart.add_series({
            "name": name,
            "categories": prefix + block.training.column_range("iter"),
            "values": prefix + block.training.column_range("loss"),
            "categories_data": iters, "values_data": charts.cache(block.values[:, _loss_index(block)]),
            "line": {"color": charts.PALETTE[n % len(charts.PALETTE)], "width": 1.75},
        })
    return chart


@dataclass(frozen=True)
class _CellTemplate:
    col: int  # from 0, as XlsxWriter counts
    text: str  # plain formula (no "=") with {0} for this row's number and {1} for the row above's
    cell_format: Format


@dataclass(frozen=True)
class RowWriter:
    """Writes the rows of one block: the Training sheet has one, the comparison sheets one per
    run (its layout's columns shifted right)."""

    training: TrainingLayout
    first: list[_CellTemplate]  # the formula cells of row 0, of the rows between, of the final row
    middle: list[_CellTemplate]
    final: list[_CellTemplate]
    constants: list[int]  # epoch and sample numbers (sgd/minibatch), as the reference holds them
    number_format: Format

    @classmethod
    def of(cls, ws: FormulaWorksheet, training: TrainingLayout, fmt: styles.Formats) -> RowWriter:
        first, middle, final = [], [], []
        for c, column in enumerate(training.columns):
            if column.formula is None:
                continue  # the iteration number and the schedule's: plain numbers
            col, cell_format = training.col_offset + c, fmt.data_format(column.qid, column.group)
            rest = _CellTemplate(col, _positional(ws, training, column.formula), cell_format)
            first.append(rest if column.first is None else
                         _CellTemplate(col, _positional(ws, training, column.first), cell_format))
            middle.append(rest)
            if column.in_final_row:
                final.append(rest)
        constants = [c for c, column in enumerate(training.columns) if column.formula is None and c > 0]
        return cls(training, first, middle, final, constants, fmt.data["iter"])

    def write(self, ws: FormulaWorksheet, t: int, values: list[float]) -> None:
        """Iteration t's row; values[c] is the reference value of column c of the layout."""
        r0, offset = self.training.row_of(t) - 1, self.training.col_offset  # from 0, as XlsxWriter
        ws.write_number(r0, offset, t, self.number_format)
        for c in self.constants:
            ws.write_number(r0, offset + c, int(values[c]), self.number_format)
        cells = self.first if t == 0 else self.final if t == self.training.spec.iterations else self.middle
        row, above = str(r0 + 1), str(r0)
        for cell in cells:
            ws.write_plain_formula(r0, cell.col, cell.text.format(row, above), cell.cell_format,
                                   stored_value(values[cell.col - offset]))


def _positional(ws: FormulaWorksheet, training: TrainingLayout, expr: Expr) -> str:
    """`=B{p}-C{r}` → `B{1}-C{0}` (other braces escaped), for a fast positional str.format.

    One row's formula stands for all: rows change only the digits after column letters, never
    the function names that XlsxWriter would rewrite.
    """
    escaped = training.template(expr).replace("{", "{{").replace("}", "}}")
    text = escaped.replace("{{r}}", "{0}").replace("{{p}}", "{1}")
    ws.plain_formula(text.format(layout.FIRST_DATA_ROW + 1, layout.FIRST_DATA_ROW))  # or raises
    return text.removeprefix("=")


def comment_options(note: str) -> dict[str, object]:
    """Size a cell note to its text (XlsxWriter's default box is 128 × 74 px, too small)."""
    lines = note.split("\n")
    width = min(max(220, 7 * max(map(styles.text_width, lines)) + 16), 520)
    wrapped = sum(1 + 7 * styles.text_width(line) // (width - 16) for line in lines)
    return {"width": width, "height": 18 * wrapped + 12, "font_name": "Calibri", "font_size": 10}
