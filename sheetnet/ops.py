"""Activations and losses: each one's NumPy function, Excel spelling and derivative, side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sheetnet.formula import Bin, Expr, Neg, Num, add, call, div, mul, power, sub

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
}


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
