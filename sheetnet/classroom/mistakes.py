"""The classic slips of a backpropagation hand calculation, each a recomputation of the question's
expression tree with one change, so each generalises to every network:

    sign          the value with the wrong sign
    sigma_prime   δ without its factor f′(z)
    lr_forgotten  θ − ∂L/∂θ (η missing);  lr_twice: θ − η²·∂L/∂θ
    transposed    w_ij read for w_ji (in a weighted sum, a δ, or the answer of the transposed weight)
    half_dropped  ½Σ(y−t)² without the ½ (and δ twice as big);  half_doubled: ¼Σ, δ half as big
    mean_as_sum   a sum over samples or outputs not divided by their number

A network of layers has slips of each kind besides (layer_mistakes.py): kernel_flipped,
maxpool_routed_to_all, maxpool_averaged, maxpool_column_major, softmax_diagonal_forgotten,
bptt_recurrent_dropped, layernorm_mean_term_forgotten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from sheetnet.classroom import layer_mistakes
from sheetnet.classroom.questions import Question, evaluate_on
from sheetnet.equations import graph
from sheetnet.expr.formula import Bin, Cell, Expr, Num, lowered, mul, rewrite
from sheetnet.model.ops import activation
from sheetnet.model.spec import Spec

_NEURON = re.compile(r"^delta(\d+)\[(\d+)\](@\d+)?$")
_WEIGHT = re.compile(r"^(d?W)(\d+)\[(\d+),(\d+)\]$")


def replace(expr: Expr, change: Callable[[Expr], Expr | None]) -> Expr:
    """expr with every node for which change() returns a tree replaced by it (top down).

    The slips are changes to the spreadsheet's arithmetic (a factor, a division, a weight), so
    semantic nodes (sigmoid(z), softmax) are first lowered to the Excel spelling they compute.
    """
    return rewrite(lowered(expr, "excel"), change)


def variants(spec: Spec, q: Question) -> Iterator[tuple[str, Expr]]:
    """(mistake, changed tree) for every slip that applies to this question."""
    if spec.layered:  # the slips of each kind first (layer_mistakes.py), sigma_prime among them
        yield from layer_mistakes.slips(spec, q)
    else:
        yield from _sigma_prime(spec, q)
    if q.group == "update":
        lr = graph.LEARNING_RATE
        yield "lr_forgotten", replace(q.expr, lambda n: Num(1) if n == lr else None)
        yield "lr_twice", replace(q.expr, lambda n: mul(lr, lr) if n == lr else None)
    if spec.loss == "half_sse" and q.group == "loss":
        yield "half_dropped", replace(q.expr, lambda n: Num(1) if n == Num(0.5) else None)
        yield "half_doubled", replace(q.expr, lambda n: Num(0.25) if n == Num(0.5) else None)
    if spec.loss == "half_sse" and q.group == "backward" and _is_output_delta(spec, q.qid):
        yield "half_dropped", mul(Num(2), q.expr)
        yield "half_doubled", mul(Num(0.5), q.expr)
    yield "mean_as_sum", replace(q.expr, _undivided)
    swap = layer_mistakes.transposed_cell if spec.layered else _transposed_cell
    yield "transposed", replace(q.expr, lambda n: swap(spec, n))


def name_mistake(
    spec: Spec,
    q: Question,
    answer: float,
    own: Mapping[str, float],
    key: Mapping[str, float],
    consts: Mapping[str, float],
    close: Callable[[float, float], bool],
) -> str | None:
    """The first slip whose value, from the student's own earlier answers or from the key's, is
    this answer (and is not the right value itself)."""
    right = key[q.key]
    unchanged = lowered(q.expr, "excel")
    for name, changed in variants(spec, q):
        if changed in (q.expr, unchanged):
            continue
        for values in (own, key):
            slipped = evaluate_on(spec, changed, _row0(values), consts)
            if close(answer, slipped) and not close(slipped, right):
                return name
    name, other = _other_key(spec, q)
    if other in key and close(answer, key[other]) and not close(key[other], right):
        return name
    for value in (right, evaluate_on(spec, q.expr, _row0(own), consts)):
        if value != 0 and close(answer, -value):
            return "sign"
    return None


def _row0(values: Mapping[str, float]) -> dict[str, float]:
    return {k[2:]: v for k, v in values.items() if k.startswith("0:")}


def _sigma_prime(spec: Spec, q: Question) -> Iterator[tuple[str, Expr]]:
    m = _NEURON.match(q.qid)
    if q.group != "backward" or not m:
        return
    layer = int(m.group(1)) - 1
    act = spec.activations[layer]
    if act == "softmax" or (spec.classifies and layer == spec.n_layers - 1):
        return  # δ = a − t: the derivative cancels
    neuron = q.qid.removeprefix("delta")  # delta2[1]@3 → z2[1]@3, a2[1]@3
    derivative = activation(act, spec.leaky_slope).excel_derivative(Cell("z" + neuron), Cell("a" + neuron))
    if derivative is None:
        return
    yield "sigma_prime", replace(q.expr, lambda n: Num(1) if n == derivative else None)


def _is_output_delta(spec: Spec, qid: str) -> bool:
    m = _NEURON.match(qid) if not spec.layered else layer_mistakes.OUTPUT_DELTA.match(qid)
    return bool(m) and int(m.group(1)) == (len(spec.layers) if spec.layered else spec.n_layers)


def _other_key(spec: Spec, q: Question) -> tuple[str, str | None]:
    """(slip, key of the question whose right value that slip gives here)."""
    if spec.layered:
        return layer_mistakes.transposed_key(spec, q) or ("transposed", None)
    return "transposed", _transposed_key(spec, q)


def _undivided(node: Expr) -> Expr | None:
    if isinstance(node, Bin) and node.op == "/" and isinstance(node.right, Num):
        n = node.right.value
        if float(n).is_integer() and n > 1:
            return node.left
    return None


def _transposed_cell(spec: Spec, node: Expr) -> Expr | None:
    if not isinstance(node, Cell):
        return None
    m = _WEIGHT.match(node.qid)
    if not m or m.group(3) == m.group(4):
        return None
    kind, layer, j, i = m.groups()
    sizes = spec.sizes[int(layer) - 1], spec.sizes[int(layer)]  # from, to
    if int(i) > sizes[1] or int(j) > sizes[0]:
        return None  # no such weight the other way round
    return Cell(f"{kind}{layer}[{i},{j}]", node.prev)


def _transposed_key(spec: Spec, q: Question) -> str | None:
    swapped = _transposed_cell(spec, Cell(q.qid))
    return f"{q.iter}:{swapped.qid}" if isinstance(swapped, Cell) else None
