"""Each cell's intended value and its rounding-error bound, from the cell's own expression tree.

`evaluate(expr, leaves)` walks an expression tree once for all rows of a column, in NumPy, and
returns the value and a running bound on its rounding error (a forward error analysis): leaves
read given values with a given relative uncertainty (0 for the NumPy reference's own values,
about 5e-15 for values an engine wrote with 15 significant digits), and every operation adds
its unit roundoff times the magnitudes it combines. So a sum whose terms cancel keeps the
bound its terms deserve (a gradient near convergence), and a product of small numbers stays
small. The check multiplies the bound by a safety factor (report.SAFETY) and never allows less
than rtol·|value| (report.allowed).

One function per node kind, in one table (`_RULES`), so that new node kinds port easily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sheetnet.expr.formula import Bin, Call, Cell, Const, ConstRange, Expr, Neg, Num, lowered

U = 2.0**-53  # the unit roundoff of IEEE doubles
FUNCTION_ULPS = 4  # EXP, LN, TANH of a good maths library are within a few units of the last place

Pair = tuple[np.ndarray, np.ndarray]  # (value, error bound), one entry per row


@dataclass(frozen=True)
class Leaves:
    """Where leaf values come from, for the rows being evaluated.

    cell(qid, prev) gives a Training column (the row itself or the row above), const(key) a
    Network value, column(key) a Network data column (for INDEX). Leaf values are uncertain by
    leaf_rel of their size: the check reads rounded text from some engines.
    """

    cell: Callable[[str, bool], np.ndarray]
    const: Callable[[str], float]
    column: Callable[[str], np.ndarray]
    leaf_rel: float = 0.0


def evaluate(expr: Expr, leaves: Leaves) -> Pair:
    """The value of expr for every row and a bound on its rounding error.

    Semantic nodes (sigmoid(z), softmax(z, j), …) are first lowered to the Excel spelling the
    workbook holds, so that the bound is that of the formula the spreadsheet evaluates."""
    with np.errstate(all="ignore"):  # a diverging run overflows here as in the sheet
        return _eval(lowered(expr, "excel"), leaves)


def _eval(expr: Expr, leaves: Leaves) -> Pair:
    match expr:
        case Num(value):
            return np.float64(value), np.float64(0.0)
        case Cell(qid, prev):
            v = leaves.cell(qid, prev)
            return v, leaves.leaf_rel * np.abs(v)
        case Const(key):
            v = np.float64(leaves.const(key))
            return v, leaves.leaf_rel * np.abs(v)
        case Neg(operand):
            return _neg(_eval(operand, leaves))
        case Call("INDEX", (ConstRange(key), index)):
            column = leaves.column(key)
            k = np.asarray(_eval(index, leaves)[0], dtype=float)
            inside = np.isfinite(k) & (k >= 1) & (k < len(column) + 1)
            v = np.where(inside, column[np.where(inside, k, 1).astype(int) - 1], np.nan)
            return v, leaves.leaf_rel * np.abs(v)
        case Call("IF", (cond, yes, no)):
            return _if(cond, _eval(yes, leaves), _eval(no, leaves), leaves)
        case Call(name, args):
            return _FUNCTIONS[name](*(_eval(a, leaves) for a in args))
        case Bin(op, left, right) if op in _OPERATORS:
            return _OPERATORS[op](_eval(left, leaves), _eval(right, leaves))
    raise TypeError(f"the check cannot evaluate {expr!r}")


# --- the rules: value and error bound of each operation ------------------------------------


def _neg(a: Pair) -> Pair:
    return -a[0], a[1]


def _add(a: Pair, b: Pair) -> Pair:
    v = a[0] + b[0]
    return v, a[1] + b[1] + U * (np.abs(a[0]) + np.abs(b[0]))


def _sub(a: Pair, b: Pair) -> Pair:
    return _add(a, _neg(b))


def _mul(a: Pair, b: Pair) -> Pair:
    v = a[0] * b[0]
    return v, np.abs(a[0]) * b[1] + np.abs(b[0]) * a[1] + a[1] * b[1] + U * np.abs(v)


def _div(a: Pair, b: Pair) -> Pair:
    v = a[0] / b[0]
    # |a/b − a'/b'| ≤ (ea + |v|·eb)/(|b| − eb); no bound (inf) when b may be 0.
    margin = np.abs(b[0]) - b[1]
    e = np.where(margin > 0, (a[1] + np.abs(v) * b[1]) / np.where(margin > 0, margin, 1.0), np.inf)
    return v, e + U * np.abs(v)


def _power(a: Pair, b: Pair) -> Pair:
    if np.ndim(b[0]) == 0 and float(b[0]) == 2 and float(b[1]) == 0:
        return _mul(a, a)  # the squares of the losses
    v = a[0] ** b[0]
    slope = np.abs(b[0] * a[0] ** (b[0] - 1)) * a[1] + np.abs(v * np.log(np.abs(a[0]))) * b[1]
    return v, slope + FUNCTION_ULPS * U * np.abs(v)


def _compare(op: str) -> Callable[[Pair, Pair], Pair]:
    test = {"<": np.less, ">": np.greater, "=": np.equal}[op]
    return lambda a, b: (test(a[0], b[0]).astype(float), np.float64(0.0))


def _exp(a: Pair) -> Pair:
    v = np.exp(a[0])
    return v, v * np.expm1(a[1]) + FUNCTION_ULPS * U * v


def _ln(a: Pair) -> Pair:
    v = np.log(a[0])
    margin = a[0] - a[1]
    e = np.where(margin > 0, a[1] / np.where(margin > 0, margin, 1.0), np.inf)
    return v, e + FUNCTION_ULPS * U * np.abs(v)


def _tanh(a: Pair) -> Pair:
    v = np.tanh(a[0])
    return v, np.minimum((1 - v * v) * a[1], 2.0) + FUNCTION_ULPS * U * np.abs(v)


def _sqrt(a: Pair) -> Pair:
    v = np.sqrt(a[0])
    # |√x − √y| = |x − y|/(√x + √y), and never more than √|x − y| (the optimizers' √v̂ near 0)
    with np.errstate(all="ignore"):
        near = np.sqrt(np.maximum(a[0] - a[1], 0.0))
        e = np.minimum(np.where(v + near > 0, a[1] / (v + near), np.inf), np.sqrt(a[1]))
    return v, e + U * np.abs(v)


def _abs(a: Pair) -> Pair:
    return np.abs(a[0]), a[1]


def _max(*args: Pair) -> Pair:
    v = np.maximum.reduce([np.broadcast_to(a[0], np.broadcast(*(b[0] for b in args)).shape) for a in args])
    return v, np.maximum.reduce([np.broadcast_to(a[1], np.shape(v)) for a in args])


def _if(cond: Expr, yes: Pair, no: Pair, leaves: Leaves) -> Pair:
    """The branch taken; where an uncertain comparison (< or >) might go either way, the bound
    widens to cover both branches (=, used against a MAX of the same cells, is taken as exact)."""
    if isinstance(cond, Bin) and cond.op in ("<", ">"):
        left, right = _eval(cond.left, leaves), _eval(cond.right, leaves)
        taken = np.greater(left[0], right[0]) if cond.op == ">" else np.less(left[0], right[0])
        unsure = np.abs(left[0] - right[0]) <= left[1] + right[1]
    else:
        taken = _eval(cond, leaves)[0] != 0
        unsure = np.False_
    v = np.where(taken, yes[0], no[0])
    if isinstance(cond, Bin) and cond.op in ("<", ">"):  # a comparison with an error is an error
        v = np.where(np.isnan(left[0]) | np.isnan(right[0]), np.nan, v)
    e = np.where(taken, yes[1], no[1])
    both = np.maximum(yes[1], no[1]) + np.abs(yes[0] - no[0])
    return v, np.where(unsure, np.maximum(e, both), e)


_OPERATORS: dict[str, Callable[[Pair, Pair], Pair]] = {
    "+": _add, "-": _sub, "*": _mul, "/": _div, "^": _power,
    "<": _compare("<"), ">": _compare(">"), "=": _compare("="),
}
_FUNCTIONS: dict[str, Callable[..., Pair]] = {
    "EXP": _exp, "LN": _ln, "TANH": _tanh, "ABS": _abs, "MAX": _max, "SQRT": _sqrt,
}
