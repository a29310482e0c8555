"""The Network sheet: the settings, the data (raw and standardised) and the initial parameters.

The yellow cells are the inputs a student edits; the Training sheet reads them.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph, labels, updates
from sheetnet.expr.formula import Expr
from sheetnet.model import optimizers, standardize
from sheetnet.model.spec import Spec
from sheetnet.sheets import layout, limits, styles
from sheetnet.sheets.context import Context, stored_value
from sheetnet.sheets.i18n import VALUE_GLOSSES, gloss
from sheetnet.sheets.layout import NetworkLayout
from sheetnet.sheets.settings import SETTINGS

# --- Network sheet -------------------------------------------------------------------------

DESCRIPTION_WIDTH = 110  # characters of the description a line holds (merged over columns A to I)


def write_network_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1 + max(spec.sizes) + spec.sizes[-1] + (1 + spec.sizes[0]) * spec.standardize, 12)
    _widen_for_headers(ws, spec, net)
    if VALUE_GLOSSES.get(ctx.options.lang):  # a gloss stands right of each value: show it whole
        widest = max(len(str(setting.write(spec))) for setting in SETTINGS)
        ws.set_column(1, 1, max(12, widest * 1.1 + 1, len(data_headers(spec)[0]) + 3))
    write_heading(ws, spec, fmt, words)
    for setting in SETTINGS:
        name = setting.name
        if name not in net.setting_cells:  # a setting that does not apply to this network
            continue
        row, col = net.setting_cells[name]
        ws.write(row - 1, 0, words[f"setting.{name}"], fmt.label)
        if name in optimizers.HYPERPARAMETERS or name in updates.COMPLEMENTS.values():
            write_hyperparameter(ws, ctx, name)
            continue
        value = setting.write(spec)
        ws.write(row - 1, col - 1, value, fmt.input if setting.editable(spec) else fmt.fixed)
        if name == "learning_rate":  # beside η, in this row: constant_memory writes rows in order
            ws.write(row - 1, col, words["network.lr_diverged"], fmt.note)
        elif (words_for_value := gloss(ctx.options.lang, value)) is not None:
            ws.write_string(row - 1, col, words_for_value, fmt.note)
    lr_row, lr_col = net.setting_cells["learning_rate"]
    ws.data_validation(lr_row - 1, lr_col - 1, lr_row - 1, lr_col - 1, {
        "validate": "decimal", "criteria": ">", "value": 0,
        "error_title": words["setting.learning_rate"], "error_message": words["network.lr_error"],
    })
    if "leaky_slope" in net.setting_cells:
        slope_row, slope_col = net.setting_cells["leaky_slope"]
        ws.data_validation(slope_row - 1, slope_col - 1, slope_row - 1, slope_col - 1, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999,
            "error_title": words["setting.leaky_slope"], "error_message": words["network.slope_error"],
        })
    _write_data_table(ws, spec, net, fmt, words)
    _write_weight_blocks(ws, spec, net, fmt, words)


# Data validation of the hyperparameter cells: (criteria, message key) by field.
_VALID = {
    "momentum": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999999},
                 "network.fraction_error"),
    "beta1": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999999},
              "network.fraction_error"),
    "beta2": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999999},
              "network.fraction_error"),
    "alpha": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 0.999999999},
              "network.fraction_error"),
    "eps": ({"validate": "decimal", "criteria": ">", "value": 0}, "network.positive_error"),
    "weight_decay": ({"validate": "decimal", "criteria": ">=", "value": 0}, "network.nonnegative_error"),
}


def write_hyperparameter(ws: Worksheet, ctx: Context, name: str) -> None:
    """A hyperparameter's cell (only the chosen optimizer's have a row): yellow where the
    optimizer's formulas read it, 1 − β as a formula of the β cell above it, a grey 0 with a note
    where a 0 leaves the term out of every formula (no weight decay; RMSprop without momentum)."""
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    row, col = net.setting_cells[name]
    if name in updates.COMPLEMENTS.values():
        field = next(f for f, c in updates.COMPLEMENTS.items() if c == name)
        source = layout.address(*net.setting_cells[field])
        ws.write_formula(row - 1, col - 1, f"=1-{source}", fmt.computed, 1 - getattr(spec, field))
        return
    if name not in spec.hyperparameters:  # λ = 0, or RMSprop's μ = 0: in no formula
        ws.write(row - 1, col - 1, 0, fmt.fixed)
        ws.write(row - 1, col, words[f"network.{name}_fixed"], fmt.note)
        return
    ws.write_number(row - 1, col - 1, getattr(spec, name), fmt.input)
    criteria, message = _VALID[name]
    ws.data_validation(row - 1, col - 1, row - 1, col - 1, {
        **criteria, "error_title": words[f"setting.{name}"], "error_message": words[message]})


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


def write_heading(ws: Worksheet, spec: Spec, fmt: styles.Formats, words: dict[str, str]) -> None:
    """The title, the description (its row as tall as its text) and the note over the settings."""
    ws.write(layout.TITLE_ROW - 1, 0, spec.title, fmt.title)
    # Tall enough for every line, or the text runs over the note row below it.
    ws.set_row(layout.DESCRIPTION_ROW - 1,
               limits.row_height(styles.text_height(spec.description, DESCRIPTION_WIDTH, min_lines=2)))
    ws.merge_range(layout.DESCRIPTION_ROW - 1, 0, layout.DESCRIPTION_ROW - 1, 8,
                   spec.description.strip(), fmt.wrap)
    ws.write(layout.FIRST_SETTING_ROW - 2, 0, words["network.editable"], fmt.note)


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
                             stored_value(values[i]))


def _write_standardization_cell(ws: Worksheet, net: NetworkLayout, key: str, expr: Expr, value: float,
                                fmt: styles.Formats) -> None:
    row, col = net.input_cells[key]
    ws.write_formula(row - 1, col - 1, net.standardization_formula(expr), fmt.computed, stored_value(value))


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
