"""Equations in the seeds' notation, for the Training header notes and the Guide sheet.

Neurons are numbered through the network (x₁ x₂ → a₃ a₄ → a₅ a₆), w₃₁ is the weight into neuron 3
from neuron 1, δ₅ = ∂L/∂z₅. The equations follow graph.py's docstring term by term, so a note never
says anything the cell does not compute:
    z₃ = w₃₁·x₁ + w₃₂·x₂ + b₃          a₃ = σ(z₃)
    δ₅ = (a₅ − t₁)·a₅(1 − a₅)           δ₃ = (w₅₃·δ₅ + w₆₃·δ₆)·a₃(1 − a₃)
    ∂L/∂w₅₃ = δ₅ · a₃                   w₃₁ (next row) = w₃₁ − η·∂L/∂w₃₁
"""

from __future__ import annotations

from dataclasses import dataclass

from sheetnet.equations import labels
from sheetnet.model import ids
from sheetnet.model.spec import Spec

MAX_TERMS = 4  # longer sums show their first two terms, "…" and the last one


def collapse(terms: list[str], joiner: str = " + ") -> str:
    """`t1 + t2 + … + tn` when there are more than MAX_TERMS terms (a 784-input neuron stays short)."""
    if len(terms) > MAX_TERMS:
        terms = [*terms[:2], "…", terms[-1]]
    return joiner.join(terms)


@dataclass(frozen=True)
class Notation:
    """Symbols and equations of one spec; `layer` counts from 0 = the first layer after the input."""

    spec: Spec
    words: dict[str, str]

    # --- symbols ---------------------------------------------------------------------------

    def number(self, layer: int, j: int) -> int:
        """The neuron's number through the network (layer −1 is the input)."""
        return labels.neuron_number(self.spec, layer + 1, j + 1)

    def a(self, layer: int, j: int) -> str:
        """a₃ for a neuron, x₁ for an input (layer −1)."""
        return labels.neuron_label(self.spec, layer, j)

    def z(self, layer: int, j: int) -> str:
        return "z" + labels.sub(self.number(layer, j))

    def delta(self, layer: int, j: int) -> str:
        return "δ" + labels.sub(self.number(layer, j))

    def w(self, layer: int, j: int, i: int) -> str:
        return labels.label(self.spec, ids.weight(layer, j, i))

    def b(self, layer: int, j: int) -> str:
        return labels.label(self.spec, ids.bias(self.spec, layer, j))

    def t(self, j: int) -> str:
        return labels.target_label(j)

    # --- pieces ----------------------------------------------------------------------------

    def activation(self, layer: int, j: int) -> str:
        z = self.z(layer, j)
        act = self.spec.activations[layer]
        if act == "softmax":  # e^z₅/(e^z₅ + e^z₆): the textbook form; the cell subtracts max(z)
            exps = [f"e^{self.z(layer, i)}" for i in range(self.spec.sizes[layer + 1])]
            return f"e^{z}/({collapse(exps)})"
        return {"sigmoid": f"σ({z})", "tanh": f"tanh({z})", "relu": f"max(0, {z})",
                "leaky_relu": f"max(α·{z}, {z})", "linear": z}[act]

    def derivative(self, layer: int, j: int) -> str | None:
        """f′(z) written with a = f(z) where the tutorials do; None for a linear neuron (f′ = 1)."""
        a, act = self.a(layer, j), self.spec.activations[layer]
        if act == "sigmoid":
            return f"{a}(1 − {a})"
        if act == "tanh":
            return f"(1 − {a}²)"
        if act == "relu":
            return self.words["note.relu_step"].format(z=self.z(layer, j))
        if act == "leaky_relu":
            return self.words["note.leaky_step"].format(z=self.z(layer, j))
        return None

    def _samples(self, body: str) -> str:
        """Wrap a per-sample expression in the mean or sum over samples, as the workbook does."""
        n = self.spec.slots
        if n == 1:
            return body
        prefix = f"(1/{n})·Σₖ " if self.spec.reduction == "mean" else "Σₖ "
        bracketed = body.startswith(("[", "½·["))  # already one group: Σₖ ½·[…], Σₖ […]/n
        return prefix + (f"[{body}]" if " + " in body and not bracketed else body)

    # --- equations, one per kind of column --------------------------------------------------

    def weighted_sum(self, layer: int, j: int) -> str:
        terms = [f"{self.w(layer, j, i)}·{self.a(layer - 1, i)}" for i in range(self.spec.sizes[layer])]
        bias = f" + {self.b(layer, j)}" if self.spec.bias != "none" else ""
        return f"{self.z(layer, j)} = {collapse(terms)}{bias}"  # the bias stays when terms collapse

    def output(self, layer: int, j: int) -> str:
        return f"{self.a(layer, j)} = {self.activation(layer, j)}"

    def sample_loss(self) -> str:
        """A classification loss of one sample, in its textbook form (in a's, as tutorials write it)."""
        spec = self.spec
        last, n_out = spec.n_layers - 1, spec.sizes[-1]
        if spec.loss == "cross_entropy":
            terms = [f"{self.t(j)}·ln {self.a(last, j)}" for j in range(n_out)]
        else:
            terms = [f"{self.t(j)}·ln {self.a(last, j)} + (1 − {self.t(j)})·ln(1 − {self.a(last, j)})"
                     for j in range(n_out)]
        return f"−({collapse(terms)})" if len(terms) > 1 or spec.loss != "cross_entropy" \
            else f"−{terms[0]}"

    def loss(self) -> str:
        spec = self.spec
        if spec.classifies:
            n = spec.slots
            if n == 1:
                return "L = " + self.sample_loss()
            prefix = f"(1/{n})·" if spec.reduction == "mean" else ""
            return f"L = {prefix}(L⁽¹⁾ + … + L⁽{labels.sup(n)}⁾)" if n > 2 \
                else f"L = {prefix}(L⁽¹⁾ + L⁽²⁾)"
        last, n_out = spec.n_layers - 1, spec.sizes[-1]
        squares = collapse([f"({self.a(last, j)} − {self.t(j)})²" for j in range(n_out)])
        grouped = f"[{squares}]" if n_out > 1 else squares
        body = {"half_sse": f"½·{grouped}", "sse": squares, "mse": f"{grouped}/{n_out}"}[spec.loss]
        return "L = " + self._samples(body)

    def output_delta(self, j: int) -> str:
        spec = self.spec
        last = spec.n_layers - 1
        if spec.classifies:  # f′ cancels against the loss's derivative (see the Guide)
            return f"{self.delta(last, j)} = {self.a(last, j)} − {self.t(j)}"
        factor = {"half_sse": "", "sse": "2·", "mse": f"(2/{spec.sizes[-1]})·"}[spec.loss]
        error = f"({self.a(last, j)} − {self.t(j)})"
        parts = [factor + error, self.derivative(last, j)]
        return f"{self.delta(last, j)} = " + "·".join(p for p in parts if p)

    def hidden_delta(self, layer: int, j: int) -> str:
        back = [f"{self.w(layer + 1, h, j)}·{self.delta(layer + 1, h)}"
                for h in range(self.spec.sizes[layer + 2])]
        summed = collapse(back)
        derivative = self.derivative(layer, j)
        if derivative is None:
            return f"{self.delta(layer, j)} = {summed}"
        grouped = f"({summed})" if len(back) > 1 else summed
        return f"{self.delta(layer, j)} = {grouped}·{derivative}"

    def delta_equation(self, layer: int, j: int) -> str:
        if layer == self.spec.n_layers - 1:
            return self.output_delta(j)
        return self.hidden_delta(layer, j)

    def weight_gradient(self, layer: int, j: int, i: int) -> str:
        w, z = self.w(layer, j, i), self.z(layer, j)
        product = f"{self.delta(layer, j)} · {self.a(layer - 1, i)}"
        if self.spec.slots > 1:  # the chain rule holds per sample; the sum is over samples
            return f"∂L/∂{w} = " + self._samples(product)
        return f"∂L/∂{w} = ∂L/∂{z} · ∂{z}/∂{w} = {product}"

    def bias_gradient(self, layer: int, j: int | None) -> str:
        """∂L/∂b₃ = δ₃; a shared bias (j None) sums the δ of its whole layer."""
        neurons = range(self.spec.sizes[layer + 1]) if j is None else [j]
        b = self.b(layer, 0 if j is None else j)
        return f"∂L/∂{b} = " + self._samples(collapse([self.delta(layer, h) for h in neurons]))

    def update(self, symbol: str) -> str:
        return f"{symbol}{self.words['note.next_row']} = {symbol} − η·∂L/∂{symbol}"


def column_notes(spec: Spec, words: dict[str, str]) -> dict[str, str]:
    """The note of every Training column, by id: what the column is, then its equation."""
    nt = Notation(spec, words)
    result = {"iter": words["note.iter"], "loss": _join(words["note.loss"], nt.loss(), _sample_line(nt))}
    result.update(_schedule_notes(nt))
    if spec.classifies:
        result.update(_classification_notes(nt))
    result.update(_parameter_notes(nt))
    for k in range(spec.slots):
        result.update(_neuron_notes(nt, k))
    result.update(_gradient_notes(nt))
    return result


def _join(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)


def _sample_line(nt: Notation) -> str | None:
    n = nt.spec.slots
    if n == 1:
        return None
    return nt.words["note.samples" if nt.spec.mode == "batch" else "note.batch_samples"].format(n=n)


def _sample_word(nt: Notation, k: int) -> str:
    if nt.spec.slots == 1:
        return ""
    return nt.words["note.of_sample"].format(sample=labels.sample_word(nt.spec, nt.words).format(k=k + 1))


def _schedule_notes(nt: Notation) -> dict[str, str]:
    """The epoch and sample-number columns of sgd/minibatch mode."""
    qids = ids.schedule(nt.spec)
    note = nt.words["note.sample"].format(network=nt.words["sheet.network"])
    return {qid: nt.words["note.epoch"] if qid == "epoch" else note for qid in qids}


def _classification_notes(nt: Notation) -> dict[str, str]:
    """Each sample's loss (textbook form, then how the cell computes it stably) and the accuracy."""
    spec, words = nt.spec, nt.words
    stable = words["note.stable" if spec.loss == "cross_entropy" else "note.stable_bce"]
    result = {}
    if spec.slots == 1:
        result["loss"] = _join(words["note.loss"], nt.loss(), stable)
    for k in range(spec.slots if spec.slots > 1 else 0):
        result[ids.sample_loss(k)] = _join(words["note.sample_loss"].format(k=k + 1),
                                           f"L⁽{labels.sup(k + 1)}⁾ = " + nt.sample_loss(), stable)
    rule = words["note.accuracy_threshold" if spec.sizes[-1] == 1 else "note.accuracy_max"]
    result[ids.ACCURACY] = _join(words["note.accuracy"], rule)
    return result


def _parameter_notes(nt: Notation) -> dict[str, str]:
    spec, words = nt.spec, nt.words
    result = {}
    for layer in range(spec.n_layers):
        for j in range(spec.sizes[layer + 1]):
            for i in range(spec.sizes[layer]):
                w = nt.w(layer, j, i)
                result[ids.weight(layer, j, i)] = _join(words["note.param"], nt.update(w),
                                                        words["note.first_row"])
        for j, qid in enumerate(ids.bias_ids(spec, layer)):
            b = nt.b(layer, j)
            if spec.trains_bias:
                result[qid] = _join(words["note.param"], nt.update(b), words["note.first_row"])
            else:
                result[qid] = words["note.param_fixed"].format(b=b)
    return result


def _neuron_notes(nt: Notation, k: int) -> dict[str, str]:
    spec, words = nt.spec, nt.words
    sample = _sample_word(nt, k)
    result = {}
    for layer in range(spec.n_layers):
        for j in range(spec.sizes[layer + 1]):
            n = nt.number(layer, j)
            result[ids.neuron("z", layer, j, k, spec)] = _join(
                words["note.z"].format(n=n, sample=sample), nt.weighted_sum(layer, j))
            softmax = words["note.softmax"] if spec.activations[layer] == "softmax" else None
            result[ids.neuron("a", layer, j, k, spec)] = _join(
                words["note.a"].format(n=n, sample=sample), nt.output(layer, j), softmax)
            kind = "note.delta_out" if layer == spec.n_layers - 1 else "note.delta_hidden"
            result[ids.neuron("delta", layer, j, k, spec)] = _join(
                words[kind].format(n=n, sample=sample), nt.delta_equation(layer, j))
    return result


def _gradient_notes(nt: Notation) -> dict[str, str]:
    spec, words = nt.spec, nt.words
    result = {}
    for layer in range(spec.n_layers):
        for j in range(spec.sizes[layer + 1]):
            for i in range(spec.sizes[layer]):
                result[ids.weight(layer, j, i, "dW")] = _join(
                    words["note.grad_w"], nt.weight_gradient(layer, j, i), _sample_line(nt))
        if spec.trains_bias:
            shared = spec.bias == "shared"
            for j, qid in enumerate(ids.bias_ids(spec, layer, "db")):
                result[qid] = _join(words["note.grad_b"], nt.bias_gradient(layer, None if shared else j),
                                    _sample_line(nt))
    return result



def _columns(line: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in line)  # CJK characters are twice as wide


def comment_options(note: str) -> dict[str, object]:
    """Size a cell note to its text (XlsxWriter's default box is 128 × 74 px, too small)."""
    lines = note.split("\n")
    width = min(max(220, 7 * max(map(_columns, lines)) + 16), 520)
    wrapped = sum(1 + 7 * _columns(line) // (width - 16) for line in lines)
    return {"width": width, "height": 18 * wrapped + 12, "font_name": "Calibri", "font_size": 10}
