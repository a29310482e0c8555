"""One formula cell evaluated from its own text with the `formulas` package, each input it
reads looked up by the caller: for the few single cells of the sheets beside Training (an
overview table, an Exercise row) where compiling one formula at a time costs nothing.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string, get_column_letter

from sheetnet.verify.recompute import _REF, _sheet_key, input_cell
from sheetnet.verify.vectorised import light_functions

# lookup(sheet, column letters, row) → the input's value; sheet is upper case, "" for the
# formula's own sheet; None is an empty cell.
Lookup = Callable[[str, str, int], Any]


@functools.lru_cache(maxsize=256)
def _compiled(shape: str) -> Any:
    import formulas

    with light_functions():
        return formulas.Parser().ast(shape)[1].compile()


def _shape(text: str) -> tuple[str, list[tuple[str, str, int]]]:
    """The formula with its n-th distinct single-cell reference written SHEETNETREFn!A1 (so
    formulas that differ only in the cells they read share one compiled function), and those
    references as (sheet, column letters, row); a range stays as it is."""
    refs: list[tuple[str, str, int]] = []

    def placeholder(m: re.Match[str]) -> str:
        if m["string"] is not None or m["range"] is not None:
            return m[0]
        ref = (_sheet_key(m) or "", m["col"].upper(), int(m["row"]))
        if ref not in refs:
            refs.append(ref)
        return f"SHEETNETREF{refs.index(ref)}!A1"

    return _REF.sub(placeholder, text), refs


def evaluate(text: Any, lookup: Lookup) -> Any:
    """The value of the formula text: a float, a str, or NaN for an error or a non-formula."""
    if not (isinstance(text, str) and text.startswith("=") and len(text) > 1):
        return math.nan
    import schedula

    try:
        shape, refs = _shape(text)
        function = _compiled(shape)
        args = []
        for name in function.inputs:
            if ":" in name:
                value = _range(name, lookup)
            elif (sheet := input_cell(name)[0]).startswith("SHEETNETREF"):
                value = lookup(*refs[int(sheet.removeprefix("SHEETNETREF"))])
            else:
                value = lookup(*input_cell(name))
            args.append(schedula.EMPTY if value is None else value)
        with np.errstate(all="ignore"):
            result = function(*args)
    except Exception:  # the formulas package raises many kinds of errors for a broken formula
        return math.nan
    return _scalar(result)


def _range(name: str, lookup: Lookup) -> np.ndarray:
    """A range input (NETWORK!B30:B33) as the 2-D array of its cells' values."""
    first, _, last = name.partition(":")
    sheet, col1, row1 = input_cell(first)
    _, col2, row2 = input_cell(f"{sheet}!{last}" if sheet else last)
    c1, c2 = column_index_from_string(col1), column_index_from_string(col2)
    values = [[lookup(sheet, get_column_letter(c), r) for c in range(c1, c2 + 1)]
              for r in range(row1, row2 + 1)]
    return np.array([[0.0 if v is None else v for v in row] for row in values], dtype=object)


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
