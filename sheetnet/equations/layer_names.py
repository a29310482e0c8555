"""The ids of a layered network's quantities as the equations name them, in model/layer_ids.py's
scheme: the equations say what a quantity is (the pre-activation of layer 2, the arg-max of a
pool window), this module gives its id; plus the shapes and the TOML view of the layers that the
workbook's sheets read."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from sheetnet.memo import remembered
from sheetnet.model import ids, layer_ids, layers
from sheetnet.model.spec import Spec

Index = tuple[int, ...]

# The equations' names for quantities whose id prefix differs (layer_ids.py's docstring).
_PREFIX = {"arg": "m", "O": "a", "xhat": "n", "y": "a"}


def quantity(spec: Spec, name: str, layer: int, index: Index, k: int) -> str:
    """A per-sample quantity of a layer: z, a, h, Q, S, P, delta, dP, … (`da` of the layer whose
    columns hold the output: see output_source)."""
    return layer_ids.text(_PREFIX.get(name, name), layer, index, layer_ids.slot(spec, k))


def split(n_terms: int) -> list[range]:
    """The runs of terms of a sum's parts (none when one formula holds it): layer_ids.split."""
    return layer_ids.split(n_terms)


def part_id(qid: str, p: int) -> str:
    """Part p (from 0) of the sum making qid: z1[2,3,4]#1."""
    return layer_ids.part_id(qid, p)


def output_source(spec: Spec, layer: int) -> int:
    """The layer whose columns hold layer's output (the one before a flatten), or −1 for x."""
    return layer_ids.output_source(spec, layer)


def parameter(spec: Any, layer: int, name: str, index: Index) -> str:
    """A parameter by torch's name (weight, bias, weight_ih, …): K1[1,1,2,2], Wx2[1,3], …"""
    prefix = layer_ids.PARAM_PREFIX[(spec.layers[layer].kind, name)]
    return layer_ids.text(prefix, layer, index, None)


def all_ids(spec: Spec) -> list[str]:
    return ids.all_ids(spec)


def shapes(spec: Any) -> list[tuple[int, ...]]:
    """The input shape of every layer, then the network's output shape."""
    return [tuple(layer.in_shape) for layer in spec.layers] + [tuple(spec.layers[-1].out_shape)]


def parameter_shapes(spec: Any) -> list[tuple[int, str, tuple[int, ...]]]:
    """(layer, torch's name, shape) of every parameter, in the order of [[init.layers]]."""
    return [(n, name, shape) for n, layer in enumerate(spec.layers)
            for name, shape in layers.param_shapes(layer).items()]


def layer_table(layer: layers.Layer) -> dict[str, Any]:
    """A layer as its [[network.layers]] TOML table."""
    return layers.layer_table(layer)


def initial_values(spec: Spec, layer: int, name: str) -> np.ndarray:
    """The initial tensor of a parameter in torch's shape."""
    return spec.layers[layer].array(name)


@remembered()
def _part_counts(spec: Spec) -> dict[str, int]:
    """How many parts the sum of each split quantity has, by the quantity's id without its slot."""
    counts: dict[str, int] = {}
    for qid in ids.all_ids(spec):
        if layer_ids.PART in qid:
            parts = ids.parse(qid)
            assert parts.part is not None
            whole = str(parts.replace(part=None, sample=None))  # every slot has as many parts
            counts[whole] = max(counts.get(whole, 0), parts.part + 1)
    return counts


_SYMBOLS = {"delta": "δ", "da": "∂L/∂a", "n": "x̂", "mu": "μ", "var": "σ²", "m": "argmax",
            "dP": "∂L/∂P", "dS": "∂L/∂S", "dQ": "∂L/∂Q", "dV": "∂L/∂V", "dn": "∂L/∂x̂"}
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_ID = re.compile(r"(?P<kind>[A-Za-z]+?)(?P<layer>\d+)(?:\[(?P<index>[\d,]+)\])?"
                 r"(?:#\d+)?(?:@(?P<sample>\d+))?")  # a part of a long sum: z1[2,1,1]#2@3


def split_sample(qid: str) -> tuple[str, int | None]:
    """A layered per-sample id without its @k, and k (from 1; None when it has none):
    z1[2,1,1]@3 → (z1[2,1,1], 3). Any other id is returned whole, with None."""
    m = _ID.fullmatch(qid)
    if m is None or m["sample"] is None:
        return qid, None
    return qid[: m.start("sample") - 1], int(m["sample"])


def label(spec: Spec, qid: str, sample_word: str = "sample {k}", part_word: str = "part {p} of {n}") -> str:
    """z⁽¹⁾[2,1,1], δ⁽⁴⁾[1], ∂L/∂K⁽¹⁾[1,1,2,2], m(K⁽¹⁾[1,1,2,2]) … for a layered column id; other
    ids unchanged.
    A part of a long sum (z1[2,1,1]#2) is the quantity's label and part_word: "… part 2 of 3"."""
    if layer_ids.PART in qid:
        parts = ids.parse(qid)
        assert parts.part is not None
        whole = str(parts.replace(part=None, sample=None))
        text = label(spec, whole, sample_word)
        text += " " + part_word.format(p=parts.part + 1, n=_part_counts(spec)[whole])
        if parts.sample is not None:
            text += " (" + sample_word.format(k=parts.sample + 1) + ")"
        return text
    step = ""
    if ":" in qid:  # an optimizer column: m:K1[1,1,1,1], step:b4[1]
        step, _, qid = qid.partition(":")
    m = _ID.fullmatch(qid)
    if m is None:
        return qid
    kind = m["kind"]
    if kind in _SYMBOLS:
        symbol = _SYMBOLS[kind]
    elif kind.startswith("d") and len(kind) > 1:  # a gradient dK1[…], dWx2[…], db4[…]
        symbol = "∂L/∂" + kind[1:]
    else:
        symbol = kind
    text = symbol + f"({m['layer']})".translate(_SUP) + (f"[{m['index']}]" if m["index"] else "")
    if m["sample"] is not None:
        text += " (" + sample_word.format(k=int(m["sample"])) + ")"
    if step:  # ΔK⁽¹⁾[…], and m(K⁽¹⁾[…]) as m(b₃) of a dense network: "b b⁽²⁾[1]" read as a bias
        text = "Δ" + text if step == "step" else f"{step}({text})"
    return text
