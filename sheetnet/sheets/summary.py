"""The Summary sheet: selected iterations of a long run, each cell a live reference to Training.

A run of 1000 iterations is 1000 rows; a handout wants "after 10, 100 and 1000 iterations"
(seed 001). The Summary rows are t = 0, 1, 2, 5, 10, 20, 50, 100, … (the 1-2-5 sequence), every
k-th iteration and the last one. With no k given, k is the smallest 1-2-5 number that gives at
most about ten evenly spaced rows (100 iterations: k = 10; 1000: k = 100; 5000: k = 500).
Every cell is a formula such as =Training!K104, so the Summary follows any edited input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph
from sheetnet.equations import outputs as network_outputs
from sheetnet.errors import SheetnetError, ordinal
from sheetnet.model import ids
from sheetnet.sheets import blocks, layout
from sheetnet.sheets.context import column_label, stored_value

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

EVEN_ROWS = 10  # evenly spaced rows when no k is given
TITLE_ROW, NOTE_ROW, LIVE_ROW, BAND_ROW, LABEL_ROW, ID_ROW, TARGET_ROW = 1, 2, 3, 5, 6, 7, 8
FIRST_DATA_ROW = 9


def one_two_five(last: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, … up to and including last."""
    result, scale = [], 1
    while scale <= last:
        result += [n for n in (scale, 2 * scale, 5 * scale) if n <= last]
        scale *= 10
    return result


def default_every(iterations: int) -> int:
    """The smallest 1-2-5 number k with at most EVEN_ROWS multiples of k up to iterations."""
    return next(k for k in one_two_five(10 * iterations) if iterations // k <= EVEN_ROWS)


def check_every(every: int | None) -> None:
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise SheetnetError(f"--summary-every must be a positive integer, got {every}")


def summary_iterations(iterations: int, every: int | None) -> list[int]:
    """The iterations the Summary shows, in increasing order."""
    check_every(every)
    k = every or default_every(iterations)
    rows = {0, iterations, *range(0, iterations + 1, k), *one_two_five(iterations)}
    return sorted(rows)


def summary_columns(ctx: Context) -> list[tuple[str, str]]:
    """(column id, format group) in order: t (with epoch and samples in sgd/minibatch mode),
    the loss, every output, every parameter."""
    spec = ctx.spec
    outputs = [
        network_outputs.output_id(spec, j, k)
        for k in range(spec.slots)
        for j in range(network_outputs.count(spec))
    ]
    accuracy = [(ids.ACCURACY, "loss")] if spec.classifies else []
    schedule = [(q, "iter") for q in ids.schedule(spec)]
    return [("iter", "iter"), *schedule, ("loss", "loss"), *accuracy, *((q, "forward") for q in outputs),
            *((q, "param") for q in network_outputs.parameter_ids(spec))]


def write_summary_sheet(ctx: Context, ws: Worksheet) -> None:
    every = ctx.options.summary_every
    iterations = summary_iterations(ctx.spec.iterations, every)
    columns = summary_columns(ctx)
    k = every or default_every(ctx.spec.iterations)
    ws.write(TITLE_ROW - 1, 0, ctx.words["summary.title"], ctx.fmt.title)
    ws.write(NOTE_ROW - 1, 0, ctx.words["summary.rows"].format(k=k, kth=ordinal(k)), ctx.fmt.note)
    ws.write(LIVE_ROW - 1, 0, ctx.words["summary.live"], ctx.fmt.note)
    _write_headers(ctx, ws, columns)
    _write_targets(ctx, ws, columns)
    _write_rows(ctx, ws, columns, iterations)
    ws.freeze_panes(FIRST_DATA_ROW - 1, 1)
    _print_setup(ws)


def _write_headers(ctx: Context, ws: Worksheet, columns: list[tuple[str, str]]) -> None:
    fmt, words = ctx.fmt, ctx.words
    band_names = {"iter": "group.iter", "loss": "group.loss", "forward": "summary.outputs",
                  "param": "group.param"}
    headings = [blocks.Heading(qid, group, _label(ctx, qid)) for qid, group in columns]
    blocks.write_headers(ws, fmt, blocks.HeaderRows(BAND_ROW, LABEL_ROW, ID_ROW), [(0, headings)],
                         lambda group: words[band_names[group]])
    ws.set_column(0, 0, 16)  # wide enough for the t column's band text in two lines
    ws.set_column(1, 1, 13)  # the loss, in scientific notation
    ws.set_column(2, len(columns) - 1, 11)


def _label(ctx: Context, qid: str) -> str:
    if qid in ("iter", "loss", "accuracy"):
        return ctx.words[f"label.{qid}"]
    return column_label(ctx.spec, qid, ctx.words)


def _write_targets(ctx: Context, ws: Worksheet, columns: list[tuple[str, str]]) -> None:
    """Each output's target under its column (a live reference to the Network sheet)."""
    spec = ctx.spec
    ws.write(TARGET_ROW - 1, 0, ctx.words["summary.target"], ctx.fmt.label)
    if spec.mode != "batch":
        return  # a slot's target changes from row to row with its sample
    col_of = {qid: c for c, (qid, _) in enumerate(columns)}
    for k in range(spec.n_samples):
        for j in range(network_outputs.count(spec)):
            c = col_of[network_outputs.output_id(spec, j, k)]
            formula = "=" + ctx.training.constant_address(graph.target_key(j, k).key)
            ws.write_formula(TARGET_ROW - 1, c, formula, ctx.fmt.data["forward"], spec.targets[k][j])


def _write_rows(ctx: Context, ws: Worksheet, columns: list[tuple[str, str]], iterations: list[int]) -> None:

    training = ctx.training
    prefix = layout.sheet_prefix(ctx.words["sheet.training"])
    values = ctx.reference.rows(iterations, [qid for qid, _ in columns])
    formats = [ctx.fmt.data_format(qid, group) for qid, group in columns]
    for n, t in enumerate(iterations):
        row = FIRST_DATA_ROW - 1 + n
        for c, (qid, _) in enumerate(columns):
            formula = "=" + prefix + training.cell(qid, t)
            ws.write_formula(row, c, formula, formats[c], stored_value(values[n, c]))


def _print_setup(ws: Worksheet) -> None:
    """The header rows and t on every printed page (printing.apply_page_setup does the rest)."""
    ws.repeat_rows(BAND_ROW - 1, TARGET_ROW - 1)
    ws.repeat_columns(0, 0)
