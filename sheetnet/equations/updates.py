"""The optimizer group of the Training sheet: each optimizer's update written as formulas.

Row t holds the state after update t + 1 (torch counts steps from 1) and the step Δθ that the
next row subtracts: θ (row t+1) = θ (row t) − Δθ (row t). The state columns continue down the
rows, so no macro copies anything. Per trainable parameter θ with gradient g = ∂L/∂θ of the row
(g̃ = g + λ·θ with L2 weight decay, every optimizer but adamw):

    momentum  b = g̃ (row 0), μ·b(above) + g̃          Δθ = η·b
    nesterov  the same b                              Δθ = η·(g̃ + μ·b)
    rmsprop   s = (1−α)·g̃·g̃ (row 0), α·s(above) + (1−α)·g̃·g̃
              Δθ = η·g̃/(√s + ε), or with μ > 0: b = μ·b(above) + g̃/(√s + ε), Δθ = η·b
    adagrad   G = g̃·g̃ (row 0), G(above) + g̃·g̃         Δθ = η·g̃/(√G + ε)
    adam      bc1 = 1 − β₁^(t+1), bc2 = 1 − β₂^(t+1) once per row
              m = (1−β₁)·g̃ (row 0), β₁·m(above) + (1−β₁)·g̃;   v likewise with β₂ and g̃·g̃
              Δθ = η/bc1·m/(√v/√bc2 + ε)
    adamw     the same m, v and Δθ on g; the next row's θ is θ·(1 − η·λ) − Δθ
    sgd       (only with weight decay)                Δθ = η·g̃

Products and quotients are written in torch's order, read left to right as a spreadsheet
computes them: (1−α)·g·g is ((1−α)·g)·g, η·g/(…) is (η·g)/(…), η/bc1·m is torch's step_size·m
(sheetnet/model/optimizers.py says why).

η, μ, β₁, β₂, ε, α, λ and 1 − β₁, 1 − β₂, 1 − α are Network-sheet cells (1 − β a formula of β).
The NumPy core computes the same updates separately (sheetnet/model/optimizers.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sheetnet.expr.formula import (
    Apply,
    Bin,
    Call,
    Cell,
    Const,
    Expr,
    Num,
    Target,
    add,
    call,
    div,
    mul,
    power,
    sub,
)
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


def _squared(g: Expr, factor: Expr | None = None) -> Expr:
    """factor·g·g, rounded as ((factor·g)·g) like torch's addcmul; g·g rather than g^2:
    LibreOffice's ^ gives #NUM! where the square underflows, · gives 0."""
    return mul(g, g) if factor is None else mul(factor, g, g)


def _sqrt(x: Expr) -> Expr:
    return Call("SQRT", (x,))


def _decayed(spec: Spec, qid: str) -> Expr:
    """g̃ = g + λ·θ with L2 weight decay (every optimizer but adamw), else g."""
    g = Cell(gradient_id(qid))
    if spec.weight_decay and spec.optimizer != "adamw":
        return add(g, mul(hyper("weight_decay"), Cell(qid)))
    return g


def _average(decay: str, previous: Expr, new: Expr, *, squared: bool = False) -> tuple[Expr, Expr]:
    """(row 0, later rows) of an exponential average β·previous + (1 − β)·new that starts at 0
    (of new·new when squared)."""
    weighted = _squared(new, complement(decay)) if squared else mul(complement(decay), new)
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
        first, later = _average("alpha", _state("s", qid, prev=True), g, squared=True)
        root = add(_sqrt(_state("s", qid)), hyper("eps"))
        if not spec.momentum:
            step = div(mul(lr, g), root)  # (η·g)/(√s + ε), as torch's addcdiv
            return [("s", first, later), ("step", step, step)]
        scaled = div(g, root)
        buffer = add(mul(hyper("momentum"), _state("b", qid, prev=True)), scaled)
        step = mul(lr, _state("b", qid))
        return [("s", first, later), ("b", scaled, buffer), ("step", step, step)]
    if name == "adagrad":
        squared = _squared(g)
        step = div(mul(lr, g), add(_sqrt(_state("G", qid)), hyper("eps")))
        return [("G", squared, add(_state("G", qid, prev=True), squared)), ("step", step, step)]
    # adam, adamw
    # adamw: the same on the plain g; its decay θ·(1 − η·λ) is in the parameter's column
    m0, m = _average("beta1", _state("m", qid, prev=True), g)
    v0, v = _average("beta2", _state("v", qid, prev=True), g, squared=True)
    # torch's step_size·m/denom: (η/bc1)·m / (√v/√bc2 + ε)
    denominator = add(div(_sqrt(_state("v", qid)), _sqrt(Cell("bc2"))), hyper("eps"))
    step = div(mul(div(lr, Cell("bc1")), _state("m", qid)), denominator)
    return [("m", m0, m), ("v", v0, v), ("step", step, step)]


@dataclass(frozen=True)
class _DecayingPower:
    """β^n for the bias corrections, which LibreOffice cannot let underflow.

    LibreOffice's ^ and POWER give #NUM! where the result underflows (0.9^7000), which Adam's
    β₁^t reaches after about 6,700 rows; Excel, Gnumeric and NumPy give 0 or a subnormal there.
    Wherever β < e^(−700/n), β^n < 10⁻³⁰⁴ and 1 − β^n is exactly 1 in double precision, so the
    spreadsheet form writes 0 there: the same 1 − β^n in every engine, bit for bit (β = 0 too).
    The hand calculation and the notes print β^n.
    """

    name: str = "decaying_power"

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        beta, n = args
        if target != "excel":
            return power(beta, n)
        return call("IF", Bin("<", beta, call("EXP", div(Num(-700), n))), Num(0), power(beta, n))


DECAYING_POWER = _DecayingPower()


def bias_correction(beta: str) -> Expr:
    """1 − β^(t+1): the row's t counts updates before this one, torch's step is t + 1."""
    return sub(Num(1), Apply(DECAYING_POWER, (hyper(beta), add(Cell("iter"), Num(1)))))


def step_of(qid: str) -> Cell:
    """Δθ of a parameter in the row above, which the next row subtracts."""
    return Cell(ids.state("step", qid), prev=True)


def next_parameter(spec: Spec, qid: str) -> Expr:
    """The parameter of a row from the row above: θ − Δθ, or θ·(1 − η·λ) − Δθ for adamw with
    weight decay (torch's param.mul_(1 − lr·λ) before the step)."""
    theta = Cell(qid, prev=True)
    if spec.optimizer == "adamw" and spec.weight_decay:
        theta = mul(theta, sub(Num(1), mul(LEARNING_RATE, hyper("weight_decay"))))
    return sub(theta, step_of(qid))


def gradient_id(param_id: str) -> str:
    """∂L/∂θ's id: `dW1[2,1]` for `W1[2,1]`, `dK1[1,1,2,2]` for a layered network's kernel."""
    return "d" + param_id  # ids.gradient_of's text for every id it can parse


def optimizer_columns(spec: Spec, trained: list[str] | None = None) -> list[tuple[str, Expr, Expr | None]]:
    """(id, formula, row-0 formula or None) of every optimizer column, in ids.optimizer order;
    trained: the trainable parameters (a layered network's), else ids.trained(spec)."""
    if not spec.has_optimizer_state:
        return []
    result: list[tuple[str, Expr, Expr | None]] = []
    if optimizers.OPTIMIZERS[spec.optimizer].bias_corrected:
        result += [("bc1", bias_correction("beta1"), None), ("bc2", bias_correction("beta2"), None)]
    for qid in ids.trained(spec) if trained is None else trained:
        for name, first, later in _columns_of(spec, qid):
            result.append((ids.state(name, qid), later, None if first == later else first))
    return result
