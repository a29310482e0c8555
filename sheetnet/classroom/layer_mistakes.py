"""The named slips of a network of layers, one family per kind, each the question's expression
tree with one change (or, for a kernel's gradient, the right value written at the wrong index):

    kernel_flipped               conv2d: the kernel rotated 180° (K[c,i,u,v] read as
                                 K[c,i,k+1−u,k+1−v]). Signal-processing courses define a
                                 convolution with the kernel flipped; torch's conv2d is a
                                 cross-correlation and flips nothing. A student who flips computes
                                 z with the rotated kernel, ∂L/∂x (a full convolution, which does
                                 flip) without the flip, and writes ∂L/∂K[u,v] into the rotated place.
    maxpool_routed_to_all        max-pool backward: ∂L/∂(window maximum) given to every position
                                 of the window, not only the arg-max;
    maxpool_averaged             … or shared out as an average pool would (÷ size²).
    maxpool_column_major         the arg-max's position counted down the columns, not along the
                                 rows (torch's order): the wrong position, and the gradient routed there.
    softmax_diagonal_forgotten   attention: ∂L/∂S[t,u] = P[t,u]·(∂L/∂P[t,u] − Σ_w P[t,w]·∂L/∂P[t,w])
                                 without the Jacobian's diagonal term P[t,u]·∂L/∂P[t,u].
    bptt_recurrent_dropped       rnn: δ[t] without Σ_m Wh[m,j]·δ[t+1,m], the path through h[t+1]
                                 (backpropagation through one step only; here δ[t] = 0 for t < T,
                                 as the layer outputs its last h alone).
    layernorm_mean_term_forgotten  layernorm backward without −mean(∂L/∂x̂): μ treated as a
                                 constant, as if it did not depend on x.

The dense slips (mistakes.py) apply too: sigma_prime to every δ with an f′ (conv2d, rnn, dense),
transposed to every square-able weight (W, Wx, Wh, Wq, Wk, Wv), sign, lr_*, mean_as_sum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sheetnet.classroom.questions import Question
from sheetnet.expr.formula import Bin, Call, Cell, Expr, Num, children, div, lowered, rewrite
from sheetnet.model import layer_ids
from sheetnet.model.ops import activation
from sheetnet.model.spec import Spec

_ID = re.compile(r"^(?P<prefix>[A-Za-z]+?)(?P<layer>\d+)\[(?P<index>[\d,]+)\](?:@(?P<slot>\d+))?$")
_MATRICES = ("W", "Wx", "Wh", "Wq", "Wk", "Wv")
OUTPUT_DELTA = re.compile(r"^delta(\d+)\[[\d,]+\](@\d+)?$")  # a layer's δ, its number in group 1


def parse(qid: str) -> tuple[str, int, tuple[int, ...], str] | None:
    """(prefix, layer from 0, index from 1, "@k" or "") of a layered id like `dK1[1,1,2,3]@2`."""
    m = _ID.match(qid)
    if m is None:
        return None
    slot = f"@{m['slot']}" if m["slot"] else ""
    return m["prefix"], int(m["layer"]) - 1, tuple(int(i) for i in m["index"].split(",")), slot


def _parsed_cell(node: Expr) -> tuple[str, int, tuple[int, ...], str] | None:
    """parse() of a cell of the tree; None for any other node or an id that is not layered."""
    return parse(node.qid) if isinstance(node, Cell) else None


def _text(prefix: str, layer: int, index: tuple[int, ...], slot: str = "") -> str:
    return f"{prefix}{layer + 1}[{','.join(map(str, index))}]{slot}"


def slips(spec: Spec, q: Question) -> Iterator[tuple[str, Expr]]:
    """(slip, changed tree) for every layered slip that applies to this question."""
    tree = lowered(q.expr, "excel")
    yield from _sigma_prime(spec, q, tree)
    if q.group == "update":
        return  # θ − η·∂L/∂θ: the dense slips say what can go wrong there
    flipped = rewrite(tree, lambda n: _rotated_kernel(spec, n))
    if flipped != tree:
        yield "kernel_flipped", flipped
    routed = rewrite(tree, _routed_to_all)
    if routed != tree:
        yield "maxpool_routed_to_all", routed
        yield "maxpool_averaged", rewrite(tree, lambda n: _averaged(spec, n))
    parts = parse(q.qid)
    if parts is None:
        return
    prefix, layer, index, slot = parts
    kind = spec.layers[layer].kind
    if prefix == "m" and kind == "maxpool2d":
        yield "maxpool_column_major", _column_major(tree, spec.layers[layer].size)
    if prefix == "dS" and kind == "attention":
        mine = Cell(_text("dP", layer, index, slot))
        yield "softmax_diagonal_forgotten", rewrite(tree, lambda n: Bin("-", Num(0), n.right)
                                                     if isinstance(n, Bin) and n.op == "-" and n.left == mine
                                                     else None)
    if prefix == "delta" and kind == "rnn" and index[0] < spec.layers[layer].in_shape[0]:
        later = {_text("delta", layer, (index[0] + 1, m + 1), slot) for m in range(spec.layers[layer].size)}
        yield "bptt_recurrent_dropped", rewrite(tree, lambda n: Num(0)
                                                 if isinstance(n, Cell) and n.qid in later else None)
    if prefix == "da" and layer + 1 < len(spec.layers) and spec.layers[layer + 1].kind == "layernorm":
        yield "layernorm_mean_term_forgotten", rewrite(tree, lambda n: Num(0) if _mean_of(n, "dn") else None)


def transposed_key(spec: Spec, q: Question) -> tuple[str, str] | None:
    """(slip, question key) when the right value of another question is a slip's answer: a
    kernel's gradient written at the rotated index (kernel_flipped), a weight's gradient or
    update at the transposed one (transposed)."""
    parts = parse(q.qid)
    if parts is None:
        return None
    prefix, layer, index, slot = parts
    param = prefix[1:] if prefix.startswith("d") and q.group == "gradients" else prefix
    if q.group == "gradients" and param == "K" and spec.layers[layer].kind == "conv2d":
        k = spec.layers[layer].kernel
        turned = (index[0], index[1], k + 1 - index[2], k + 1 - index[3])
        return "kernel_flipped", f"{q.iter}:{_text(prefix, layer, turned, slot)}"
    swapped = _swapped(spec, param, layer, index)
    return ("transposed", f"{q.iter}:{_text(prefix, layer, swapped, slot)}") if swapped else None


def transposed_cell(spec: Spec, node: Expr) -> Expr | None:
    """A weight (or its gradient) read at the transposed index, where that weight exists."""
    parts = _parsed_cell(node)
    if parts is None:
        return None
    prefix, layer, index, slot = parts
    param = prefix[1:] if prefix.startswith("d") and prefix[1:] in _MATRICES else prefix
    swapped = _swapped(spec, param, layer, index)
    return Cell(_text(prefix, layer, swapped, slot), node.prev) if swapped and not slot else None


def _swapped(spec: Spec, param: str, layer: int, index: tuple[int, ...]) -> tuple[int, ...] | None:
    if param not in _MATRICES or len(index) != 2 or index[0] == index[1] or layer >= len(spec.layers):
        return None
    names = [name for (kind, name), p in layer_ids.PARAM_PREFIX.items()
             if p == param and kind == spec.layers[layer].kind]
    if not names:
        return None
    rows, cols = spec.layers[layer].param_shape(names[0])
    j, i = index
    return (i, j) if i <= rows and j <= cols else None


def _rotated_kernel(spec: Spec, node: Expr) -> Expr | None:
    """K[c,i,u,v] → K[c,i,k+1−u,k+1−v] for a conv2d kernel cell (the centre stays)."""
    parts = _parsed_cell(node)
    if parts is None:
        return None
    prefix, layer, index, slot = parts
    if prefix != "K" or slot or len(index) != 4 or spec.layers[layer].kind != "conv2d":
        return None
    k = spec.layers[layer].kernel
    return Cell(_text("K", layer, (index[0], index[1], k + 1 - index[2], k + 1 - index[3])), node.prev)


def _pool_route(node: Expr) -> tuple[Cell, Expr] | None:
    """(the arg-max cell, ∂L/∂maximum) of IF(m = position, ∂L/∂maximum, 0), a max-pool's backward."""
    if not (isinstance(node, Call) and node.name == "IF" and len(node.args) == 3):
        return None
    test, routed, other = node.args
    if (isinstance(test, Bin) and test.op == "=" and isinstance(test.left, Cell)
            and test.left.qid.startswith("m") and isinstance(test.right, Num) and other == Num(0)):
        return test.left, routed
    return None


def _routed_to_all(node: Expr) -> Expr | None:
    found = _pool_route(node)
    return found[1] if found else None


def _averaged(spec: Spec, node: Expr) -> Expr | None:
    found = _pool_route(node)
    if found is None:
        return None
    parts = parse(found[0].qid)
    size = spec.layers[parts[1]].size if parts else 1
    return div(found[1], Num(size * size))


def _column_major(node: Expr, size: int) -> Expr:
    """A max-pool's arg-max tree, IF(x₁ = m, 1, IF(x₂ = m, 2, …, size²)), with each position
    counted down the columns instead of along the rows (torch counts row-major)."""
    if isinstance(node, Num):
        u, v = divmod(int(node.value) - 1, size)
        return Num(v * size + u + 1)
    if isinstance(node, Call) and node.name == "IF" and len(node.args) == 3:
        test, position, rest = node.args
        return Call("IF", (test, _column_major(position, size), _column_major(rest, size)))
    return node


def _mean_of(node: Expr, prefix: str) -> bool:
    """Whether node is (Σ of `prefix` cells)/n: layernorm's mean(∂L/∂x̂), not mean(∂L/∂x̂·x̂)."""
    if not (isinstance(node, Bin) and node.op == "/" and isinstance(node.right, Num)):
        return False
    stack, cells = [node.left], 0
    while stack:
        n = stack.pop()
        if isinstance(n, Bin) and n.op == "+":
            stack.extend(children(n))
        elif isinstance(n, Cell) and (parse(n.qid) or ("",))[0] == prefix:
            cells += 1
        else:
            return False
    return cells > 1


def _sigma_prime(spec: Spec, q: Question, tree: Expr) -> Iterator[tuple[str, Expr]]:
    """δ without its factor f′(z), for conv2d, rnn and hidden dense layers."""
    parts = parse(q.qid)
    if q.group != "backward" or parts is None or parts[0] != "delta":
        return
    _, layer, index, slot = parts
    spec_layer = spec.layers[layer]
    last = layer == len(spec.layers) - 1
    if spec_layer.activation == "softmax" or (last and spec.classifies):
        return  # δ = a − t: the derivative cancels
    out = "h" if spec_layer.kind == "rnn" else "a"
    derivative = activation(spec_layer.activation, spec.leaky_slope).excel_derivative(
        Cell(_text("z", layer, index, slot)), Cell(_text(out, layer, index, slot)))
    if derivative is None:
        return
    target = lowered(derivative, "excel")
    yield "sigma_prime", rewrite(tree, lambda n: Num(1) if n == target else None)
