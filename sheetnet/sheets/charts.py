"""The Charts sheet: the loss (linear and log scale) and each output against its target.

In sgd/minibatch mode each row's loss and accuracy are those of its batch and jump from row to
row, so a second series shows their mean over each epoch (every sample seen once), from a
table of AVERAGEIF formulas over the Training sheet's epoch column, drawn at the epoch's last
iteration.

Every series reads a Training column (or a small table of formulas on this sheet), so the
charts redraw whenever an input on the Network sheet changes. The targets are drawn as flat
lines from a two-row table: t = 0 and t = N, each target a formula reading its Network cell.
The series also carry the NumPy values as their cache, so the charts show curves before any
recalculation (Protected View, previews), as the cells show stored values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph, labels
from sheetnet.equations import outputs as network_outputs
from sheetnet.model import ids
from sheetnet.sheets import layout

if TYPE_CHECKING:
    from sheetnet.model.spec import Spec
    from sheetnet.sheets.context import Context

# Series colours (Excel's Office palette); output j and its target share colour j.
PALETTE = ("#4472C4", "#ED7D31", "#70AD47", "#7030A0", "#FFC000", "#5B9BD5", "#C00000", "#264478")
LOSS_COLOUR = "#C55A11"
ACCURACY_COLOUR = "#548235"
CHART_WIDTH, CHART_HEIGHT = 620, 340  # pixels
GRID_ROWS, GRID_COLS = 18, 7  # cells one chart takes, with a small gap (columns 12 wide = 89 px)
FIRST_CHART_ROW = 3  # 0-based: below the title and the note
MAX_SAMPLE_CHARTS = 8  # one output chart per sample, up to this many
CACHE_POINTS = 20_000  # longer series get no cached values (the file would grow by megabytes)


def write_charts_sheet(ctx: Context, ws: Worksheet) -> None:
    words = ctx.words
    # In sgd/minibatch mode a row's outputs belong to a different sample every row: no output
    # charts with flat target lines then, only the loss (of each row's batch).
    n_samples = len(sample_charts(ctx.spec))
    ws.set_column(0, 2 * GRID_COLS - 1, 12)
    ws.write(0, 0, words["charts.title"], ctx.fmt.title)
    ws.write(1, 0, words["charts.note"], ctx.fmt.note)
    if ctx.spec.n_samples > n_samples and ctx.spec.mode == "batch":
        ws.write(2, 0, words["charts.more_samples"].format(n=n_samples, total=ctx.spec.n_samples),
                 ctx.fmt.note)
    n_accuracy = 1 if ids.ACCURACY in ctx.training.col_of else 0
    table_row = first_table_row(ctx.spec)
    target_ranges = _write_target_table(ctx, ws, table_row) if n_samples else {}
    epochs = _write_epoch_table(ctx, ws, table_row) if ctx.spec.mode != "batch" else None
    charts = [loss_chart(ctx, log_y=False, epochs=epochs), loss_chart(ctx, log_y=True, epochs=epochs)]
    charts += [accuracy_chart(ctx, epochs=epochs)] if n_accuracy else []
    charts += [output_chart(ctx, k, target_ranges) for k in range(n_samples)]
    for n, chart in enumerate(charts):
        row, col = FIRST_CHART_ROW + GRID_ROWS * (n // 2), GRID_COLS * (n % 2)
        ws.insert_chart(row, col, chart, {"x_offset": 4, "y_offset": 4})
    # Two charts side by side need a landscape page; the page setup judges width by the cells
    # in use only (here the narrow target table) and keeps a landscape that a module chose.
    ws.set_landscape()


def sample_charts(spec: Spec) -> range:
    """The samples that get an output chart (and columns in the target table): batch mode only."""
    return range(min(spec.n_samples, MAX_SAMPLE_CHARTS) if spec.mode == "batch" else 0)


def target_keys(spec: Spec) -> list[tuple[int, int]]:
    """(output j, sample k) of each column of the target table, in order."""
    return [(j, k) for k in sample_charts(spec) for j in range(network_outputs.count(spec))]


def first_table_row(spec: Spec) -> int:
    """0-based row of the table below the charts (the target table or the epoch table)."""
    n_accuracy = 1 if ids.ACCURACY in ids.all_ids(spec) else 0
    return FIRST_CHART_ROW + GRID_ROWS * math.ceil((2 + n_accuracy + len(sample_charts(spec))) / 2) + 1


def training_range(ctx: Context, qid: str) -> str:
    """A whole Training column as a chart range: =Training!$K$4:$K$104."""
    last = ctx.training.last_row
    return "=" + layout.sheet_prefix(ctx.words["sheet.training"]) + ctx.training.column_range(qid, last=last)


def series_columns(spec: Spec) -> list[str]:
    """The Training columns whose every value this sheet reads: the loss and accuracy (the
    epoch means too), the epochs, and the outputs when their series carry a cache."""
    columns = ["loss", *(q for q in (ids.ACCURACY, "epoch") if q in ids.all_ids(spec))]
    if spec.iterations + 1 <= CACHE_POINTS:
        columns += [network_outputs.output_id(spec, j, k)
                    for k in sample_charts(spec) for j in range(network_outputs.count(spec))]
    return columns


def series_cache(ctx: Context, qid: str) -> list[float | None] | None:
    """A whole Training column as a series' cache, None when the run is too long for one."""
    if ctx.spec.iterations + 1 > CACHE_POINTS:
        return None
    return cache(ctx.reference.column(qid))


def cache(values: Sequence[float]) -> list[float | None] | None:
    """Series values for the chart's cache: None (a gap) where the run overflowed."""
    if len(values) > CACHE_POINTS:
        return None
    return [float(v) if math.isfinite(v) else None for v in values]


def new_chart(ctx: Context, title: str, y_name: str, *, log_y: bool = False) -> Chart:
    """A scatter chart with straight lines, its axes titled and a legend at the bottom."""
    chart = ctx.book.add_chart({"type": "scatter", "subtype": "straight"})
    chart.set_title({"name": title, "name_font": {"size": 12, "bold": True}})
    chart.set_x_axis({
        "name": ctx.words["charts.x_axis"], "min": 0, "max": ctx.spec.iterations,
        "name_font": {"size": 10, "bold": False}, "major_gridlines": {"visible": False},
    })
    y_axis: dict[str, Any] = {
        "name": y_name, "name_font": {"size": 10, "bold": False},
        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
    }
    if log_y:
        y_axis.update({"log_base": 10, "num_format": "0E+0", "crossing": "min"})
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    return chart


def loss_chart(ctx: Context, *, log_y: bool, epochs: EpochTable | None = None) -> Chart:
    words = ctx.words
    title = words["charts.loss_log_title" if log_y else "charts.loss_title"]
    chart = new_chart(ctx, title, words["charts.loss_axis"], log_y=log_y)
    chart.add_series({
        "name": words["charts.loss_series"],
        "categories": training_range(ctx, "iter"),
        "values": training_range(ctx, "loss"),
        "categories_data": series_cache(ctx, "iter"),
        "values_data": series_cache(ctx, "loss"),
        "line": {"color": LOSS_COLOUR, "width": 1.75},
    })
    if epochs is not None:
        _add_epoch_series(ctx, chart, epochs, "loss", LOSS_COLOUR)
    return chart


def accuracy_chart(ctx: Context, epochs: EpochTable | None = None) -> Chart:
    """The share of samples predicted right (classification losses), on a 0 to 1 axis."""
    words = ctx.words
    chart = new_chart(ctx, words["charts.accuracy_title"], words["charts.accuracy_axis"])
    chart.set_y_axis({"name": words["charts.accuracy_axis"], "name_font": {"size": 10, "bold": False},
                      "min": 0, "max": 1, "num_format": "0%",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.add_series({
        "name": words["charts.accuracy_series"],
        "categories": training_range(ctx, "iter"),
        "values": training_range(ctx, ids.ACCURACY),
        "categories_data": series_cache(ctx, "iter"),
        "values_data": series_cache(ctx, ids.ACCURACY),
        "line": {"color": ACCURACY_COLOUR, "width": 1.75},
    })
    if epochs is not None:
        _add_epoch_series(ctx, chart, epochs, ids.ACCURACY, ACCURACY_COLOUR)
    return chart


def output_chart(ctx: Context, k: int, target_ranges: dict[str, tuple[str, str]]) -> Chart:
    """Outputs a(L)[j] of sample k over the iterations, each with its target as a dashed line."""
    spec, words = ctx.spec, ctx.words
    title = words["charts.outputs_title_sample"].format(k=k + 1) if spec.n_samples > 1 \
        else words["charts.outputs_title"]
    chart = new_chart(ctx, title, words["charts.output_axis"])
    iters = series_cache(ctx, "iter")
    for j in range(network_outputs.count(spec)):
        qid = network_outputs.output_id(spec, j, k)
        colour = PALETTE[j % len(PALETTE)]
        chart.add_series({
            "name": words["charts.output_series"].format(a=network_outputs.output_label(spec, j)),
            "categories": training_range(ctx, "iter"), "values": training_range(ctx, qid),
            "categories_data": iters, "values_data": series_cache(ctx, qid),
            "line": {"color": colour, "width": 1.75},
        })
        x_range, y_range = target_ranges[graph.target_key(j, k).key]
        chart.add_series({
            "name": words["charts.target_series"].format(t=labels.target_label(j)),
            "categories": x_range, "values": y_range,
            "categories_data": [0, spec.iterations], "values_data": [spec.targets[k][j]] * 2,
            "line": {"color": colour, "width": 1.25, "dash_type": "dash"},
        })
    return chart


def _write_target_table(ctx: Context, ws: Worksheet, row: int) -> dict[str, tuple[str, str]]:
    """The flat target lines' data: rows t = 0 and t = N, one column per target (all formulas).

    Returns each target key's (x range, y range) on this sheet for the chart series.
    """
    spec, fmt, training = ctx.spec, ctx.fmt, ctx.training
    keys = target_keys(spec)
    prefix = "=" + layout.sheet_prefix(ctx.words["sheet.charts"])
    ws.write(row, 0, ctx.words["charts.targets_table"], fmt.heading)
    ws.write(row + 1, 0, ctx.words["label.iter"], fmt.header)
    for c, (j, k) in enumerate(keys, start=1):
        name = labels.target_label(j)
        if spec.n_samples > 1:
            name += " (" + ctx.words["label.sample"].format(k=k + 1) + ")"
        ws.write(row + 1, c, name, fmt.header)
    training_prefix = "=" + layout.sheet_prefix(ctx.words["sheet.training"])
    for n, t in enumerate((0, spec.iterations)):
        r = row + 2 + n
        ws.write_formula(r, 0, training_prefix + training.cell("iter", t), fmt.data["iter"], t)
        for c, (j, k) in enumerate(keys, start=1):
            formula = "=" + training.constant_address(graph.target_key(j, k).key)
            ws.write_formula(r, c, formula, fmt.data["forward"], spec.targets[k][j])
    # Sheet rows are 1-based in addresses; the table's data are rows row+3 and row+4.
    x_range = prefix + _column_cells(row + 3, 1)
    return {
        graph.target_key(j, k).key: (x_range, prefix + _column_cells(row + 3, 1 + c))
        for c, (j, k) in enumerate(keys, start=1)
    }


@dataclass(frozen=True)
class EpochTable:
    """The per-epoch means on this sheet: chart ranges of the x column and of each quantity."""

    x_range: str
    ranges: dict[str, str]  # "loss" / "accuracy" → its column of means
    iterations: list[int]  # the x values: each epoch's last iteration
    means: dict[str, list[float]]  # NumPy's means, stored as the cells' and the series' values


def _write_epoch_table(ctx: Context, ws: Worksheet, row: int) -> EpochTable | None:
    """Per epoch e: its last iteration and =AVERAGEIF(epoch column, e, loss column) (accuracy too).

    AVERAGEIF reads the live Training values, so the means follow every edit; the rows of an
    epoch are those whose epoch cell holds e (schedule.epochs). None when no epoch is complete.
    """
    fmt, training, words = ctx.fmt, ctx.training, ctx.words
    qids = ["loss"] + ([ids.ACCURACY] if ids.ACCURACY in training.col_of else [])
    # Complete epochs only: the final row (the loss of the next batch, no update) opens an epoch
    # of its own that a mean of one batch would misrepresent.
    per_epoch = ctx.spec.n_samples // ctx.spec.slots
    import pandas as pd  # here, not at the top: the check reads this module without pandas

    frame = pd.DataFrame({q: ctx.reference.column(q) for q in ("iter", "epoch", *qids)})
    grouped = frame.groupby("epoch")
    complete = grouped.size() == per_epoch
    epochs = [int(e) for e in complete.index[complete]]
    last_t = [int(t) for t in grouped["iter"].max()[complete]]
    means = {q: [float(v) for v in grouped[q].mean()[complete]] for q in qids}
    if not epochs:  # a run shorter than one epoch
        return None
    ws.write(row, 0, words["charts.epoch_table"], fmt.heading)
    headers = [words["label.epoch"], words["charts.epoch_last_t"]]
    headers += [words["charts.epoch_mean"].format(q=words["label.loss" if q == "loss" else "label.accuracy"])
                for q in qids]
    for c, text in enumerate(headers):
        ws.write_string(row + 1, c, text, fmt.header)
    training_prefix = layout.sheet_prefix(words["sheet.training"])
    epoch_range = training_prefix + training.column_range("epoch")
    for n, (e, t) in enumerate(zip(epochs, last_t, strict=True)):
        r = row + 2 + n
        ws.write_number(r, 0, e, fmt.data["iter"])
        ws.write_number(r, 1, t, fmt.data["iter"])
        for c, q in enumerate(qids, start=2):
            source = training_prefix + training.column_range(q)
            epoch_cell = layout.address(r + 1, 1)  # this row's epoch, column A
            value = means[q][n]
            ws.write_formula(r, c, f"=AVERAGEIF({epoch_range},{epoch_cell},{source})",
                             fmt.data_format(q, "loss"), value if math.isfinite(value) else "#NUM!")
    prefix = "=" + layout.sheet_prefix(words["sheet.charts"])
    first, last = row + 3, row + 2 + len(epochs)  # 1-based sheet rows of the data

    def cells(col: int) -> str:
        return (prefix + layout.address(first, col, absolute=True) + ":"
                + layout.address(last, col, absolute=True))

    return EpochTable(cells(2), {q: cells(3 + c) for c, q in enumerate(qids)}, last_t, means)


def _add_epoch_series(ctx: Context, chart: Chart, epochs: EpochTable, qid: str, colour: str) -> None:
    chart.add_series({
        "name": ctx.words["charts.epoch_series"],
        "categories": epochs.x_range, "values": epochs.ranges[qid],
        "categories_data": cache(epochs.iterations), "values_data": cache(epochs.means[qid]),
        "line": {"color": "#000000", "width": 2.25},
        "marker": {"type": "circle", "size": 4, "fill": {"color": colour}, "border": {"color": "#000000"}},
    })


def _column_cells(first_row: int, col: int) -> str:
    """Two cells of one column, absolute: $B$40:$B$41 (row and column counted from 1)."""
    first, second = (layout.address(r, col, absolute=True) for r in (first_row, first_row + 1))
    return f"{first}:{second}"
