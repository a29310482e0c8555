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
from sheetnet.expr.formula import PRECEDENCE, Bin, Call, Cell, Const, Expr, Neg, Num, lowered, parenthesize

# One section only: `formulas` (1.3) applies a second ";(...)" section to positive numbers too,
# so negatives get their brackets from an IF around TEXT instead. "0.0######" prints the seeds'
# way (0.05, 0.5, 0.6236336) and agrees in LibreOffice and `formulas` except at exact ties.
TEXT_FORMAT = "0.0######"
DECIMALS = 7

# Long sums (a wide layer, many samples) are shortened to their first and last terms, so the
# line stays readable and its formula far below Excel's 8,192-character limit.
MAX_TERMS = 6

_OPERATORS = {"+": " + ", "-": " − ", "/": "/", "^": "^", "<": " < ", ">": " > ", "=": " = "}


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
    """The line as literal text and leaves; `times` is the multiplication sign (· or ×).

    Semantic nodes print in their textbook form (σ(z₃), e^z₅/(e^z₅ + e^z₆), −Σ t·ln a), which the
    registries in ops.py give; spreadsheet functions in lower case (exp, ln, max).
    """
    return _tokens(lowered(expr, "text"), times, leading=True)


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
            out: list[Token] = [(name.lower() if name.isupper() else name) + "("]
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
    if parenthesize(expr, parent, strict=strict):
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
