"""Expression trees for training quantities, printed as Excel formulas with Excel's precedence.

A tree says what is computed: besides numbers, cells, operators and spreadsheet calls it holds
semantic nodes (Apply: sigmoid(z), softmax(z, j), cross_entropy(z, t), …) that each printer lowers
to its own spelling: the Excel printer to the stable IF/MAX forms, the hand-calculation printer to
σ(z) and the textbook forms, the note printer to the header equations (the way SymPy keeps its
tree target-neutral). The functions themselves live in the model layer's registries.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Literal, Protocol


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


Target = Literal["excel", "text", "note"]


class Function(Protocol):
    """A semantic function: a registry entry (model/ops.py) that spells itself for each printer."""

    name: str

    def lower(self, target: Target, args: tuple[Expr, ...], index: int) -> Expr:
        """The tree that `target` prints for this function of args (index: softmax's j)."""
        ...


@dataclass(frozen=True)
class Apply:
    """fn(args), e.g. sigmoid(z₃), softmax(z₅, z₆; j=0), cross_entropy(z₅, z₆, t₁, t₂)."""

    fn: Function
    args: tuple[Expr, ...]
    index: int = 0


Expr = Num | Cell | Const | ConstRange | Bin | Neg | Call | Apply
Leaf = Cell | Const | ConstRange


# --- one traversal for every pass over a tree ------------------------------------------------


def children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Bin(_, left, right):
            return (left, right)
        case Neg(operand):
            return (operand,)
        case Call(_, args) | Apply(_, args):
            return args
    return ()


def with_children(expr: Expr, kids: Sequence[Expr]) -> Expr:
    """expr with its direct children replaced by kids, in the order children() gives them."""
    match expr:
        case Bin(op):
            return Bin(op, kids[0], kids[1])
        case Neg():
            return Neg(kids[0])
        case Call(name):
            return Call(name, tuple(kids))
        case Apply(fn, _, index):
            return Apply(fn, tuple(kids), index)
    return expr


def map_children(expr: Expr, f: Callable[[Expr], Expr]) -> Expr:
    """expr with f applied to each direct child (leaves are returned as they are)."""
    kids = children(expr)
    return with_children(expr, [f(child) for child in kids]) if kids else expr


def nodes(expr: Expr) -> Iterator[Expr]:
    """expr and every node below it, depth first, left to right."""
    yield expr
    for child in children(expr):
        yield from nodes(child)


def rewrite(expr: Expr, replace: Callable[[Expr], Expr | None]) -> Expr:
    """expr with every node for which replace gives a tree swapped for that tree, top down
    (replace returns None to keep a node and look below it)."""
    new = replace(expr)
    if new is not None:
        return new
    # A loop, not map_children or a comprehension: one stack frame a level, as sums of a few
    # hundred terms nest that deep.
    kids = []
    for child in children(expr):
        kids.append(rewrite(child, replace))
    return with_children(expr, kids) if kids else expr


def lowered(expr: Expr, target: Target) -> Expr:
    """expr with every semantic node replaced by target's spelling of it, all the way down."""

    def spell(node: Expr) -> Expr | None:
        if isinstance(node, Apply):
            return lowered(node.fn.lower(target, node.args, node.index), target)
        return None

    return rewrite(expr, spell)


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
    return "=" + _print(lowered(expr, "excel"), ref)


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
        case Bin(op):
            # Left operands need brackets only when they bind looser; right operands also
            # when equal, since every Excel binary operator is left-associative. A left-deep
            # chain of one precedence (a sum of hundreds of terms) is printed in a loop, not
            # one stack frame a term.
            prec = PRECEDENCE[op]
            chain: list[tuple[str, Expr]] = []
            node: Expr = expr
            while isinstance(node, Bin) and PRECEDENCE[node.op] == prec:
                chain.append((node.op, node.right))
                node = node.left
            text = _wrap(node, prec, ref, strict=False)
            for op_, right in reversed(chain):
                text += op_ + _wrap(right, prec, ref, strict=True)
            return text
    raise TypeError(f"not an expression: {expr!r}")


def _wrap(expr: Expr, parent: int, ref: Callable[[Leaf], str], *, strict: bool) -> str:
    text = _print(expr, ref)
    return f"({text})" if parenthesize(expr, parent, strict=strict) else text


def parenthesize(expr: Expr, parent: int, *, strict: bool) -> bool:
    """Whether expr needs brackets as an operand of an operator of precedence `parent`: when it
    binds looser, or (strict: a right operand, every operator being left-associative) as loose."""
    own = precedence(expr)
    return own < parent or (strict and own == parent)


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
    return _evaluate(lowered(expr, "excel"), lookup)


def _evaluate(expr: Expr, lookup: Callable[[Cell | Const], float]) -> float:
    match expr:
        case Num(value):
            return value
        case Cell() | Const():
            return lookup(expr)
        case Neg(operand):
            return -_evaluate(operand, lookup)
        case Call("INDEX", (ConstRange(key), index)):
            # INDEX(column, k) is the k-th sample's cell of that data column.
            return lookup(Const(f"{key}@{int(_evaluate(index, lookup))}"))
        case Call("IF", (cond, yes, no)):
            # Like a spreadsheet, only the branch taken (the other may overflow, e.g. EXP(1000)).
            return _evaluate(yes if _evaluate(cond, lookup) else no, lookup)
        case Call(name, args):
            return _FUNCTIONS[name](*(_evaluate(a, lookup) for a in args))
        case Bin(op, left, right):
            return _OPERATORS[op](_evaluate(left, lookup), _evaluate(right, lookup))
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
    "MAX": lambda *args: max(args),
    "SQRT": math.sqrt,
    "IF": lambda cond, yes, no: yes if cond else no,
}
