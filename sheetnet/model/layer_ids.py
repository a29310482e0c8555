"""Column ids of a network of layers (spec.layered), and their order on the Training sheet.

Layers are numbered from 1 in the order of [[network.layers]] (pooling and flatten count too);
every index counts from 1, in torch's order of the axes; `@k` names batch slot k and appears
only when a row computes several samples (spec.slots > 1), as for dense networks. Every group
below is listed in C order (the last index fastest), which is also torch's flatten order.

Parameters (one set per row, before the forward pass), l the layer's number:

    conv2d      K{l}[c,i,u,v]   kernel: out channel c, in channel i, row u, column v
                b{l}[c]         bias of out channel c
    dense       W{l}[j,i]       weight into unit j from input i (as for dense networks)
                b{l}[j]
    rnn         Wx{l}[j,i]      torch's weight_ih: into unit j from feature i
                Wh{l}[j,m]      torch's weight_hh: into unit j from unit m of h_{t−1}
                b{l}[j]         (one bias: torch's b_ih + b_hh)
    attention   Wq{l}[d,i], Wk{l}[d,i], Wv{l}[d,i]   row d of Q, K, V from feature i
    layernorm   g{l}[j]         gain γ
                b{l}[j]         bias β

Forward, per sample (each listed with its shape):

    conv2d      z{l}[c,r,s]     Σ_i Σ_u Σ_v K[c,i,u,v]·x[i,r+u−1,s+v−1] + b[c]      [C,H',W']
                a{l}[c,r,s]     f(z)
    maxpool2d   m{l}[c,r,s]     arg-max: position 1..size² in its window, row-major, the first
                                maximum on a tie (as torch)
                a{l}[c,r,s]     the window's maximum
    avgpool2d   a{l}[c,r,s]     the window's mean
    flatten     (no columns: its output n is the layer before's in C order; output_ids says
                which columns those are)
    dense       z{l}[j], a{l}[j]
    rnn         z{l}[t,j]       Σ_i Wx[j,i]·x[t,i] + Σ_m Wh[j,m]·h[t−1,m] + b[j], h[0] = 0
                h{l}[t,j]       f(z[t,j]); the layer's output is h[T,·] (output_ids)
    attention   Q{l}[t,d], K{l}[t,d], V{l}[t,d]   X·Wqᵀ, X·Wkᵀ, X·Wvᵀ
                S{l}[t,u]       Q[t]·K[u]/√dim, every score (causal: the mask applies in P)
                P{l}[t,u]       softmax of row t of S (causal: 0 for u > t)
                a{l}[t,d]       Σ_u P[t,u]·V[u,d]
    layernorm   mu{l}[t]        the mean over the last axis (mu{l} alone for a vector input)
                var{l}[t]       the biased variance
                n{l}[t,j]       (x[t,j] − mu[t]) / √(var[t] + 1e-5)
                a{l}[t,j]       g[j]·n[t,j] + b[j]
    meanpool    a{l}[j]         the mean over the steps

Loss: exactly as for dense networks (ids.losses): `loss`, and for classification losses each
slot's `loss@k` and `correct@k` (with several slots) and `accuracy`.

Backward, per sample, from the last layer back; δ is ∂(the sample's loss)/∂z, `da` ∂/∂a:

    dense       delta{l}[j]     the output layer as for dense networks (a − t for the
                                classification pairs); a hidden one da{l}[j]·f′(z[j])
    conv2d      delta{l}[c,r,s] da{l}[c,r,s]·f′(z[c,r,s])
    rnn         delta{l}[t,j]   BPTT: (da{l}[j] at t = T, Σ_m Wh[m,j]·delta[t+1,m] before)·f′(z[t,j])
    attention   dP{l}[t,u]      Σ_d da[t,d]·V[u,d]
                dV{l}[u,d]      Σ_t P[t,u]·da[t,d]
                dS{l}[t,u]      P[t,u]·(dP[t,u] − Σ_w P[t,w]·dP[t,w])   (the row softmax's Jacobian)
                dQ{l}[t,d]      Σ_u dS[t,u]·K[u,d]/√dim
                dK{l}[u,d]      Σ_t dS[t,u]·Q[t,d]/√dim
    layernorm   dn{l}[t,j]      da{l}[t,j]·g[j]
    maxpool2d, avgpool2d, flatten, meanpool: nothing of their own.
    Then, unless the layer reads the input x: da{m}[…] = ∂L/∂(the output of layer m), where m
    is the layer whose columns hold this layer's input (the one before, or the one before a
    flatten): for dense Wᵀδ, conv2d the full correlation of δ with K, max-pool δ routed to its
    arg-max, avg-pool δ/size², rnn Σ_j Wx[j,i]·delta[t,j], attention Σ_d dQ·Wq + dK·Wk + dV·Wv,
    layernorm (dn − mean(dn) − n·mean(dn·n))/√(var + 1e-5), meanpool da/T.

Gradients: `d` before each parameter's id (dK1[c,i,u,v], dWx2[j,i], dg3[j], …), in the order of
the parameters, each Σ over the row's samples (times 1/B for reduction = "mean").

Optimizer state: as for dense networks (ids.optimizer), `m:K1[1,1,1,1]` etc. for every parameter.

Parts of a long sum (Excel allows 8,192 characters a formula): a sum of more than MAX_TERMS
terms is split into P = ⌈N/MAX_TERMS⌉ partial sums of ⌈N/P⌉ consecutive terms each (the last
may hold fewer), each a column of its own, and the quantity's cell adds the parts:

    conv2d      z{l}[c,r,s]#p   part p of Σ_i,u,v K[c,i,u,v]·x[i,r+u−1,s+v−1], terms in C order
                                of (i,u,v); z = Σ_p z#p + b[c]; with several samples a row the
                                slot comes last: z1[2,3,4]#1@2
    dense       z{l}[j]#p       part p of Σ_i W[j,i]·x[i]; z = Σ_p z#p + b[j]
    rnn         z{l}[t,j]#p     part p of the features' products Wx[j,i]·x[t,i], then the units'
                                Wh[j,m]·h[t−1,m] (absent at t = 1, so a part there may be 0)
    attention   Q{l}[t,d]#p, K{l}[t,d]#p, V{l}[t,d]#p   part p of Σ_i x[t,i]·W[d,i]
    gradients   dK1[c,i,u,v]#p, dW4[j,i]#p, …  part p of the gradient's terms, sample by sample
                                (k first), within a sample in the order of its sum: conv2d (r,s)
                                of the feature map; rnn the steps t (Wh: from t = 2); attention
                                the steps t; layernorm the rows of its input; dense one term;
                                the gradient = Σ_p d…#p (times 1/B for reduction = "mean")

A group's parts (every index in C order, the part fastest) stand just before the group: the
z parts before z, the gradients' parts at the end of the backward block, before the gradients.

Note that `K` names a conv2d kernel (four indices) and an attention layer's keys (two indices,
per sample), and `dK` their gradient and ∂L/∂K; the layer's number tells them apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sheetnet.model.layers import param_shapes

if TYPE_CHECKING:
    from sheetnet.model.spec import Spec

Shape = tuple[int, ...]

# The id prefix of each parameter, by kind and torch's name.
PARAM_PREFIX: dict[tuple[str, str], str] = {
    ("conv2d", "weight"): "K", ("conv2d", "bias"): "b",
    ("dense", "weight"): "W", ("dense", "bias"): "b",
    ("rnn", "weight_ih"): "Wx", ("rnn", "weight_hh"): "Wh", ("rnn", "bias"): "b",
    ("attention", "wq"): "Wq", ("attention", "wk"): "Wk", ("attention", "wv"): "Wv",
    ("layernorm", "gain"): "g", ("layernorm", "bias"): "b",
}
INPUT = -1  # the layer index of the network's input x (output_source of a first layer)
# The most terms one formula sums before the sum is split into parts (columns of their own). A
# term is at most a product of two references, one of which may be an INDEX into the Network
# sheet's data (sgd, minibatch): about 60 characters, so 64 terms stay near half of Excel's 8,192
# characters wherever the columns land; the templates' sums are all far shorter.
MAX_TERMS = 64
PART = "#"  # z1[2,3,4]#1: part 1 of the sum that makes z1[2,3,4]


def text(prefix: str, layer: int | None, index: tuple[int, ...], k: int | None) -> str:
    """The id of one quantity: prefix, layer number (from 1), [indices from 1], @slot (from 1).

    layer, index and k count from 0 here; the same text as str(ids.Qid(...)).
    """
    body = prefix + ("" if layer is None else str(layer + 1))
    if index:
        body += "[" + ",".join(str(i + 1) for i in index) + "]"
    return body + ("" if k is None else f"@{k + 1}")


@dataclass(frozen=True)
class Group:
    """A block of columns: one quantity of one layer, every index of `shape` in C order.

    A group of parts (parts = True) holds the partial sums of the quantity: the last axis of
    its shape is the part, written after the id as `#p` (z1[2,3,4]#1)."""

    prefix: str
    layer: int  # 0-based; the id shows layer + 1
    shape: Shape
    param: str = ""  # a parameter group: torch's name of the parameter
    parts: bool = False

    def ids(self, k: int | None = None) -> list[str]:
        if self.parts:
            return [part_id(text(self.prefix, self.layer, index[:-1], k), index[-1])
                    for index in indices(self.shape)]
        return [text(self.prefix, self.layer, index, k) for index in indices(self.shape)]

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def indices(shape: Shape) -> Iterator[tuple[int, ...]]:
    """Every index of shape in C order (one empty index for a scalar)."""
    return itertools.product(*(range(n) for n in shape))


def part_id(qid: str, p: int) -> str:
    """Part p (from 0) of the sum that makes qid: z1[2,3,4] → z1[2,3,4]#1, z4[1]@2 → z4[1]#1@2."""
    body, at, k = qid.partition("@")
    return f"{body}{PART}{p + 1}{at}{k}"


def split(n_terms: int) -> list[range]:
    """The parts of a sum of n_terms terms, as ranges of term numbers: none (one formula) up to
    MAX_TERMS terms, else P = ⌈n/MAX_TERMS⌉ runs of ⌈n/P⌉ consecutive terms (the last may be
    shorter). The equations and the reference both split by this."""
    if n_terms <= MAX_TERMS:
        return []
    count = -(-n_terms // MAX_TERMS)
    size = -(-n_terms // count)
    return [range(start, min(start + size, n_terms)) for start in range(0, n_terms, size)]


def slot(spec: Spec, k: int) -> int | None:
    """The @k of a per-sample id: none when a row computes one sample."""
    return k if spec.slots > 1 else None


# --- the groups ----------------------------------------------------------------------------


def param_groups(spec: Spec) -> list[Group]:
    """Every parameter, layer by layer, in the order of [[init.layers]]."""
    return [Group(PARAM_PREFIX[(layer.kind, name)], n, shape, name)
            for n, layer in enumerate(spec.layers)
            for name, shape in param_shapes(layer).items()]


def forward_groups(spec: Spec, n: int) -> list[Group]:
    """Layer n's forward columns of one sample."""
    layer = spec.layers[n]
    out = layer.out_shape
    kind = layer.kind
    if kind in ("conv2d", "dense"):
        return [*_parts(Group("z", n, out), sum_terms(spec, n)), Group("z", n, out), Group("a", n, out)]
    if kind == "maxpool2d":
        return [Group("m", n, out), Group("a", n, out)]
    if kind in ("avgpool2d", "meanpool"):
        return [Group("a", n, out)]
    if kind == "rnn":
        steps = (layer.in_shape[0], layer.size)
        return [*_parts(Group("z", n, steps), sum_terms(spec, n)), Group("z", n, steps), Group("h", n, steps)]
    if kind == "attention":
        t = layer.in_shape[0]
        projections = [g for name in "QKV" for g in (*_parts(Group(name, n, out), sum_terms(spec, n)),
                                                      Group(name, n, out))]
        return [*projections, Group("S", n, (t, t)), Group("P", n, (t, t)), Group("a", n, out)]
    if kind == "layernorm":
        lead = out[:-1]
        return [Group("mu", n, lead), Group("var", n, lead), Group("n", n, out), Group("a", n, out)]
    return []  # flatten


def backward_groups(spec: Spec, n: int) -> list[Group]:
    """Layer n's backward columns of one sample, then ∂L/∂ of its input's columns (da)."""
    layer = spec.layers[n]
    kind, out = layer.kind, layer.out_shape
    own: list[Group] = []
    if kind in ("conv2d", "dense"):
        own = [Group("delta", n, out)]
    elif kind == "rnn":
        own = [Group("delta", n, (layer.in_shape[0], layer.size))]
    elif kind == "attention":
        t = layer.in_shape[0]
        own = [Group("dP", n, (t, t)), Group("dV", n, out), Group("dS", n, (t, t)),
               Group("dQ", n, out), Group("dK", n, out)]
    elif kind == "layernorm":
        own = [Group("dn", n, out)]
    if kind == "flatten":
        return own
    source = output_source(spec, n - 1)
    if source == INPUT:
        return own
    return [*own, Group("da", source, spec.layers[source].out_shape)]


def _parts(group: Group, n_terms: int) -> list[Group]:
    """The group of group's parts when its sums have more than MAX_TERMS terms, else none."""
    count = len(split(n_terms))
    if not count:
        return []
    return [Group(group.prefix, group.layer, (*group.shape, count), group.param, parts=True)]


def sum_terms(spec: Spec, n: int) -> int:
    """How many products layer n's z sums, bias apart: conv2d in channels × kernel², dense
    inputs, rnn features + units (at t = 1 the units' terms are absent: h₀ = 0), and each of
    attention's Q, K, V features."""
    layer = spec.layers[n]
    if layer.kind == "conv2d":
        return layer.in_shape[0] * layer.kernel * layer.kernel
    if layer.kind == "rnn":
        return layer.in_shape[1] + layer.size
    if layer.kind == "attention":
        return layer.in_shape[1]
    size = 1
    for d in layer.in_shape:
        size *= d
    return size


def gradient_terms(spec: Spec, group: Group) -> int:
    """How many terms the gradient of a parameter group sums over the row's samples (the order
    of the docstring's table)."""
    layer = spec.layers[group.layer]
    kind, name = layer.kind, group.param
    if kind == "conv2d":
        per_sample = layer.out_shape[1] * layer.out_shape[2]
    elif kind == "rnn":
        steps = layer.in_shape[0]
        per_sample = steps - 1 if name == "weight_hh" else steps
    elif kind == "attention":
        per_sample = layer.in_shape[0]
    elif kind == "layernorm":
        per_sample = 1
        for d in layer.in_shape[:-1]:
            per_sample *= d
    else:  # dense
        per_sample = 1
    return spec.slots * per_sample


def gradient_part_groups(spec: Spec) -> list[Group]:
    """The parts of every gradient whose sum is split, in the order of the parameters."""
    return [part for g in param_groups(spec)
            for part in _parts(Group("d" + g.prefix, g.layer, g.shape, g.param), gradient_terms(spec, g))]


def output_source(spec: Spec, n: int) -> int:
    """The layer whose columns hold layer n's output: n itself, the layer before a flatten
    (repeatedly), or INPUT for the network's input x."""
    while n >= 0 and spec.layers[n].kind == "flatten":
        n -= 1
    return n


# --- ids of a layer's output and its gradient, in C order of the layer's output shape -----------


def output_ids(spec: Spec, n: int, k: int) -> list[str]:
    """The columns (or for the input, the Network sheet's keys x[i]) holding layer n's output
    for slot k (0-based), in C order: a flatten's are its source's, an rnn's are h[T,·]."""
    source = output_source(spec, n)
    s = slot(spec, k)
    if source == INPUT:
        return [text("x", None, (i,), s) for i in range(spec.sizes[0])]
    layer = spec.layers[source]
    if layer.kind == "rnn":
        last = layer.in_shape[0] - 1
        return [text("h", source, (last, j), s) for j in range(layer.size)]
    return Group("a", source, layer.out_shape).ids(s)


def input_ids(spec: Spec, n: int, k: int) -> list[str]:
    """The columns holding layer n's input for slot k, in C order of layer n's in_shape."""
    return output_ids(spec, n - 1, k)


def grad_output_ids(spec: Spec, n: int, k: int) -> list[str]:
    """The da columns holding ∂L/∂(layer n's output) for slot k, in C order (none for the last
    layer, whose δ the loss gives)."""
    source = output_source(spec, n)
    if source in (INPUT, len(spec.layers) - 1):
        return []
    return Group("da", source, spec.layers[source].out_shape).ids(slot(spec, k))


# --- the Training sheet's groups, as ids.py lists them for a layered spec --------------------


def params(spec: Spec) -> list[str]:
    return [q for g in param_groups(spec) for q in g.ids()]


def forward(spec: Spec) -> list[str]:
    return [q for k in range(spec.slots) for n in range(len(spec.layers))
            for g in forward_groups(spec, n) for q in g.ids(slot(spec, k))]


def backward(spec: Spec) -> list[str]:
    """Per sample the backward groups from the last layer back, then the gradients' parts."""
    per_sample = [q for k in range(spec.slots) for n in reversed(range(len(spec.layers)))
                  for g in backward_groups(spec, n) for q in g.ids(slot(spec, k))]
    return per_sample + [q for g in gradient_part_groups(spec) for q in g.ids()]


def gradients(spec: Spec) -> list[str]:
    """∂L/∂θ of every parameter (all are trained), in the order of params()."""
    return ["d" + q for q in params(spec)]
