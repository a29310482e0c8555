"""Print expression trees as a hand calculation: in symbols, or with the numbers substituted.

Both renderings come from one token list, so the symbolic line and the numeric line always have
the same shape (w₃₁·x₁ + w₃₂·x₂ + b₃ and 0.05×0.02 + 0.1×0.04 + 0.5). The numeric line exists
twice: as an Excel formula joining the text of cells (numbertext.py), so editing an input rewrites it,
and as the same string computed in Python, stored in the file as the formula's cached value.
Brackets follow formula.py's Excel precedence table, so the text groups exactly like the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import groupby
from typing import NamedTuple

from sheetnet.equations.labels import sup
from sheetnet.equations.numbertext import number_text, number_text_formula
from sheetnet.expr import formula
from sheetnet.expr.formula import PRECEDENCE, Bin, Call, Cell, Const, Expr, Neg, Num

# Long sums (a wide layer, many samples) are shortened to their first and last terms, so the
# line stays readable and its formula far below Excel's 8,192-character limit.
MAX_TERMS = 6

_OPERATORS = {"+": " + ", "-": " − ", "/": "/", "^": "^", "<": " < ", ">": " > ", "=": " = "}


class Leaf(NamedTuple):
    """A cell in the line; `bracket` says a negative value needs brackets here: 0.5 − (-0.2)."""

    node: Cell | Const
    bracket: bool


Token = str | Leaf


class Style(NamedTuple):
    """The multiplication sign (· or ×), how many terms a sum shows, and which printer's
    spelling of the semantic nodes (formula.Target): the hand calculation's or the notes'."""

    times: str = "·"
    max_terms: int = MAX_TERMS
    target: formula.Target = "text"


SYMBOLS, NUMBERS = Style(), Style("×")


def symbolic(expr: Expr, name: Callable[[Cell | Const], str], style: Style = SYMBOLS) -> str:
    """The equation in symbols, e.g. σ(z₃) or (a₅ − t₁)·a₅·(1 − a₅)."""
    return "".join(t if isinstance(t, str) else name(t.node) for t in tokens(expr, style))


def text_formula(expr: Expr, address: Callable[[Cell | Const], str]) -> str:
    """An Excel formula whose result is the line with numbers, e.g. ="σ("&<G7 as text>&")"."""
    pieces: list[str] = []
    for literal, run in groupby(tokens(expr, NUMBERS), key=lambda token: isinstance(token, str)):
        if literal:  # a run of text between two numbers: one quoted piece
            pieces.append(_quote("".join(str(token) for token in run)))
        else:
            pieces += [_text_of(address(leaf.node), leaf.bracket) for leaf in run if isinstance(leaf, Leaf)]
    return "=" + "&".join(pieces)


def text_value(expr: Expr, value: Callable[[Cell | Const], float]) -> str | None:
    """The result of text_formula computed here; None when a number is not finite (an error)."""
    parts = []
    for token in tokens(expr, NUMBERS):
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
    """x as the Working sheet's text formula shows it (numbertext: 7 significant digits)."""
    return number_text(x)


def _text_of(address: str, bracket: bool) -> str:
    text = number_text_formula(address)
    if not bracket:
        return text
    # The number once, brackets around it only when negative: 0.5 − (-0.2).
    return f'IF({address}<0,"(","")&{text}&IF({address}<0,")","")'


def _quote(literal: str) -> str:
    return '"' + literal.replace('"', '""') + '"'


# --- tokens --------------------------------------------------------------------------------


def tokens(expr: Expr, style: Style) -> list[Token]:
    """The line as literal text and leaves. Semantic nodes print in their textbook form (σ(z₃),
    −(t₁·ln(a₅) + …)) from the registries in ops.py, spreadsheet functions in lower case (exp, ln)."""
    return _tokens(formula.lowered(expr, style.target), style, leading=True)


def _tokens(expr: Expr, style: Style, *, leading: bool) -> list[Token]:
    # `leading`: nothing stands before this node in its bracket, so a leading minus reads fine.
    match expr:
        case Num(value):
            return [_constant(value, leading)]
        case Cell() | Const():
            return [Leaf(expr, bracket=not leading)]
        case Neg(operand):
            return ["−", *_wrap(operand, PRECEDENCE["neg"], style, strict=False, leading=False)]
        case Call("SQRT", (Cell() | Const() as leaf,)):
            # √v₃₁ for the root of one quantity (its label brings brackets if it needs them)
            return ["√", Leaf(leaf, bracket=True)]
        case Call(name, args):
            # √(x) for SQRT (the optimizers' root); other spreadsheet functions in lower case.
            shown = "√" if name == "SQRT" else name.lower() if name.isupper() else name
            out: list[Token] = [shown + "("]
            for n, arg in enumerate(args):
                out += ([", "] if n else []) + _tokens(arg, style, leading=True)
            return [*out, ")"]
        case Bin("+"):
            return _sum(_terms(expr), style, leading)
        case Bin("^", left, Num(2)):
            return [*_wrap(left, PRECEDENCE["^"], style, strict=False, leading=False), sup(2)]
        case Bin(op, left, right):
            prec = PRECEDENCE[op]
            # As in formula.py the right operand also needs brackets at equal precedence, except
            # a product inside a product: a·(b·c) reads as the textbook a·b·c, same value.
            strict = not (op == "*" and isinstance(right, Bin) and right.op == "*")
            first = _wrap(left, prec, style, strict=False, leading=leading and op != "^")
            sign = style.times if op == "*" else _OPERATORS[op]
            return [*first, sign, *_wrap(right, prec, style, strict=strict, leading=False)]
    raise TypeError(f"not an expression: {expr!r}")


def _wrap(expr: Expr, parent: int, style: Style, *, strict: bool, leading: bool) -> list[Token]:
    if formula.parenthesize(expr, parent, strict=strict):
        return ["(", *_tokens(expr, style, leading=True), ")"]
    return _tokens(expr, style, leading=leading)


def _terms(expr: Expr) -> list[Expr]:
    """a + b + c as [a, b, c]: the left spine only, since a + (b + c) keeps its brackets."""
    if isinstance(expr, Bin) and expr.op == "+":
        return [*_terms(expr.left), expr.right]
    return [expr]


def _sum(terms: list[Expr], style: Style, leading: bool) -> list[Token]:
    prec = PRECEDENCE["+"]
    parts = [_wrap(t, prec, style, strict=n > 0, leading=leading and n == 0) for n, t in enumerate(terms)]
    if len(parts) > style.max_terms:
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
