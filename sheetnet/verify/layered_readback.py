"""A layered network read back from its Network sheet (sheets/layered_network.py writes it): the
layers and the input shape from their grey cells, the settings by their labels, and every number
(η, the data, the initial parameters) from the cells the layout places, so that a workbook whose
inputs a student edited is checked against those edited inputs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from sheetnet.equations import graph, layer_names
from sheetnet.errors import SheetnetError
from sheetnet.model import layers as model_layers
from sheetnet.model import optimizers
from sheetnet.model.fields import ACTIVATIONS
from sheetnet.model.spec import Spec, parse_spec
from sheetnet.sheets import layout
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layered_network import LayeredNetworkLayout, n_outputs
from sheetnet.sheets.settings import SETTINGS

_WHAT = "is this a workbook written by `sheetnet build`?"


def setting_cells(cells: Mapping[tuple[int, int], Any],
                  names: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
    """Each setting's value cell, found by the label beside it in any language: of the settings
    named (a dense network shows only those that apply to it, settings.applies), or of every one."""
    keys = [f"setting.{name}" for name in names] if names is not None else None
    labels = {words[key]: key.removeprefix("setting.") for words in STRINGS.values()
              for key in (keys if keys is not None else words) if key.startswith("setting.")}
    found: dict[str, tuple[int, int]] = {}
    for row in range(layout.FIRST_SETTING_ROW, layout.DATA_HEADER_ROW):
        name = labels.get(str(cells.get((row, 1), "")).strip())
        if name is not None:
            found.setdefault(name, (row, 2))
    return found


def is_layered_sheet(cells: Mapping[tuple[int, int], Any]) -> bool:
    """Whether a Network sheet describes a list of layers (it has a Layers row)."""
    return "layers" in setting_cells(cells)


def read_layered_spec(where: str, name: str, cells: Mapping[tuple[int, int], Any]) -> Spec:
    """The spec of a layered Network sheet (where: the file and sheet, for errors)."""
    at = setting_cells(cells)
    structure = _structure(where, cells, at)
    n_samples = _count_samples(cells)
    _check_numbers_present(where, structure, n_samples, len(cells))
    placeholder = parse_spec(_table(structure, n_samples, None), source=where)
    placed = LayeredNetworkLayout(placeholder)
    values = {key: _number(where, cells, cell, key) for key, cell in placed.input_cells.items()
              if key not in ("one_minus_beta1", "one_minus_beta2", "one_minus_alpha")}
    table = _table(structure, n_samples, values)
    table["title"] = str(cells.get((layout.TITLE_ROW, 1), ""))
    table["description"] = str(cells.get((layout.DESCRIPTION_ROW, 1), ""))
    return parse_spec(table, name=name, source=where)


def _structure(where: str, cells: Mapping[tuple[int, int], Any],
               at: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """The settings that fix the network's shape and training, read from their grey cells."""
    def raw(name: str) -> Any:
        if name not in at:
            raise SheetnetError(f"{where}: it has no row for the setting {name}; {_WHAT}")
        return cells.get(at[name])

    def fail(name: str, what: str) -> SheetnetError:
        return SheetnetError(f"{where}: cell {layout.address(*at[name])} ({name}) must be {what}, "
                             f"got {raw(name)!r}; {_WHAT}")

    result: dict[str, Any] = {}
    for name in ("input_shape", "layers"):
        try:
            result[name] = json.loads(str(raw(name)))
        except ValueError:
            raise fail(name, "the JSON list written by sheetnet") from None
    by_name = {s.name: s for s in SETTINGS}
    for name in ("iterations", "loss", "reduction", "mode", "optimizer", "batch_size", "shuffle", "seed"):
        if name in at and by_name[name].read is not None:
            try:
                result[name] = by_name[name].read(raw(name))  # type: ignore[misc]
            except ValueError:
                raise fail(name, by_name[name].what) from None
    return result


def _check_numbers_present(where: str, structure: dict[str, Any], n_samples: int, n_cells: int) -> None:
    """The sheet must hold a cell for every number the layers promise, before any is placed: a
    hostile Layers cell could otherwise ask for billions of parameters."""
    try:
        probe = _ProbeSpec(tuple(structure["input_shape"]), structure["layers"])
    except (SheetnetError, TypeError, ValueError) as exc:
        raise SheetnetError(f"{where}: the Layers cell does not describe a network ({exc})") from None
    needed = n_samples * (int(np.prod(probe.input_shape)) + _outputs(probe))
    needed += sum(int(np.prod(shape)) for _, _, shape in layer_names.parameter_shapes(probe))
    if needed > n_cells:
        raise SheetnetError(f"{where}: the Layers and input shape describe a network with {needed:,} "
                            f"inputs and parameters, but the sheet holds only {n_cells:,} cells; {_WHAT}")


def _count_samples(cells: Mapping[tuple[int, int], Any]) -> int:
    k = 0
    while cells.get((layout.DATA_HEADER_ROW + 1 + k, 1)) == k + 1:
        k += 1
    return max(k, 1)


def _number(where: str, cells: Mapping[tuple[int, int], Any], at: tuple[int, int], key: str) -> float:
    value = cells.get(at)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    got = "an empty cell" if value is None else repr(value)
    raise SheetnetError(f"{where}: cell {layout.address(*at)} ({key}) must hold a number, got {got}")


def _table(structure: dict[str, Any], n_samples: int, values: dict[str, float] | None) -> dict[str, Any]:
    """A spec table for parse_spec; with values=None every number is a placeholder."""
    shape = tuple(structure["input_shape"])
    network = {"input_shape": list(shape), "loss": structure["loss"], "layers": structure["layers"]}

    def get(key: str, default: float = 0.0) -> float:
        return default if values is None else values.get(key, default)

    if values is not None and graph.LEAKY.key in values:
        network["leaky_slope"] = values[graph.LEAKY.key]
    training: dict[str, Any] = {"learning_rate": get("lr", 1.0), "iterations": structure["iterations"],
                                "reduction": structure["reduction"], "mode": structure["mode"]}
    for key in ("batch_size", "shuffle", "seed"):
        if key in structure:
            training[key] = structure[key]
    if structure["mode"] == "sgd":
        training.pop("batch_size", None)
    entry = optimizers.OPTIMIZERS[structure["optimizer"]]
    training["optimizer"] = structure["optimizer"]
    for key in entry.fields:
        value = get(key, entry.default(key))
        if key != "weight_decay" or value:
            training[key] = value
    table: dict[str, Any] = {"network": network, "training": training}
    probe = _ProbeSpec(shape, structure["layers"])
    n_in, n_out = int(np.prod(shape)), _outputs(probe)
    inputs = [np.array([get(str(graph.input_key(i, k).key)) for i in range(n_in)]).reshape(shape).tolist()
              for k in range(n_samples)]
    targets = [[get(graph.target_key(j, k).key, float(j == 0)) for j in range(n_out)]
               for k in range(n_samples)]
    table["data"] = {"inputs": inputs, "targets": targets}
    table["init"] = {"layers": _init_layers(probe, get)}
    return table


class _ProbeSpec:
    """Enough of a spec for the parameters' ids and shapes: the layers, parsed without numbers."""

    def __init__(self, shape: tuple[int, ...], tables: list[dict[str, Any]]) -> None:
        self.input_shape = shape
        self.layers = model_layers.parse_layers(tables, shape, ACTIVATIONS)


def _outputs(probe: _ProbeSpec) -> int:
    return int(np.prod(probe.layers[-1].out_shape))


def _init_layers(probe: _ProbeSpec, get: Any) -> list[dict[str, Any]]:
    """[[init.layers]]: one table per layer with parameters, each tensor in torch's shape."""
    tables: dict[int, dict[str, Any]] = {}
    for layer, name, shape in layer_names.parameter_shapes(probe):
        flat = [get(graph.initial_key(layer_names.parameter(probe, layer, name, index)).key)
                for index in np.ndindex(*shape)]
        tables.setdefault(layer, {})[name] = np.array(flat).reshape(shape).tolist()
    return [tables[layer] for layer in sorted(tables)]


__all__ = ["is_layered_sheet", "n_outputs", "read_layered_spec"]
