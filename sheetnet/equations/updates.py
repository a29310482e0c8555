"""The optimizer group of the Training sheet: each optimizer's update written as formulas.

Row t holds the state after update t + 1 (torch counts steps from 1) and the step Δθ that the
next row subtracts: θ (row t+1) = θ (row t) − Δθ (row t). The state columns continue down the
rows, so no macro copies anything. Per trainable parameter θ with gradient g = ∂L/∂θ of the row
(g̃ = g + λ·θ with L2 weight decay, every optimizer but adamw):

    momentum  b = g̃ (row 0), μ·b(above) + g̃          Δθ = η·b
    nesterov  the same b                              Δθ = η·(g̃ + μ·b)
    rmsprop   s = (1−α)·g̃² (row 0), α·s(above) + (1−α)·g̃²
              Δθ = η·g̃/(√s + ε), or with μ > 0: b = μ·b(above) + g̃/(√s + ε), Δθ = η·b
    adagrad   G = g̃² (row 0), G(above) + g̃²           Δθ = η·g̃/(√G + ε)
    adam      bc1 = 1 − β₁^(t+1), bc2 = 1 − β₂^(t+1) once per row
              m = (1−β₁)·g̃ (row 0), β₁·m(above) + (1−β₁)·g̃;   v likewise with β₂ and g̃²
              Δθ = η·(m/bc1)/(√(v/bc2) + ε)
    adamw     the same m, v on g;                     Δθ = η·(λ·θ + (m/bc1)/(√(v/bc2) + ε))
    sgd       (only with weight decay)                Δθ = η·g̃

η, μ, β₁, β₂, ε, α, λ and 1 − β₁, 1 − β₂, 1 − α are Network-sheet cells (1 − β a formula of β).
The NumPy core computes the same updates separately (sheetnet/model/optimizers.py).
"""

from __future__ import annotations

from sheetnet.expr.formula import Call, Cell, Const, Expr, Num, add, div, mul, power, sub
from sheetnet.model import ids, optimizers
from sheetnet.model.spec import Spec

GROUP = "optimizer"
LEARNING_RATE = Const("lr")

# Network-sheet keys of the hyperparameters and of the complements 1 − β₁, 1 − β₂, 1 − α.
COMPLEMENTS = {"beta1": "one_minus_beta1", "beta2": "one_minus_beta2", "alpha": "one_minus_alpha"}


def hyper(field: str) -> Const:
    return Const(field)


def complement(field: str) -> Const:
    """1 − β₁ (…) as its Network cell, a formula of the β cell."""
    return Const(COMPLEMENTS[field])


def network_keys(spec: Spec) -> list[str]:
    """The Network cells the optimizer's formulas read besides η, in the sheet's order."""
    keys = []
    for field in optimizers.OPTIMIZERS[spec.optimizer].fields:
        keys.append(field)
        if field in COMPLEMENTS:
            keys.append(COMPLEMENTS[field])
    return keys


def _squared(g: Expr) -> Expr:
    """g·g rather than g^2: LibreOffice's ^ gives #NUM! where the square underflows, · gives 0."""
    return mul(g, g)


def _sqrt(x: Expr) -> Expr:
    return Call("SQRT", (x,))


def _decayed(spec: Spec, qid: str) -> Expr:
    """g̃ = g + λ·θ with L2 weight decay (every optimizer but adamw), else g."""
    g = Cell(ids.gradient_of(qid))
    if spec.weight_decay and spec.optimizer != "adamw":
        return add(g, mul(hyper("weight_decay"), Cell(qid)))
    return g


def _average(decay: str, previous: Expr, new: Expr) -> tuple[Expr, Expr]:
    """(row 0, later rows) of an exponential average β·previous + (1 − β)·new that starts at 0."""
    weighted = mul(complement(decay), new)
    return weighted, add(mul(hyper(decay), previous), weighted)


def _state(name: str, qid: str, prev: bool = False) -> Cell:
    return Cell(ids.state(name, qid), prev=prev)


def _columns_of(spec: Spec, qid: str) -> list[tuple[str, Expr, Expr]]:
    """(state name, row-0 formula, later rows' formula) of one parameter, the step last."""
    g = _decayed(spec, qid)
    lr, name = LEARNING_RATE, spec.optimizer
    if name == "sgd":
        step = mul(lr, g)
        return [("step", step, step)]
    if name in ("momentum", "nesterov"):
        later = add(mul(hyper("momentum"), _state("b", qid, prev=True)), g)
        b = _state("b", qid)
        step = mul(lr, b) if name == "momentum" else mul(lr, add(g, mul(hyper("momentum"), b)))
        return [("b", g, later), ("step", step, step)]
    if name == "rmsprop":
        first, later = _average("alpha", _state("s", qid, prev=True), _squared(g))
        scaled = div(g, add(_sqrt(_state("s", qid)), hyper("eps")))
        result = [("s", first, later)]
        if spec.momentum:
            buffer = add(mul(hyper("momentum"), _state("b", qid, prev=True)), scaled)
            result.append(("b", scaled, buffer))
            scaled = _state("b", qid)
        step = mul(lr, scaled)
        return [*result, ("step", step, step)]
    if name == "adagrad":
        squared = _squared(g)
        step = div(mul(lr, g), add(_sqrt(_state("G", qid)), hyper("eps")))
        return [("G", squared, add(_state("G", qid, prev=True), squared)), ("step", step, step)]
    # adam, adamw
    m0, m = _average("beta1", _state("m", qid, prev=True), g)
    v0, v = _average("beta2", _state("v", qid, prev=True), _squared(g))
    direction = div(div(_state("m", qid), Cell("bc1")),
                    add(_sqrt(div(_state("v", qid), Cell("bc2"))), hyper("eps")))
    if name == "adamw":
        direction = add(mul(hyper("weight_decay"), Cell(qid)), direction)
    step = mul(lr, direction)
    return [("m", m0, m), ("v", v0, v), ("step", step, step)]


def bias_correction(beta: str) -> Expr:
    """1 − β^(t+1): the row's t counts updates before this one, torch's step is t + 1."""
    return sub(Num(1), power(hyper(beta), add(Cell("iter"), Num(1))))


def step_of(qid: str) -> Cell:
    """Δθ of a parameter in the row above, which the next row subtracts."""
    return Cell(ids.state("step", qid), prev=True)


def optimizer_columns(spec: Spec) -> list[tuple[str, Expr, Expr | None]]:
    """(id, formula, row-0 formula or None) of every optimizer column, in ids.optimizer order."""
    if not spec.has_optimizer_state:
        return []
    result: list[tuple[str, Expr, Expr | None]] = []
    if optimizers.OPTIMIZERS[spec.optimizer].bias_corrected:
        result += [("bc1", bias_correction("beta1"), None), ("bc2", bias_correction("beta2"), None)]
    for qid in ids.trained(spec):
        for name, first, later in _columns_of(spec, qid):
            result.append((ids.state(name, qid), later, None if first == later else first))
    return result
