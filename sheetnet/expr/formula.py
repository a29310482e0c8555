"""Expression trees for training quantities, printed as Excel formulas with Excel's precedence."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Cell:
    """A quantity of the Training sheet, in this row or (prev=True) the row above."""

    qid: str
    prev: bool = False


@dataclass(frozen=True)
class Const:
    """An input on the Network sheet (learning rate, x, t, initial values): an absolute address."""

    key: str


@dataclass(frozen=True)
class ConstRange:
    """A column of the Network data table, e.g. key "x[1]": the cells of Const("x[1]@1") …
    Const("x[1]@K") as one absolute range, for INDEX(range, sample number)."""

    key: str


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / ^ < > =
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


Expr = Num | Cell | Const | ConstRange | Bin | Neg | Call
Leaf = Cell | Const | ConstRange


# --- building helpers: keep graph.py readable ----------------------------------------------


def add(*terms: Expr) -> Expr:
    return reduce(lambda a, b: Bin("+", a, b), terms)


def sub(a: Expr, b: Expr) -> Expr:
    return Bin("-", a, b)


def mul(*factors: Expr) -> Expr:
    return reduce(lambda a, b: Bin("*", a, b), factors)


def div(a: Expr, b: Expr) -> Expr:
    return Bin("/", a, b)


def power(a: Expr, b: Expr) -> Expr:
    return Bin("^", a, b)


def call(name: str, *args: Expr) -> Expr:
    return Call(name, tuple(args))


def sum_of(terms: Sequence[Expr]) -> Expr:
    return add(*terms)


# --- printing ------------------------------------------------------------------------------

# Excel's operator precedence (higher binds tighter). Unlike Python, negation binds tighter
# than ^, so =-A1^2 is (-A1)^2, and ^ is left-associative: =2^3^2 is 64.
PRECEDENCE = {"<": 1, ">": 1, "=": 1, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5, "neg": 6}
ATOM = 9


def to_excel(expr: Expr, ref: Callable[[Leaf], str]) -> str:
    """Formula text (with the leading '=') for expr; ref turns a leaf into an address (a range
    for a ConstRange)."""
    return "=" + _print(expr, ref)


def _print(expr: Expr, ref: Callable[[Leaf], str]) -> str:
    match expr:
        case Num(value):
            return _number(value)
        case Cell() | Const() | ConstRange():
            return ref(expr)
        case Neg(operand):
            return "-" + _wrap(operand, PRECEDENCE["neg"], ref, strict=False)
        case Call(name, args):
            return f"{name}({','.join(_print(a, ref) for a in args)})"
        case Bin(op, left, right):
            prec = PRECEDENCE[op]
            # Left operands need brackets only when they bind looser; right operands also
            # when equal, since every Excel binary operator is left-associative.
            return _wrap(left, prec, ref, strict=False) + op + _wrap(right, prec, ref, strict=True)
    raise TypeError(f"not an expression: {expr!r}")


def _wrap(expr: Expr, parent: int, ref: Callable[[Leaf], str], *, strict: bool) -> str:
    text = _print(expr, ref)
    own = precedence(expr)
    needs = own < parent or (strict and own == parent)
    return f"({text})" if needs else text


def precedence(expr: Expr) -> int:
    """How tightly expr binds when printed (ATOM for numbers, cells and calls)."""
    match expr:
        case Bin(op):
            return PRECEDENCE[op]
        case Neg():
            return PRECEDENCE["neg"]
        case Num(value) if value < 0:
            return PRECEDENCE["neg"]
    return ATOM


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def evaluate(expr: Expr, lookup: Callable[[Cell | Const], float]) -> float:
    """The value of expr in plain Python floats, as a spreadsheet would compute it (for tests)."""
    match expr:
        case Num(value):
            return value
        case Cell() | Const():
            return lookup(expr)
        case Neg(operand):
            return -evaluate(operand, lookup)
        case Call("INDEX", (ConstRange(key), index)):
            # INDEX(column, k) is the k-th sample's cell of that data column.
            return lookup(Const(f"{key}@{int(evaluate(index, lookup))}"))
        case Call("IF", (cond, yes, no)):
            # Like a spreadsheet, only the branch taken (the other may overflow, e.g. EXP(1000)).
            return evaluate(yes if evaluate(cond, lookup) else no, lookup)
        case Call(name, args):
            return _FUNCTIONS[name](*(evaluate(a, lookup) for a in args))
        case Bin(op, left, right):
            return _OPERATORS[op](evaluate(left, lookup), evaluate(right, lookup))
    raise TypeError(f"not an expression: {expr!r}")


_OPERATORS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
    "<": lambda a, b: float(a < b),
    ">": lambda a, b: float(a > b),
    "=": lambda a, b: float(a == b),
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "EXP": math.exp,
    "TANH": math.tanh,
    "LN": math.log,
    "ABS": abs,
    "MAX": max,
    "IF": lambda cond, yes, no: yes if cond else no,
}
