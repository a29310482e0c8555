"""Human labels in the seeds' notation: neurons numbered through the network (x₁ x₂ → a₃ a₄ → a₅ a₆).

As in seed 004, w₃₁ is the weight into neuron 3 from neuron 1, δ₅ = ∂L/∂z₅ and ∂L/∂w₅₃ its gradient.
"""

from __future__ import annotations

import re

from sheetnet.model.spec import Spec

_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉‚")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_ID = re.compile(r"^(W|dW|b|db|z|a|delta)(\d+)(?:\[(\d+)(?:,(\d+))?\])?(?:@(\d+))?$")


def sub(text: str | int) -> str:
    return str(text).translate(_SUB)


def sup(text: str | int) -> str:
    return str(text).translate(_SUP)


def neuron_number(spec: Spec, layer: int, j: int) -> int:
    """Number of neuron j (from 1) in layer `layer` (0 = input), counting through the network."""
    return sum(spec.sizes[:layer]) + j


def pair(a: int, b: int) -> str:
    """Subscript for a weight: ₃₁, or ₁₂‚₃ when a number has two digits."""
    return sub(f"{a}{b}" if a < 10 and b < 10 else f"{a},{b}")


def label(spec: Spec, qid: str, sample_word: str = "sample {k}") -> str:
    """w₃₁, b₃, z₃, a₅, δ₅, ∂L/∂w₅₃ … for a column id; other ids are returned unchanged."""
    m = _ID.match(qid)
    if not m:
        return qid
    kind, layer_s, j_s, i_s, k_s = m.groups()
    layer = int(layer_s)
    text = _symbol(spec, kind, layer, j_s, i_s)
    if k_s and spec.slots > 1:
        text += " (" + sample_word.format(k=k_s) + ")"
    return text


def sample_word(spec: Spec, words: dict[str, str]) -> str:
    """What `@k` in a column id names: sample k in batch mode, slot k of the row's batch else."""
    return words["label.sample" if spec.mode == "batch" else "label.slot"]


def _symbol(spec: Spec, kind: str, layer: int, j_s: str | None, i_s: str | None) -> str:
    if kind in ("W", "dW"):
        to = neuron_number(spec, layer, int(j_s or 0))
        frm = neuron_number(spec, layer - 1, int(i_s or 0))
        w = "w" + pair(to, frm)
        return w if kind == "W" else f"∂L/∂{w}"
    if kind in ("b", "db"):
        b = "b" + (sub(neuron_number(spec, layer, int(j_s))) if j_s else sup(f"({layer})"))
        return b if kind == "b" else f"∂L/∂{b}"
    n = sub(neuron_number(spec, layer, int(j_s or 0)))
    return {"z": "z", "a": "a", "delta": "δ"}[kind] + n


def input_label(i: int) -> str:
    return "x" + sub(i + 1)


def target_label(j: int) -> str:
    return "t" + sub(j + 1)


def neuron_label(spec: Spec, layer: int, j: int) -> str:
    """x₁ for an input (layer −1), a₃ for neuron j of layer `layer` (both 0-based)."""
    if layer < 0:
        return input_label(j)
    return "a" + sub(neuron_number(spec, layer + 1, j + 1))
