"""The ids of a layered network's quantities as the equations name them (provisional: replaced by
model/layer_ids.py's scheme once it lands)."""

from __future__ import annotations

import re

from sheetnet.model.spec import Spec

Index = tuple[int, ...]


def _text(symbol: str, layer: int, index: Index, k: int | None) -> str:
    inner = ",".join(str(i + 1) for i in index)
    return f"{symbol}{layer + 1}" + (f"[{inner}]" if index else "") + ("" if k is None else f"@{k + 1}")


def quantity(spec: Spec, name: str, layer: int, index: Index, k: int) -> str:
    return _text(name, layer, index, k if spec.slots > 1 else None)


PARAMETER_SYMBOLS = {"weight": "W", "bias": "b", "weight_ih": "Wih", "weight_hh": "Whh",
                     "wq": "Wq", "wk": "Wk", "wv": "Wv", "gain": "g"}


def parameter(spec: Spec, layer: int, name: str, index: Index) -> str:
    kind = getattr(spec.layers[layer], "kind", "")
    symbol = "K" if kind == "conv2d" and name == "weight" else PARAMETER_SYMBOLS[name]
    return _text(symbol, layer, index, None)


def all_ids(spec: Spec) -> list[str] | None:
    return None


def shapes(spec: Spec) -> list[tuple[int, ...]]:
    """The input shape of every layer, then the network's output shape."""
    shape = tuple(spec.input_shape)
    result = [shape]
    for layer in spec.layers:
        kind = layer.kind
        if kind == "conv2d":
            shape = (layer.channels, shape[1] - layer.kernel + 1, shape[2] - layer.kernel + 1)
        elif kind in ("maxpool2d", "avgpool2d"):
            shape = (shape[0], shape[1] // layer.size, shape[2] // layer.size)
        elif kind == "flatten":
            shape = (_prod(shape),)
        elif kind in ("dense", "rnn"):
            shape = (layer.size,)
        elif kind == "attention":
            shape = (shape[0], layer.dim)
        elif kind == "meanpool":
            shape = (shape[-1],)
        result.append(shape)
    return result


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def parameter_shapes(spec: Spec) -> list[tuple[int, str, tuple[int, ...]]]:
    """(layer, name, torch shape) of every parameter tensor, in layer order (the [[init.layers]]
    keys of the TOML: weight, bias, weight_ih, weight_hh, wq, wk, wv, gain)."""
    result = []
    for layer, (spec_layer, shape) in enumerate(zip(spec.layers, shapes(spec), strict=False)):
        kind = spec_layer.kind
        if kind == "conv2d":
            n = spec_layer.kernel
            result += [(layer, "weight", (spec_layer.channels, shape[0], n, n)),
                       (layer, "bias", (spec_layer.channels,))]
        elif kind == "dense":
            n = spec_layer.size
            result += [(layer, "weight", (n, _prod(shape))), (layer, "bias", (n,))]
        elif kind == "rnn":
            n = spec_layer.size
            result += [(layer, "weight_ih", (n, shape[1])), (layer, "weight_hh", (n, n)),
                       (layer, "bias", (n,))]
        elif kind == "attention":
            result += [(layer, w, (spec_layer.dim, shape[1])) for w in ("wq", "wk", "wv")]
        elif kind == "layernorm":
            result += [(layer, "gain", (shape[-1],)), (layer, "bias", (shape[-1],))]
    return result


def layer_table(layer: object) -> dict[str, object]:
    """A layer as its [[network.layers]] TOML table (the fields it sets)."""
    import dataclasses

    table = {k: v for k, v in dataclasses.asdict(layer).items() if v not in (None, "", 0)}  # type: ignore[call-overload]
    return table


def initial_values(spec: Spec, layer: int, name: str) -> object:
    """The initial tensor of a parameter, indexable by a tuple (a NumPy array)."""
    import numpy as np

    return np.asarray(spec.init[layer][name], dtype=float)  # type: ignore[attr-defined]


_SYMBOLS = {"delta": "δ", "dy": "∂L/∂y", "xhat": "x̂", "mu": "μ", "var": "σ²", "arg": "argmax",
            "dP": "∂L/∂P", "dS": "∂L/∂S", "dQ": "∂L/∂Q", "dK": "∂L/∂K", "dV": "∂L/∂V", "dx": "∂L/∂x"}
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_ID = re.compile(r"(?P<kind>[A-Za-z]+?)(?P<layer>\d+)(?:\[(?P<index>[\d,]+)\])?(?:@(?P<sample>\d+))?")


def label(spec: Spec, qid: str, sample_word: str = "sample {k}") -> str:
    """z⁽¹⁾[2,1,1], δ⁽⁴⁾[1], ∂L/∂K⁽¹⁾[1,1,2,2] … for a layered column id; other ids unchanged."""
    step = ""
    if ":" in qid:  # an optimizer column: m:K1[1,1,1,1], step:b4[1]
        step, _, qid = qid.partition(":")
    m = _ID.fullmatch(qid)
    if m is None:
        return qid
    kind = m["kind"]
    gradient = kind.startswith("d") and kind not in _SYMBOLS and kind[1:] != ""
    symbol = "∂L/∂" + kind[1:] if gradient else _SYMBOLS.get(kind, kind)
    text = symbol + f"({m['layer']})".translate(_SUP) + (f"[{m['index']}]" if m["index"] else "")
    if m["sample"] is not None:
        text += " (" + sample_word.format(k=int(m["sample"])) + ")"
    if step:
        text = ("Δ" if step == "step" else step + " ") + text
    return text
