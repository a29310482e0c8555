"""The `formulas` package's own entries of the statistical functions sheetnet writes (MAX, MIN,
AVERAGE, AVERAGEIF, STDEVP), built without importing the package's statistics module.

That module (formulas/functions/stat.py) imports SciPy's statistics at its top: about a second
and 60 MiB, more than the rest of a small check, for five functions that need only NumPy. The
entries below are the package's definitions written out again with its own helpers (the same
`xfunc`, `xfilter` and `wrap_func`), so they mean what the package's mean: which values count
(numbers, not text or booleans in a range), which errors win, what an empty list gives.
tests/test_vectorised.py proves each equal to the package's own entry on random inputs, errors,
text, booleans and empty cells included.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


def _xfunc(*args: Any, func: Any = max, default: Any = 0) -> Any:
    """The package's xfunc (formulas/functions/stat.py) with its default check (numbers only)."""
    from formulas.functions import _convert_args, flatten, raise_errors

    raise_errors(args)
    values = list(flatten(map(_convert_args, args)))
    return func(values or ([] if default is None else [default]))


def _average(values: list[Any]) -> Any:
    from formulas.functions import Error

    return np.mean(values) if values else Error.errors["#DIV/0!"]


def _stdev_p(values: list[Any]) -> Any:
    from formulas.functions import Error

    return np.std(values, ddof=0) if len(values) > 0 else Error.errors["#DIV/0!"]


@functools.lru_cache(maxsize=1)
def statistics_functions() -> dict[str, Any]:
    """Name → the package's entry, for the statistical functions sheetnet writes."""
    from formulas.functions import wrap_func, xfilter

    average = functools.partial(_xfunc, func=_average, default=None)
    stdev_p = wrap_func(functools.partial(_xfunc, func=_stdev_p, default=None))
    return {
        "MAX": wrap_func(_xfunc),
        "MIN": wrap_func(functools.partial(_xfunc, func=min)),
        "AVERAGE": wrap_func(average),
        "AVERAGEIF": wrap_func(functools.partial(xfilter, average)),
        "STDEVP": stdev_p, "STDEV.P": stdev_p, "_XLFN.STDEV.P": stdev_p,
    }
