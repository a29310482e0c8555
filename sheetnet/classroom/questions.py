"""The questions of an exercise: iteration 1's quantities in the order the Working sheet computes them.

Each question is a Training-sheet quantity (its row `iter` and column `id`) with its expression
tree from equations/graph.py. The same tree gives the key (with the variant's numbers), the value
recomputed from a student's own earlier answers (error carried forward) and, changed in one place,
the value a classic slip would give (mistakes.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheetnet.equations import graph, labels, textprint, updates
from sheetnet.equations.update_notes import leaf_name
from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Cell, Const, Expr, evaluate, rewrite
from sheetnet.memo import remembered
from sheetnet.model import ids, layer_reference
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, model_inputs
from sheetnet.sheets import layered_working, working

# What --ask chooses from, in the order of the calculation.
GROUPS = ("forward", "loss", "backward", "gradients", "update")
_FROM_WORKING = {
    "forward": "forward",
    "loss": "loss",
    "backward": "backward",
    "gradient": "gradients",
    "update": "update",
}


@dataclass(frozen=True)
class Question:
    """One quantity to compute: `iter` is its Training row (1 for a parameter after the update)."""

    iter: int
    qid: str
    group: str
    label: str
    equation: str
    expr: Expr

    @property
    def key(self) -> str:
        """`0:z1[1]`, `1:W1[1,1]`: the gradebook's column header."""
        return f"{self.iter}:{self.qid}"


def parse_groups(text: str | None, allowed: Sequence[str], option: str) -> tuple[str, ...]:
    """A comma-separated list of words from `allowed` (None: all of them), in `allowed`'s order."""
    if text is None:
        return tuple(allowed)
    chosen = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in allowed]
    if unknown or not chosen:
        what = f"unknown word {unknown[0]!r}" if unknown else "no word"
        raise SheetnetError(f"{option}: {what}; choose from: {', '.join(allowed)}")
    return tuple(w for w in allowed if w in chosen)


def questions(spec: Spec, ask: Sequence[str] = GROUPS) -> list[Question]:
    """The asked quantities of iteration 1, in the Working sheet's order.

    Of the loss group only the losses are asked (`loss`, and `loss@k` per sample): the accuracy
    is a count of right predictions, not a step of the calculation.
    """
    return list(_questions(spec, tuple(ask)))


# A class asks for each student's questions three times (student file, key, answers.csv).
@remembered()
def _questions(spec: Spec, ask: tuple[str, ...]) -> tuple[Question, ...]:
    name = leaf_labels(spec)
    lines = [item for item in working.items(spec) if isinstance(item, working.Line)]
    steps = {line.qid: line.expr for line in lines if line.group == "optimizer"}
    result = []
    for item in lines:
        if item.group not in _FROM_WORKING or not _asked_quantity(item):
            continue
        group = _FROM_WORKING[item.group]
        if group not in ask:
            continue
        update = group == "update"
        expr = _inlined(item.expr, steps) if update else item.expr
        label = working.quantity_label(spec, item.qid) + ("′" if update else "")
        result.append(Question(int(update), item.qid, group, label, textprint.symbolic(expr, name), expr))
    return tuple(result)


def _inlined(expr: Expr, steps: Mapping[str, Expr]) -> Expr:
    """An update with the optimizer's first step written in (θ − η·∂L/∂θ for momentum): the
    optimizer's state is no question of its own, and so the update carries a student's own
    gradient forward and shows where η enters."""
    return rewrite(expr, lambda n: _inlined(steps[n.qid], steps)
                   if isinstance(n, Cell) and n.qid in steps else None)


def _asked_quantity(line: working.Line) -> bool:
    return line.group != "loss" or line.qid == "loss" or line.qid.startswith("loss@")


# --- the numbers a tree reads ----------------------------------------------------------------


def constants(spec: Spec) -> dict[str, float]:
    """Every Network-sheet input by Const key: η, the leaky slope, the optimizer's hyperparameters
    (μ, β₁, 1 − β₁, …), x (x̃ when standardised), t and the initial parameters (`init:W1[1,1]`,
    `init:K1[1,1,2,2]`)."""
    values = {graph.LEARNING_RATE.key: spec.learning_rate, graph.LEAKY.key: spec.leaky_slope}
    for key in updates.network_keys(spec):  # the optimizer's hyperparameters: μ, β₁, 1 − β₁, …
        field = next((f for f, c in updates.COMPLEMENTS.items() if c == key), None)
        values[key] = 1 - getattr(spec, field) if field else getattr(spec, key)
    for k, (x, t) in enumerate(zip(model_inputs(spec).tolist(), spec.targets, strict=True)):
        values.update({graph.input_key(i, k).key: float(v) for i, v in enumerate(x)})
        values.update({graph.target_key(j, k).key: float(v) for j, v in enumerate(t)})
    if spec.layered:  # every parameter tensor, flat in the order of its ids
        theta = layer_reference.initial_theta(spec)
        values.update({graph.initial_key(q).key: float(v)
                       for q, v in zip(ids.params(spec), theta, strict=True)})
        return values
    for layer in range(spec.n_layers):
        for j, row in enumerate(spec.weights[layer]):
            for i, w in enumerate(row):
                values[graph.initial_key(ids.weight(layer, j, i)).key] = float(w)
        for qid, b in zip(ids.bias_ids(spec, layer), spec.biases[layer], strict=True):
            values[graph.initial_key(qid).key] = float(b)
    return values


def leaf_labels(spec: Spec) -> Callable[[Cell | Const], str]:
    """How a leaf is named in an equation: η, x₁⁽²⁾, t₁, w₃₁, a₃."""
    K = spec.n_samples
    mark = [labels.sup(f"({k + 1})") if K > 1 else "" for k in range(K)]
    names = {graph.LEARNING_RATE.key: "η", graph.LEAKY.key: "α"}
    names.update({key: leaf_name(spec, Const(key)) for key in updates.network_keys(spec)})
    x_label, t_label = (
        (lambda i: layered_working.input_label(spec, i), layered_working.target_label)
        if spec.layered else (labels.input_label, labels.target_label)
    )
    for k in range(K):
        names.update({graph.input_key(i, k).key: x_label(i) + mark[k] for i in range(spec.sizes[0])})
        names.update({graph.target_key(j, k).key: t_label(j) + mark[k] for j in range(spec.sizes[-1])})

    def name(node: Cell | Const) -> str:
        if isinstance(node, Const):
            if node.key.startswith("init:"):
                return working.quantity_label(spec, node.key[5:])
            return names[node.key]
        return working.quantity_label(spec, node.qid)

    return name


def key_values(spec: Spec, run: pd.DataFrame | None = None) -> dict[str, float]:
    """The expected answer of every quantity of iteration 1 by question key, from the NumPy core.

    run: spec's NumPy run when the caller has it (its rows 0 and 1 are all that is read)."""
    one = run if run is not None else train(dataclasses.replace(spec, iterations=1))  # stays valid
    first, second = one.iloc[0].to_dict(), one.iloc[1].to_dict()
    row0 = {f"0:{q}": float(v) for q, v in first.items() if q != "iter"}
    row1 = {f"1:{q}": float(second[q]) for q in ids.params(spec)}
    return {**row0, **row1}


def tree_values(spec: Spec, qs: Sequence[Question]) -> dict[str, float]:
    """Every question's value computed from its tree with this spec's numbers.

    The trees depend only on the network's shape, so the questions of a template serve all its
    variants; this is the fast way to test many draws (the NumPy core builds a DataFrame each time).
    A quantity is computed when a tree first reads it: softmax's a₅ reads z₆, a later question.
    """
    consts = constants(spec)
    trees = {q.qid: q.expr for q in qs if q.iter == 0}
    row0 = _Computed(lambda qid: evaluate_on(spec, trees[qid], row0, consts))
    return {q.key: row0[q.qid] if q.iter == 0 else evaluate_on(spec, q.expr, row0, consts) for q in qs}


class _Computed(dict):
    """A dict that computes a missing quantity once, when first read."""

    def __init__(self, compute: Callable[[str], float]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, qid: str) -> float:
        self[qid] = value = self._compute(qid)
        return value


def evaluate_on(
    spec: Spec, expr: Expr, quantities: Mapping[str, float], consts: Mapping[str, float]
) -> float:
    """expr's value when the quantities it reads (by id, row 0) have these values; NaN if it fails.

    A parameter read by iteration 1 (or by its update, as the row before) is its initial value.
    """
    params = _params(spec)

    def lookup(node: Cell | Const) -> float:
        if isinstance(node, Const):
            return consts[node.key]
        if node.qid in params:
            return consts[graph.initial_key(node.qid).key]
        return quantities[node.qid]

    try:
        with np.errstate(all="ignore"):
            value = float(evaluate(expr, lookup))
    except (ArithmeticError, ValueError, KeyError, TypeError):
        return math.nan
    return value



_PARAMS: dict[tuple[object, ...], frozenset[str]] = {}


def _params(spec: Spec) -> frozenset[str]:
    """The parameter ids of the spec's shape (kept: every evaluation asks)."""
    layers = tuple((layer.kind, layer.in_shape, layer.out_shape) for layer in spec.layers)
    shape = (spec.sizes, spec.bias, layers)
    if shape not in _PARAMS:
        _PARAMS[shape] = frozenset(ids.params(spec))
    return _PARAMS[shape]
