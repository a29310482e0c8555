"""Standardised inputs: x̃ = (x − μ)/σ per input column, in NumPy and as Network-sheet formulas.

μ is the column mean and σ the population standard deviation (ddof = 0, Excel's STDEVP):
the statistics of the data set itself, not an estimate for a larger population. On the Network
sheet μ and σ are live formulas over the raw column, so editing a raw value moves μ, σ and every
x̃ of that column; the Training sheet reads the x̃ cells.

    NumPy                                   Network sheet
    μ = X.mean(axis=0)                      =AVERAGE(B$15:B$164)
    σ = X.std(axis=0, ddof=0)               =STDEVP(B$15:B$164)
    x̃ = (X − μ)/σ                           =(B15-B$166)/B$167
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Call, Const, Expr, div, sub

# --- NumPy ---------------------------------------------------------------------------------


def statistics(inputs: Sequence[Sequence[float]] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """μ and σ (population, ddof=0) of each input column; inputs has one row per sample."""
    X = np.asarray(inputs, dtype=float)
    return X.mean(axis=0), X.std(axis=0, ddof=0)


def standardized(inputs: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """x̃ = (x − μ)/σ column by column (one row per sample)."""
    X = np.asarray(inputs, dtype=float)
    mu, sigma = statistics(X)
    return (X - mu) / sigma



def check_spread(inputs: Sequence[Sequence[float]], names: Sequence[str]) -> None:
    """Refuse a column that cannot be standardised: constant (σ = 0), or so large or so small
    that σ overflows or underflows in floating point (x̃ would be ±inf or NaN)."""
    X = np.asarray(inputs, dtype=float)
    with np.errstate(all="ignore"):
        mu, sigma = statistics(X)
        x_tilde = (X - mu) / sigma
    for i in range(X.shape[1]):
        name = names[i] if i < len(names) else f"x{i + 1}"
        # max == min is exact; a computed σ of a constant column may round to 1e-17 instead of 0.
        if X[:, i].max() == X[:, i].min():
            raise SheetnetError(
                f"data.standardize: input column {name!r} is constant ({X[0, i]:g} in every sample),"
                " so σ = 0 and (x − μ)/σ is undefined; drop that column or set standardize = false")
        if not (np.isfinite(mu[i]) and np.isfinite(sigma[i]) and sigma[i] > 0
                and np.isfinite(x_tilde[:, i]).all()):
            what = "overflows" if not np.isfinite(sigma[i]) or not np.isfinite(mu[i]) else "underflows to 0"
            raise SheetnetError(
                f"data.standardize: input column {name!r} cannot be standardised: its σ {what} in"
                f" floating point (values as large as {np.abs(X[:, i]).max():g}); rescale the column"
                " to numbers nearer 1 or set standardize = false")


# --- the same equations as expressions over Network-sheet cells -----------------------------
# Keys of the Network cells the formulas read (layout.NetworkLayout gives each its address).


def raw_key(i: int, k: int) -> Const:
    """The raw (typed) value of input i in sample k."""
    return Const(f"raw:x[{i + 1}]@{k + 1}")


def column_key(i: int) -> Const:
    """The range of all raw values of input i."""
    return Const(f"column:x[{i + 1}]")


def mean_key(i: int) -> Const:
    return Const(f"mean:x[{i + 1}]")


def std_key(i: int) -> Const:
    return Const(f"std:x[{i + 1}]")


def mean_expr(i: int) -> Expr:
    return Call("AVERAGE", (column_key(i),))


def std_expr(i: int) -> Expr:
    return Call("STDEVP", (column_key(i),))


def standardized_expr(i: int, k: int) -> Expr:
    return div(sub(raw_key(i, k), mean_key(i)), std_key(i))
