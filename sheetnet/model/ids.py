"""Column ids of the Training sheet (`W1[2,1]`, `a2[1]@3`, ...) and their order.

Layers are counted from 1 (the first layer after the input), neurons and samples from 1.
The reference core and the workbook both name their columns with these functions.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from sheetnet.model import layer_ids, optimizers
from sheetnet.model.spec import Spec


@dataclass(frozen=True)
class Qid:
    """A quantity's id in parts, every number from 0; None where the kind has no such part.

    kind is W, dW, b, db, z, a, delta, x, t, loss, sample, iter, …; str() gives the text the
    sheets and the reference core name columns and cells by: W1[2,1], b2, a2[1]@3, x[1]@3, loss@2.
    A network of layers (layer_ids.py) has ids of up to four indices, K1[2,1,3,3]: the third and
    fourth are `more`. `part` is the p of `#p` (from 0), a part of a long sum: z1[2,3,4]#1@2.
    """

    kind: str
    layer: int | None = None
    neuron: int | None = None
    input: int | None = None
    sample: int | None = None
    more: tuple[int, ...] = ()
    part: int | None = None

    @property
    def index(self) -> tuple[int, ...]:
        """Every index in the brackets, from 0."""
        first = tuple(i for i in (self.neuron, self.input) if i is not None)
        return first + self.more

    def __str__(self) -> str:
        text = self.kind + ("" if self.layer is None else str(self.layer + 1))
        if self.index:
            text += "[" + ",".join(str(i + 1) for i in self.index) + "]"
        if self.part is not None:
            text += f"#{self.part + 1}"
        return text + ("" if self.sample is None else f"@{self.sample + 1}")

    def replace(self, **changes: Any) -> Qid:
        return dataclasses.replace(self, **changes)


_TEXT = re.compile(r"([A-Za-z_]+?)(\d+)?(?:\[(\d+)(?:,(\d+)(?:,(\d+)(?:,(\d+))?)?)?\])?"
                   r"(?:#(\d+))?(?:@(\d+))?")  # kind, layer, [indices], #part, @sample


def parse(text: str) -> Qid:
    """The parts of an id or a Network key (x[1]@3); the one place that reads id text."""
    m = _TEXT.fullmatch(text)
    if m is None:
        raise ValueError(f"not a quantity id: {text!r}")
    kind, layer, neuron, input_, third, fourth, part, sample = (
        g if i == 0 or g is None else int(g) - 1 for i, g in enumerate(m.groups()))
    more = tuple(i for i in (third, fourth) if i is not None)
    return Qid(kind, layer, neuron, input_, sample, more, part)


def weight(layer: int, j: int, i: int, prefix: str = "W") -> str:
    """Id of the weight into neuron j of `layer` from neuron i of the layer before (0-based args)."""
    return str(Qid(prefix, layer, j, i))


def bias(spec: Spec, layer: int, j: int, prefix: str = "b") -> str:
    return bias_of(spec.bias, layer, j, prefix)


def bias_of(mode: str, layer: int, j: int, prefix: str = "b") -> str:
    """The bias id for a bias mode: one per layer (b2) when shared, else one per neuron (b2[1])."""
    return str(Qid(prefix, layer, None if mode == "shared" else j))


def neuron(name: str, layer: int, j: int, k: int, spec: Spec) -> str:
    """Per-sample quantity (z, a, delta) of neuron j in `layer`; `@k` only with several slots.

    k is the sample in batch mode and the batch slot in sgd/minibatch mode (spec.slots).
    """
    return str(Qid(name, layer, j, sample=k if spec.slots > 1 else None))


def parameter_ids(spec: Spec, layer: int, prefix_w: str = "W", prefix_b: str = "b") -> list[str]:
    """Weights of a layer (row by row: into neuron 1 from 1, 2, ...) then its bias(es)."""
    n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
    result = [weight(layer, j, i, prefix_w) for j in range(n_to) for i in range(n_from)]
    return result + bias_ids(spec, layer, prefix_b)


def bias_ids(spec: Spec, layer: int, prefix: str = "b") -> list[str]:
    if spec.bias == "none":
        return []
    n = 1 if spec.bias == "shared" else spec.sizes[layer + 1]
    return [bias(spec, layer, j, prefix) for j in range(n)]


def params(spec: Spec) -> list[str]:
    if spec.layered:
        return layer_ids.params(spec)
    return [q for layer in range(spec.n_layers) for q in parameter_ids(spec, layer)]


def forward(spec: Spec) -> list[str]:
    if spec.layered:
        return layer_ids.forward(spec)
    return [
        neuron(name, layer, j, k, spec)
        for k in range(spec.slots)
        for layer in range(spec.n_layers)
        for name in ("z", "a")
        for j in range(spec.sizes[layer + 1])
    ]


def backward(spec: Spec) -> list[str]:
    if spec.layered:
        return layer_ids.backward(spec)
    return [
        neuron("delta", layer, j, k, spec)
        for k in range(spec.slots)
        for layer in reversed(range(spec.n_layers))
        for j in range(spec.sizes[layer + 1])
    ]


def gradients(spec: Spec) -> list[str]:
    """∂L/∂θ for every trainable parameter, in the order of params()."""
    if spec.layered:
        return layer_ids.gradients(spec)
    result = []
    for layer in range(spec.n_layers):
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        result += [weight(layer, j, i, "dW") for j in range(n_to) for i in range(n_from)]
        if spec.trains_bias:
            result += bias_ids(spec, layer, "db")
    return result


def gradient_of(param_id: str) -> str:
    """`W1[2,1]` → `dW1[2,1]`, `b2` → `db2`."""
    qid = parse(param_id)
    return str(qid.replace(kind="d" + qid.kind))


def sample(k: int, spec: Spec) -> str:
    """The column holding the sample number (from 1) in batch slot k of a row (sgd/minibatch)."""
    return str(Qid("sample", sample=k if spec.slots > 1 else None))


def schedule(spec: Spec) -> list[str]:
    """The epoch and the sample of each slot; none in batch mode, where a row uses every sample."""
    if spec.mode == "batch":
        return []
    return ["epoch", *(sample(k, spec) for k in range(spec.slots))]


def sample_loss(k: int) -> str:
    """Slot k's loss (0-based arg), a column only for classification losses with several samples a row."""
    return str(Qid("loss", sample=k))


def sample_correct(k: int) -> str:
    """1 when slot k (0-based arg) is predicted right, else 0: a column beside sample_loss(k)."""
    return str(Qid("correct", sample=k))


ACCURACY = "accuracy"


def losses(spec: Spec) -> list[str]:
    """The loss group: `loss`; for classification each sample's loss before it, accuracy after."""
    if not spec.classifies:
        return ["loss"]
    K = spec.slots
    per_sample = [*map(sample_loss, range(K)), *map(sample_correct, range(K))] if K > 1 else []
    return [*per_sample, "loss", ACCURACY]


BIAS_CORRECTIONS = ("bc1", "bc2")  # 1 − β₁ᵗ and 1 − β₂ᵗ of a row (adam, adamw)


def trained(spec: Spec) -> list[str]:
    """The trainable parameters, in the order of gradients()."""
    return [qid.removeprefix("d") for qid in gradients(spec)]


def state(name: str, param_id: str) -> str:
    """An optimizer column of a parameter: `m:W1[1,1]`, `v:…`, `b:…`, `s:…`, `G:…`, `step:…`."""
    return f"{name}:{param_id}"


def optimizer(spec: Spec) -> list[str]:
    """The optimizer group: the row's bias corrections, then per trainable parameter its state
    and its step Δθ; none for plain gradient descent (sgd without weight decay)."""
    if not spec.has_optimizer_state:
        return []
    entry = optimizers.OPTIMIZERS[spec.optimizer]
    names = (*entry.states(spec.settings), "step")
    head = list(BIAS_CORRECTIONS) if entry.bias_corrected else []
    return head + [state(name, p) for p in trained(spec) for name in names]


def all_ids(spec: Spec) -> list[str]:
    return ["iter", *schedule(spec), *params(spec), *forward(spec), *losses(spec), *backward(spec),
            *gradients(spec), *optimizer(spec)]
