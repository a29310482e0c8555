"""Whole-column implementations of the few spreadsheet functions and operators sheetnet writes.

The `formulas` package parses and compiles every distinct formula of the check, but its own
functions evaluate an array element by element (`numpy.vectorize` over a Python function that
looks for errors in each value): about 1 µs per value and operation, half of a check's time.
Inside `fast_functions()` the formulas compiled use the versions below instead. They compute
a whole column with one NumPy operation when every argument is plain numbers, and otherwise
hand the call to the package's own function, so every value the package knows (text,
booleans, empty cells, a number where a condition belongs) keeps the package's meaning.

Their values are `Numbers`: float64 arrays in which NaN stands for an error value. The check
needs only to know whether a cell holds a number or an error, so the kind of error (#NUM!,
#DIV/0!, #VALUE!) is not kept; where a call falls back to the package, a NaN is handed over
as #NUM!. Comparisons give `Logicals` (1.0 for TRUE, 0.0 for FALSE), which arithmetic reads as
1 and 0, as the package does, and which are handed over as booleans when a comparison or IF
needs the package's typed order of values. tests/test_vectorised.py proves each function
equal to the package's own, value by value, errors included.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from sheetnet.verify.statfunctions import statistics_functions


class Numbers(np.ndarray):
    """Spreadsheet values as float64; NaN stands for an error value (#NUM!, #DIV/0!, …)."""


class Logicals(Numbers):
    """TRUE/FALSE as 1.0/0.0 (NaN an error): what a comparison gives."""


def numbers(values: Any, kind: type[Numbers] = Numbers) -> Numbers:
    """Values as Numbers: every non-finite value (an overflow, 0/0, log(0)) becomes an error."""
    result = np.array(values, dtype=float)
    result[~np.isfinite(result)] = np.nan
    return result.view(kind)


# --- which arguments the fast path takes ---------------------------------------------------


def _number(value: Any, *, logicals: bool = True) -> Any:
    """The argument as a float or float array for NumPy, or None when the package must judge it.

    Numbers pass as they are (NaN is an error). Plain floats and float arrays pass only when
    every value is finite: to the package a NaN there is a number, not an error.
    """
    if isinstance(value, Numbers):
        return np.asarray(value) if logicals or not isinstance(value, Logicals) else None
    if isinstance(value, np.ndarray):
        if value.dtype == np.float64 and np.isfinite(value).all():
            return value
        return None
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool | np.bool_):
        return float(value) if math.isfinite(value) else None
    return None


def _numbers_of(args: tuple[Any, ...], *, logicals: bool = True) -> list[Any] | None:
    values = [_number(a, logicals=logicals) for a in args]
    return None if any(v is None for v in values) else values


def _package_value(value: Any) -> Any:
    """A fast-path value as the package represents it: objects, NaN as #NUM!, 1.0 as TRUE."""
    if not isinstance(value, Numbers):
        return value
    from formulas.functions import Error

    plain = np.asarray(value)
    shown = plain != 0 if isinstance(value, Logicals) else plain
    result = np.asarray(shown, dtype=object)
    result[np.isnan(plain)] = Error.errors["#NUM!"]
    return result if result.shape else result[()]


def _fallback(original: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return original(*(_package_value(a) for a in args))


# --- the implementations -------------------------------------------------------------------


def _elementwise(numpy_function: Callable[..., Any], original: Callable[..., Any], *,
                 logicals: bool = True, kind: type[Numbers] = Numbers) -> Callable[..., Any]:
    """A function computed by NumPy on Numbers, or by the package's original on anything else."""

    def fast(*args: Any) -> Any:
        values = _numbers_of(args, logicals=logicals)
        if values is None:
            return _fallback(original, args)
        with np.errstate(all="ignore"):
            result = numpy_function(*values)
        return numbers(result, kind)

    return fast


def _divide(x: Any, y: Any) -> Any:
    return np.true_divide(x, y)  # x/0 is inf or NaN: an error, as the package's #DIV/0!


def _power(x: Any, y: Any) -> Any:
    # IEEE pow gives 1 for NaN^0 and 1^NaN; an error raised to any power stays an error.
    return np.where(np.isnan(x) | np.isnan(y), np.nan, np.power(x, y))


def _compare(operator: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(x: Any, y: Any) -> Any:
        result = operator(x, y).astype(float) if np.ndim(x) or np.ndim(y) else float(operator(x, y))
        return np.where(np.isnan(x) | np.isnan(y), np.nan, result)

    return compare


def _row_max(*values: Any) -> Any:
    return functools.reduce(np.maximum, values)  # NaN (an error) in any argument wins


def _row_min(*values: Any) -> Any:
    return functools.reduce(np.minimum, values)


def _if(original: Callable[..., Any]) -> Callable[..., Any]:
    """IF(condition, then, else): the condition's error is the result; a branch's error only
    where that branch is taken (as in every spreadsheet)."""

    def fast(*args: Any) -> Any:
        if len(args) != 3:
            return _fallback(original, args)
        condition, *branches = args
        test = _number(condition)
        values = _numbers_of(tuple(branches))
        same_kind = isinstance(branches[0], Logicals) == isinstance(branches[1], Logicals)
        if test is None or values is None or not same_kind:
            return _fallback(original, args)
        kind = Logicals if isinstance(branches[0], Logicals) else Numbers
        with np.errstate(invalid="ignore"):
            chosen = np.where(np.asarray(test) != 0, values[0], values[1])
        return np.where(np.isnan(test), np.nan, chosen).view(kind)

    return fast


ARITHMETIC: dict[str, Callable[..., Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": _divide, "^": _power,
    "U-": np.negative, "U+": np.positive, "%": lambda x: np.true_divide(x, 100.0),
}
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal,
    "=": np.equal, "<>": np.not_equal,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "EXP": np.exp, "LN": np.log, "TANH": np.tanh, "ABS": np.abs, "SHEETNET.ROWMAX": _row_max,
    "SHEETNET.ROWMIN": _row_min,
    # Layers divide by SQRT(dim) (attention) and SQRT(var + ε) (layernorm): left to the package,
    # each such quotient fell back to it element by element (a fifth of attention-marker's check).
    "SQRT": np.sqrt,
}


def fast_operators(originals: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """The operators' fast versions, each falling back to its entry in `originals`."""
    fast = {name: _elementwise(f, originals[name]) for name, f in ARITHMETIC.items()}
    fast |= {name: _elementwise(_compare(f), originals[name], logicals=False, kind=Logicals)
             for name, f in COMPARISONS.items()}
    return fast


def fast_functions_for(originals: dict[str, Any]) -> dict[str, Any]:
    """The functions' fast versions (IF keeps the package's entry form, a dict with its
    cycle solver), each falling back to its entry in `originals`."""
    fast: dict[str, Any] = {name: _elementwise(f, originals[name]) for name, f in FUNCTIONS.items()
                            if name in originals}
    entry = originals["IF"]
    fast["IF"] = {**entry, "function": _if(entry["function"])}
    return fast


def _wrap(function: Any) -> Any:
    """Let the package hand over ranges (its Ranges objects) as it does to its own functions."""
    from formulas.functions import wrap_ranges_func

    if isinstance(function, dict):
        return {**function, "function": wrap_ranges_func(function["function"])}
    return wrap_ranges_func(function)


# --- the registry the check compiles with --------------------------------------------------

ROW_MAX = "SHEETNET.ROWMAX"  # MAX of single cells, row by row (see recompute.py)
ROW_MIN = "SHEETNET.ROWMIN"  # MIN likewise (the softmax decision map's cap, see mapcheck.py)
# The parts of formulas' function registry that hold every function sheetnet writes.
# formulas.get_functions() imports all its parts, and one of them imports SciPy's statistics:
# about a second and 60 MiB, more than the rest of a small check. A formula that uses any
# other function still finds it, in the full registry, loaded the first time it is asked for.
_PARTS = (".math", ".logic", ".look", ".text", ".info")


def row_max(*values: float) -> float:
    """The package-side ROW_MAX of one row: the largest value, NaN if any is NaN."""
    return max(values) if not any(math.isnan(v) for v in values) else math.nan


def row_min(*values: float) -> float:
    """The package-side ROW_MIN of one row: the smallest value, NaN if any is NaN."""
    return min(values) if not any(math.isnan(v) for v in values) else math.nan


class _Registry(dict):  # type: ignore[type-arg]
    """Function name → the package's entry; a name not loaded comes from the full registry."""

    def __missing__(self, name: str) -> Any:
        return _full_registry()[name]


@functools.lru_cache(maxsize=1)
def _package_get_functions() -> Callable[[], Any]:
    """The package's own get_functions, kept before any patch (formulas caches the attribute it
    hands out first, so asking for it while patched would hand out the patch)."""
    import formulas.functions

    return formulas.functions.get_functions  # type: ignore[no-any-return]


def _full_registry() -> Any:
    return _package_get_functions()()


@functools.lru_cache(maxsize=1)
def package_functions() -> _Registry:
    """The package's own entries of the functions sheetnet writes (and ROW_MAX)."""
    import importlib

    from formulas.functions import FUNCTIONS as BASICS
    from formulas.functions import wrap_ufunc

    _package_get_functions()  # the original, kept before any patch
    functions = _Registry()
    for part in _PARTS:
        functions.update(importlib.import_module(part, "formulas.functions").FUNCTIONS)
    functions.update(statistics_functions())  # MAX, MIN, AVERAGE, … without SciPy
    functions.update(BASICS)
    functions[ROW_MAX] = wrap_ufunc(row_max)
    functions[ROW_MIN] = wrap_ufunc(row_min)
    return functions


@contextmanager
def _compiling_with(registry: _Registry) -> Iterator[None]:
    """Formulas parsed and compiled inside look their functions up in registry."""
    import formulas.functions as package

    saved_lookup = package.get_functions
    try:
        package.get_functions = lambda: registry  # where the parser and compiler look functions up
        yield
    finally:
        package.get_functions = saved_lookup


@contextmanager
def light_functions() -> Iterator[None]:
    """Formulas parsed and compiled inside use the package's own functions, from the registry
    without SciPy (package_functions): the same values, without a second of imports."""
    with _compiling_with(package_functions()):
        yield


@contextmanager
def fast_functions() -> Iterator[None]:
    """Formulas parsed and compiled inside use the fast versions (the package is restored after)."""
    from formulas.functions.operators import OPERATORS

    originals = package_functions()
    compiling = _Registry(originals)
    compiling.update({k: _wrap(f) for k, f in fast_functions_for(originals).items()})
    saved_operators = {name: OPERATORS[name] for name in (*ARITHMETIC, *COMPARISONS) if name in OPERATORS}
    try:
        OPERATORS.update({k: _wrap(f) for k, f in fast_operators(saved_operators).items()})
        with _compiling_with(compiling):
            yield
    finally:
        OPERATORS.update(saved_operators)
