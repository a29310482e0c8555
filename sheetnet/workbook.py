"""Write the workbook with XlsxWriter: live formulas that also store the NumPy core's values.

XlsxWriter rather than openpyxl because it can store each formula's value (so the file shows
numbers before any recalculation: Protected View, previews, pandas) and streams rows in
constant memory. The file still asks the spreadsheet program to recalculate on load.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet import graph, labels, layout, limits, notes, printing, standardize, styles
from sheetnet.atomic import atomic_path
from sheetnet.errors import SheetnetError
from sheetnet.formula import Expr
from sheetnet.i18n import strings
from sheetnet.layout import NetworkLayout, TrainingLayout
from sheetnet.reference import train, warn_if_diverged
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


# User text (title, description) is always text: write() must never turn "=1+1" into a formula,
# "http://x" into a hyperlink or "-2" into a number. Every formula goes through write_formula.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def build_workbook(spec: Spec, path: Path, *, options: BuildOptions | None = None) -> Path:
    """Write the workbook for spec to path, atomically (a temporary file renamed into place).

    When training diverges the file is still written (its rows turn red from the first row
    whose loss is not finite) and a reference.DivergedWarning names that iteration.
    """
    options = options or BuildOptions()
    path = Path(path)
    words = strings(options.lang)
    spec = spec.in_language(options.lang)
    printing.paper_code(options.paper)  # a bad paper size fails before anything is written
    limits.check_text({"title": spec.title, "description": spec.description})
    if not path.parent.is_dir():
        raise SheetnetError(f"the folder {path.parent} does not exist; create it or choose another")
    network = NetworkLayout(spec)
    training = TrainingLayout(spec, network, words["sheet.network"])  # fails early if too big
    _check_other_sheets(spec, training)
    with np.errstate(all="ignore"):  # a diverging run overflows: NaN there, #NUM! in the sheet
        reference = train(spec)
    warn_if_diverged(spec, reference)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        ctx = Context(spec, options, words, network, training, reference, book, styles.Formats(book))
        _write(ctx)
        _close(book)
    return path


def _check_other_sheets(spec: Spec, training: TrainingLayout) -> None:
    """Limits of sheets besides the Training sheet's (which its layout checks), before writing."""
    from sheetnet import working  # here, as in _sheet_writers: it imports this module

    working.check_formulas(spec, training)


def _close(book: xlsxwriter.Workbook) -> None:
    """Zip the workbook; a failed write (a full disk) is an OSError, as atomic_path reports it."""
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # XlsxWriter wraps the OSError in this
        cause = exc.args[0] if exc.args else exc
        raise cause if isinstance(cause, OSError) else OSError(str(cause)) from None


SheetWriter = Callable[["Context", Worksheet], None]


def _sheet_writers(ctx: Context) -> list[tuple[str, SheetWriter]]:
    """(sheet name key in i18n, writer) in tab order; extra sheet modules are listed here."""
    from sheetnet import charts, compare, guide, summary, working  # here, so they may import this module

    writers: list[tuple[str, SheetWriter]] = [
        ("sheet.guide", guide.write_guide_sheet),  # first tab, and the one shown on opening
        ("sheet.network", write_network_sheet),
        ("sheet.training", write_training_sheet),
        ("sheet.working", working.write_working_sheet),
        ("sheet.charts", charts.write_charts_sheet),
        ("sheet.summary", summary.write_summary_sheet),
    ]
    if ctx.options.compare_lr:
        writers.append(("sheet.compare", compare.write_compare_sheet))
    return writers


def _write(ctx: Context) -> None:
    spec = ctx.spec
    ctx.book.set_properties({"title": spec.title, "subject": "sheetnet", "comments": spec.description})
    ctx.book.set_custom_property("sheetnet", "1")
    writers = _sheet_writers(ctx)
    # Add every sheet first so each writer can refer to the others (charts, cross-sheet formulas).
    for key, _ in writers:
        ctx.sheets[key] = ctx.book.add_worksheet(ctx.words[key], worksheet_class=FormulaWorksheet)
    for key, writer in writers:
        writer(ctx, ctx.sheets[key])
    printing.apply_page_setup(ctx)


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
        "mode": spec.mode,
        "batch_size": spec.slots,
        "shuffle": "true" if spec.shuffle else "false",
        "seed": spec.seed,
        "standardize": "true" if spec.standardize else "false",
        "leaky_slope": spec.leaky_slope,
    }


def write_network_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1 + max(spec.sizes) + spec.sizes[-1] + (1 + spec.sizes[0]) * spec.standardize, 12)
    _widen_for_headers(ws, spec, net)
    ws.write(layout.TITLE_ROW - 1, 0, spec.title, fmt.title)
    ws.set_row(layout.DESCRIPTION_ROW - 1,
               limits.row_height(15 * _wrapped_lines(spec.description, width=110)))
    ws.merge_range(layout.DESCRIPTION_ROW - 1, 0, layout.DESCRIPTION_ROW - 1, 8,
                   spec.description.strip(), fmt.wrap)
    ws.write(layout.FIRST_SETTING_ROW - 2, 0, words["network.editable"], fmt.note)
    for name, value in setting_values(spec).items():
        row, col = net.setting_cells[name]
        ws.write(row - 1, 0, words[f"setting.{name}"], fmt.label)
        # The slope is live (every leaky_relu formula reads it) only where a layer uses it.
        editable = name == "learning_rate" or (name == "leaky_slope" and "leaky_relu" in spec.activations)
        ws.write(row - 1, col - 1, value, fmt.input if editable else fmt.fixed)
        if name == "learning_rate":  # beside η, in this row: constant_memory writes rows in order
            ws.write(row - 1, col, words["network.lr_diverged"], fmt.note)
    lr_row, lr_col = net.setting_cells["learning_rate"]
    ws.data_validation(lr_row - 1, lr_col - 1, lr_row - 1, lr_col - 1, {
        "validate": "decimal", "criteria": ">", "value": 0,
        "error_title": words["setting.learning_rate"], "error_message": words["network.lr_error"],
    })
    slope_row, slope_col = net.setting_cells["leaky_slope"]
    ws.data_validation(slope_row - 1, slope_col - 1, slope_row - 1, slope_col - 1, {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999,
        "error_title": words["setting.leaky_slope"], "error_message": words["network.slope_error"],
    })
    _write_data_table(ws, spec, net, fmt, words)
    _write_weight_blocks(ws, spec, net, fmt, words)


def _wrapped_lines(text: str, width: int) -> int:
    """Lines the text takes when wrapped at about `width` characters (for the row height)."""
    return max(2, sum(1 + len(line) // width for line in text.strip().splitlines()))


def _write_data_table(
    ws: Worksheet, spec: Spec, net: NetworkLayout, fmt: styles.Formats, words: dict[str, str]
) -> None:
    # constant_memory: each row is finished (raw data, targets, then x̃) before the next.
    header = layout.DATA_HEADER_ROW - 1
    ws.write(header - 1, 0, words["network.data"], fmt.heading)
    if spec.standardize:
        ws.write(header - 1, net.first_standardized_col - 1, words["network.standardized_title"], fmt.heading)
    names = data_headers(spec)
    ws.write(header, 0, words["network.sample"], fmt.header)
    for c, name in enumerate(names, start=1):
        ws.write_string(header, c, name, fmt.header)  # a CSV header "=x" stays text, never a formula
    if spec.standardize:
        for i, name in enumerate(names[: spec.sizes[0]]):
            ws.write_string(header, net.first_standardized_col - 1 + i,
                            words["network.standardized"].format(name=name), fmt.header)
    x_tilde = standardize.standardized(spec.inputs) if spec.standardize else None
    for k, (x, t) in enumerate(zip(spec.inputs, spec.targets, strict=True)):
        ws.write(header + 1 + k, 0, k + 1, fmt.label)
        for c, value in enumerate((*x, *t), start=1):
            ws.write(header + 1 + k, c, value, fmt.input)
        if x_tilde is not None:
            for i in range(spec.sizes[0]):
                _write_standardization_cell(ws, net, graph.input_key(i, k).key,
                                            standardize.standardized_expr(i, k), x_tilde[k, i], fmt)
    if spec.standardize:
        _write_statistics(ws, spec, net, fmt, words)


def _widen_for_headers(ws: Worksheet, spec: Spec, net: NetworkLayout) -> None:
    """Columns wide enough for the CSV's column names (raw and x̃ blocks)."""
    names = data_headers(spec)
    for c, name in enumerate(names, start=1):
        if len(name) > 10:
            ws.set_column(c, c, len(name) + 3)
    if spec.standardize:
        for i, name in enumerate(names[: spec.sizes[0]]):
            col = net.first_standardized_col - 1 + i
            ws.set_column(col, col, max(12, len(name) + 5))


def data_headers(spec: Spec) -> list[str]:
    """Headers of the data table: the CSV's column (or class) names, else x₁ x₂ … t₁ t₂ …."""
    inputs = list(spec.input_names) or [labels.input_label(i) for i in range(spec.sizes[0])]
    targets = list(spec.target_names) or [labels.target_label(j) for j in range(spec.sizes[-1])]
    return inputs + targets


def _write_statistics(ws: Worksheet, spec: Spec, net: NetworkLayout, fmt: styles.Formats,
                      words: dict[str, str]) -> None:
    """The μ row and the σ row under the raw inputs, live over each raw column."""
    mu, sigma = standardize.statistics(spec.inputs)
    for cells, expr, values, word in ((net.mean_cells, standardize.mean_expr, mu, "network.mean"),
                                      (net.std_cells, standardize.std_expr, sigma, "network.std")):
        ws.write(cells[0][0] - 1, 0, words[word], fmt.label)
        for i, (row, col) in enumerate(cells):
            ws.write_formula(row - 1, col - 1, net.standardization_formula(expr(i)), fmt.computed,
                             float(values[i]))


def _write_standardization_cell(ws: Worksheet, net: NetworkLayout, key: str, expr: Expr, value: float,
                                fmt: styles.Formats) -> None:
    row, col = net.input_cells[key]
    ws.write_formula(row - 1, col - 1, net.standardization_formula(expr), fmt.computed, float(value))


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


class FormulaWorksheet(Worksheet):
    """A worksheet that can skip XlsxWriter's rewriting of formulas that need none.

    write_formula runs some 30 regular expressions over every formula to give newer Excel
    functions their `_xlfn.` prefix: three quarters of the build time for the Training sheet's
    hundreds of thousands of cells. write_plain_formula is write_formula without that step, for
    text that plain_formula vetted. It overrides XlsxWriter's private _prepare_formula (sheets
    are added with add_worksheet(name, FormulaWorksheet), as in XlsxWriter's inheritance
    example): if a later version stops calling that method, formulas stay right, only slower.
    """

    _skip_prepare = False

    def plain_formula(self, formula: str) -> str:
        """The formula without its "=", checked to need no rewriting by XlsxWriter."""
        prepared = super()._prepare_formula(formula)
        if prepared != formula.removeprefix("="):
            raise ValueError(f"{formula} needs XlsxWriter's rewriting; write it with write_formula")
        return prepared

    def write_plain_formula(
        self, row: int, col: int, formula: str, cell_format: Format | None, value: float | str
    ) -> int:
        """write_formula (row and col from 0) for text that plain_formula returned."""
        self._skip_prepare = True
        try:
            return self.write_formula(row, col, formula, cell_format, value)
        finally:
            self._skip_prepare = False

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # Every formula passes here: a last guard for sheets whose formulas the layout's check
        # before writing does not print (Working, Summary, Charts).
        limits.check_formula_length(len(formula) + (not formula.startswith("=")),
                                    f"a formula on the {self.name} sheet")
        if self._skip_prepare:
            return formula
        return super()._prepare_formula(formula, expand_future_functions)


_ROWS_PER_BLOCK = 4096


def write_training_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, training, reference, fmt, words = ctx.spec, ctx.training, ctx.reference, ctx.fmt, ctx.words
    if not isinstance(ws, FormulaWorksheet):
        raise TypeError("the Training sheet must be added with worksheet_class=FormulaWorksheet")
    columns = training.columns
    _write_headers(ws, spec, training, fmt, words)
    ws.freeze_panes(layout.FIRST_DATA_ROW - 1, 1)
    qids = [c.qid for c in columns]
    first, middle, final = _row_templates(ws, training, fmt)
    # Epoch and sample numbers (sgd/minibatch): constants, as the reference frame holds them.
    constants = [c for c, column in enumerate(columns) if column.formula is None and c > 0]
    last = spec.iterations
    for start in range(0, last + 1, _ROWS_PER_BLOCK):
        # Values a block at a time: one copy of the whole reference would double its memory.
        block = reference.iloc[start : start + _ROWS_PER_BLOCK][qids].to_numpy()
        for t, values in enumerate(block, start):
            cells = first if t == 0 else final if t == last else middle
            _write_data_row(ws, training.row_of(t) - 1, t, cells, values.tolist(), fmt, constants)
    mark_divergence(ws, training, fmt)


def mark_divergence(ws: Worksheet, training: TrainingLayout, fmt: styles.Formats) -> None:
    """Red where training diverged: the first row whose loss is an error, and every error cell.

    Conditional formats, so the colours follow the live values when a student edits η.
    """
    first_row, first_col, last_row, last_col = training.data_area()
    area = (first_row - 1, first_col - 1, last_row - 1, last_col - 1)  # XlsxWriter counts from 0
    # Added first, so it takes priority over the lighter fill of single error cells.
    ws.conditional_format(*area, {"type": "formula", "criteria": training.diverged_row_rule(),
                                  "format": fmt.diverged_row})
    ws.conditional_format(*area, {"type": "formula", "criteria": training.error_cell_rule(),
                                  "format": fmt.error_cell})


@dataclass(frozen=True)
class _CellTemplate:
    col: int  # from 0, as XlsxWriter counts
    text: str  # plain formula (no "=") with {0} for this row's number and {1} for the row above's
    cell_format: Format


def _row_templates(
    ws: FormulaWorksheet, training: TrainingLayout, fmt: styles.Formats
) -> tuple[list[_CellTemplate], list[_CellTemplate], list[_CellTemplate]]:
    """The formula cells of the first row, of the rows between, and of the final row."""
    first, middle, final = [], [], []
    for c, column in enumerate(training.columns):
        if column.formula is None:
            continue  # the iteration number, written as a plain number
        cell_format = fmt.data_format(column.qid, column.group)
        rest = _CellTemplate(c, _positional(ws, training, column.formula), cell_format)
        if column.first is not None:
            first.append(_CellTemplate(c, _positional(ws, training, column.first), cell_format))
        else:
            first.append(rest)
        middle.append(rest)
        if column.in_final_row:
            final.append(rest)
    return first, middle, final


def _positional(ws: FormulaWorksheet, training: TrainingLayout, expr: Expr) -> str:
    """`=B{p}-C{r}` → `B{1}-C{0}` (other braces escaped), for a fast positional str.format.

    One row's formula stands for all: rows change only the digits after column letters, never
    the function names that XlsxWriter would rewrite.
    """
    escaped = training.template(expr).replace("{", "{{").replace("}", "}}")
    text = escaped.replace("{{r}}", "{0}").replace("{{p}}", "{1}")
    ws.plain_formula(text.format(layout.FIRST_DATA_ROW + 1, layout.FIRST_DATA_ROW))  # or raises
    return text.removeprefix("=")


def _write_data_row(
    ws: FormulaWorksheet, r0: int, t: int, cells: list[_CellTemplate], values: list[float],
    fmt: styles.Formats, constants: Sequence[int] = (),
) -> None:
    """One iteration's row; r0 counts from 0 as XlsxWriter does, values[c] is column c's value."""
    ws.write_number(r0, 0, t, fmt.data["iter"])
    for c in constants:
        ws.write_number(r0, c, int(values[c]), fmt.data["iter"])
    row, above = str(r0 + 1), str(r0)
    for cell in cells:
        ws.write_plain_formula(r0, cell.col, cell.text.format(row, above), cell.cell_format,
                               stored_value(values[cell.col]))


def stored_value(value: float) -> float | str:
    # A diverging run overflows in the spreadsheet too; store the error it will show.
    return float(value) if math.isfinite(value) else "#NUM!"


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
        ws.write_comment(label_row, c, note, notes.comment_options(note))  # the equation, on hover
    for c, column in enumerate(columns):
        ws.write(id_row, c, column.qid, fmt.id_cell)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(columns) - 1, 13)


def column_label(spec: Spec, qid: str, words: dict[str, str]) -> str:
    if qid == "iter":
        return words["label.iter"]
    if qid == "loss":
        return words["label.loss"]
    if qid == "accuracy":
        return words["label.accuracy"]
    if qid.startswith("loss@"):  # a sample's loss (classification)
        return words["label.loss"] + " (" + words["label.sample"].format(k=qid[5:]) + ")"
    if qid == "epoch":
        return words["label.epoch"]
    if qid.startswith("sample"):
        slot = qid.partition("@")[2]
        if not slot:
            return words["label.sample_no"]
        return words["label.sample_no_slot"].format(k=labels.sup(f"({slot})"))
    return labels.label(spec, qid, labels.sample_word(spec, words))
