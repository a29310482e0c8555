"""`sheetnet check`: recompute a workbook's Training sheet and compare every cell with the NumPy core.

The network is read back from the workbook's own Network sheet, so a workbook whose inputs a
student edited is checked against those edited inputs. Two engines:

* "formulas" recomputes every Training formula from its text with the `formulas` package. Each
  cell is evaluated on the reference values of the cells it reads, so a wrong formula shows up
  in exactly the cell that holds it. Every row of a column holds the same formula up to a row
  shift, so each distinct shape is compiled once and evaluated for all its rows in one
  vectorised call (a call per cell would cost about 120 µs, a minute for a big workbook).
* "libreoffice" lets headless LibreOffice recalculate the whole file and compares the values it
  writes with the reference chained from the Network inputs (a whole-chain comparison).
"""

from __future__ import annotations

import math
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl

from sheetnet import graph, ids, layout
from sheetnet.errors import SheetnetError
from sheetnet.layout import FIRST_DATA_ROW
from sheetnet.readback import Workbook, open_workbook, read_workbook, sheet_values, training_cells
from sheetnet.reference import train

ENGINES = ("formulas", "libreoffice")
# iter is checked, not listed; "data" is the Network sheet's standardised inputs (datacheck.py)
REPORTED_GROUPS = ("data", *(g for g in graph.GROUPS if g != "iter"))

# --- the report ----------------------------------------------------------------------------


@dataclass
class GroupResult:
    """Cells of one column group: how many were checked and how far the worst one was off."""

    cells: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0  # relative to max(|expected|, the column's scale): what rtol bounds
    seconds: float = 0.0

    def line(self, name: str) -> str:
        return (f"{name:<9} {self.cells:>9,} cells  max abs error {self.max_abs:.2e}"
                f"  max rel error {self.max_rel:.2e}  {self.seconds:6.2f} s")


@dataclass(frozen=True)
class WrongCell:
    address: str  # sheet-qualified, e.g. Training!K17
    qid: str
    iteration: int
    formula: str | None  # None when the cell holds no formula
    expected: float
    got: Any  # a number, or the error / text the cell gave
    note: str = ""

    def describe(self) -> str:
        formula = self.formula if self.formula is not None else "(none)"
        text = (f"first wrong cell {self.address} (id {self.qid}, iteration {self.iteration}): "
                f"formula {formula}, expected {_show(self.expected)}, got {_show(self.got)}")
        return f"{text} ({self.note})" if self.note else text


@dataclass
class Report:
    path: Path
    engine: str
    rtol: float
    groups: dict[str, GroupResult] = field(default_factory=dict)
    cells: int = 0
    wrong: int = 0
    first_wrong: WrongCell | None = None
    seconds: float = 0.0
    not_finite: int = 0  # cells not finite in both the workbook and NumPy: training diverged
    not_finite_from: int | None = None  # the first iteration with such a cell

    def divergence_line(self) -> str | None:
        """Why cells that show an error still agree: both sides overflowed in the same cells."""
        if not self.not_finite:
            return None
        return (f"{self.not_finite:,} cells are not finite in both the workbook and NumPy, from "
                f"iteration {self.not_finite_from} on (training diverged; they count as agreeing)")

    @property
    def ok(self) -> bool:
        return self.wrong == 0

    def summary(self) -> str:
        lines = [self.groups[g].line(g) for g in REPORTED_GROUPS if g in self.groups]
        if (diverged := self.divergence_line()) is not None:
            lines.append(diverged)
        if self.ok:
            lines.append(f"OK: {self.cells:,} cells agree with the NumPy core within rtol={self.rtol:g}"
                         f" ({self.engine}, {self.seconds:.1f} s)")
        else:
            assert self.first_wrong is not None
            lines.append(f"FAIL: {self.first_wrong.describe()}")
            lines.append(f"{self.wrong:,} of {self.cells:,} cells differ from the NumPy core"
                         f" beyond rtol={self.rtol:g} ({self.engine}, {self.seconds:.1f} s)")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "an error (not a finite number)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return repr(float(value))
    return "an empty cell" if value is None else repr(value)


# --- entry point ---------------------------------------------------------------------------


def run_check(path: Path, *, engine: str = "formulas", rtol: float = 1e-9) -> Report:
    """Check every Training cell of the workbook at path against the NumPy reference core."""
    start = time.perf_counter()
    path = Path(path)
    if engine not in ENGINES:
        raise SheetnetError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise SheetnetError(f"--rtol must be a non-negative number, got {rtol}")
    from sheetnet import datacheck  # it builds on this module's helpers

    book = read_workbook(path)
    data = datacheck.expected_cells(book)
    datacheck.reference_cells(book, data)
    with np.errstate(all="ignore"):  # a diverging run overflows, in NumPy as in the workbook
        reference = train(book.spec)[ids.all_ids(book.spec)].to_numpy(dtype=float)
    report = Report(path, engine, rtol)
    raw, seconds, notes = None, {}, {}
    if engine == "formulas":
        got, seconds, notes = _recompute(book, reference)
        data_start = time.perf_counter()
        data_got, data_notes = datacheck.recompute(book, data)
        seconds["data"] = time.perf_counter() - data_start
    else:
        raw, got, network = _recalculate(path, book)
        data_got = {e.cell: _as_float(network.get(e.cell)) for e in data}
        data_notes = datacheck.missing_formulas(book, data)
    _compare(book, reference, got, report, notes, raw)
    datacheck.compare(book, data, data_got, data_notes, report)
    for group, spent in seconds.items():
        if group in report.groups:
            report.groups[group].seconds += spent
    report.seconds = time.perf_counter() - start
    return report


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _as_float(value: Any) -> float:
    """A cell value or formula result as a float; errors, text and empty cells become NaN."""
    if isinstance(value, bool | int | float | np.number | np.bool_):
        return float(value)
    return math.nan


# --- references in formula text ------------------------------------------------------------

# A cell reference, maybe sheet-qualified, maybe the start of a range; string literals are
# matched first so that text inside quotes is never taken for a reference. The look-arounds
# keep function names (LOG10) and numbers (1E5) out.
_REF = re.compile(
    r'(?P<string>"(?:[^"]|"")*")'
    r"|(?<![\w.$'!:])"
    r"(?:(?:'(?P<qsheet>(?:[^']|'')+)'|(?P<sheet>[^\W\d][\w.]*))!)?"
    r"(?P<cabs>\$?)(?P<col>[A-Za-z]{1,3})(?P<rabs>\$?)(?P<row>\d+)"
    r"(?P<range>:\$?[A-Za-z]{1,3}\$?\d+)?"
    r"(?![\w(.!:])"
)
_FUNCTION = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
# Functions that `formulas` applies element by element to array arguments, so one call can
# evaluate a whole column. Aggregates (MIN, MAX, SUM, ...) would reduce over all the rows at
# once, so formulas using anything else are evaluated row by row.
_ELEMENTWISE = frozenset({"IF", "EXP", "TANH", "LN", "ABS", "SQRT", "POWER", "SIGN"})
# MAX of single cells (softmax's m = MAX(z₁,…,zₙ), accuracy, BCE's MAX(z,0)) is elementwise too
# once each argument is one cell: the check compiles such formulas with MAX renamed to this
# function, which takes the maximum row by row instead of over the whole column.
_ROW_MAX = "SHEETNET.ROWMAX"
_MAX_CALL = re.compile(r"(?<![\w.])MAX\s*\(", re.IGNORECASE)


def _row_max(*values: float) -> float:
    return max(values) if not any(math.isnan(v) for v in values) else math.nan


def _register_row_max() -> None:
    """Add _ROW_MAX to the functions `formulas` knows (its registry is one cached dict)."""
    import formulas
    from formulas.functions import wrap_ufunc

    functions = formulas.get_functions()
    if _ROW_MAX not in functions:
        functions[_ROW_MAX] = wrap_ufunc(_row_max)


def _sheet_key(match: re.Match[str]) -> str | None:
    """The sheet a reference names (upper case, unquoted), None for the formula's own sheet."""
    if match["qsheet"] is not None:
        return match["qsheet"].replace("''", "'").upper()
    return match["sheet"].upper() if match["sheet"] is not None else None


def _shape(text: str, row: int, own_sheet: str) -> tuple[str, str, list[int]]:
    """The formula with its relative row numbers on its own sheet written as offsets from row.

    Two cells of a column with the same shape compute the same function of the cells they read,
    so one compiled formula serves them all. Also returns a str.format template with those row
    numbers left out and their offsets: the text of the next row is predicted with it, which is
    much cheaper than parsing every formula.
    """
    shape, template, offsets, end = [], [], [], 0
    for m in _REF.finditer(text):
        if m["string"] is not None or m["rabs"] or m["range"]:
            continue
        sheet = _sheet_key(m)
        if sheet is not None and sheet != own_sheet:
            continue
        before = text[end : m.start("row")]
        offsets.append(int(m["row"]) - row)
        shape.append(f"{before}[{offsets[-1]}]")
        template.append(before.replace("{", "{{").replace("}", "}}") + "{}")
        end = m.end("row")
    rest = text[end:]
    return "".join(shape) + rest, "".join(template) + rest.replace("{", "{{").replace("}", "}}"), offsets


@dataclass(frozen=True)
class _Ref:
    """Where a formula input comes from: a Training cell `offset` rows away or at a fixed row,
    a Network cell, or (a "lookup") INDEX(Network rows row..last_row of col, index)."""

    kind: str  # "relative" | "absolute" | "network" | "lookup"
    col: int
    row: int  # the offset for "relative"
    last_row: int = 0  # lookups only
    index: _Ref | None = None  # lookups only: the Training cell holding the sample number


class _Unsupported(Exception):
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
            raise _Unsupported(f"the check evaluates INDEX only over a {network_sheet} range: {m[0]}")
        end = re.fullmatch(r":\$?([A-Za-z]{1,3})\$?(\d+)", area["range"])
        assert end is not None  # the _REF pattern matched it
        col = openpyxl.utils.column_index_from_string(area["col"].upper())
        if end[1].upper() != area["col"].upper():
            raise _Unsupported(f"the check evaluates INDEX only over one column: {m[0]}")
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
            raise _Unsupported(f"the check does not evaluate ranges such as {m[0]}")
        sheet = _sheet_key(m)
        col, r = openpyxl.utils.column_index_from_string(m["col"].upper()), int(m["row"])
        if lookups and sheet in lookups:
            ref = lookups[sheet]
        elif sheet is None or sheet == own_sheet:
            ref = _Ref("absolute", col, r) if m["rabs"] else _Ref("relative", col, r - row)
        elif sheet == network_sheet:
            ref = _Ref("network", col, r)
        else:
            raise _Unsupported(f"it reads another sheet ({m[0]})")
        key = (sheet or "", m["col"].upper(), r)
        if found.setdefault(key, ref) != ref:
            raise _Unsupported(f"it reads {m[0]} both as a relative and an absolute reference")
    return found


def _input_key(name: str) -> tuple[str, str, int]:
    """`NETWORK!B4`, `'MY SHEET'!B4` or `B4` (as formulas names inputs) → (sheet, column, row)."""
    sheet, _, cell = name.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell)
    if m is None:
        raise _Unsupported(f"the check does not evaluate the input {name}")
    return sheet.upper(), m[1].upper(), int(m[2])


# --- the formulas engine -------------------------------------------------------------------


@dataclass
class _Compiled:
    function: Callable[..., Any]
    inputs: list[_Ref]  # in the order of the function's arguments
    elementwise: bool


def _compile(text: str, row: int, own_sheet: str, network_sheet: str) -> _Compiled:
    import formulas

    text, lookups = _lookups(text, row, own_sheet, network_sheet)
    refs = _refs(text, row, own_sheet, network_sheet, lookups)
    names = {n.upper() for n in _FUNCTION.findall(_REF.sub('""', text))}
    if "MAX" in names:  # every reference is a single cell (_refs refuses ranges): MAX per row
        _register_row_max()
        text, names = _MAX_CALL.sub(_ROW_MAX + "(", text), names - {"MAX"}
    try:
        function = formulas.Parser().ast(text)[1].compile()
    except Exception as exc:  # formulas raises many kinds of errors on text it cannot parse
        raise _Unsupported(f"the formulas package cannot parse it ({type(exc).__name__})") from None
    inputs = []
    for name in function.inputs:
        key = _input_key(name)
        if key not in refs:
            raise _Unsupported(f"the check cannot tell which cell the input {name} is")
        inputs.append(refs[key])
    return _Compiled(function, inputs, elementwise=names <= _ELEMENTWISE)


def _recompute(
    book: Workbook, reference: np.ndarray
) -> tuple[np.ndarray, dict[str, float], dict[tuple[int, int], str]]:
    """Every Training cell evaluated from its own formula on the reference values of its inputs.

    Returns the values (NaN where a cell has no formula or gives an error), seconds per group
    and a note for cells that could not be evaluated.
    """
    own, network = book.training_sheet.upper(), book.network_sheet.upper()
    got = np.full(book.contents.shape, np.nan)
    seconds = dict.fromkeys(graph.GROUPS, 0.0)
    notes: dict[tuple[int, int], str] = {}
    cache: dict[str, _Compiled | _Unsupported] = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # Overflow in a branch of IF that is not taken is expected (the sigmoid has two).
        warnings.simplefilter("ignore", RuntimeWarning)
        for c, column in enumerate(book.columns):
            start = time.perf_counter()
            for shape, ts in _shapes(book.contents[:, c], own, got[:, c]).items():
                rows = np.array(ts)
                row = FIRST_DATA_ROW + ts[0]
                if shape not in cache:
                    try:
                        cache[shape] = _compile(book.contents[ts[0], c], row, own, network)
                    except _Unsupported as exc:
                        cache[shape] = exc
                compiled = cache[shape]
                if isinstance(compiled, _Unsupported):
                    notes.update({(t, c): str(compiled) for t in ts})
                    continue
                args = [_argument(ref, rows, reference, book.network) for ref in compiled.inputs]
                got[rows, c] = _call(compiled, args, len(ts))
            seconds[column.group] += time.perf_counter() - start
    return got, seconds, notes


def _shapes(cells: np.ndarray, own_sheet: str, constants: np.ndarray) -> dict[str, list[int]]:
    """Rows of a column grouped by formula shape; cells without a formula go to `constants`."""
    groups: dict[str, list[int]] = {}
    shape, template, offsets = "", "", [0]
    for t, value in enumerate(cells):
        if not _is_formula(value):
            constants[t] = _as_float(value)
            continue
        row = FIRST_DATA_ROW + t
        # Most rows repeat the row above shifted by one: check that guess before parsing.
        if template.format(*(row + d for d in offsets)) != value:
            shape, template, offsets = _shape(value, row, own_sheet)
        groups.setdefault(shape, []).append(t)
    return groups


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
    column = np.array([0.0 if v is None else _as_float(v) for v in cells])  # empty reads as 0
    k = np.asarray(index, dtype=float)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(k) & (k >= 1) & (k < len(column) + 1)
    result = np.full(k.shape, np.nan)
    result[inside] = column[k[inside].astype(int) - 1]  # Excel truncates a fractional index
    return result


def _call(compiled: _Compiled, args: list[Any], n: int) -> np.ndarray:
    if compiled.elementwise:
        result = _floats(_safe(compiled.function, args), n)
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
        value = _as_float(values[0])
        return None if math.isnan(value) else np.full(n, value)
    if values.size != n:
        return None
    try:
        return values.astype(float)
    except (TypeError, ValueError):
        return np.array([_as_float(v) for v in values])


# --- the LibreOffice engine ----------------------------------------------------------------


def _recalculate(path: Path, book: Workbook) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], Any]]:
    """The Training values after a full recalculation in headless LibreOffice (raw and as
    floats), and the recalculated Network sheet's values."""
    from sheetnet.libreoffice import LibreOfficeError, recalculate

    with tempfile.TemporaryDirectory(prefix="sheetnet-check-") as tmp:
        try:
            out = recalculate(path, Path(tmp) / "recalculated.xlsx")
        except LibreOfficeError as exc:
            raise SheetnetError(f"{path}: {exc}") from None
        with open_workbook(out, data_only=True) as values:
            raw = training_cells(values[book.training_sheet], book.spec, len(book.columns))
            network = sheet_values(values[book.network_sheet]) if book.spec.standardize else {}
    return raw, np.vectorize(_as_float, otypes=[float])(raw), network


# --- comparison ----------------------------------------------------------------------------


def _compare(
    book: Workbook, reference: np.ndarray, got: np.ndarray, report: Report,
    notes: dict[tuple[int, int], str], raw: np.ndarray | None = None,
) -> None:
    """Fill the report: per-group statistics and the first wrong cell (lowest row, then column)."""
    first: tuple[int, int] | None = None
    n_rows = reference.shape[0]
    for c, column in enumerate(book.columns):
        start = time.perf_counter()
        n = n_rows if column.in_final_row else n_rows - 1
        expected, values = reference[:n, c], got[:n, c]
        bad, abs_err, rel_err = _disagree(expected, values, report.rtol)
        _count_not_finite(report, _both_not_finite(expected, values))
        if column.formula is not None:  # every cell of a computed column must be a live formula
            bad |= ~np.fromiter((_is_formula(v) for v in book.contents[:n, c]), bool, n)
        stats = report.groups.setdefault(column.group, GroupResult())
        stats.cells += n
        stats.max_abs = max(stats.max_abs, float(abs_err.max(initial=0.0)))
        stats.max_rel = max(stats.max_rel, float(rel_err.max(initial=0.0)))
        stats.seconds += time.perf_counter() - start
        report.cells += n
        report.wrong += int(bad.sum())
        if bad.any():
            t = int(np.argmax(bad))
            if first is None or t < first[0]:
                first = (t, c)
    if first is not None:
        report.first_wrong = _wrong_cell(book, reference, got, raw, notes, *first)


def _disagree(expected: np.ndarray, got: np.ndarray, rtol: float) -> tuple[np.ndarray, ...]:
    """Which cells are off, their absolute errors and their errors relative to the bound.

    A cell passes iff |got − expected| ≤ rtol·max(|expected|, scale), scale = max |reference|
    over the column up to that row. With the formulas engine each cell is evaluated from exact
    reference inputs, so only rounding differs; a value that is the small difference of large
    numbers (a gradient near convergence) carries rounding error of the size of those numbers,
    i.e. of the size the column had before, not of its own tiny size. Only rows up to the cell's
    own count: a diverging column ends near 1e308, which would excuse any error in its first rows.
    Both sides not finite (NumPy overflowed where the spreadsheet shows #NUM!) counts as agreement,
    and the report counts those cells; a non-finite value on one side only is a mismatch.
    """
    finite = np.isfinite(expected)
    scale = np.maximum.accumulate(np.where(finite, np.abs(expected), 0.0)) if expected.size else 0.0
    bound = np.maximum(np.abs(expected), scale)
    both_off = _both_not_finite(expected, got)
    with np.errstate(all="ignore"):
        err = np.where(both_off, 0.0, np.abs(got - expected))
        err = np.where(np.isnan(err), np.inf, err)
        bad = ~((err <= rtol * bound) | both_off)
        rel = np.where(err == 0, 0.0, err / bound)
    return bad, err, np.where(np.isnan(rel), np.inf, rel)


def _both_not_finite(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Cells where NumPy and the workbook both give no finite number (an error in the sheet)."""
    return ~np.isfinite(expected) & ~np.isfinite(got)


def _count_not_finite(report: Report, both: np.ndarray) -> None:
    if both.any():
        report.not_finite += int(both.sum())
        first = int(np.argmax(both))
        if report.not_finite_from is None or first < report.not_finite_from:
            report.not_finite_from = first


def _wrong_cell(
    book: Workbook, reference: np.ndarray, got: np.ndarray, raw: np.ndarray | None,
    notes: dict[tuple[int, int], str], t: int, c: int,
) -> WrongCell:
    content = book.contents[t, c]
    column = book.columns[c]
    note = notes.get((t, c), "")
    if column.formula is not None and not _is_formula(content):
        held = "" if content is None else f" but {content!r}"
        note = f"the cell holds no formula{held}"
    address = layout.sheet_prefix(book.training_sheet) + layout.address(FIRST_DATA_ROW + t, c + 1)
    value = raw[t, c] if raw is not None and not isinstance(raw[t, c], int | float) else got[t, c]
    return WrongCell(address, column.qid, t, content if _is_formula(content) else None,
                     float(reference[t, c]), value, note)
