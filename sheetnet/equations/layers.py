"""Training of a layered network (conv2d, pools, flatten, dense, rnn, attention, layernorm,
meanpool) unrolled into Training columns: every forward value, δ, gradient and update a formula.

Per sample k the forward pass runs layer by layer on grids of cells (row-major, torch's shapes);
the backward pass runs the other way, each layer turning ∂L/∂(its output) into ∂L/∂(its input):

    conv2d     z[c,r,s] = Σ_i,u,v K[c,i,u,v]·x[i,r+u,s+v] + b[c]      a = f(z)
               δ = ∂L/∂a·f′(z);  ∂L/∂x[i,p,q] = Σ_c,u,v K[c,i,u,v]·δ[c,p−u,q−v]
    maxpool2d  m = MAX(window), arg = position of the window's first maximum (row-major, as torch)
               ∂L/∂x = ∂L/∂m where the position is arg, else 0;  avgpool2d: ∂L/∂m / size²
    dense      z[j] = Σ_i W[j,i]·x[i] + b[j]                          a = f(z)
    rnn        z[t,j] = Σ_f Wih[j,f]·x[t,f] + Σ_i Whh[j,i]·h[t−1,i] + b[j],  h[t] = f(z[t]), h[−1] = 0
               δ[t,j] = (∂L/∂h[t,j] + Σ_i Whh[i,j]·δ[t+1,i])·f′(z[t,j])   (backpropagation through time)
    attention  Q = X·Wqᵀ, K = X·Wkᵀ, V = X·Wvᵀ, S = Q·Kᵀ/√d, P = softmax of each row of S, O = P·V
               ∂L/∂S[t,u] = P[t,u]·(∂L/∂P[t,u] − Σ_w P[t,w]·∂L/∂P[t,w])  (the row softmax's Jacobian)
    layernorm  μ, σ² over the last axis, x̂ = (x − μ)/√(σ² + ε), y = g·x̂ + b,  ε = 1e-5
               ∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/√(σ² + ε) with ĝ = ∂L/∂y·g
    meanpool   y[d] = Σ_t x[t,d]/T,  ∂L/∂x[t,d] = ∂L/∂y[d]/T

Every gradient is r·Σ_k of the samples' parts (r = 1/K for the mean); the update is any optimizer
of equations/updates.py. A quantity whose id layer_ids lists is a column; any other is written
into the formulas that read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sheetnet.equations import layer_names as layer_ids
from sheetnet.equations import updates
from sheetnet.equations.columns import (
    LEARNING_RATE,
    Column,
    initial_key,
    sample_input,
    sample_target,
)
from sheetnet.expr.formula import Bin, Cell, Expr, Num, add, call, div, mul, sub
from sheetnet.memo import remembered
from sheetnet.model import ids
from sheetnet.model.ops import (
    DEFAULT_OPTIMIZER,
    OPTIMIZERS,
    SOFTMAX,
    activation,
    classification_loss,
    excel_correct,
    squared_loss,
)
from sheetnet.model.spec import Spec

Index = tuple[int, ...]
EPS = 1e-5  # layernorm's ε, torch's default
ZERO = Num(0)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _indices(shape: Sequence[int]) -> Iterator[Index]:
    """Every index of a shape in row-major order (torch's memory order)."""
    if not shape:
        yield ()
        return
    for first in range(shape[0]):
        for rest in _indices(shape[1:]):
            yield (first, *rest)


@dataclass(frozen=True)
class Grid:
    """A tensor of expressions (cells of a sample) in row-major order."""

    shape: tuple[int, ...]
    cells: tuple[Expr, ...]

    def at(self, *index: int) -> Expr:
        flat = 0
        for i, n in zip(index, self.shape, strict=True):
            flat = flat * n + i
        return self.cells[flat]

    def reshaped(self, shape: tuple[int, ...]) -> Grid:
        return Grid(shape, self.cells)

    @classmethod
    def of(cls, shape: tuple[int, ...], make: Callable[[Index], Expr]) -> Grid:
        return cls(shape, tuple(make(index) for index in _indices(shape)))


def _sum(terms: Sequence[Expr]) -> Expr:
    return add(*terms) if terms else ZERO


def _times(*factors: Expr | None) -> Expr:
    """Product of the factors that are not None (None stands for a factor of 1)."""
    return mul(*(f for f in factors if f is not None))


@dataclass
class _Builder:
    """Collects the columns of one spec; `put` makes a quantity a column where its id is one."""

    spec: Spec
    expected: set[str] | None  # the ids that are columns; None: every quantity named
    columns: dict[str, Column] = field(default_factory=dict)
    # Per trainable parameter id, the terms of Σ_k of its gradient, in sample order.
    gradient_terms: dict[str, list[Expr]] = field(default_factory=dict)
    # Per slot, the output layer's saved values and the targets (the loss reads them).
    outputs: dict[int, tuple[_Saved, list[Expr]]] = field(default_factory=dict)

    def put(self, qid: str, group: str, expr: Expr) -> Expr:
        if self.expected is not None and qid not in self.expected:
            return expr
        forward = group in ("forward", "loss")
        self.columns[qid] = Column(qid, group, expr, in_final_row=forward)
        return Cell(qid)

    def grid(self, quantity: str, layer: int, shape: tuple[int, ...], k: int, group: str,
             make: Callable[[Index], Expr]) -> Grid:
        """A grid of quantity (z, a, δ, …) of layer for sample k, each cell a column if listed."""
        return Grid.of(shape, lambda index: self.put(
            layer_ids.quantity(self.spec, quantity, layer, index, k), group, make(index)))

    def gradient(self, param: str, terms: Sequence[Expr]) -> None:
        self.gradient_terms.setdefault(param, []).extend(terms)

    def summed(self, qid: str, group: str, terms: Sequence[Expr | None]) -> Expr:
        """Σ terms, or past layer_ids.MAX_TERMS terms the sum of its parts, each part's
        formula the sum of a run of the terms in a column of its own (qid#1, qid#2, …). A None
        is a term absent here (an rnn's h₀ = 0) that keeps the runs the same at every step."""
        runs = layer_ids.split(len(terms))
        if not runs:
            return _sum([t for t in terms if t is not None])
        return add(*(self.put(layer_ids.part_id(qid, p), group,
                              _sum([t for t in (terms[i] for i in run) if t is not None]))
                     for p, run in enumerate(runs)))


def param(spec: Spec, layer: int, name: str, index: Index) -> Cell:
    return Cell(layer_ids.parameter(spec, layer, name, index))


# --- the layers, forward and backward -------------------------------------------------------


@dataclass
class _Saved:
    """What a layer's backward pass reads from its forward pass, for one sample."""

    x: Grid  # its input
    out: Grid  # its output
    z: Grid | None = None  # pre-activation (conv2d, dense, rnn)
    extra: dict[str, Grid] = field(default_factory=dict)


def _act(spec: Spec, name: str) -> object:
    return activation(name, spec.leaky_slope)


def _apply_activation(b: _Builder, layer: int, name: str, z: Grid, k: int, out: str = "a") -> Grid:
    act = activation(name, b.spec.leaky_slope)
    if act is SOFTMAX:
        return b.grid(out, layer, z.shape, k, "forward",
                      lambda idx: SOFTMAX.of_layer(list(z.cells), idx[0]))
    return b.grid(out, layer, z.shape, k, "forward", lambda idx: act(z.at(*idx)))  # type: ignore[operator]


def _derivative(b: _Builder, name: str, z: Expr, a: Expr) -> Expr | None:
    act = activation(name, b.spec.leaky_slope)
    if act is SOFTMAX:
        raise ValueError("softmax's δ is a − t with cross_entropy; it has no f′")
    return act.excel_derivative(z, a)  # type: ignore[union-attr]


def _conv_forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    n = spec_layer.kernel  # type: ignore[attr-defined]
    channels = spec_layer.channels  # type: ignore[attr-defined]
    c_in, h, w = x.shape
    shape = (channels, h - n + 1, w - n + 1)

    def z(idx: Index) -> Expr:
        c, r, s = idx
        terms = [mul(param(b.spec, layer, "weight", (c, i, u, v)), x.at(i, r + u, s + v))
                 for i in range(c_in) for u in range(n) for v in range(n)]
        qid = layer_ids.quantity(b.spec, "z", layer, idx, k)
        return add(b.summed(qid, "forward", terms), param(b.spec, layer, "bias", (c,)))

    zs = b.grid("z", layer, shape, k, "forward", z)
    a = _apply_activation(b, layer, spec_layer.activation, zs, k)  # type: ignore[attr-defined]
    return _Saved(x, a, zs)


def _delta(b: _Builder, layer: int, spec_layer: object, saved: _Saved, g_out: Grid, k: int) -> Grid:
    """δ = ∂L/∂z = ∂L/∂a·f′(z) of a layer with an activation."""
    assert saved.z is not None
    name = spec_layer.activation  # type: ignore[attr-defined]
    return b.grid("delta", layer, saved.z.shape, k, "backward", lambda idx: _times(
        g_out.at(*idx), _derivative(b, name, saved.z.at(*idx), saved.out.at(*idx))))  # type: ignore[union-attr]


def _conv_backward(b: _Builder, layer: int, spec_layer: object, saved: _Saved, delta: Grid,
                   k: int) -> Grid:
    n = spec_layer.kernel  # type: ignore[attr-defined]
    x = saved.x
    channels, ho, wo = delta.shape
    c_in = x.shape[0]
    for c, i, u, v in _indices((channels, c_in, n, n)):
        b.gradient(layer_ids.parameter(b.spec, layer, "weight", (c, i, u, v)),
                   [mul(delta.at(c, r, s), x.at(i, r + u, s + v)) for r in range(ho) for s in range(wo)])
    for c in range(channels):
        b.gradient(layer_ids.parameter(b.spec, layer, "bias", (c,)),
                   [delta.at(c, r, s) for r in range(ho) for s in range(wo)])

    def g_in(idx: Index) -> Expr:
        i, p, q = idx
        return _sum([mul(param(b.spec, layer, "weight", (c, i, u, v)), delta.at(c, p - u, q - v))
                     for c in range(channels) for u in range(n) for v in range(n)
                     if 0 <= p - u < ho and 0 <= q - v < wo])

    return Grid.of(x.shape, g_in)


def _pool_forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    size = spec_layer.size  # type: ignore[attr-defined]
    c, h, w = x.shape
    shape = (c, h // size, w // size)

    def window(idx: Index) -> list[Expr]:
        ch, r, s = idx
        return [x.at(ch, r * size + u, s * size + v) for u in range(size) for v in range(size)]

    if spec_layer.kind == "avgpool2d":  # type: ignore[attr-defined]
        out = b.grid("a", layer, shape, k, "forward",
                     lambda idx: div(add(*window(idx)), Num(size * size)))
        return _Saved(x, out)
    out = b.grid("a", layer, shape, k, "forward", lambda idx: call("MAX", *window(idx)))

    def first_max(idx: Index) -> Expr:
        """1 … size² for the window's first maximum in row-major order (torch's tie rule)."""
        cells, m = window(idx), out.at(*idx)
        expr: Expr = Num(len(cells))
        for pos in reversed(range(len(cells) - 1)):
            expr = call("IF", Bin("=", cells[pos], m), Num(pos + 1), expr)
        return expr

    arg = b.grid("m", layer, shape, k, "forward", first_max)
    return _Saved(x, out, extra={"arg": arg})


def _pool_backward(b: _Builder, layer: int, spec_layer: object, saved: _Saved, g_out: Grid,
                   k: int) -> Grid:
    size = spec_layer.size  # type: ignore[attr-defined]
    ho, wo = saved.out.shape[1:]

    def g_in(idx: Index) -> Expr:
        c, p, q = idx
        r, s = p // size, q // size
        if r >= ho or s >= wo:
            return ZERO  # a row or column no window covers (torch floors the output size)
        if spec_layer.kind == "avgpool2d":  # type: ignore[attr-defined]
            return div(g_out.at(c, r, s), Num(size * size))
        pos = (p % size) * size + q % size + 1
        return call("IF", Bin("=", saved.extra["arg"].at(c, r, s), Num(pos)), g_out.at(c, r, s), ZERO)

    return Grid.of(saved.x.shape, g_in)


def _dense_forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    x = x.reshaped((_size(x.shape),))
    n = spec_layer.size  # type: ignore[attr-defined]

    def z(idx: Index) -> Expr:
        j = idx[0]
        terms = [mul(param(b.spec, layer, "weight", (j, i)), x.at(i)) for i in range(x.shape[0])]
        qid = layer_ids.quantity(b.spec, "z", layer, idx, k)
        return add(b.summed(qid, "forward", terms), param(b.spec, layer, "bias", (j,)))

    zs = b.grid("z", layer, (n,), k, "forward", z)
    a = _apply_activation(b, layer, spec_layer.activation, zs, k)  # type: ignore[attr-defined]
    return _Saved(x, a, zs)


def _dense_backward(b: _Builder, layer: int, saved: _Saved, delta: Grid, k: int) -> Grid:
    x, n = saved.x, delta.shape[0]
    for j in range(n):
        for i in range(x.shape[0]):
            b.gradient(layer_ids.parameter(b.spec, layer, "weight", (j, i)), [mul(delta.at(j), x.at(i))])
        b.gradient(layer_ids.parameter(b.spec, layer, "bias", (j,)), [delta.at(j)])
    return Grid.of(x.shape, lambda idx: _sum(
        [mul(param(b.spec, layer, "weight", (j, idx[0])), delta.at(j)) for j in range(n)]))


def _rnn_forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    steps, features = x.shape
    n = spec_layer.size  # type: ignore[attr-defined]
    act = activation(spec_layer.activation, b.spec.leaky_slope)  # type: ignore[attr-defined]
    zs: list[Expr] = []
    hs: list[Expr] = []
    for t in range(steps):
        for j in range(n):
            terms: list[Expr | None] = [mul(param(b.spec, layer, "weight_ih", (j, f)), x.at(t, f))
                                        for f in range(features)]
            terms += [mul(param(b.spec, layer, "weight_hh", (j, i)), hs[(t - 1) * n + i]) if t > 0
                      else None for i in range(n)]  # h₀ = 0: no term at the first step
            qid = layer_ids.quantity(b.spec, "z", layer, (t, j), k)
            bias = param(b.spec, layer, "bias", (j,))
            z = b.put(qid, "forward", add(b.summed(qid, "forward", terms), bias))
            zs.append(z)
        for j in range(n):
            h = b.put(layer_ids.quantity(b.spec, "h", layer, (t, j), k), "forward",
                      act(zs[t * n + j]))  # type: ignore[operator]
            hs.append(h)
    h_grid = Grid((steps, n), tuple(hs))
    last = Grid((n,), tuple(hs[(steps - 1) * n:]))
    return _Saved(x, last, Grid((steps, n), tuple(zs)), extra={"h": h_grid})


def _rnn_backward(b: _Builder, layer: int, spec_layer: object, saved: _Saved, g_out: Grid,
                  k: int) -> Grid:
    assert saved.z is not None
    steps, n = saved.z.shape
    h, x = saved.extra["h"], saved.x
    name = spec_layer.activation  # type: ignore[attr-defined]
    deltas: dict[tuple[int, int], Expr] = {}
    for t in reversed(range(steps)):
        for j in range(n):
            back = [mul(param(b.spec, layer, "weight_hh", (i, j)), deltas[t + 1, i])
                    for i in range(n)] if t < steps - 1 else [g_out.at(j)]
            expr = _times(_sum(back), _derivative(b, name, saved.z.at(t, j), h.at(t, j)))
            deltas[t, j] = b.put(layer_ids.quantity(b.spec, "delta", layer, (t, j), k), "backward", expr)
    for j in range(n):
        for f in range(x.shape[1]):
            b.gradient(layer_ids.parameter(b.spec, layer, "weight_ih", (j, f)),
                       [mul(deltas[t, j], x.at(t, f)) for t in range(steps)])
        for i in range(n):
            b.gradient(layer_ids.parameter(b.spec, layer, "weight_hh", (j, i)),
                       [mul(deltas[t, j], h.at(t - 1, i)) for t in range(1, steps)])
        b.gradient(layer_ids.parameter(b.spec, layer, "bias", (j,)), [deltas[t, j] for t in range(steps)])
    return Grid.of(x.shape, lambda idx: _sum(
        [mul(param(b.spec, layer, "weight_ih", (j, idx[1])), deltas[idx[0], j]) for j in range(n)]))


def _allowed(spec_layer: object, t: int, steps: int) -> range:
    """The steps u that step t attends to: all, or u ≤ t with causal = true."""
    return range(t + 1) if getattr(spec_layer, "causal", False) else range(steps)


def _root(dim: int) -> Expr:
    return call("SQRT", Num(dim))


def _attention_forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    steps, features = x.shape
    dim = spec_layer.dim  # type: ignore[attr-defined]
    projections = {}
    def projection(name: str, weight: str, idx: Index) -> Expr:
        terms = [mul(x.at(idx[0], f), param(b.spec, layer, weight, (idx[1], f))) for f in range(features)]
        return b.summed(layer_ids.quantity(b.spec, name, layer, idx, k), "forward", terms)

    for name, weight in (("Q", "wq"), ("K", "wk"), ("V", "wv")):
        projections[name] = b.grid(name, layer, (steps, dim), k, "forward",
                                   lambda idx, name=name, weight=weight: projection(name, weight, idx))
    q, key, v = projections["Q"], projections["K"], projections["V"]

    def score(idx: Index) -> Expr:  # every score; a causal mask applies in P
        t, u = idx
        return div(add(*(mul(q.at(t, d), key.at(u, d)) for d in range(dim))), _root(dim))

    s = b.grid("S", layer, (steps, steps), k, "forward", score)

    def weight(idx: Index) -> Expr:
        t, u = idx
        allowed = _allowed(spec_layer, t, steps)
        if u not in allowed:
            return ZERO
        return SOFTMAX.of_layer([s.at(t, w) for w in allowed], list(allowed).index(u))

    p = b.grid("P", layer, (steps, steps), k, "forward", weight)
    out = b.grid("a", layer, (steps, dim), k, "forward", lambda idx: _sum(
        [mul(p.at(idx[0], u), v.at(u, idx[1])) for u in _allowed(spec_layer, idx[0], steps)]))
    return _Saved(x, out, extra={"Q": q, "K": key, "V": v, "P": p})


def _attention_backward(b: _Builder, layer: int, spec_layer: object, saved: _Saved, g_out: Grid,
                        k: int) -> Grid:
    x, e = saved.x, saved.extra
    steps, features = x.shape
    dim = spec_layer.dim  # type: ignore[attr-defined]
    q, key, v, p = e["Q"], e["K"], e["V"], e["P"]

    def allowed(t: int) -> range:
        return _allowed(spec_layer, t, steps)

    def d_weight(idx: Index) -> Expr:  # every entry, as the reference (masked P makes dS 0)
        t, u = idx
        return add(*(mul(g_out.at(t, d), v.at(u, d)) for d in range(dim)))

    dp = b.grid("dP", layer, (steps, steps), k, "backward", d_weight)

    def d_score(idx: Index) -> Expr:
        t, u = idx
        if u not in allowed(t):
            return ZERO
        weighted = add(*(mul(p.at(t, w), dp.at(t, w)) for w in allowed(t)))
        return mul(p.at(t, u), sub(dp.at(t, u), weighted))

    ds = b.grid("dS", layer, (steps, steps), k, "backward", d_score)
    dq = b.grid("dQ", layer, (steps, dim), k, "backward", lambda idx: div(_sum(
        [mul(ds.at(idx[0], u), key.at(u, idx[1])) for u in allowed(idx[0])]), _root(dim)))
    dk = b.grid("dK", layer, (steps, dim), k, "backward", lambda idx: div(_sum(
        [mul(ds.at(t, idx[0]), q.at(t, idx[1])) for t in range(steps) if idx[0] in allowed(t)]),
        _root(dim)))
    dv = b.grid("dV", layer, (steps, dim), k, "backward", lambda idx: _sum(
        [mul(p.at(t, idx[0]), g_out.at(t, idx[1])) for t in range(steps) if idx[0] in allowed(t)]))
    for weight, grad in (("wq", dq), ("wk", dk), ("wv", dv)):
        for d, f in _indices((dim, features)):
            b.gradient(layer_ids.parameter(b.spec, layer, weight, (d, f)),
                       [mul(grad.at(t, d), x.at(t, f)) for t in range(steps)])
    return Grid.of(x.shape, lambda idx: add(*(
        mul(grad.at(idx[0], d), param(b.spec, layer, weight, (d, idx[1])))
        for d in range(dim) for weight, grad in (("wq", dq), ("wk", dk), ("wv", dv)))))


def _rows(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the rows a layernorm normalises: all but the last axis."""
    return shape[:-1]


def _layernorm_forward(b: _Builder, layer: int, x: Grid, k: int) -> _Saved:
    *rows, d = x.shape
    rows_shape = tuple(rows)
    mean = b.grid("mu", layer, rows_shape, k, "forward",
                  lambda r: div(add(*(x.at(*r, i) for i in range(d))), Num(d)))

    def variance(r: Index) -> Expr:
        deviations = [sub(x.at(*r, i), mean.at(*r)) for i in range(d)]
        return div(add(*(mul(e, e) for e in deviations)), Num(d))

    var = b.grid("var", layer, rows_shape, k, "forward", variance)
    xhat = b.grid("n", layer, x.shape, k, "forward", lambda idx: div(
        sub(x.at(*idx), mean.at(*idx[:-1])), call("SQRT", add(var.at(*idx[:-1]), Num(EPS)))))
    out = b.grid("a", layer, x.shape, k, "forward", lambda idx: add(
        mul(param(b.spec, layer, "gain", (idx[-1],)), xhat.at(*idx)),
        param(b.spec, layer, "bias", (idx[-1],))))
    return _Saved(x, out, extra={"var": var, "xhat": xhat})


def _layernorm_backward(b: _Builder, layer: int, saved: _Saved, g_out: Grid, k: int) -> Grid:
    x, var, xhat = saved.x, saved.extra["var"], saved.extra["xhat"]
    d = x.shape[-1]
    for i in range(d):
        b.gradient(layer_ids.parameter(b.spec, layer, "gain", (i,)),
                   [mul(g_out.at(*r, i), xhat.at(*r, i)) for r in _indices(_rows(x.shape))])
        b.gradient(layer_ids.parameter(b.spec, layer, "bias", (i,)),
                   [g_out.at(*r, i) for r in _indices(_rows(x.shape))])
    g_hat = b.grid("dn", layer, x.shape, k, "backward",
                   lambda idx: mul(g_out.at(*idx), param(b.spec, layer, "gain", (idx[-1],))))

    def g_in(idx: Index) -> Expr:
        r = idx[:-1]
        mean_g = div(add(*(g_hat.at(*r, i) for i in range(d))), Num(d))
        mean_gx = div(add(*(mul(g_hat.at(*r, i), xhat.at(*r, i)) for i in range(d))), Num(d))
        centred = sub(sub(g_hat.at(*idx), mean_g), mul(xhat.at(*idx), mean_gx))
        return div(centred, call("SQRT", add(var.at(*r), Num(EPS))))

    return Grid.of(x.shape, g_in)


def _meanpool_forward(b: _Builder, layer: int, x: Grid, k: int) -> _Saved:
    steps, d = x.shape
    out = b.grid("a", layer, (d,), k, "forward",
                 lambda idx: div(add(*(x.at(t, idx[0]) for t in range(steps))), Num(steps)))
    return _Saved(x, out)


def _forward(b: _Builder, layer: int, spec_layer: object, x: Grid, k: int) -> _Saved:
    kind = spec_layer.kind  # type: ignore[attr-defined]
    if kind == "conv2d":
        return _conv_forward(b, layer, spec_layer, x, k)
    if kind in ("maxpool2d", "avgpool2d"):
        return _pool_forward(b, layer, spec_layer, x, k)
    if kind == "flatten":
        return _Saved(x, x.reshaped((_size(x.shape),)))
    if kind == "dense":
        return _dense_forward(b, layer, spec_layer, x, k)
    if kind == "rnn":
        return _rnn_forward(b, layer, spec_layer, x, k)
    if kind == "attention":
        return _attention_forward(b, layer, spec_layer, x, k)
    if kind == "layernorm":
        return _layernorm_forward(b, layer, x, k)
    if kind == "meanpool":
        return _meanpool_forward(b, layer, x, k)
    raise ValueError(f"unknown layer kind {kind!r}")


def _backward(b: _Builder, layer: int, spec_layer: object, saved: _Saved, g_out: Grid, k: int,
              delta: Grid | None = None) -> Grid:
    """∂L/∂(the layer's input) from ∂L/∂(its output); delta: the output layer's δ, given."""
    kind = spec_layer.kind  # type: ignore[attr-defined]
    if kind in ("conv2d", "dense"):
        delta = delta or _delta(b, layer, spec_layer, saved, g_out, k)
        if kind == "conv2d":
            return _conv_backward(b, layer, spec_layer, saved, delta, k)
        return _dense_backward(b, layer, saved, delta, k)
    if kind in ("maxpool2d", "avgpool2d"):
        return _pool_backward(b, layer, spec_layer, saved, g_out, k)
    if kind == "flatten":
        return g_out.reshaped(saved.x.shape)
    if kind == "rnn":
        return _rnn_backward(b, layer, spec_layer, saved, g_out, k)
    if kind == "attention":
        return _attention_backward(b, layer, spec_layer, saved, g_out, k)
    if kind == "layernorm":
        return _layernorm_backward(b, layer, saved, g_out, k)
    if kind == "meanpool":
        steps = saved.x.shape[0]
        return Grid.of(saved.x.shape, lambda idx: div(g_out.at(idx[1]), Num(steps)))
    raise ValueError(f"unknown layer kind {kind!r}")


# --- the whole row ----------------------------------------------------------------------------


@remembered()
def layered_columns(spec: Spec) -> tuple[Column, ...]:
    """Every Training column of a layered spec, in the order of ids.all_ids(spec)."""
    order = ids.all_ids(spec)
    b = _Builder(spec, set(order))
    for k in range(spec.slots):
        _sample(b, k)
    _loss_columns(b)
    _gradient_columns(b)
    _parameter_columns(b)
    for qid, formula, first in updates.optimizer_columns(spec, list(b.gradient_terms)):
        b.columns[qid] = Column(qid, updates.GROUP, formula, first=first, in_final_row=False)
    b.columns["iter"] = Column("iter", "iter", None)
    for qid in ids.schedule(spec):
        b.columns[qid] = Column(qid, "iter", None)
    missing = [qid for qid in order if qid not in b.columns]
    if missing:
        raise ValueError(f"no formula for the columns {missing[:5]} of {spec.name or spec.title}")
    return tuple(b.columns[qid] for qid in order)


def _sample(b: _Builder, k: int) -> None:
    """Forward and backward pass of slot k: the forward columns, δs and gradient terms."""
    spec = b.spec
    shape = tuple(spec.input_shape)
    x = Grid(shape, tuple(sample_input(spec, i, k) for i in range(_size(shape))))
    saved = []
    for layer, spec_layer in enumerate(spec.layers):
        s = _forward(b, layer, spec_layer, x, k)
        saved.append(s)
        x = s.out
    last = len(spec.layers) - 1
    out = saved[last]
    targets = [sample_target(spec, j, k) for j in range(_size(out.out.shape))]
    b.outputs[k] = (out, targets)
    delta = _output_delta(b, last, out, targets, k)
    g: Grid | None = None
    for layer in reversed(range(last + 1)):
        spec_layer = spec.layers[layer]
        g = _backward(b, layer, spec_layer, saved[layer], g if g is not None else delta, k,
                      delta=delta if layer == last and saved[layer].z is not None else None)
        source = layer_ids.output_source(spec, layer - 1)
        if spec_layer.kind != "flatten" and source >= 0:
            # ∂L/∂(the layer's input): the `da` columns of the layer holding it (before a flatten)
            shape = tuple(spec.layers[source].out_shape)
            flat = g.reshaped(shape)
            da = b.grid("da", source, shape, k, "backward", lambda idx, flat=flat: flat.at(*idx))
            g = da.reshaped(g.shape)


def _output_delta(b: _Builder, last: int, out: _Saved, targets: list[Expr], k: int) -> Grid:
    """δ of the output layer: a − t for a classification loss, else 2·scale·(a − t)·f′(z)."""
    spec = b.spec
    a = out.out
    errors = [sub(a.cells[j], targets[j]) for j in range(len(targets))]
    if spec.classifies:
        return b.grid("delta", last, a.shape, k, "backward", lambda idx: errors[_flat(a, idx)])
    factor = squared_loss(spec.loss).gradient_factor(len(targets))
    name = getattr(spec.layers[last], "activation", "linear")
    if out.z is None:
        return b.grid("dy", last, a.shape, k, "backward", lambda idx: _times(factor, errors[_flat(a, idx)]))
    return b.grid("delta", last, a.shape, k, "backward", lambda idx: _times(
        factor, errors[_flat(a, idx)], _derivative(b, name, out.z.at(*idx), a.at(*idx))))  # type: ignore[union-attr]


def _flat(grid: Grid, idx: Index) -> int:
    flat = 0
    for i, n in zip(idx, grid.shape, strict=True):
        flat = flat * n + i
    return flat


def _per_sample_mean(spec: Spec, total: Expr) -> Expr:
    """Divide a sum over a row's samples by their number B when the loss is the mean, B > 1."""
    if spec.reduction == "mean" and spec.slots > 1:
        return div(total, Num(spec.slots))
    return total


def _loss_columns(b: _Builder) -> None:
    spec = b.spec
    if not spec.classifies:
        squares = [mul(e, e) for k in range(spec.slots) for e in _errors(b, k)]
        n_out = len(b.outputs[0][1])
        b.put("loss", "loss", _per_sample_mean(spec, squared_loss(spec.loss).scaled(add(*squares), n_out)))
        return
    losses, correct = [], []
    for k in range(spec.slots):
        out, targets = b.outputs[k]
        assert out.z is not None, "a classification loss reads the output layer's z"
        zs, as_ = list(out.z.cells), list(out.out.cells)
        sample_loss = classification_loss(spec.loss).of_sample(zs, targets, as_)
        right = excel_correct(list(out.out.cells), targets)
        if spec.slots == 1:
            losses.append(b.put("loss", "loss", sample_loss))
            correct.append(right)
        else:
            losses.append(b.put(ids.sample_loss(k), "loss", sample_loss))
            correct.append(b.put(ids.sample_correct(k), "loss", right))
    if spec.slots > 1:
        b.put("loss", "loss", _per_sample_mean(spec, add(*losses)))
        b.put(ids.ACCURACY, "loss", div(add(*correct), Num(spec.slots)))
    else:
        b.put(ids.ACCURACY, "loss", correct[0])


def _errors(b: _Builder, k: int) -> list[Expr]:
    out, targets = b.outputs[k]
    return [sub(a, t) for a, t in zip(out.out.cells, targets, strict=True)]


def _gradient_columns(b: _Builder) -> None:
    for param_id, terms in b.gradient_terms.items():
        qid = updates.gradient_id(param_id)
        b.put(qid, "gradient", _per_sample_mean(b.spec, b.summed(qid, "backward", terms)))


def _parameter_columns(b: _Builder) -> None:
    spec = b.spec
    optimizer = OPTIMIZERS[DEFAULT_OPTIMIZER]
    for qid in b.gradient_terms:
        grad = updates.gradient_id(qid)
        if spec.has_optimizer_state:  # θ − Δθ, the optimizer's step
            step = updates.next_parameter(spec, qid)
        else:
            step = optimizer.excel(Cell(qid, prev=True), Cell(grad, prev=True), LEARNING_RATE)
        if b.expected is None or qid in b.expected:
            b.columns[qid] = Column(qid, "param", step, first=initial_key(qid))


