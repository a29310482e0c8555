"""A network as a list of layers: `[network] input_shape` and `[[network.layers]]`, with
`[[init.layers]]`, parsed into frozen Layer records with their shapes inferred at load.

Kinds (docs/spec.md has the equations), shapes as torch has them:

    conv2d     [C, H, W] → [channels, H−k+1, W−k+1]   weight [channels][C][k][k], bias [channels]
    maxpool2d  [C, H, W] → [C, H/size, W/size]        (avgpool2d alike; H and W divisible by size)
    flatten    any → [n]                               channel-major, then row-major (C order)
    dense      [n] → [size]                            weight [size][n], bias [size]
    rnn        [T, F] → [size] (the last h)            weight_ih [size][F], weight_hh [size][size], bias
    attention  [T, F] → [T, dim]                       wq, wk, wv each [dim][F], no bias
    layernorm  any → same (over the last axis d)       gain [d], bias [d]
    meanpool   [T, d] → [d]

Every error names the layer (counted from 1) and the shape it got, in one line. The parameters
are kept as nested tuples in torch's shapes; Layer.array gives one as a NumPy array.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sheetnet.errors import SheetnetError, counted

Shape = tuple[int, ...]

KINDS = ("conv2d", "maxpool2d", "avgpool2d", "flatten", "dense", "rnn", "attention", "layernorm",
         "meanpool")
# The fields each kind reads besides `kind` (any other is an error naming the layer).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "conv2d": ("channels", "kernel", "activation"),
    "maxpool2d": ("size",),
    "avgpool2d": ("size",),
    "flatten": (),
    "dense": ("size", "activation"),
    "rnn": ("size", "activation"),
    "attention": ("dim", "causal"),
    "layernorm": (),
    "meanpool": (),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "conv2d": ("channels", "kernel"), "maxpool2d": ("size",), "avgpool2d": ("size",),
    "dense": ("size",), "rnn": ("size",), "attention": ("dim",),
}
DEFAULT_ACTIVATION = {"conv2d": "linear", "dense": "linear", "rnn": "tanh"}
# The parameters of each kind, in the order of [[init.layers]] and of the Training sheet.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "conv2d": ("weight", "bias"),
    "dense": ("weight", "bias"),
    "rnn": ("weight_ih", "weight_hh", "bias"),
    "attention": ("wq", "wk", "wv"),
    "layernorm": ("gain", "bias"),
}
INIT_FIELDS = ("weight", "bias", "weight_ih", "weight_hh", "wq", "wk", "wv", "gain")
LAYERNORM_EPS = 1e-5  # torch.nn.LayerNorm's default, inside the square root


@dataclass(frozen=True)
class Layer:
    """One layer: its kind and settings, its input and output shapes, its initial parameters.

    params holds (name, nested tuples) in PARAMETERS order, in torch's shapes.
    """

    kind: str
    in_shape: Shape
    out_shape: Shape
    activation: str = "linear"  # conv2d, dense, rnn; "linear" elsewhere
    size: int = 0  # dense/rnn: units; maxpool2d/avgpool2d: the window's side
    channels: int = 0  # conv2d: output channels
    kernel: int = 0  # conv2d: the kernel's side
    dim: int = 0  # attention: the width of Q, K and V
    causal: bool = False  # attention: step t attends to steps ≤ t only
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return PARAMETERS.get(self.kind, ())

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    def array(self, name: str) -> np.ndarray:
        return np.array(self.param(name), dtype=float).reshape(self.param_shape(name))

    def param_shape(self, name: str) -> Shape:
        return param_shapes(self)[name]

    @property
    def n_params(self) -> int:
        return sum(math.prod(s) for s in param_shapes(self).values())


def param_shapes(layer: Layer) -> dict[str, Shape]:
    """Each parameter's shape, in torch's layout."""
    k, i = layer.kind, layer.in_shape
    if k == "conv2d":
        return {"weight": (layer.channels, i[0], layer.kernel, layer.kernel), "bias": (layer.channels,)}
    if k == "dense":
        return {"weight": (layer.size, i[0]), "bias": (layer.size,)}
    if k == "rnn":
        return {"weight_ih": (layer.size, i[1]), "weight_hh": (layer.size, layer.size),
                "bias": (layer.size,)}
    if k == "attention":
        return {name: (layer.dim, i[1]) for name in ("wq", "wk", "wv")}
    if k == "layernorm":
        return {"gain": (i[-1],), "bias": (i[-1],)}
    return {}


def shape_text(shape: Shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _where(index: int) -> str:
    return f"layer {index + 1}"


def _source(index: int) -> str:
    """Who gives layer index its input, as an error names it."""
    return "network.input_shape gives" if index == 0 else f"layer {index} gives"


# --- parsing -------------------------------------------------------------------------------


def parse_input_shape(value: Any) -> Shape:
    if (not isinstance(value, list) or not 1 <= len(value) <= 3
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value)):
        raise SheetnetError("network.input_shape must list 1 to 3 positive integers: [features],"
                            f" [steps, features] or [channels, height, width], got {value!r}")
    return tuple(value)


def parse_layers(value: Any, input_shape: Shape, activations: tuple[str, ...]) -> list[Layer]:
    """The [[network.layers]] tables as Layers without parameters, shapes inferred in order."""
    if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
        raise SheetnetError("network.layers must be a list of tables ([[network.layers]]), at least one")
    result: list[Layer] = []
    shape = input_shape
    for index, table in enumerate(value):
        layer = _layer(index, table, shape, activations)
        result.append(layer)
        shape = layer.out_shape
    last = result[-1]
    if last.kind != "dense":
        raise SheetnetError(f"{_where(len(result) - 1)} ({last.kind}): the last layer must be dense"
                            " (the output the loss reads); add a dense layer at the end")
    for index, layer in enumerate(result[:-1]):
        if layer.activation == "softmax":
            raise SheetnetError(f"{_where(index)} ({layer.kind}): softmax is only allowed on the last"
                                " layer; use sigmoid, tanh, relu, leaky_relu or linear")
    return result


def _layer(index: int, table: dict[str, Any], shape: Shape, activations: tuple[str, ...]) -> Layer:
    where = _where(index)
    kind = table.get("kind")
    if kind is None:
        raise SheetnetError(f"{where}: kind is missing; give one of: {', '.join(KINDS)}")
    if kind not in KINDS:
        raise SheetnetError(f"{where}: unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    where = f"{where} ({kind})"
    allowed = KIND_FIELDS[kind]
    for key in table:
        if key != "kind" and key not in allowed:
            fields = ", ".join(("kind", *allowed))
            raise SheetnetError(f"{where} has no field {key!r}; a {kind} layer takes: {fields}")
    for key in REQUIRED_FIELDS.get(kind, ()):
        if key not in table:
            raise SheetnetError(f"{where}: {key} is missing")
    settings: dict[str, Any] = {}
    for key in ("size", "channels", "kernel", "dim"):
        if key in table:
            n = table[key]
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise SheetnetError(f"{where}: {key} must be a positive integer, got {n!r}")
            settings[key] = n
    if "causal" in table:
        if not isinstance(table["causal"], bool):
            raise SheetnetError(f"{where}: causal must be true or false, got {table['causal']!r}")
        settings["causal"] = table["causal"]
    if kind in DEFAULT_ACTIVATION:
        act = table.get("activation", DEFAULT_ACTIVATION[kind])
        if act not in activations:
            raise SheetnetError(f"{where}: unknown activation {act!r}; expected one of:"
                                f" {', '.join(activations)}")
        if act == "softmax" and kind != "dense":
            raise SheetnetError(f"{where}: softmax is only allowed on the last (dense) layer")
        settings["activation"] = act
    out = _out_shape(index, kind, settings, shape)
    return Layer(kind, shape, out, **settings)


def _expects(index: int, kind: str, what: str, shape: Shape, fix: str = "") -> SheetnetError:
    """"layer 3 (dense) expects …, layer 2 gives [2, 1, 1]; fix": the layer, what it got."""
    return SheetnetError(f"{_where(index)} ({kind}) expects {what}, {_source(index)} {shape_text(shape)}"
                         + (f"; {fix}" if fix else ""))


def _out_shape(index: int, kind: str, s: dict[str, Any], shape: Shape) -> Shape:
    """The layer's output shape, or an error naming the layer and the shape it got."""
    if kind == "conv2d":
        k = s["kernel"]
        if len(shape) != 3 or shape[1] < k or shape[2] < k:
            raise _expects(index, kind, f"[channels, height, width] with height and width ≥ {k}"
                           f" (kernel {k})", shape)
        return (s["channels"], shape[1] - k + 1, shape[2] - k + 1)
    if kind in ("maxpool2d", "avgpool2d"):
        p = s["size"]
        if len(shape) != 3 or shape[1] % p or shape[2] % p:
            raise _expects(index, kind, f"[channels, height, width] with height and width divisible"
                           f" by {p} (size {p})", shape)
        return (shape[0], shape[1] // p, shape[2] // p)
    if kind == "flatten":
        return (math.prod(shape),)
    if kind == "dense":
        if len(shape) != 1:
            raise _expects(index, kind, "a vector [inputs]", shape, "put a flatten layer before it")
        return (s["size"],)
    if kind in ("rnn", "attention", "meanpool"):
        if len(shape) != 2:
            raise _expects(index, kind, "a sequence [steps, features]", shape)
        return {"rnn": (s.get("size", 0),), "attention": (shape[0], s.get("dim", 0)),
                "meanpool": (shape[1],)}[kind]
    return shape  # layernorm


def with_parameters(layers: list[Layer], init: Any, seed: int | None) -> tuple[Layer, ...]:
    """The layers with their initial parameters: from [[init.layers]] (one table per layer that
    has parameters, in layer order) or drawn from a seed."""
    owners = [i for i, layer in enumerate(layers) if layer.param_names]
    if seed is not None:
        rng = np.random.default_rng(seed)
        values = [_seeded(layers[i], rng) for i in owners]
    else:
        values = _given(layers, owners, init)
    result = list(layers)
    for i, params in zip(owners, values, strict=True):
        result[i] = dataclasses.replace(layers[i], params=params)
    return tuple(result)


def _seeded(layer: Layer, rng: np.random.Generator) -> tuple[tuple[str, Any], ...]:
    """Weights uniform in ±1/√fan_in (torch's bound), 4 decimals; biases 0; layernorm's gain 1."""
    shapes = param_shapes(layer)
    params = []
    for name, shape in shapes.items():
        if layer.kind == "layernorm":
            value = np.full(shape, 1.0 if name == "gain" else 0.0)
        elif name == "bias":
            value = np.zeros(shape)
        else:
            fan_in = math.prod(shape[1:])
            limit = 1 / math.sqrt(fan_in)
            value = np.round(rng.uniform(-limit, limit, size=shape), 4)
        params.append((name, _nested(value)))
    return tuple(params)


def _nested(value: np.ndarray) -> Any:
    if value.ndim == 1:
        return tuple(float(x) for x in value)
    return tuple(_nested(v) for v in value)


def _given(layers: list[Layer], owners: list[int], init: Any) -> list[tuple[tuple[str, Any], ...]]:
    if init is None:
        raise SheetnetError("init.layers is missing: give one [[init.layers]] table per layer with"
                            f" parameters ({_owner_list(layers, owners)}), or init.seed")
    if not isinstance(init, list) or not all(isinstance(t, dict) for t in init):
        raise SheetnetError("init.layers must be a list of tables ([[init.layers]])")
    if len(init) != len(owners):
        raise SheetnetError(f"init.layers has {counted(len(init), 'table')} but {len(owners)} of the"
                            f" layers have parameters ({_owner_list(layers, owners)}); give one table"
                            " each, in order")
    result = []
    for n, (i, table) in enumerate(zip(owners, init, strict=True), start=1):
        layer = layers[i]
        shapes = param_shapes(layer)
        where = f"init.layers[{n}] (layer {i + 1}, {layer.kind})"
        for key in table:
            if key not in shapes:
                raise SheetnetError(f"{where} has no parameter {key!r}; a {layer.kind} layer takes:"
                                    f" {', '.join(shapes)}")
        params = []
        for name, shape in shapes.items():
            if name not in table:
                raise SheetnetError(f"{where}: {name} is missing ({_dims(shape)}, torch's shape)")
            _check_inputs(i, layer, name, table[name], f"init.layers[{n}].{name}")
            params.append((name, _numbers(table[name], shape, f"{where}.{name}")))
        result.append(tuple(params))
    return result


# The parameters whose second axis counts the layer's inputs (features, in-channels).
_READS_INPUTS = {("dense", "weight"), ("conv2d", "weight"), ("rnn", "weight_ih"), ("attention", "wq"),
                 ("attention", "wk"), ("attention", "wv")}


def _check_inputs(index: int, layer: Layer, name: str, value: Any, field: str) -> None:
    """A weight made for another input width, said as the layer's mismatch with the one before:
    "layer 3 (dense) expects 8 inputs (init.layers[2].weight is [2][8]), layer 2 gives [2]"."""
    got = _shape_of(value)
    if (layer.kind, name) not in _READS_INPUTS or got is None or len(got) < 2:
        return
    width = layer.in_shape[0] if layer.kind in ("dense", "conv2d") else layer.in_shape[1]
    if got[1] != width:
        what = "input channels" if layer.kind == "conv2d" else ("features" if layer.kind in
                                                                 ("rnn", "attention") else "inputs")
        raise _expects(index, layer.kind, f"{got[1]} {what} ({field} is {_dims(got)})", layer.in_shape)


def _owner_list(layers: list[Layer], owners: list[int]) -> str:
    return ", ".join(f"layer {i + 1} {layers[i].kind}" for i in owners) or "none"


def _dims(shape: Shape) -> str:
    return "".join(f"[{n}]" for n in shape)


def _numbers(value: Any, shape: Shape, field: str) -> Any:
    """value as nested tuples of floats of exactly `shape`, or an error with the shape it should have."""
    got = _shape_of(value)
    if got != shape:
        given = "not a nested list of numbers" if got is None else _dims(got)
        raise SheetnetError(f"{field} must be {_dims(shape)} (torch's shape), got {given}")
    array = np.array(value, dtype=float)
    if not np.isfinite(array).all():
        raise SheetnetError(f"{field} must hold finite numbers")
    return _nested(np.vectorize(lambda x: float(f"{x:.16g}"))(array))


def _shape_of(value: Any) -> Shape | None:
    """The shape of a regular nested list of numbers, None when it is ragged or holds anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ()
    if not isinstance(value, list) or not value:
        return None
    shapes = {_shape_of(v) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    inner = shapes.pop()
    return None if inner is None else (len(value), *inner)


def parse_sample(value: Any, shape: Shape, field: str) -> tuple[float, ...]:
    """One sample of a layered network: nested lists of `shape`, flattened in C order."""
    got = _shape_of(value)
    if got != shape:
        given = "not a nested list of numbers" if got is None else shape_text(got)
        raise SheetnetError(f"{field} must have network.input_shape {shape_text(shape)}, got {given}")
    flat = tuple(float(f"{float(x):.16g}") for x in np.array(value, dtype=float).ravel())
    if not all(math.isfinite(x) for x in flat):
        raise SheetnetError(f"{field} must hold finite numbers")
    return flat


# --- back to TOML --------------------------------------------------------------------------


def layer_table(layer: Layer) -> dict[str, Any]:
    """The [[network.layers]] table that parse_layers turns back into this layer."""
    table: dict[str, Any] = {"kind": layer.kind}
    for key in KIND_FIELDS[layer.kind]:
        if key != "causal" or layer.causal:  # causal = false is the default, left out
            table[key] = getattr(layer, key)
    return table


def init_table(layer: Layer) -> dict[str, Any]:
    return {name: _lists(value) for name, value in layer.params}


def _lists(value: Any) -> Any:
    return [_lists(v) for v in value] if isinstance(value, tuple) else value
