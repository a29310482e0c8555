"""One formula cell evaluated from its own text with the `formulas` package, each input it
reads looked up by the caller: for the few single cells of the sheets beside Training (an
overview table, an Exercise row) where compiling one formula at a time costs nothing.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
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


# A number as the formulas package reads one (its Number token: digits, a point and digits, an
# exponent with a sign), not part of a name, a reference or a range; text in quotes is skipped.
_NUMBER = re.compile(
    r'(?P<string>"(?:[^"]|"")*")'
    r"|(?<![\w.$!:])(?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]\d+)?)(?![\w.(!:])"
)
_CONSTANT = "SHEETNETNUM"  # the sheet name of a number's placeholder
_AREA = "SHEETNETAREA"  # the sheet name of a range's placeholder
_RANGE_END = re.compile(r":\$?([A-Za-z]{1,3})\$?(\d+)")
Area = tuple[str, int, int, int, int]  # sheet (upper case, "" for the formula's own), c1, r1, c2, r2


@dataclass(frozen=True)
class Shape:
    text: str  # the formula with placeholders
    refs: list[tuple[str, str, int]]  # SHEETNETREFn: (sheet, column letters, row)
    ranges: list[Area]  # SHEETNETAREAn
    constants: list[int | float]  # SHEETNETNUMn, as the package reads the number


def _shape(text: str) -> Shape:
    """The formula with its n-th distinct single-cell reference written SHEETNETREFn!A1, its
    n-th distinct range SHEETNETAREAn!A1:… (as many rows and columns) and its n-th number
    SHEETNETNUMn!A1, so that formulas that differ only in the cells they read or in a
    constant (a map's 25 axis points, INDEX over each Training column) share one compiled
    function; with what each placeholder stands for."""
    refs: list[tuple[str, str, int]] = []
    ranges: list[Area] = []
    numbers: list[str] = []

    def placeholder(m: re.Match[str]) -> str:
        if m["string"] is not None:
            return m[0]
        if m["range"] is not None:
            end = _RANGE_END.fullmatch(m["range"])
            if end is None:
                return m[0]
            c1, c2 = sorted(column_index_from_string(col.upper()) for col in (m["col"], end[1]))
            r1, r2 = sorted((int(m["row"]), int(end[2])))
            area = (_sheet_key(m) or "", c1, r1, c2, r2)
            if area not in ranges:
                ranges.append(area)
            # The same number of rows and columns, from A1 of a placeholder sheet.
            rows, columns = r2 - r1 + 1, c2 - c1 + 1
            return f"{_AREA}{ranges.index(area)}!A1:{get_column_letter(columns)}{rows}"
        ref = (_sheet_key(m) or "", m["col"].upper(), int(m["row"]))
        if ref not in refs:
            refs.append(ref)
        return f"SHEETNETREF{refs.index(ref)}!A1"

    def constant(m: re.Match[str]) -> str:
        if m["string"] is not None:
            return m[0]
        numbers.append(m["number"])  # each one its own, so that 24*x/24 shares 1*x/24's shape
        return f"{_CONSTANT}{len(numbers) - 1}!A1"

    shape = _NUMBER.sub(constant, _REF.sub(placeholder, text))
    # The package evaluates a number's text as Python does: 24 is an int, 0.1 and 1E+5 floats.
    return Shape(shape, refs, ranges, [int(n) if n.isdigit() else float(n) for n in numbers])


def evaluate(text: Any, lookup: Lookup) -> Any:
    """The value of the formula text: a float, a str, or NaN for an error or a non-formula."""
    if not (isinstance(text, str) and text.startswith("=") and len(text) > 1):
        return math.nan
    import schedula

    try:
        shape = _shape(text)
        function = _compiled(shape.text)
        args = []
        for name in function.inputs:
            sheet = input_cell(name.partition(":")[0])[0]
            if sheet.startswith(_AREA):
                value = _range(shape.ranges[int(sheet.removeprefix(_AREA))], lookup)
            elif ":" in name:
                raise ValueError(f"a range the check does not read: {name}")
            elif sheet.startswith("SHEETNETREF"):
                value = lookup(*shape.refs[int(sheet.removeprefix("SHEETNETREF"))])
            elif sheet.startswith(_CONSTANT):
                value = shape.constants[int(sheet.removeprefix(_CONSTANT))]
            else:
                value = lookup(*input_cell(name))
            args.append(schedula.EMPTY if value is None else value)
        with np.errstate(all="ignore"):
            result = function(*args)
    except Exception:  # the formulas package raises many kinds of errors for a broken formula
        return math.nan
    return _scalar(result)


def _range(area: Area, lookup: Lookup) -> np.ndarray:
    """A range input (NETWORK!B30:B33) as the 2-D array of its cells' values."""
    sheet, c1, row1, c2, row2 = area
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
