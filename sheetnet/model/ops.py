"""The registries: one entry per activation, loss and optimizer, with everything about it side by side.

An entry holds the NumPy function the reference core runs, the spreadsheet form the Excel printer
lowers it to, the textbook form the hand-calculation and note printers lower it to, its derivative,
a loss's scale and the key of its words. The spec's choices are these registries' keys: adding an
activation means adding its entry here and its words in sheets/i18n.py (CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sheetnet.expr.formula import (
    Apply,
    Bin,
    Call,
    Const,
    Expr,
    Neg,
    Num,
    Target,
    add,
    call,
    div,
    evaluate,
    mul,
    power,
    sub,
)

Array = np.ndarray
ZERO, ONE = Num(0), Num(1)


@dataclass(frozen=True)
class Spelled:
    """A function of z given by its spreadsheet form and its textbook name, e.g. ReLU′(z); a
    note spells it with the words `words` (the note printer fills in z)."""

    name: str
    symbol: str
    excel: Callable[[Expr], Expr]
    words: str

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        if target == "excel":
            return self.excel(args[0])
        return Call(self.words if target == "note" else self.symbol, args)


@dataclass(frozen=True)
class Activation:
    """f(z) and f′(z) in NumPy and in the sheet; derivatives may use a = f(z).

    `symbol` is how a hand calculation names f (σ for sigmoid); "" prints the Excel form (linear);
    `note` the header note's form where it differs (max(0, z) for ReLU). `words` is the key of
    the Guide's one-line description.
    """

    name: str
    numpy: Callable[[Array], Array]
    numpy_derivative: Callable[[Array, Array], Array]  # (z, a) -> f'(z)
    excel: Callable[[Expr], Expr]  # z -> f(z), the spreadsheet form
    excel_derivative: Callable[[Expr, Expr], Expr | None]  # (z, a) -> f'(z); None stands for 1
    symbol: str = ""
    words: str = ""
    note: Callable[[Expr], Expr] | None = None
    derivative_text: str = ""  # the Guide's line: a formula, or the words key of one

    def __call__(self, z: Expr) -> Expr:
        """f(z) as a tree: a semantic node, or z itself for the identity."""
        return Apply(self, (z,)) if self.symbol else self.excel(z)

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        if target == "excel":
            return self.excel(args[0])
        return self.note(args[0]) if target == "note" and self.note else Call(self.symbol, args)


def _sigmoid(z: Array) -> Array:
    # Two branches so that exp never overflows: e^z/(1+e^z) for z < 0, 1/(1+e^-z) otherwise.
    e = np.exp(-np.abs(z))
    return np.where(z < 0, e / (1 + e), 1 / (1 + e))


def _excel_sigmoid(z: Expr) -> Expr:
    # The same two branches; a spreadsheet evaluates only the IF branch it takes.
    return call(
        "IF",
        Bin("<", z, ZERO),
        div(call("EXP", z), add(ONE, call("EXP", z))),
        div(ONE, add(ONE, call("EXP", Neg(z)))),
    )


# The Network-sheet cell of network.leaky_slope (graph.py and layout.py use this key).
LEAKY_SLOPE = Const("leaky_slope")

_RELU_STEP = Spelled("relu_derivative", "ReLU′", lambda z: call("IF", Bin(">", z, ZERO), ONE, ZERO),
                     "note.relu_step")
_LEAKY_STEP = Spelled("leaky_relu_derivative", "LReLU′",
                      lambda z: call("IF", Bin(">", z, ZERO), ONE, LEAKY_SLOPE), "note.leaky_step")


def _leaky_relu(slope: float) -> Activation:
    """z for z > 0, slope·z otherwise; the derivative at 0 is slope (relu′(0) = 0 likewise).

    NumPy takes the spec's slope; the workbook reads the slope cell, so it stays live.
    """
    return Activation(
        "leaky_relu",
        numpy=lambda z: np.where(z > 0, z, slope * z),
        numpy_derivative=lambda z, a: np.where(z > 0, 1.0, slope),
        excel=lambda z: call("IF", Bin(">", z, ZERO), z, mul(LEAKY_SLOPE, z)),
        excel_derivative=lambda z, a: Apply(_LEAKY_STEP, (z,)),
        symbol="LReLU",
        words="guide.act.leaky_relu",
        derivative_text="guide.leaky_derivative",
        note=lambda z: call("max", mul(LEAKY_SLOPE, z), z),
    )


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(
        "linear",
        numpy=lambda z: z,
        numpy_derivative=lambda z, a: np.ones_like(z),
        excel=lambda z: z,
        excel_derivative=lambda z, a: None,
        words="guide.act.linear",
        derivative_text="f(z) = z, f′(z) = 1",
    ),
    "sigmoid": Activation(
        "sigmoid",
        numpy=_sigmoid,
        numpy_derivative=lambda z, a: a * (1 - a),
        excel=_excel_sigmoid,
        excel_derivative=lambda z, a: mul(a, sub(ONE, a)),
        symbol="σ",
        words="guide.act.sigmoid",
        derivative_text="σ′(z) = a(1 − a)",
    ),
    "tanh": Activation(
        "tanh",
        numpy=np.tanh,
        numpy_derivative=lambda z, a: 1 - a**2,
        excel=lambda z: call("TANH", z),
        excel_derivative=lambda z, a: sub(ONE, power(a, Num(2))),
        symbol="tanh",
        words="guide.act.tanh",
        derivative_text="tanh′(z) = 1 − a²",
    ),
    "relu": Activation(
        "relu",
        numpy=lambda z: np.where(z > 0, z, 0.0),
        numpy_derivative=lambda z, a: np.where(z > 0, 1.0, 0.0),
        excel=lambda z: call("IF", Bin(">", z, ZERO), z, ZERO),
        excel_derivative=lambda z, a: Apply(_RELU_STEP, (z,)),
        symbol="ReLU",
        words="guide.act.relu",
        derivative_text="guide.relu_derivative",
        note=lambda z: call("max", ZERO, z),
    ),
    # The Excel side is the same for every slope; NumPy code takes activation(name, slope).
    "leaky_relu": _leaky_relu(0.01),
}


def activation(name: str, leaky_slope: float) -> Activation | LayerActivation:
    """The activation `name` of a spec (its slope for leaky_relu); softmax is SOFTMAX."""
    if name == "leaky_relu":
        return _leaky_relu(leaky_slope)
    if name == "softmax":
        return SOFTMAX
    return ACTIVATIONS[name]


# --- softmax: a layer function, not an elementwise one -------------------------------------


def softmax(z: Array) -> Array:
    """a_j = e^(z_j − m)/Σ_i e^(z_i − m) per column (sample), m the column's maximum: no overflow."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def row_max(zs: list[Expr]) -> Expr:
    """m = MAX(z_1, …, z_n) of one sample."""
    return call("MAX", *zs)


def excel_softmax(zs: list[Expr], j: int) -> Expr:
    """EXP(z_j − m)/(EXP(z_1 − m) + … + EXP(z_n − m)), m = MAX(z_1, …, z_n)."""
    m = row_max(zs)
    return div(call("EXP", sub(zs[j], m)), add(*(call("EXP", sub(z, m)) for z in zs)))


def textbook_softmax(zs: list[Expr], j: int) -> Expr:
    """exp(z_j)/(exp(z_1) + … + exp(z_n)): the same numbers, as one writes them by hand."""
    exps = [call("EXP", z) for z in zs]
    return div(exps[j], add(*exps))


E = Const("e")  # Euler's number as a note writes it: e^z₅


def note_softmax(zs: list[Expr], j: int) -> Expr:
    """e^z_j/(e^z_1 + … + e^z_n)."""
    exps = [power(E, z) for z in zs]
    return div(exps[j], add(*exps))


@dataclass(frozen=True)
class LayerActivation:
    """An activation of the whole layer: softmax(z_1, …, z_n)_j reads every z of the sample.

    Only allowed as the output of cross_entropy, whose δ = a − t needs no f′.
    """

    name: str
    numpy: Callable[[Array], Array]  # Z, one column per sample -> A
    excel_layer: Callable[[list[Expr], int], Expr]
    textbook: Callable[[list[Expr], int], Expr]
    note: Callable[[list[Expr], int], Expr]
    words: str

    def numpy_derivative(self, z: Array, a: Array) -> Array:
        raise ValueError(f"{self.name} is a layer function: its δ is a − t with cross_entropy")

    def of_layer(self, zs: list[Expr], j: int) -> Expr:
        return Apply(self, tuple(zs), j)

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        spelling = {"excel": self.excel_layer, "text": self.textbook, "note": self.note}[target]
        return spelling(list(args), index)


SOFTMAX = LayerActivation("softmax", softmax, excel_softmax, textbook_softmax, note_softmax,
                          "guide.act.softmax")
LAYER_ACTIVATIONS = {SOFTMAX.name: SOFTMAX}


# --- losses ----------------------------------------------------------------------------------


def _no_cells(node: object) -> float:
    raise ValueError(f"a loss scale reads no cells, got {node!r}")


@dataclass(frozen=True)
class SquaredLoss:
    """Per-sample loss = scale · Σ_j (y_j − t_j)², so ∂loss/∂y_j = 2·scale·(y_j − t_j).

    `scaled` writes the scale as the sheet shows it (½·s, s, s/n); `gradient_factor` writes
    2·scale (None for 1); scale(n) is the number both mean, which the reference core uses.
    """

    name: str
    formula: str  # how the README and the Guide write it
    scaled: Callable[[Expr, int], Expr]  # (Σ(y−t)², n outputs) -> the loss
    gradient_factor: Callable[[int], Expr | None]
    classifies: bool = field(default=False, init=False)

    def scale(self, n_outputs: int) -> float:
        return evaluate(self.scaled(ONE, n_outputs), _no_cells)


# --- classification losses: per-sample loss from the output layer's z, δ = a − t -------------


def cross_entropy(z: Array, t: Array) -> Array:
    """−Σ_j t_j·ln(softmax(z)_j) per column, as −Σ_j t_j·(z_j − m − ln Σ_i e^(z_i − m)): never ln 0."""
    m = z.max(axis=0, keepdims=True)
    log_sum = np.log(np.exp(z - m).sum(axis=0, keepdims=True))
    return -(t * (z - m - log_sum)).sum(axis=0)


def binary_cross_entropy(z: Array, t: Array) -> Array:
    """−Σ_j [t_j·ln σ(z_j) + (1 − t_j)·ln(1 − σ(z_j))] per column, as max(z,0) − z·t + ln(1 + e^−|z|)."""
    return (np.maximum(z, 0) - z * t + np.log(1 + np.exp(-np.abs(z)))).sum(axis=0)


def excel_cross_entropy(zs: list[Expr], ts: list[Expr]) -> Expr:
    """−(t_1·(z_1 − m − LN(Σ_i EXP(z_i − m))) + …) for one sample."""
    m = row_max(zs)
    log_sum = call("LN", add(*(call("EXP", sub(z, m)) for z in zs)))
    return Neg(add(*(mul(t, sub(sub(z, m), log_sum)) for z, t in zip(zs, ts, strict=True))))


def excel_binary_cross_entropy(zs: list[Expr], ts: list[Expr]) -> Expr:
    """Σ_j MAX(z_j, 0) − z_j·t_j + LN(1 + EXP(−ABS(z_j))) for one sample."""
    return add(*(
        add(sub(call("MAX", z, ZERO), mul(z, t)), call("LN", add(ONE, call("EXP", Neg(call("ABS", z))))))
        for z, t in zip(zs, ts, strict=True)
    ))


def textbook_cross_entropy(ts: list[Expr], as_: list[Expr]) -> Expr:
    """−(t_1·ln a_1 + …)."""
    return Neg(add(*(mul(t, call("LN", a)) for t, a in zip(ts, as_, strict=True))))


def textbook_binary_cross_entropy(ts: list[Expr], as_: list[Expr]) -> Expr:
    """−(t_1·ln a_1 + (1 − t_1)·ln(1 − a_1) + …)."""
    return Neg(add(*(
        add(mul(t, call("LN", a)), mul(sub(ONE, t), call("LN", sub(ONE, a))))
        for t, a in zip(ts, as_, strict=True)
    )))


@dataclass(frozen=True)
class ClassificationLoss:
    """A loss written through the output layer's z, so that δ(L) = a − t (f′ cancels).

    Its tree is loss(z_1…z_n, t_1…t_n, a_1…a_n) of one sample: the sheet computes it stably
    from z, a hand calculation writes it with a; `output` is the activation it requires.
    """

    name: str
    formula: str  # the textbook form, per sample
    output: str
    numpy: Callable[[Array, Array], Array]  # (Z, T), one column per sample -> per-sample loss
    excel: Callable[[list[Expr], list[Expr]], Expr]  # (z cells, t cells) of one sample
    textbook: Callable[[list[Expr], list[Expr]], Expr]  # (t cells, a cells) of one sample
    classifies: bool = field(default=True, init=False)

    def of_sample(self, zs: list[Expr], ts: list[Expr], as_: list[Expr]) -> Expr:
        return Apply(self, (*zs, *ts, *as_))

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        n = len(args) // 3
        zs, ts, as_ = list(args[:n]), list(args[n:2 * n]), list(args[2 * n:])
        return self.excel(zs, ts) if target == "excel" else self.textbook(ts, as_)


LOSSES: dict[str, SquaredLoss | ClassificationLoss] = {
    "half_sse": SquaredLoss("half_sse", "½·Σ(a − t)²", lambda s, n: mul(Num(0.5), s), lambda n: None),
    "sse": SquaredLoss("sse", "Σ(a − t)²", lambda s, n: s, lambda n: Num(2)),
    "mse": SquaredLoss("mse", "Σ(a − t)²/n", lambda s, n: div(s, Num(n)), lambda n: div(Num(2), Num(n))),
    "cross_entropy": ClassificationLoss("cross_entropy", "−Σ t·ln a", "softmax", cross_entropy,
                                        excel_cross_entropy, textbook_cross_entropy),
    "binary_cross_entropy": ClassificationLoss(
        "binary_cross_entropy", "−Σ[t·ln a + (1 − t)·ln(1 − a)]", "sigmoid", binary_cross_entropy,
        excel_binary_cross_entropy, textbook_binary_cross_entropy),
}


def squared_loss(name: str) -> SquaredLoss:
    loss = LOSSES[name]
    assert isinstance(loss, SquaredLoss), f"{name} is not a squared loss"
    return loss


def classification_loss(name: str) -> ClassificationLoss:
    loss = LOSSES[name]
    assert isinstance(loss, ClassificationLoss), f"{name} is not a classification loss"
    return loss


# --- optimizers: how the next row's parameter follows from this row's ---------------------------


@dataclass(frozen=True)
class Optimizer:
    """One update rule: the NumPy step of the reference core and the formula of the next row.

    numpy(θ, g, η) and excel(θ, g, η) take the parameter, its gradient and the learning rate
    (Network-sheet cell η) of the row above. An optimizer with a state (a velocity, moment
    estimates) adds its state columns next to the parameter's; see CONTRIBUTING.md.
    """

    name: str
    numpy: Callable[[Array, Array, float], Array]
    excel: Callable[[Expr, Expr, Expr], Expr]
    words: str


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer("sgd", lambda theta, g, lr: theta - lr * g,
                     lambda theta, g, lr: sub(theta, mul(lr, g)), "guide.eq.update"),
}
DEFAULT_OPTIMIZER = "sgd"


# --- accuracy --------------------------------------------------------------------------------

THRESHOLD = 0.5


def correct(a: Array, t: Array) -> Array:
    """Per column (sample): 1 when the prediction is right, else 0.

    One output: a ≥ 0.5 and t ≥ 0.5 agree. Several: Σ_j t_j over the outputs j where a_j is the
    largest, i.e. 1 when the target's class is (one of) the largest outputs for one-hot targets.
    """
    if a.shape[0] == 1:
        return ((a[0] >= THRESHOLD) == (t[0] >= THRESHOLD)).astype(float)
    return np.where(a == a.max(axis=0, keepdims=True), t, 0.0).sum(axis=0)


def excel_correct(as_: list[Expr], ts: list[Expr]) -> Expr:
    """The same per sample: IF(a<0.5,IF(t<0.5,1,0),IF(t<0.5,0,1)), or Σ_j IF(a_j=MAX(a),t_j,0)."""
    half = Num(THRESHOLD)
    if len(as_) == 1:
        below = Bin("<", ts[0], half)
        return call("IF", Bin("<", as_[0], half), call("IF", below, ONE, ZERO),
                    call("IF", below, ZERO, ONE))
    m = row_max(as_)
    return add(*(call("IF", Bin("=", a, m), t, ZERO) for a, t in zip(as_, ts, strict=True)))
