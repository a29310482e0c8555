"""The Training sheet: one row per iteration, every quantity of training a live formula."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from sheetnet.progress import report, rows_per_report
from sheetnet.sheets import blocks, layout
from sheetnet.sheets.context import Context, FormulaWorksheet, mark_divergence

_HEADER_ROWS = blocks.HeaderRows(layout.BAND_ROW, layout.LABEL_ROW, layout.ID_ROW)


def write_training_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, training, reference, fmt = ctx.spec, ctx.training, ctx.reference, ctx.fmt
    if not isinstance(ws, FormulaWorksheet):
        raise TypeError("the Training sheet must be added with worksheet_class=FormulaWorksheet")
    columns = training.columns
    blocks.write_training_headers(ctx, ws, [training], _HEADER_ROWS, with_notes=True)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(columns) - 1, 13)
    blocks.widen_parts(ws, training)
    ws.freeze_panes(layout.FIRST_DATA_ROW - 1, 1)
    if ctx.options.cells_only:
        for _ in reference.blocks():  # the run still fills the rows the other sheets read
            pass
        return
    at = [reference.ids.index(c.qid) for c in columns]
    rows = blocks.RowWriter.of(ws, training, fmt)
    last = spec.iterations
    every = rows_per_report(len(columns))
    # The run a block at a time, as it is trained: the whole of it is never in memory.
    for start, block in reference.blocks():
        for t, values in enumerate(block[:, at], start):
            rows.write(ws, t, values.tolist())
            if t % every == 0:
                report(ctx.progress, t, last + 1, "Training sheet rows")
    report(ctx.progress, last + 1, last + 1, "Training sheet rows")
    mark_divergence(ws, training, fmt)
