"""Human labels in the seeds' notation: neurons numbered through the network (x₁ x₂ → a₃ a₄ → a₅ a₆).

As in seed 004, w₃₁ is the weight into neuron 3 from neuron 1, δ₅ = ∂L/∂z₅ and ∂L/∂w₅₃ its gradient.
"""

from __future__ import annotations

from sheetnet.equations import layer_names
from sheetnet.model import ids
from sheetnet.model.spec import Spec

_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉‚")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_LABELLED = ("W", "dW", "b", "db", "z", "a", "delta")
MAX_TERMS = 4  # longer lists show their first two items, "…" and the last one


def collapse(terms: list[str], joiner: str = " + ") -> str:
    """`t1 + t2 + … + tn` when there are more than MAX_TERMS terms (a 784-input neuron stays short)."""
    if len(terms) > MAX_TERMS:
        terms = [*terms[:2], "…", terms[-1]]
    return joiner.join(terms)


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


def label(spec: Spec, qid: str, sample_word: str = "sample {k}", part_word: str = "part {p} of {n}") -> str:
    """w₃₁, b₃, z₃, a₅, δ₅, ∂L/∂w₅₃ … for a column id; other ids are returned unchanged.
    part_word names a part of a long sum (a layered network's z1[2,3,4]#1)."""
    if getattr(spec, "layered", False):
        return layer_names.label(spec, qid, sample_word, part_word)
    if ":" in qid:  # an optimizer column: m:W1[1,1], step:b2[1]
        return optimizer_label(spec, qid)
    try:
        parts = ids.parse(qid)
    except ValueError:
        return qid
    if parts.kind not in _LABELLED or parts.layer is None:
        return qid
    text = _symbol(spec, parts)
    if parts.sample is not None and spec.slots > 1:
        text += " (" + sample_word.format(k=parts.sample + 1) + ")"
    return text


def optimizer_label(spec: Spec, qid: str) -> str:
    """An optimizer column: m₃₁, v₃₁, b₃₁ (momentum buffer), s₃₁, G₃₁, Δw₃₁ for w₃₁; m(b₃), Δb₃ for b₃."""
    kind, _, param = qid.partition(":")
    symbol = label(spec, param)
    if kind == "step":
        return "Δ" + symbol
    if symbol.startswith("w"):
        return kind + symbol[1:]
    return f"{kind}({symbol})"


def sample_word(spec: Spec, words: dict[str, str]) -> str:
    """What `@k` in a column id names: sample k in batch mode, slot k of the row's batch else."""
    return words["label.sample" if spec.mode == "batch" else "label.slot"]


def _symbol(spec: Spec, parts: ids.Qid) -> str:
    kind, layer = parts.kind, (parts.layer or 0) + 1  # neuron_number counts the input as layer 0
    j, i = (parts.neuron or 0) + 1, (parts.input or 0) + 1
    if kind in ("W", "dW"):
        w = "w" + pair(neuron_number(spec, layer, j), neuron_number(spec, layer - 1, i))
        return w if kind == "W" else f"∂L/∂{w}"
    if kind in ("b", "db"):
        b = "b" + (sub(neuron_number(spec, layer, j)) if parts.neuron is not None else sup(f"({layer})"))
        return b if kind == "b" else f"∂L/∂{b}"
    return {"z": "z", "a": "a", "delta": "δ"}[kind] + sub(neuron_number(spec, layer, j))


def input_label(i: int) -> str:
    return "x" + sub(i + 1)


def target_label(j: int) -> str:
    return "t" + sub(j + 1)


def neuron_label(spec: Spec, layer: int, j: int) -> str:
    """x₁ for an input (layer −1), a₃ for neuron j of layer `layer` (both 0-based)."""
    if layer < 0:
        return input_label(j)
    return "a" + sub(neuron_number(spec, layer + 1, j + 1))
