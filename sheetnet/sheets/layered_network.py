"""The Network sheet of a layered network (conv2d, rnn, attention, …): the settings, the layers
and their shapes, the data (one column per input number, in torch's flatten order) and the
initial parameters in torch's shapes, a k×k grid per kernel slice.

The yellow cells are the inputs a student edits (η, the data, every initial parameter); the
Training sheet reads them. The check reads the network back from this sheet
(verify/layered_readback.py): the layers from the grey `Layers` cell, the numbers from the cells
placed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import graph, layer_names, updates
from sheetnet.model import optimizers
from sheetnet.model.spec import Spec
from sheetnet.sheets import layout, settings
from sheetnet.sheets.context import Context
from sheetnet.sheets.layout import NetworkLayout
from sheetnet.sheets.network import write_heading, write_hyperparameter

Index = tuple[int, ...]
LAYERS_COLUMN = 4  # the table of layers and shapes, right of the settings (column D)


def is_layered(spec: Spec) -> bool:
    """A network given as a list of layers (conv2d, rnn, attention, …), not sizes/activations."""
    return bool(getattr(spec, "layered", False))


def network_layout(spec: Spec) -> NetworkLayout:
    """The Network sheet's cells of spec: the layered layout for a list of layers."""
    return LayeredNetworkLayout(spec) if is_layered(spec) else NetworkLayout(spec)


def setting_names(spec: Spec) -> list[str]:
    """The settings rows of a layered network, in order: the dense ones that apply, with the
    input shape and the layers in place of the sizes, activations, bias and standardisation."""
    names = ["learning_rate", "iterations", "input_shape", "layers", "loss", "reduction", "mode"]
    if spec.mode != "batch":
        names += ["batch_size", "shuffle"] + (["seed"] if spec.shuffle else [])
    names.append("optimizer")
    for field_name in optimizers.OPTIMIZERS[spec.optimizer].fields:
        names.append(field_name)
        if field_name in updates.COMPLEMENTS:
            names.append(updates.COMPLEMENTS[field_name])
    if uses_slope(spec):
        names.append("leaky_slope")
    return names


def uses_slope(spec: Spec) -> bool:
    return any(getattr(layer, "activation", None) == "leaky_relu" for layer in spec.layers)


def shape_text(shape: tuple[int, ...]) -> str:
    return json.dumps(list(shape))


def layers_text(spec: Spec) -> str:
    """The layers as the TOML's [[network.layers]] tables, one JSON list (read back by the check)."""
    return json.dumps([layer_names.layer_table(layer) for layer in spec.layers], ensure_ascii=False)


@dataclass
class LayeredNetworkLayout(NetworkLayout):
    """Cells of a layered network's Network sheet; input_cells keys as the dense layout's."""

    parameter_titles: list[tuple[int, int, str, tuple[int, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.spec
        self.setting_cells = {name: (layout.FIRST_SETTING_ROW + n, 2)
                              for n, name in enumerate(setting_names(spec))}
        self.input_cells["lr"] = self.setting_cells["learning_rate"]
        if "leaky_slope" in self.setting_cells:
            self.input_cells[graph.LEAKY.key] = self.setting_cells["leaky_slope"]
        for key in updates.network_keys(spec):
            self.input_cells[key] = self.setting_cells[key]
        n_in, n_out = n_inputs(spec), n_outputs(spec)
        for k in range(spec.n_samples):
            row = layout.DATA_HEADER_ROW + 1 + k
            for i in range(n_in):
                self.input_cells[graph.input_key(i, k).key] = (row, 2 + i)
            for j in range(n_out):
                self.input_cells[graph.target_key(j, k).key] = (row, 2 + n_in + j)
        self.last_row = layout.DATA_HEADER_ROW + spec.n_samples
        self._place_layered_parameters()

    def _place_layered_parameters(self) -> None:
        row = self.last_row + 2
        for layer, name, shape in layer_names.parameter_shapes(self.spec):
            self.parameter_titles.append((row, layer, name, shape))
            row += 1
            for block in _blocks(shape):
                row += 1  # the block's caption and column numbers
                rows = shape[-2] if len(shape) > 1 else 1
                for r in range(rows):
                    for c in range(shape[-1]):
                        index = (*block, r, c) if len(shape) > 1 else (c,)
                        key = graph.initial_key(layer_names.parameter(self.spec, layer, name, index)).key
                        self.input_cells[key] = (row + r, 2 + c)
                row += rows
            row += 1
        self.last_row = row - 1


def _blocks(shape: tuple[int, ...]) -> Iterator[Index]:
    """The leading indices of a tensor's 2-D slices (one empty index for a matrix or a vector)."""
    lead = shape[:-2] if len(shape) > 1 else ()
    if not lead:
        yield ()
        return
    stack: list[Index] = [()]
    for n in lead:
        stack = [(*index, i) for index in stack for i in range(n)]
    yield from stack


def n_inputs(spec: Spec) -> int:
    n = 1
    for d in spec.input_shape:
        n *= d
    return n


def n_outputs(spec: Spec) -> int:
    n = 1
    for d in layer_names.shapes(spec)[-1]:
        n *= d
    return n


def _index_text(index: Index) -> str:
    return ",".join(str(i + 1) for i in index)


# --- the sheet -----------------------------------------------------------------------------------


def write_layered_network_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    assert isinstance(net, LayeredNetworkLayout)
    ws.set_column(0, 0, 30)
    ws.set_column(1, max(n_inputs(spec) + n_outputs(spec), 8), 12)
    # The table of layers right of the settings: wide enough for "channels = 2, kernel = 3, …".
    ws.set_column(LAYERS_COLUMN - 1, LAYERS_COLUMN - 1, 18)
    ws.set_column(LAYERS_COLUMN, LAYERS_COLUMN, 40)
    ws.set_column(LAYERS_COLUMN + 1, LAYERS_COLUMN + 1, 18)
    write_heading(ws, spec, fmt, words)
    table = _layer_rows(spec, words)
    for n, name in enumerate(setting_names(spec)):
        row, col = net.setting_cells[name]
        ws.write(row - 1, 0, words[f"setting.{name}"], fmt.label)
        if name in optimizers.HYPERPARAMETERS or name in updates.COMPLEMENTS.values():
            write_hyperparameter(ws, ctx, name)
        else:
            editable = name in ("learning_rate", "leaky_slope")
            ws.write(row - 1, col - 1, _setting_value(spec, name), fmt.input if editable else fmt.fixed)
        if n < len(table):  # the layers and their shapes, right of the settings
            for c, text in enumerate(table[n]):
                ws.write_string(row - 1, LAYERS_COLUMN - 1 + c, text, fmt.header if n == 0 else fmt.label)
    lr_row, lr_col = net.setting_cells["learning_rate"]
    ws.data_validation(lr_row - 1, lr_col - 1, lr_row - 1, lr_col - 1, {
        "validate": "decimal", "criteria": ">", "value": 0,
        "error_title": words["setting.learning_rate"], "error_message": words["network.lr_error"],
    })
    _write_data(ws, ctx)
    _write_parameters(ws, ctx)


def _setting_value(spec: Spec, name: str) -> object:
    if name == "input_shape":
        return shape_text(tuple(spec.input_shape))
    if name == "layers":
        return layers_text(spec)
    setting = next(s for s in settings.SETTINGS if s.name == name)
    return setting.write(spec)


def _layer_rows(spec: Spec, words: dict[str, str]) -> list[list[str]]:
    """The readable table of layers: a title row, then a row per layer with its output shape."""
    shapes = layer_names.shapes(spec)
    rows = [[words["network.layers_title"].format(shape=shape_text(shapes[0]))]]
    for n, layer in enumerate(spec.layers):
        fields = {k: v for k, v in layer_names.layer_table(layer).items() if k != "kind"}
        detail = ", ".join(f"{k} = {v}" for k, v in fields.items())
        rows.append([words["network.layer_row"].format(l=n + 1, kind=layer.kind), detail,
                     words["network.layer_out"].format(shape=shape_text(shapes[n + 1]))])
    return rows


def _write_data(ws: Worksheet, ctx: Context) -> None:
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    header = layout.DATA_HEADER_ROW - 1
    ws.write(header - 1, 0, words["network.data"], fmt.heading)
    ws.write(header, 0, words["network.sample"], fmt.header)
    names = input_headers(spec) + [f"t{j + 1}" for j in range(n_outputs(spec))]
    for c, name in enumerate(names, start=1):
        ws.write_string(header, c, name, fmt.header)
    for k, (x, t) in enumerate(zip(spec.inputs, spec.targets, strict=True)):
        ws.write(header + 1 + k, 0, k + 1, fmt.label)
        for c, value in enumerate((*x, *t), start=1):
            ws.write(header + 1 + k, c, value, fmt.input)


def input_headers(spec: Spec) -> list[str]:
    """x[c,r,s] (or x[t,f]) for each input number, in torch's flatten order."""
    shape = tuple(spec.input_shape)
    return [f"x[{_index_text(index)}]" for index in _all_indices(shape)]


def _all_indices(shape: tuple[int, ...]) -> list[Index]:
    result: list[Index] = [()]
    for n in shape:
        result = [(*index, i) for index in result for i in range(n)]
    return result


def _write_parameters(ws: Worksheet, ctx: Context) -> None:
    spec, net, fmt, words = ctx.spec, ctx.network, ctx.fmt, ctx.words
    assert isinstance(net, LayeredNetworkLayout)
    for title, layer, name, shape in net.parameter_titles:
        kind = spec.layers[layer].kind
        ws.write(title - 1, 0, words["network.parameter"].format(
            l=layer + 1, kind=kind, name=name, shape=shape_text(shape)), fmt.heading)
        row = title + 1
        values = layer_names.initial_values(spec, layer, name)
        for block in _blocks(shape):
            caption = words["network.parameter_block"].format(name=name, index=_index_text(block)) \
                if block else name
            ws.write(row - 1, 0, caption, fmt.header)
            for c in range(shape[-1]):
                ws.write(row - 1, 1 + c, c + 1, fmt.header)
            rows = shape[-2] if len(shape) > 1 else 1
            for r in range(rows):
                ws.write(row + r, 0, r + 1 if len(shape) > 1 else "", fmt.label)
                for c in range(shape[-1]):
                    index = (*block, r, c) if len(shape) > 1 else (c,)
                    ws.write(row + r, 1 + c, values[index], fmt.input)
            row += 1 + rows
