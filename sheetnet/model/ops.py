"""Activations and losses: each one's NumPy function, Excel spelling and derivative, side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sheetnet.expr.formula import Bin, Const, Expr, Neg, Num, add, call, div, mul, power, sub

Array = np.ndarray
ZERO, ONE = Num(0), Num(1)


@dataclass(frozen=True)
class Activation:
    """f(z) and f'(z) in NumPy and as Excel expressions; derivatives may use a = f(z)."""

    name: str
    numpy: Callable[[Array], Array]
    numpy_derivative: Callable[[Array, Array], Array]  # (z, a) -> f'(z)
    excel: Callable[[Expr], Expr]  # z -> f(z)
    excel_derivative: Callable[[Expr, Expr], Expr | None]  # (z, a) -> f'(z); None stands for 1


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


def _leaky_relu(slope: float) -> Activation:
    """z for z > 0, slope·z otherwise; the derivative at 0 is slope (relu′(0) = 0 likewise).

    NumPy takes the spec's slope; the workbook reads the slope cell, so it stays live.
    """
    return Activation(
        "leaky_relu",
        numpy=lambda z: np.where(z > 0, z, slope * z),
        numpy_derivative=lambda z, a: np.where(z > 0, 1.0, slope),
        excel=lambda z: call("IF", Bin(">", z, ZERO), z, mul(LEAKY_SLOPE, z)),
        excel_derivative=lambda z, a: call("IF", Bin(">", z, ZERO), ONE, LEAKY_SLOPE),
    )


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(
        "linear",
        numpy=lambda z: z,
        numpy_derivative=lambda z, a: np.ones_like(z),
        excel=lambda z: z,
        excel_derivative=lambda z, a: None,
    ),
    "sigmoid": Activation(
        "sigmoid",
        numpy=_sigmoid,
        numpy_derivative=lambda z, a: a * (1 - a),
        excel=_excel_sigmoid,
        excel_derivative=lambda z, a: mul(a, sub(ONE, a)),
    ),
    "tanh": Activation(
        "tanh",
        numpy=np.tanh,
        numpy_derivative=lambda z, a: 1 - a**2,
        excel=lambda z: call("TANH", z),
        excel_derivative=lambda z, a: sub(ONE, power(a, Num(2))),
    ),
    "relu": Activation(
        "relu",
        numpy=lambda z: np.where(z > 0, z, 0.0),
        numpy_derivative=lambda z, a: np.where(z > 0, 1.0, 0.0),
        excel=lambda z: call("IF", Bin(">", z, ZERO), z, ZERO),
        excel_derivative=lambda z, a: call("IF", Bin(">", z, ZERO), ONE, ZERO),
    ),
    # The Excel side is the same for every slope; NumPy code takes activation(name, slope).
    "leaky_relu": _leaky_relu(0.01),
}


def activation(name: str, leaky_slope: float) -> Activation:
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


def _not_elementwise(*_: object) -> Array:
    # softmax is only allowed as the output of cross_entropy, whose δ = a − t needs no f′, and
    # its Excel form needs the whole layer (excel_softmax).
    raise ValueError("softmax is a layer function: use excel_softmax; its δ is a − t with cross_entropy")


SOFTMAX = Activation("softmax", numpy=softmax, numpy_derivative=_not_elementwise,
                     excel=_not_elementwise, excel_derivative=_not_elementwise)


def row_max(zs: list[Expr]) -> Expr:
    """m = MAX(z_1, …, z_n) of one sample."""
    return call("MAX", *zs)


def excel_softmax(zs: list[Expr], j: int) -> Expr:
    """EXP(z_j − m)/(EXP(z_1 − m) + … + EXP(z_n − m)), m = MAX(z_1, …, z_n)."""
    m = row_max(zs)
    return div(call("EXP", sub(zs[j], m)), add(*(call("EXP", sub(z, m)) for z in zs)))


@dataclass(frozen=True)
class Loss:
    """Per-sample loss = scale · Σ_j (y_j − t_j)², so ∂loss/∂y_j = 2·scale·(y_j − t_j)."""

    name: str
    formula: str  # how the README and the Guide write it

    def scale(self, n_outputs: int) -> float:
        return {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / n_outputs}[self.name]

    def gradient_factor(self, n_outputs: int) -> Expr | None:
        """2·scale as an expression: None for ½Σ (factor 1), 2 for Σ, 2/n for the mean."""
        return {"half_sse": None, "sse": Num(2), "mse": div(Num(2), Num(n_outputs))}[self.name]


LOSSES: dict[str, Loss] = {
    "half_sse": Loss("half_sse", "½·Σ(y−t)²"),
    "sse": Loss("sse", "Σ(y−t)²"),
    "mse": Loss("mse", "Σ(y−t)²/n"),
}


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


@dataclass(frozen=True)
class ClassificationLoss:
    """A loss written through the output layer's z, so that δ(L) = a − t (f′ cancels)."""

    name: str
    formula: str  # the textbook form, per sample
    numpy: Callable[[Array, Array], Array]  # (Z, T), one column per sample -> per-sample loss
    excel: Callable[[list[Expr], list[Expr]], Expr]  # (z cells, t cells) of one sample


CLASSIFICATION_LOSSES: dict[str, ClassificationLoss] = {
    "cross_entropy": ClassificationLoss("cross_entropy", "−Σ t·ln a", cross_entropy,
                                        excel_cross_entropy),
    "binary_cross_entropy": ClassificationLoss(
        "binary_cross_entropy", "−Σ [t·ln a + (1−t)·ln(1−a)]", binary_cross_entropy,
        excel_binary_cross_entropy),
}


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
