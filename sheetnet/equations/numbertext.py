"""A number as text with 7 significant digits: the spreadsheet formula and the same text in Python.

The Working sheet's lines are formulas that turn cells into text. TEXT(x, "0.0######") would do,
but a spreadsheet reads TEXT's format code in its locale: LibreOffice and Excel in German read
`.` as the thousands separator and print 0.505 as `00.`. So the formula here reads no format code
at all. It rounds to 7 significant digits with ROUND and lets the `&` operator turn the number
into text, which every spreadsheet does in its "General" form: 0.6236336 in English, 0,6236336
where the decimal separator is a comma, never garbage. Below 10⁻⁴ and from 10⁷ on it writes
mantissa and exponent itself, 1.234568E-6, since each program switches to scientific notation
at a different size. number_text() prints exactly what the formula computes in an English
locale (measured in LibreOffice with en-US, de-DE, fr-FR and zh-CN profiles and in Gnumeric).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

DIGITS = 7  # significant digits: 0.6236336, as the seeds print a₃
SMALL, LARGE = 1e-4, 1e7  # outside [SMALL, LARGE): mantissa and exponent (the formula spells them out)
# The exponent is INT(LOG10(|x|) + NUDGE). Programs compute LOG10(10⁻⁶) as -6 or as -6.000000000000001
# (Gnumeric), which INT makes -7 and the text 10E-7; the nudge gives them all -6. It also gives the
# exponent of 10 to numbers that round up to it (9.99999996E-5 prints 1E-4, not 10E-5).
NUDGE = "3E-8"
# Up to TINY the text is 0: 10^exponent would underflow to 0 in the mantissa's division. The test
# is ≤, not <: IronCalc compares numbers with an absolute tolerance of about 1E-15, so there
# 0 < 1E-300 is FALSE (and the text LOG10(0)'s #NUM!), while 0 ≤ 1E-300 is TRUE everywhere.
TINY = "1E-300"


def number_text_formula(cell: str) -> str:
    """A formula expression whose value is the text of the number in `cell` (an A1 address)."""
    exponent = f"INT(LOG10(ABS({cell}))+{NUDGE})"
    plain = f'ROUND({cell},{DIGITS - 1}-{exponent})&""'
    scientific = f'ROUND({cell}/10^{exponent},{DIGITS - 1})&"E"&{exponent}'
    return (f'IF(ABS({cell})<={TINY},"0",IF(OR(ABS({cell})<0.0001,ABS({cell})>=10000000),'
            f'{scientific},{plain}))')


def number_text(x: float) -> str:
    """The text number_text_formula() gives for x, in an English locale: 0.6236336, 1.5E-9."""
    if abs(x) <= float(TINY):
        return "0"
    exponent = math.floor(math.log10(abs(x)) + float(NUDGE))
    if abs(x) < SMALL or abs(x) >= LARGE:
        return _general(_round(x / 10.0**exponent, DIGITS - 1)) + f"E{exponent}"
    return _general(_round(x, DIGITS - 1 - exponent))


def _round(x: float, decimals: int) -> float:
    """ROUND(x, decimals): half away from zero on the 15-significant-digit decimal form."""
    exact = Decimal(format(x, ".15g"))
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP,
                                context=Context(prec=400)))


def _general(x: float) -> str:
    """A number as `&` turns it into text: up to 15 significant digits, no trailing zeros."""
    return format(x, ".15g")



def fixed_text_formula(expression: str, decimals: int) -> str:
    """A formula expression whose value is the number with `decimals` decimals as text, a negative
    number in brackets with a minus sign (no hyphen to break a wrapped line at): 0.3003,
    (−0.2372). FIXED reads no format code, so every locale writes its own decimal separator; and
    unlike `&`, Gnumeric prints no 21-digit tail (0.0605, never 0.060499999999999999999)."""
    rounded = f"ROUND({expression},{decimals})"
    return (f'IF({rounded}<0,"(−"&FIXED(ABS({expression}),{decimals},TRUE)&")",'
            f"FIXED({expression},{decimals},TRUE))")


def fixed_text(x: float, decimals: int) -> str:
    """The text fixed_text_formula() gives for x, in an English locale."""
    if not math.isfinite(x):
        return "#NUM!"
    value = _round(x, decimals) + 0.0  # −0.0 + 0.0 is 0.0: FIXED(−0.00001, 4) is 0.0000
    text = f"{abs(value):.{decimals}f}"
    return f"(−{text})" if value < 0 else text
