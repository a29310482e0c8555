"""Print expression trees as a hand calculation: in symbols, or with the numbers substituted.

Both renderings come from one token list, so the symbolic line and the numeric line always have
the same shape (w₃₁·x₁ + w₃₂·x₂ + b₃ and 0.05×0.02 + 0.1×0.04 + 0.5). The numeric line exists
twice: as an Excel formula that concatenates TEXT(<cell>) pieces, so editing an input rewrites it,
and as the same string computed in Python, stored in the file as the formula's cached value.
Brackets follow formula.py's Excel precedence table, so the text groups exactly like the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from sheetnet.equations.labels import sup
from sheetnet.expr.formula import (
    PRECEDENCE,
    Bin,
    Call,
    Cell,
    Const,
    Expr,
    Neg,
    Num,
    add,
    mul,
    precedence,
    sub,
)
from sheetnet.model.ops import ACTIVATIONS, excel_binary_cross_entropy, excel_cross_entropy, excel_softmax

# One section only: `formulas` (1.3) applies a second ";(...)" section to positive numbers too,
# so negatives get their brackets from an IF around TEXT instead. "0.0######" prints the seeds'
# way (0.05, 0.5, 0.6236336) and agrees in LibreOffice and `formulas` except at exact ties.
TEXT_FORMAT = "0.0######"
DECIMALS = 7

# Long sums (a wide layer, many samples) are shortened to their first and last terms, so the
# line stays readable and its formula far below Excel's 8,192-character limit.
MAX_TERMS = 6

_OPERATORS = {"+": " + ", "-": " − ", "/": "/", "^": "^", "<": " < ", ">": " > ", "=": " = "}
_NAMES = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LReLU"}


@dataclass(frozen=True)
class Leaf:
    """A cell in the line; `bracket` says a negative value needs brackets here: 0.5 − (-0.2)."""

    node: Cell | Const
    bracket: bool


Token = str | Leaf


# --- the three renderings ------------------------------------------------------------------


def symbolic(expr: Expr, name: Callable[[Cell | Const], str]) -> str:
    """The equation in symbols, e.g. σ(z₃) or (a₅ − t₁)·a₅·(1 − a₅)."""
    return "".join(t if isinstance(t, str) else name(t.node) for t in tokens(expr, "·"))


def text_formula(expr: Expr, address: Callable[[Cell | Const], str]) -> str:
    """An Excel formula whose result is the line with numbers, e.g. ="σ("&TEXT(G7,"0.0######")&")"."""
    pieces: list[str] = []
    literal = ""
    for token in tokens(expr, "×"):
        if isinstance(token, str):
            literal += token
            continue
        if literal:
            pieces.append(_quote(literal))
            literal = ""
        pieces.append(_text_of(address(token.node), token.bracket))
    if literal:
        pieces.append(_quote(literal))
    return "=" + "&".join(pieces)


def text_value(expr: Expr, value: Callable[[Cell | Const], float]) -> str | None:
    """The result of text_formula computed here; None when a number is not finite (an error)."""
    parts = []
    for token in tokens(expr, "×"):
        if isinstance(token, str):
            parts.append(token)
            continue
        x = float(value(token.node))
        if not math.isfinite(x):
            return None
        text = format_number(x)
        parts.append(f"({text})" if token.bracket and x < 0 else text)
    return "".join(parts)


def format_number(x: float) -> str:
    """x as TEXT(x, "0.0######") shows it in LibreOffice (and Excel).

    They round the 15-significant-digit decimal form half away from zero, and LibreOffice drops
    the sign of a negative number that rounds to zero.
    """
    exact = Decimal(format(x, ".15g"))
    rounded = exact.quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP,
                             context=Context(prec=400))
    if rounded.is_zero():
        return "0.0"
    text = format(rounded, "f").rstrip("0")
    return text + "0" if text.endswith(".") else text


def _text_of(address: str, bracket: bool) -> str:
    text = f'TEXT({address},"{TEXT_FORMAT}")'
    if not bracket:
        return text
    return f'IF({address}<0,"("&{text}&")",{text})'


def _quote(literal: str) -> str:
    return '"' + literal.replace('"', '""') + '"'


# --- tokens --------------------------------------------------------------------------------


def tokens(expr: Expr, times: str) -> list[Token]:
    """The line as literal text and leaves; `times` is the multiplication sign (· or ×)."""
    return _tokens(display(expr), times, leading=True)


def _tokens(expr: Expr, times: str, *, leading: bool) -> list[Token]:
    # `leading`: nothing stands before this node in its bracket, so a leading minus reads fine.
    match expr:
        case Num(value):
            return [_constant(value, leading)]
        case Cell() | Const():
            return [Leaf(expr, bracket=not leading)]
        case Neg(operand):
            return ["−", *_wrap(operand, PRECEDENCE["neg"], times, strict=False, leading=False)]
        case Call(name, args):
            out: list[Token] = [name + "("]
            for n, arg in enumerate(args):
                out += ([", "] if n else []) + _tokens(arg, times, leading=True)
            return [*out, ")"]
        case Bin("+"):
            return _sum(_terms(expr), times, leading)
        case Bin("^", left, Num(2)):
            return [*_wrap(left, PRECEDENCE["^"], times, strict=False, leading=False), sup(2)]
        case Bin(op, left, right):
            prec = PRECEDENCE[op]
            # As in formula.py the right operand also needs brackets at equal precedence, except
            # a product inside a product: a·(b·c) reads as the textbook a·b·c, same value.
            strict = not (op == "*" and isinstance(right, Bin) and right.op == "*")
            first = _wrap(left, prec, times, strict=False, leading=leading and op != "^")
            sign = times if op == "*" else _OPERATORS[op]
            return [*first, sign, *_wrap(right, prec, times, strict=strict, leading=False)]
    raise TypeError(f"not an expression: {expr!r}")


def _wrap(expr: Expr, parent: int, times: str, *, strict: bool, leading: bool) -> list[Token]:
    own = precedence(expr)
    if own < parent or (strict and own == parent):
        return ["(", *_tokens(expr, times, leading=True), ")"]
    return _tokens(expr, times, leading=leading)


def _terms(expr: Expr) -> list[Expr]:
    """a + b + c as [a, b, c]: the left spine only, since a + (b + c) keeps its brackets."""
    if isinstance(expr, Bin) and expr.op == "+":
        return [*_terms(expr.left), expr.right]
    return [expr]


def _sum(terms: list[Expr], times: str, leading: bool) -> list[Token]:
    prec = PRECEDENCE["+"]
    parts = [_wrap(t, prec, times, strict=n > 0, leading=leading and n == 0) for n, t in enumerate(terms)]
    if len(parts) > MAX_TERMS:
        parts = [*parts[:2], ["…"], parts[-1]]
    out: list[Token] = []
    for n, part in enumerate(parts):
        out += ([" + "] if n else []) + part
    return out


def _constant(value: float, leading: bool) -> str:
    if value == 0.5:
        return "½"
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    if value < 0:
        text = "−" + text[1:]
        return text if leading else f"({text})"
    return text


# --- activations as their names ------------------------------------------------------------


def display(expr: Expr) -> Expr:
    """expr with each activation's Excel tree (the two-branch IF of σ, ...) as σ(z), tanh(z), ReLU(z).

    Trees are matched by rebuilding each candidate with ops.ACTIVATIONS, so this follows any
    change to the Excel forms there. Other functions keep their Excel names in lower case.
    """
    textbook = _textbook(expr)
    if textbook is not None:
        return textbook
    match expr:
        case Bin(op, left, right):
            return Bin(op, display(left), display(right))
        case Neg(operand):
            return Neg(display(operand))
        case Call(name, args):
            named = _activation(expr)
            if named is not None:
                return named
            return Call(name.lower(), tuple(display(a) for a in args))
    return expr


def _activation(node: Call) -> Expr | None:
    first = node.args[0] if node.args else None
    candidates = [first, first.left] if isinstance(first, Bin) else [first]
    for z in candidates:
        if z is None:
            continue
        for key, act in ACTIVATIONS.items():
            if key in _NAMES and act.excel(z) == node:
                return Call(_NAMES[key], (display(z),))
            # ReLU′ is an IF of z alone; the a argument is unused, so any stand-in matches.
            if key in _NAMES and act.excel_derivative(z, Num(0)) == node:
                return Call(_NAMES[key] + "′", (display(z),))
    return None


# --- the stable classification formulas as the textbook writes them -------------------------
# The cells subtract m = max(z) inside softmax and write the cross-entropies through z so that
# nothing overflows or takes ln 0; by hand one writes e^z₅/(e^z₅ + e^z₆) and −Σ t·ln a, which
# are the same numbers. Like σ(z) above, each tree is recognised by rebuilding it with ops.


def _nodes(expr: Expr) -> list[Expr]:
    """expr and every node below it, depth first, left to right."""
    match expr:
        case Bin(_, left, right):
            return [expr, *_nodes(left), *_nodes(right)]
        case Neg(operand):
            return [expr, *_nodes(operand)]
        case Call(_, args):
            return [expr, *(n for a in args for n in _nodes(a))]
    return [expr]


def _activation_cell(z: Expr) -> Expr:
    """a of the neuron whose z cell this is: ids name them z2[1]@3 and a2[1]@3."""
    assert isinstance(z, Cell) and z.qid.startswith("z")
    return Cell("a" + z.qid[1:], z.prev)


def _ln(x: Expr) -> Expr:
    return Call("ln", (x,))


def _leftmost(expr: Expr) -> Expr:
    while isinstance(expr, Bin):
        expr = expr.left
    return expr


def _could_be_textbook(expr: Expr) -> bool:
    """A cheap test first, so that long sums are not searched at every level of display()."""
    match expr:
        case Neg():
            return True
        case Bin("/", Call("EXP")):
            return True
        case Bin("+"):
            return _leftmost(expr) == Call("MAX", getattr(_leftmost(expr), "args", ()))
    return False


def _textbook(expr: Expr) -> Expr | None:
    if not _could_be_textbook(expr):
        return None
    maxima = [n for n in _nodes(expr) if isinstance(n, Call) and n.name == "MAX"]
    if not maxima:
        return None
    zs = list(maxima[0].args)
    # softmax: EXP(z_j − m)/(EXP(z_1 − m) + …)  →  exp(z_j)/(exp(z_1) + …)
    if isinstance(expr, Bin) and expr.op == "/" and isinstance(expr.left, Call):
        inner = expr.left.args[0] if expr.left.args else None
        if isinstance(inner, Bin) and inner.left in zs:
            j = zs.index(inner.left)
            if excel_softmax(zs, j) == expr:
                exps = [Call("exp", (z,)) for z in zs]
                return Bin("/", exps[j], add(*exps))
    products = [n for n in _nodes(expr) if isinstance(n, Bin) and n.op == "*"]
    # cross-entropy: −(t_1·(z_1 − m − LN(…)) + …)  →  −(t_1·ln a_1 + …)
    ts = [p.left for p in products if isinstance(p.right, Bin) and p.right.op == "-"]
    if len(ts) == len(zs) and excel_cross_entropy(zs, ts) == expr:
        return Neg(add(*(mul(t, _ln(_activation_cell(z))) for z, t in zip(zs, ts, strict=True))))
    # binary cross-entropy: Σ MAX(z,0) − z·t + LN(1 + EXP(−ABS(z)))  →  −Σ [t·ln a + (1 − t)·ln(1 − a)]
    zs = [m.args[0] for m in maxima]
    ts = [p.right for p in products]
    if len(ts) == len(zs) and excel_binary_cross_entropy(zs, ts) == expr:
        one = Num(1)
        terms = []
        for z, t in zip(zs, ts, strict=True):
            a = _activation_cell(z)
            terms += [mul(t, _ln(a)), mul(sub(one, t), _ln(sub(one, a)))]
        return Neg(add(*terms))
    return None
