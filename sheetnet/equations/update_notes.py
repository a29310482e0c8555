"""Header notes of the optimizer group and of the parameters it updates, in the seeds' notation.

Each note prints the column's own expression tree (updates.py) with symbols for its leaves, so it
says exactly what the cell computes: m₃₁ = β₁·m₃₁⁽ᵗ⁻¹⁾ + (1 − β₁)·∂L/∂w₃₁, Δw₃₁ = η·b₃₁, …
A superscript ⁽ᵗ⁻¹⁾ marks the row above.
"""

from __future__ import annotations

from sheetnet.equations import graph, labels, textprint, updates
from sheetnet.expr.formula import Cell, Const
from sheetnet.model import ids, optimizers
from sheetnet.model.spec import Spec

ABOVE = "⁽ᵗ⁻¹⁾"


def is_optimizer_leaf(text: str) -> bool:
    """An optimizer column (m:W1[1,1], bc1) or a hyperparameter's Network key (beta1, one_minus_beta1)."""
    return (":" in text or text in ids.BIAS_CORRECTIONS or text in optimizers.SYMBOLS
            or text in updates.COMPLEMENTS.values())


def leaf(text: str) -> Cell | Const:
    """The node of an optimizer leaf's text: a Network key is a Const, a column a Cell."""
    return Const(text) if text in optimizers.SYMBOLS or text in updates.COMPLEMENTS.values() else Cell(text)


def leaf_name(spec: Spec, node: Cell | Const) -> str:
    """η, β₁, (1 − β₁), t, (1 − β₁ᵗ⁺¹), ∂L/∂w₃₁, m₃₁⁽ᵗ⁻¹⁾ …"""
    if isinstance(node, Const):
        if node.key == "lr":
            return "η"
        if node.key in optimizers.SYMBOLS:
            return optimizers.SYMBOLS[node.key]
        field = next(f for f, c in updates.COMPLEMENTS.items() if c == node.key)
        return f"(1 − {optimizers.SYMBOLS[field]})"
    if node.qid == "iter":
        return "t"
    if node.qid in ("bc1", "bc2"):
        return f"(1 − β{labels.sub(node.qid[2])}ᵗ⁺¹)"
    return labels.label(spec, node.qid) + (ABOVE if node.prev else "")


def optimizer_notes(spec: Spec, words: dict[str, str]) -> dict[str, str]:
    """The note of every optimizer column and of every trained parameter, by id."""
    if not spec.has_optimizer_state:
        return {}

    def equation(qid: str, expr: object) -> str:
        return f"{leaf_name(spec, Cell(qid))} = " + textprint.symbolic(expr, lambda n: leaf_name(spec, n))

    decay = words["note.opt.decay"] if spec.weight_decay and spec.optimizer != "adamw" else None
    result = {}
    for column in graph.training_columns(spec):
        if column.group != updates.GROUP:
            continue
        kind = column.qid.partition(":")[0] if ":" in column.qid else "bc"
        if kind == "b" and spec.optimizer == "rmsprop":
            kind = "b_rms"
        lines = [words[f"note.opt.{kind}"], equation(column.qid, column.formula)]
        if column.first is not None:
            lines.append("t = 0: " + equation(column.qid, column.first))
        if decay and kind != "bc":
            lines.append(decay)
        result[column.qid] = "\n".join(lines)
    for qid in ids.trained(spec):
        symbol = labels.label(spec, qid)
        result[qid] = "\n".join((words["note.opt.param"],
                                 f"{symbol}{words['note.next_row']} = {symbol} − Δ{symbol}",
                                 words["note.first_row"]))
    return result
