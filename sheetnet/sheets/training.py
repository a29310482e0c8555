"""The Training sheet: one row per iteration, every quantity of training a live formula."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import notes
from sheetnet.expr.formula import Expr
from sheetnet.model.spec import Spec
from sheetnet.progress import report, rows_per_report
from sheetnet.sheets import layout, styles
from sheetnet.sheets.context import (
    Context,
    FormulaWorksheet,
    column_label,
    mark_divergence,
    stored_value,
)
from sheetnet.sheets.layout import TrainingLayout

_ROWS_PER_BLOCK = 4096


def write_training_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, training, reference, fmt, words = ctx.spec, ctx.training, ctx.reference, ctx.fmt, ctx.words
    if not isinstance(ws, FormulaWorksheet):
        raise TypeError("the Training sheet must be added with worksheet_class=FormulaWorksheet")
    columns = training.columns
    _write_headers(ws, spec, training, fmt, words)
    ws.freeze_panes(layout.FIRST_DATA_ROW - 1, 1)
    qids = [c.qid for c in columns]
    rows = RowWriter.of(ws, training, fmt)
    last = spec.iterations
    every = rows_per_report(len(columns))
    for start in range(0, last + 1, _ROWS_PER_BLOCK):
        # Values a block at a time: one copy of the whole reference would double its memory.
        block = reference.iloc[start : start + _ROWS_PER_BLOCK][qids].to_numpy()
        for t, values in enumerate(block, start):
            rows.write(ws, t, values.tolist())
            if t % every == 0:
                report(ctx.progress, t, last + 1, "Training sheet rows")
    report(ctx.progress, last + 1, last + 1, "Training sheet rows")
    mark_divergence(ws, training, fmt)


@dataclass(frozen=True)
class _CellTemplate:
    col: int  # from 0, as XlsxWriter counts
    text: str  # plain formula (no "=") with {0} for this row's number and {1} for the row above's
    cell_format: Format


@dataclass(frozen=True)
class RowWriter:
    """Writes the rows of one copy of the Training columns: the Training sheet has one, the
    learning-rate sheet one per rate (its layout's columns shifted right)."""

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


def _write_headers(
    ws: Worksheet, spec: Spec, training: TrainingLayout, fmt: styles.Formats,
    words: dict[str, str],
) -> None:
    columns = training.columns
    band, label_row, id_row = (layout.BAND_ROW - 1, layout.LABEL_ROW - 1, layout.ID_ROW - 1)
    ws.set_row(band, 45)  # before the row's cells: constant_memory drops a later set_row
    start = 0
    for c in range(1, len(columns) + 1):
        if c == len(columns) or columns[c].group != columns[start].group:
            group = columns[start].group
            if c - 1 > start:
                ws.merge_range(band, start, band, c - 1, words[f"group.{group}"], fmt.band[group])
            else:
                ws.write(band, start, words[f"group.{group}"], fmt.band[group])
            start = c
    # constant_memory mode writes row by row: finish each header row before the next.
    column_notes = notes.column_notes(spec, words)
    for c, column in enumerate(columns):
        ws.write(label_row, c, column_label(spec, column.qid, words), fmt.label_cell[column.group])
        note = column_notes[column.qid]
        ws.write_comment(label_row, c, note, comment_options(note))  # the equation, on hover
    for c, column in enumerate(columns):
        ws.write(id_row, c, column.qid, fmt.id_cell)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(columns) - 1, 13)


def _columns(line: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in line)  # CJK characters are twice as wide


def comment_options(note: str) -> dict[str, object]:
    """Size a cell note to its text (XlsxWriter's default box is 128 × 74 px, too small)."""
    lines = note.split("\n")
    width = min(max(220, 7 * max(map(_columns, lines)) + 16), 520)
    wrapped = sum(1 + 7 * _columns(line) // (width - 16) for line in lines)
    return {"width": width, "height": 18 * wrapped + 12, "font_name": "Calibri", "font_size": 10}
