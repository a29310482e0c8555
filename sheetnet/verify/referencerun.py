"""NumPy's reference run as the checks of the sheets beside Training read it: row t, columns by id.

The checks read a value at (t, id), a row, a whole column: what a pandas DataFrame offers, and
what they once used one for. This is the run's own array with a name for each column, so that
the check needs neither pandas (a fifth of a small check's start-up) nor a copy of the run.
`loc[t, qid]` and `loc[t]` read as on a DataFrame, so the sheets' own helpers (the Working
sheet's leaves, the decision map's parameters), which the build hands a DataFrame, take it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class ReferenceRun:
    """Rows t = 0 … iterations of the reference run, columns named by column id."""

    def __init__(self, values: np.ndarray, columns: Sequence[str]):
        if values.shape[1] != len(columns):
            raise ValueError(f"{values.shape[1]} columns of values for {len(columns)} names")
        self.values = values
        self.columns = list(columns)
        self._column_of = {qid: c for c, qid in enumerate(self.columns)}

    def __getitem__(self, qid: str) -> np.ndarray:
        """Column qid, every row."""
        return self.values[:, self._column_of[qid]]

    def to_numpy(self, dtype: Any = float) -> np.ndarray:
        return self.values.astype(dtype, copy=False)

    @property
    def loc(self) -> _Loc:
        """loc[t, qid]: one value; loc[t]: row t, read by column id."""
        return _Loc(self)


class _Loc:
    def __init__(self, run: ReferenceRun):
        self.run = run

    def __getitem__(self, key: int | tuple[int, str]) -> Any:
        if isinstance(key, tuple):
            t, qid = key
            return self.run.values[_row(t, self.run), self.run._column_of[qid]]
        return _Row(self.run, _row(key, self.run))


class _Row:
    """Row t, read by column id."""

    def __init__(self, run: ReferenceRun, t: int):
        self.run, self.t = run, t

    def __getitem__(self, qid: str) -> Any:
        return self.run.values[self.t, self.run._column_of[qid]]


def _row(t: int, run: ReferenceRun) -> int:
    """t as a row number: 0 … iterations, no negative index from the end (as a DataFrame's loc)."""
    if not 0 <= t < run.values.shape[0] or t != int(t):
        raise KeyError(t)
    return int(t)
