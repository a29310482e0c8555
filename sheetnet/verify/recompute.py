"""Recompute formulas with the `formulas` package, vectorised over the rows of a column.

Every row of a Training column holds the same formula up to a row shift, so each distinct
shape is compiled once and evaluated for all its rows in one call, on the NumPy reference
values of the cells it reads (a call per cell would cost about 120 µs, a minute for a big
workbook). Used by check.py for the Training sheet and datacheck.py for the Network sheet's
standardisation cells.
"""

from __future__ import annotations

import functools
import math
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import openpyxl

from sheetnet.equations import graph
from sheetnet.progress import Progress, report
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify.cells import REFERENCE as _REF
from sheetnet.verify.cells import TrainingCells
from sheetnet.verify.cells import sheet_key as _sheet_key
from sheetnet.verify.readback import Workbook
from sheetnet.verify.vectorised import ROW_MAX, Numbers, fast_functions, numbers


def is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def as_float(value: Any) -> float:
    """A cell value or formula result as a float; errors, text and empty cells become NaN."""
    if isinstance(value, bool | int | float | np.number | np.bool_):
        return float(value)
    return math.nan


# --- references in formula text ------------------------------------------------------------

_FUNCTION = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
# Functions that `formulas` applies element by element to array arguments, so one call can
# evaluate a whole column. Aggregates (MIN, MAX, SUM, ...) would reduce over all the rows at
# once, so formulas using anything else are evaluated row by row.
_ELEMENTWISE = frozenset({"IF", "EXP", "TANH", "LN", "ABS", "SQRT", "POWER", "SIGN"})
# MAX of single cells (softmax's m = MAX(z₁,…,zₙ), accuracy, BCE's MAX(z,0)) is elementwise too
# once each argument is one cell: the check compiles such formulas with MAX renamed to this
# function, which takes the maximum row by row instead of over the whole column.
_ROW_MAX = ROW_MAX
_MAX_CALL = re.compile(r"(?<![\w.])MAX\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class _Ref:
    """Where a formula input comes from: a Training cell `offset` rows away or at a fixed row,
    a Network cell, or (a "lookup") INDEX(Network rows row..last_row of col, index)."""

    kind: str  # "relative" | "absolute" | "network" | "lookup"
    col: int
    row: int  # the offset for "relative"
    last_row: int = 0  # lookups only
    index: _Ref | None = None  # lookups only: the Training cell holding the sample number


class Unsupported(Exception):
    """A formula the check cannot evaluate; the message says why."""


# The sample lookups of sgd/minibatch mode, INDEX(Network!$B$14:$B$163,C5): `formulas` does
# not vectorise INDEX over an array of row numbers, so the check replaces each by an input of
# its own (a cell on a made-up sheet) whose values it looks up itself, for all rows at once.
_LOOKUP = re.compile(r"INDEX\((?P<range>[^,()]+:[^,()]+),(?P<index>[^,()]+)\)", re.IGNORECASE)
_LOOKUP_SHEET = "SHEETNETLOOKUP"


def _lookups(text: str, row: int, own_sheet: str, network_sheet: str) -> tuple[str, dict[str, _Ref]]:
    """The formula with each INDEX lookup replaced by SHEETNETLOOKUPn!A1, and those inputs."""
    found: dict[str, _Ref] = {}

    def replace(m: re.Match[str]) -> str:
        area, index = _REF.fullmatch(m["range"].strip()), _REF.fullmatch(m["index"].strip())
        if area is None or index is None or _sheet_key(area) != network_sheet or not area["range"]:
            raise Unsupported(f"the check evaluates INDEX only over a {network_sheet} range: {m[0]}")
        end = re.fullmatch(r":\$?([A-Za-z]{1,3})\$?(\d+)", area["range"])
        assert end is not None  # the _REF pattern matched it
        col = openpyxl.utils.column_index_from_string(area["col"].upper())
        if end[1].upper() != area["col"].upper():
            raise Unsupported(f"the check evaluates INDEX only over one column: {m[0]}")
        (where,) = _refs(index[0], row, own_sheet, network_sheet).values()
        name = f"{_LOOKUP_SHEET}{len(found)}"
        found[name] = _Ref("lookup", col, int(area["row"]), int(end[2]), where)
        return f"{name}!A1"

    return _LOOKUP.sub(replace, text), found


def _refs(
    text: str, row: int, own_sheet: str, network_sheet: str, lookups: dict[str, _Ref] | None = None
) -> dict[tuple[str, str, int], _Ref]:
    """Every reference of the formula at `row`, keyed like the names `formulas` gives its inputs."""
    found: dict[tuple[str, str, int], _Ref] = {}
    for m in _REF.finditer(text):
        if m["string"] is not None:
            continue
        if m["range"]:
            raise Unsupported(f"the check does not evaluate ranges such as {m[0]}")
        sheet = _sheet_key(m)
        col, r = openpyxl.utils.column_index_from_string(m["col"].upper()), int(m["row"])
        if lookups and sheet in lookups:
            ref = lookups[sheet]
        elif sheet is None or sheet == own_sheet:
            ref = _Ref("absolute", col, r) if m["rabs"] else _Ref("relative", col, r - row)
        elif sheet == network_sheet:
            ref = _Ref("network", col, r)
        else:
            raise Unsupported(f"it reads another sheet ({m[0]})")
        key = (sheet or "", m["col"].upper(), r)
        if found.setdefault(key, ref) != ref:
            raise Unsupported(f"it reads {m[0]} both as a relative and an absolute reference")
    return found


def input_cell(name: str) -> tuple[str, str, int]:
    """`NETWORK!B4`, `'MY SHEET'!B4` or `B4` (as formulas names inputs) → (sheet, column, row)."""
    sheet, _, cell = name.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell)
    if m is None:
        raise Unsupported(f"the check does not evaluate the input {name}")
    return sheet.upper(), m[1].upper(), int(m[2])


# --- the formulas engine -------------------------------------------------------------------


@dataclass
class _Compiled:
    function: Callable[..., Any]
    inputs: list[_Ref]  # in the order of the function's arguments
    elementwise: bool


def compile_formula(text: str, row: int, own_sheet: str, network_sheet: str) -> _Compiled:
    text, lookups = _lookups(text, row, own_sheet, network_sheet)
    refs = _refs(text, row, own_sheet, network_sheet, lookups)
    canonical, cells = _canonical(text)
    function, elementwise = _compile_canonical(canonical)
    inputs = []
    for name in function.inputs:
        key = cells.get(input_cell(name)[1:])
        if key not in refs:
            raise Unsupported(f"the check cannot tell which cell the input {name} is")
        inputs.append(refs[key])
    return _Compiled(function, inputs, elementwise=elementwise)


def _canonical(text: str) -> tuple[str, dict[tuple[str, int], tuple[str, str, int]]]:
    """The formula with its k-th distinct reference renamed A<k>, and what each A<k> stands for.

    Many columns compute the same function of different cells (every ∂L/∂w is δ·a, every z a
    sum of products): compiled once under the canonical names, that function serves them all.
    """
    keys: dict[tuple[str, str, int], str] = {}

    def rename(m: re.Match[str]) -> str:
        if m["string"] is not None:
            return m[0]
        key = (_sheet_key(m) or "", m["col"].upper(), int(m["row"]))
        return keys.setdefault(key, f"A{len(keys) + 1}")

    canonical = _REF.sub(rename, text)
    return canonical, {("A", int(name[1:])): key for key, name in keys.items()}


@functools.lru_cache(maxsize=4096)
def _compile_canonical(text: str) -> tuple[Callable[..., Any], bool]:
    """formulas' compiled function of a canonical formula text, and whether it is elementwise."""
    import formulas

    names = {n.upper() for n in _FUNCTION.findall(_REF.sub('""', text))}
    if "MAX" in names:  # every reference is a single cell (_refs refuses ranges): MAX per row
        text, names = _MAX_CALL.sub(_ROW_MAX + "(", text), names - {"MAX"}
    try:
        with fast_functions():
            function = formulas.Parser().ast(text)[1].compile()
    except Exception as exc:  # formulas raises many kinds of errors on text it cannot parse
        raise Unsupported(f"the formulas package cannot parse it ({type(exc).__name__})") from None
    return function, names <= _ELEMENTWISE


def recompute_training(
    book: Workbook, reference: np.ndarray, progress: Progress | None = None
) -> tuple[np.ndarray, dict[str, float], dict[tuple[int, int], str]]:
    """Every Training cell evaluated from its own formula on the reference values of its inputs.

    Returns the values (NaN where a cell has no formula or gives an error), seconds per group
    and a note for cells that could not be evaluated. progress hears of each column.
    """
    got = np.full(book.contents.shape, np.nan)
    seconds = dict.fromkeys(graph.GROUPS, 0.0)
    columns = ColumnRecompute(book, reference)
    for c, column in enumerate(book.columns):
        report(progress, c, len(book.columns), "recomputing Training columns")
        start = time.perf_counter()
        got[:, c] = columns.column(c)
        seconds[column.group] += time.perf_counter() - start
    report(progress, len(book.columns), len(book.columns), "recomputing Training columns")
    return got, seconds, columns.notes


class ColumnRecompute:
    """Training columns recomputed one at a time (each from its formulas on the reference values
    of its inputs), so that a check can judge a column and let it go: the whole sheet's results
    are never held at once. notes collects the cells that could not be evaluated."""

    def __init__(self, book: Workbook, reference: np.ndarray):
        self.book, self.reference = book, reference
        self.own, self.network = book.training_sheet.upper(), book.network_sheet.upper()
        self.notes: dict[tuple[int, int], str] = {}
        self.cache: dict[str, _Compiled | Unsupported] = {}

    def column(self, c: int) -> np.ndarray:
        """Column c's values: NaN where a cell has no formula or gives an error."""
        cells, cache = self.book.contents, self.cache
        got = np.full(cells.shape[0], np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # Overflow in a branch of IF that is not taken is expected (the sigmoid has two).
            warnings.simplefilter("ignore", RuntimeWarning)
            _constants(cells, c, got)
            for shape, rows in cells.groups(c):
                if shape.key not in cache:
                    t = int(rows[0])
                    try:
                        cache[shape.key] = compile_formula(cells.text(t, c), FIRST_DATA_ROW + t, self.own,
                                                           self.network)
                    except Unsupported as exc:
                        cache[shape.key] = exc
                compiled = cache[shape.key]
                if isinstance(compiled, Unsupported):
                    self.notes.update({(int(t), c): str(compiled) for t in rows})
                    continue
                args = [_argument(ref, rows, self.reference, self.book.network) for ref in compiled.inputs]
                got[rows] = call_formula(compiled, args, len(rows))
        return got


def _constants(cells: TrainingCells, c: int, out: np.ndarray) -> None:
    """The cells of column c without a formula: their numbers (anything else reads as NaN)."""
    numbers = cells.constants(c)
    if numbers is not None:
        no_formula = ~cells.is_formula(c)
        out[no_formula] = numbers[no_formula]
    for (t, column), value in cells.others.items():
        if column == c:
            out[t] = as_float(value)


def _argument(ref: _Ref, ts: np.ndarray, reference: np.ndarray, network: dict[tuple[int, int], Any]) -> Any:
    """An input's values: a column (n, 1) of reference values for relative Training cells."""
    n_rows, n_cols = reference.shape
    if ref.kind == "lookup":
        assert ref.index is not None
        return _lookup(ref, _argument(ref.index, ts, reference, network), network)
    if ref.kind == "network":
        value = network.get((ref.row, ref.col))
        return 0.0 if value is None else value  # an empty cell reads as 0
    if not 1 <= ref.col <= n_cols:
        return np.full((len(ts), 1), np.nan) if ref.kind == "relative" else math.nan
    if ref.kind == "absolute":
        t = ref.row - FIRST_DATA_ROW
        return _as_error(reference[t, ref.col - 1]) if 0 <= t < n_rows else math.nan
    src = ts + ref.row
    inside = (src >= 0) & (src < n_rows)
    values = np.full(len(ts), np.nan)
    values[inside] = reference[src[inside], ref.col - 1]
    if np.isfinite(values[inside]).all():
        return values.reshape(-1, 1)
    if inside.all():  # where training diverged: NaN stands for the #NUM! error
        return numbers(values.reshape(-1, 1))
    with_errors = values.astype(object)  # a slower object array only where training diverged
    with_errors[inside] = [_as_error(v) for v in values[inside]]
    return with_errors.reshape(-1, 1)


def _as_error(value: float) -> Any:
    """A non-finite reference value as the #NUM! error a spreadsheet cell shows there.

    `formulas` treats a NaN input as a number (IF(NaN>0,…) takes a branch and ReLU gives 0) but
    passes an error on through every function, as a spreadsheet does.
    """
    if math.isfinite(value):
        return value
    from formulas.functions import Error

    return Error.errors["#NUM!"]


def _lookup(ref: _Ref, index: Any, network: dict[tuple[int, int], Any]) -> np.ndarray:
    """INDEX(column, index) for every row at once: the index-th cell, NaN (an error) outside."""
    cells = [network.get((r, ref.col)) for r in range(ref.row, ref.last_row + 1)]
    column = np.array([0.0 if v is None else as_float(v) for v in cells])  # empty reads as 0
    k = np.asarray(index, dtype=float)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(k) & (k >= 1) & (k < len(column) + 1)
    result = np.full(k.shape, np.nan)
    result[inside] = column[k[inside].astype(int) - 1]  # Excel truncates a fractional index
    return result


def call_formula(compiled: _Compiled, args: list[Any], n: int) -> np.ndarray:
    try:
        return _call_formula(compiled, args, n)
    finally:
        _forget(compiled)


def _forget(compiled: _Compiled) -> None:
    """Let go of the arrays of the last call: a function compiled by `formulas` keeps the
    solution of its last call (its inputs, every intermediate and the result), which for a
    column of Excel's largest sheet is tens of MB a shape, held as long as the function is
    cached. A call on zeros replaces them with numbers."""
    _safe(compiled.function, [0.0] * len(compiled.inputs))


def _call_formula(compiled: _Compiled, args: list[Any], n: int) -> np.ndarray:
    if compiled.elementwise:
        raw = _safe(compiled.function, args)
        if isinstance(raw, Numbers) and raw.size == n:
            # Computed by the fast functions throughout (vectorised.py), value by value: the
            # package never saw these values, so none of its whole-array errors can be in it.
            return np.asarray(raw, dtype=float).reshape(-1).copy()
        result = _floats(raw, n)
        if result is not None:
            # formulas turns a Python OverflowError (e.g. in ^) into #VALUE! for every row of
            # the array: evaluate again, one by one, the rows that gave no number although all
            # their inputs are numbers. A row that reads #NUM! where training diverged gives an
            # error in our formulas anyway (their IFs read z in every branch), and there may be
            # thousands of such rows, at about 1 ms each.
            for i in np.flatnonzero(~np.isfinite(result) & _numbers_in(args, n)):
                result[i] = _call_row(compiled, args, i)
            return result
        # ... or into one error for the whole array; evaluate that shape row by row instead.
    return np.array([_call_row(compiled, args, i) for i in range(n)], dtype=float)


def _numbers_in(args: list[Any], n: int) -> np.ndarray:
    """Rows whose Training inputs are all finite numbers (not a #NUM! where training diverged)."""
    ok = np.ones(n, dtype=bool)
    for a in args:
        if isinstance(a, np.ndarray):
            column = a[:, 0]
            if column.dtype == object:
                ok &= np.fromiter((isinstance(v, float) and math.isfinite(v) for v in column), bool, n)
            else:
                ok &= np.isfinite(column)
    return ok


def _call_row(compiled: _Compiled, args: list[Any], i: int) -> float:
    row_args = [a[i, 0] if isinstance(a, np.ndarray) else a for a in args]
    value = _floats(_safe(compiled.function, row_args), 1)
    return math.nan if value is None else float(value[0])


def _safe(function: Callable[..., Any], args: list[Any]) -> Any:
    try:
        return function(*args)
    except Exception:  # any failure inside formulas is an error value in that cell
        return math.nan


def _floats(result: Any, n: int) -> np.ndarray | None:
    """A formula result as n floats (errors → NaN); None when an array call collapsed to one error."""
    values = np.asarray(result, dtype=object).reshape(-1)
    if values.size == 1 and n > 1:
        value = as_float(values[0])
        return None if math.isnan(value) else np.full(n, value)
    if values.size != n:
        return None
    try:
        return values.astype(float)
    except (TypeError, ValueError):
        return np.array([as_float(v) for v in values])
