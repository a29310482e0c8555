"""Write the workbook with XlsxWriter: live formulas that also store the NumPy core's values.

XlsxWriter rather than openpyxl because it can store each formula's value (so the file shows
numbers before any recalculation: Protected View, previews, pandas) and streams rows in
constant memory. The file still asks the spreadsheet program to recalculate on load.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from sheetnet import labels, layout, styles
from sheetnet.errors import SheetnetError
from sheetnet.i18n import strings
from sheetnet.layout import NetworkLayout, TrainingLayout
from sheetnet.reference import train
from sheetnet.spec import Spec


@dataclass(frozen=True)
class BuildOptions:
    """What to put in the workbook beyond the Network and Training sheets."""

    lang: str = "en"
    paper: str = "a4"  # a4 | letter
    compare_lr: tuple[float, ...] = ()  # learning rates for the side-by-side sheet
    summary_every: int | None = None  # every k-th iteration on a summary sheet


@dataclass
class Context:
    """Everything a sheet writer needs; each extra sheet module takes one of these."""

    spec: Spec
    options: BuildOptions
    words: dict[str, str]
    network: NetworkLayout
    training: TrainingLayout
    reference: pd.DataFrame
    book: xlsxwriter.Workbook
    fmt: styles.Formats
    sheets: dict[str, Worksheet] = field(default_factory=dict)


def build_workbook(spec: Spec, path: Path, *, options: BuildOptions | None = None) -> Path:
    """Write the workbook for spec to path, atomically (a temporary file renamed into place)."""
    options = options or BuildOptions()
    path = Path(path)
    words = strings(options.lang)
    if not path.parent.is_dir():
        raise SheetnetError(f"the folder {path.parent} does not exist; create it or choose another")
    network = NetworkLayout(spec)
    training = TrainingLayout(spec, network, words["sheet.network"])  # fails early if too big
    reference = train(spec)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", prefix=".sheetnet-", dir=path.parent)
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(tmp, {"constant_memory": True})
        ctx = Context(spec, options, words, network, training, reference, book, styles.Formats(book))
        _write(ctx)
        book.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


SheetWriter = Callable[["Context", Worksheet], None]


def _sheet_writers(ctx: Context) -> list[tuple[str, SheetWriter]]:
    """(sheet name key in i18n, writer) in tab order; extra sheet modules are listed here."""
    return [
        ("sheet.network", write_network_sheet),
        ("sheet.training", write_training_sheet),
    ]


def _write(ctx: Context) -> None:
    spec = ctx.spec
    ctx.book.set_properties({"title": spec.title, "subject": "sheetnet", "comments": spec.description})
    ctx.book.set_custom_property("sheetnet", "1")
    writers = _sheet_writers(ctx)
    # Add every sheet first so each writer can refer to the others (charts, cross-sheet formulas).
    for key, _ in writers:
        ctx.sheets[key] = ctx.book.add_worksheet(ctx.words[key])
    for key, writer in writers:
        writer(ctx, ctx.sheets[key])


# --- Network sheet -------------------------------------------------------------------------


def setting_values(spec: Spec) -> dict[str, Any]:
    """The settings as written on the Network sheet (read back by the check)."""
    return {
        "learning_rate": spec.learning_rate,
        "iterations": spec.iterations,
        "sizes": "-".join(map(str, spec.sizes)),
        "activations": ", ".join(spec.activations),
        "bias": spec.bias,
        "train_bias": "true" if spec.train_bias else "false",
        "loss": spec.loss,
        "reduction": spec.reduction,
    }


def write_network_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1 + max(spec.sizes) + spec.sizes[-1], 12)
    ws.write(layout.TITLE_ROW - 1, 0, spec.title, fmt.title)
    ws.set_row(layout.DESCRIPTION_ROW - 1, 15 * max(2, spec.description.count("\n") + 1))
    ws.merge_range(layout.DESCRIPTION_ROW - 1, 0, layout.DESCRIPTION_ROW - 1, 8,
                   spec.description.strip(), fmt.wrap)
    ws.write(layout.FIRST_SETTING_ROW - 2, 0, words["network.editable"], fmt.note)
    for name, value in setting_values(spec).items():
        row, col = net.setting_cells[name]
        ws.write(row - 1, 0, words[f"setting.{name}"], fmt.label)
        editable = name == "learning_rate"
        ws.write(row - 1, col - 1, value, fmt.input if editable else fmt.fixed)
    lr_row, lr_col = net.setting_cells["learning_rate"]
    ws.data_validation(lr_row - 1, lr_col - 1, lr_row - 1, lr_col - 1, {
        "validate": "decimal", "criteria": ">", "value": 0,
        "error_title": words["setting.learning_rate"], "error_message": words["network.lr_error"],
    })
    _write_data_table(ws, spec, net, fmt, words)
    _write_weight_blocks(ws, spec, net, fmt, words)


def _write_data_table(
    ws: Worksheet, spec: Spec, net: NetworkLayout, fmt: styles.Formats, words: dict[str, str]
) -> None:
    header = layout.DATA_HEADER_ROW - 1
    ws.write(header - 1, 0, words["network.data"], fmt.heading)
    names = [labels.input_label(i) for i in range(spec.sizes[0])]
    names += [labels.target_label(j) for j in range(spec.sizes[-1])]
    ws.write(header, 0, words["network.sample"], fmt.header)
    for c, name in enumerate(names, start=1):
        ws.write(header, c, name, fmt.header)
    for k, (x, t) in enumerate(zip(spec.inputs, spec.targets, strict=True)):
        ws.write(header + 1 + k, 0, k + 1, fmt.label)
        for c, value in enumerate((*x, *t), start=1):
            ws.write(header + 1 + k, c, value, fmt.input)


def _write_weight_blocks(
    ws: Worksheet, spec: Spec, net: NetworkLayout, fmt: styles.Formats, words: dict[str, str]
) -> None:
    for layer in range(spec.n_layers):
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        title, first = net.weight_block(layer)
        text = words["network.layer"].format(
            l=layer + 1, n_from=n_from, n_to=n_to, act=spec.activations[layer],
            bias=words["network.bias_col"] if spec.bias != "none" else "")
        ws.write(title - 1, 0, text, fmt.heading)
        ws.write(title, 0, words["network.into_from"], fmt.header)
        for i in range(n_from):
            ws.write(title, 1 + i, labels.neuron_label(spec, layer - 1, i), fmt.header)
        if spec.bias != "none":
            ws.write(title, 1 + n_from, words["network.bias"], fmt.header)
        for j in range(n_to):
            ws.write(first + j - 1, 0, labels.neuron_label(spec, layer, j), fmt.label)
            for i in range(n_from):
                ws.write(first + j - 1, 1 + i, spec.weights[layer][j][i], fmt.input)
            if spec.bias == "per-neuron" or (spec.bias == "shared" and j == 0):
                value = spec.biases[layer][j if spec.bias == "per-neuron" else 0]
                ws.write(first + j - 1, 1 + n_from, value, fmt.input)


# --- Training sheet ------------------------------------------------------------------------


def write_training_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, training, reference, fmt, words = ctx.spec, ctx.training, ctx.reference, ctx.fmt, ctx.words
    columns = training.columns
    _write_headers(ws, spec, training, fmt, words)
    ws.freeze_panes(layout.FIRST_DATA_ROW - 1, 1)
    values = reference[[c.qid for c in columns]].to_numpy()
    templates = [_templates(training, c) for c in columns]
    cell_formats = [fmt.data[c.group] for c in columns]
    last = spec.iterations
    for t in range(last + 1):
        row = training.row_of(t)
        r0 = row - 1  # XlsxWriter counts rows from 0
        ws.write_number(r0, 0, t, fmt.data["iter"])
        for c in range(1, len(columns)):
            column = columns[c]
            if t == last and not column.in_final_row:
                continue
            first, rest = templates[c]
            text = (first if t == 0 else rest).format(r=row, p=row - 1)
            ws.write_formula(r0, c, text, cell_formats[c], _stored(values[t, c]))


def _templates(training: TrainingLayout, column: Any) -> tuple[str, str]:
    if column.formula is None:
        return "", ""
    rest = training.template(column.formula)
    first = training.template(column.first) if column.first is not None else rest
    return first, rest


def _stored(value: float) -> float | str:
    # A diverging run overflows in the spreadsheet too; store the error it will show.
    return float(value) if math.isfinite(value) else "#NUM!"


def _write_headers(
    ws: Worksheet, spec: Spec, training: TrainingLayout, fmt: styles.Formats,
    words: dict[str, str],
) -> None:
    columns = training.columns
    band, label_row, id_row = (layout.BAND_ROW - 1, layout.LABEL_ROW - 1, layout.ID_ROW - 1)
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
    for c, column in enumerate(columns):
        ws.write(label_row, c, _column_label(spec, column.qid, words), fmt.label_cell[column.group])
    for c, column in enumerate(columns):
        ws.write(id_row, c, column.qid, fmt.id_cell)
    ws.set_column(0, 0, 10)
    ws.set_column(1, len(columns) - 1, 13)
    ws.set_row(band, 30)


def _column_label(spec: Spec, qid: str, words: dict[str, str]) -> str:
    if qid == "iter":
        return words["label.iter"]
    if qid == "loss":
        return words["label.loss"]
    return labels.label(spec, qid, words["label.sample"])
