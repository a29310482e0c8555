"""The Training header notes: what each column is, then its equation printed from the column's tree.

The note printer is textprint's, lowering semantic nodes to the header forms (a₃ = σ(z₃),
e^z₅/(e^z₅ + e^z₆), max(0, z₃)) and naming leaves in the seeds' notation (w₃₁, δ₅, η), so a note
never says anything the cell does not compute. Where a formula sums over the samples of a row
(the loss, the gradients) each leaf carries its sample: (δ₃⁽¹⁾·x₁⁽¹⁾ + δ₃⁽²⁾·x₁⁽²⁾)/2.
"""

from __future__ import annotations

from sheetnet.equations import graph, labels, textprint
from sheetnet.expr.formula import Call, Cell, Const, ConstRange, Expr, lowered, rewrite
from sheetnet.model import ids
from sheetnet.model.ops import E
from sheetnet.model.spec import Spec

NOTE = textprint.Style(max_terms=5, target="note")  # four inputs and a bias in full, then a + b + … + z


def column_notes(spec: Spec, words: dict[str, str]) -> dict[str, str]:
    """The note of every Training column, by id: what the column is, then its equation."""
    # The optimizer group, and the parameters' notes when the optimizer makes their step.
    from sheetnet.equations.update_notes import optimizer_notes

    special = optimizer_notes(spec, words)
    return {column.qid: special[column.qid] if column.qid in special
            else "\n".join(line for line in _lines(spec, words, column) if line)
            for column in graph.training_columns(spec)}


def equation(spec: Spec, words: dict[str, str], column: graph.Column) -> str:
    assert column.formula is not None
    parts = ids.parse(column.qid)
    # The loss and the gradients (and their parts) sum over the samples of the row (a sample's
    # loss does not).
    summed = column.group in ("loss", "gradient") or parts.part is not None
    pooled = summed and spec.slots > 1 and parts.sample is None
    text = _print(spec, words, column.formula, marks=pooled)
    if column.group == "param":
        return f"{_name(spec, column.qid, False)}{words['note.next_row']} = {text}"
    if parts.kind == "dW" and spec.slots == 1:  # the chain rule, as the tutorials write it
        w, z = (_name(spec, str(parts.replace(kind=kind)), False) for kind in ("W", "z"))
        text = f"∂L/∂{z} · ∂{z}/∂{w} = {text}"
    return f"{_name(spec, column.qid, False, words)} = {text}"


def _lines(spec: Spec, words: dict[str, str], column: graph.Column) -> list[str | None]:
    parts, group = ids.parse(column.qid), column.group
    if group == "iter":
        about = {"iter": "note.iter", "epoch": "note.epoch"}.get(column.qid, "note.sample")
        return [words[about].format(network=words["sheet.network"])]
    if group == "param" and column.first is None:  # a fixed bias: a Network cell, no update
        return [words["note.param_fixed"].format(b=_name(spec, column.qid, False))]
    line = equation(spec, words, column)
    if group == "param":
        return [words["note.param"], line, words["note.first_row"]]
    if group in ("forward", "backward"):
        if spec.layered:  # the label says which quantity of which layer; the equation says how
            return [line]
        return [*_neuron_about(spec, words, parts), line]
    rule = words["note.accuracy_threshold" if spec.sizes[-1] == 1 else "note.accuracy_max"]
    if parts.kind == "accuracy":
        return [words["note.accuracy"], rule]
    if parts.kind == "correct":  # 1 when the sample is right: the accuracy is their mean
        return [words["note.sample_correct"].format(k=(parts.sample or 0) + 1), rule]
    about = words[{"loss": "note.loss", "db": "note.grad_b"}.get(parts.kind, "note.grad_w")]
    if parts.kind == "loss" and spec.classifies and (parts.sample is not None or spec.slots == 1):
        if parts.sample is not None:  # one sample's loss, which the cell computes stably
            about = words["note.sample_loss"].format(k=parts.sample + 1)
        return [about, line, words["note.stable" if spec.loss == "cross_entropy" else "note.stable_bce"]]
    return [about, line, _sample_line(spec, words)]


def _neuron_about(spec: Spec, words: dict[str, str], parts: ids.Qid) -> list[str | None]:
    layer, j, k = parts.layer or 0, parts.neuron or 0, parts.sample
    word = "" if k is None else labels.sample_word(spec, words).format(k=k + 1)
    sample = word and words["note.of_sample"].format(sample=word)
    key = {"delta": "note.delta_out" if layer == spec.n_layers - 1 else "note.delta_hidden"}.get(
        parts.kind, f"note.{parts.kind}")
    softmax = parts.kind == "a" and spec.activations[layer] == "softmax"
    return [words[key].format(n=labels.neuron_number(spec, layer + 1, j + 1), sample=sample),
            words["note.softmax"] if softmax else None]


def _sample_line(spec: Spec, words: dict[str, str]) -> str | None:
    key = "note.samples" if spec.mode == "batch" else "note.batch_samples"
    return words[key].format(n=spec.slots) if spec.slots > 1 else None


# --- the note printer's names ---------------------------------------------------------------

_FIXED = {graph.LEARNING_RATE.key: "η", graph.LEAKY.key: "α", E.key: "e"}


def _print(spec: Spec, words: dict[str, str], expr: Expr, *, marks: bool) -> str:
    def name(node: Cell | Const) -> str:
        return _name(spec, node.key if isinstance(node, Const) else node.qid, marks, words)

    def spelled(node: Expr) -> Expr | None:
        """Slot lookups as their slot's x and t; a worded step ([1 if z₃ > 0, else 0], lowered
        to Call(its words key, z)) as one leaf."""
        match node:
            case Call("INDEX", (ConstRange(key), Cell(qid))):
                return Const(f"{key}@{(ids.parse(qid).sample or 0) + 1}")
            case Call(key, (z,)) if key in words:
                return Const("words:" + words[key].format(z=_print(spec, words, z, marks=False)))
        return None

    return textprint.symbolic(rewrite(lowered(expr, "note"), spelled), name, NOTE)


def _name(spec: Spec, text: str, marks: bool, words: dict[str, str] | None = None) -> str:
    """A leaf's symbol (η, α, a worded step, w₃₁, x₁, L⁽²⁾ …), with its sample ⁽ᵏ⁾ when marks;
    words name a part of a long sum in the sheet's language."""
    if text in _FIXED or text.startswith("words:"):
        return _FIXED.get(text, text.removeprefix("words:"))
    from sheetnet.equations import update_notes  # the optimizer's columns and hyperparameters

    if update_notes.is_optimizer_leaf(text):
        return update_notes.leaf_name(spec, update_notes.leaf(text))
    parts = ids.parse(text)
    k = parts.sample
    mark = labels.sup(f"({k + 1})") if k is not None and (marks or parts.kind == "loss") else ""
    if parts.kind in ("x", "t"):
        return (labels.input_label if parts.kind == "x" else labels.target_label)(parts.neuron or 0) + mark
    if parts.kind == "loss":
        return "L" + mark
    if parts.part is not None and words is not None:  # z⁽¹⁾[1] part 1 of 2, 第1/2部分
        return labels.label(spec, str(parts.replace(sample=None)), part_word=words["label.part"]) + mark
    return labels.label(spec, str(parts.replace(sample=None))) + mark
