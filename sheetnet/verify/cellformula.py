"""One formula cell evaluated from its own text with the `formulas` package, each input it
reads looked up by the caller: for the few single cells of the sheets beside Training (an
overview table, an Exercise row) where compiling one formula at a time costs nothing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sheetnet.verify.recompute import Unsupported, input_cell

# lookup(sheet, column letters, row) → the input's value; sheet is upper case, "" for the
# formula's own sheet; None is an empty cell.
Lookup = Callable[[str, str, int], Any]


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    import formulas

    return formulas.Parser().ast(text)[1].compile()


def evaluate(text: Any, lookup: Lookup) -> Any:
    """The value of the formula text: a float, a str, or NaN for an error or a non-formula."""
    if not (isinstance(text, str) and text.startswith("=") and len(text) > 1):
        return math.nan
    import schedula

    try:
        function = _compiled(text)
        args = []
        for name in function.inputs:
            value = lookup(*input_cell(name))
            args.append(schedula.EMPTY if value is None else value)
        with np.errstate(all="ignore"):
            result = function(*args)
    except Unsupported:
        return math.nan
    except Exception:  # the formulas package raises many kinds of errors for a broken formula
        return math.nan
    return _scalar(result)


def _scalar(result: Any) -> Any:
    import schedula
    from formulas.tokens.operand import XlError

    value = np.asarray(result, dtype=object).reshape(-1)[0] if np.ndim(result) else result
    if isinstance(value, np.ndarray):
        value = value.item()
    if value is schedula.EMPTY:
        return 0.0  # a reference to an empty cell shows 0
    if isinstance(value, XlError):
        return math.nan
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.number):
        return float(value)
    return math.nan  # an Excel error value
