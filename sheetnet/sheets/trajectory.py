"""The NumPy run a workbook shows, held in memory that does not grow with the iterations.

The Training sheet writes every row, but it writes them in order, so it takes the run a block
of rows at a time as reference.train_blocks trains them (`blocks`). The other sheets read a few
rows (the Summary's t = 0, 1, 2, 5, …, the Guide's and Working's first rows, the decision map's
last) and a few whole columns (the loss for divergence and the charts, the epoch and accuracy
for the Charts' epoch means): those are kept as the blocks go by, and nothing else. Excel's
largest sheet (a million rows of 40 columns, 320 MB as one array) so builds in a few MB of
trajectory.

The first block is trained at once, so the sheets written before the Training sheet (the Guide,
the Exercise sheet) read rows 0 and 1 from it. A sheet that asks for kept data before the
Training sheet has run trains the rest first (keeping only what is kept); the Training sheet
then trains again. A caller that already has the whole run (a class) hands over its DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from sheetnet.model import ids, reference
from sheetnet.model.reference import train_blocks
from sheetnet.model.spec import Spec


class Trajectory:
    """Row t of the run (t = 0 … iterations), columns named by ids.all_ids(spec), "iter" first."""

    def __init__(self, spec: Spec, rows: Iterable[int], columns: Iterable[str], *,
                 frame: pd.DataFrame | None = None, block_rows: int | None = None) -> None:
        """rows and columns: what the sheets besides the Training sheet read (rows 0 and 1 and
        the loss always). frame: the whole run when the caller has it (nothing more is kept)."""
        self.spec = spec
        self.ids = ids.all_ids(spec)
        self._col_of = {qid: c for c, qid in enumerate(self.ids)}
        self._block_rows = block_rows or reference.BLOCK_ROWS
        self._frame = frame
        self._kept_rows = {t for t in (0, 1, *rows) if 0 <= t <= spec.iterations}
        self._kept_columns = [q for q in dict.fromkeys(["loss", *columns]) if q != "iter"]
        unknown = [q for q in self._kept_columns if q not in self._col_of]
        if unknown:
            raise ValueError(f"no such columns in this run: {', '.join(unknown)}")
        self._rows: dict[int, np.ndarray] = {}
        self._columns = {q: np.full(spec.iterations + 1, np.nan) for q in self._kept_columns}
        self._complete = frame is not None  # every kept row and column is filled in
        self._source: Iterator[np.ndarray] | None = None  # the blocks still to train
        self._next_row = 0  # the first row of the source's next block
        self._first: np.ndarray | None = None  # the first block, until the Training sheet takes it
        if frame is None:
            self._start()

    # --- the rows in order, for the Training sheet --------------------------------------------

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first iteration, its rows), every row once, in order; columns as self.ids."""
        if self._frame is not None:
            for start in range(0, self.spec.iterations + 1, self._block_rows):
                rows = self._frame.iloc[start : start + self._block_rows]
                yield start, rows[self.ids].to_numpy(dtype=float)
            return
        if self._first is None:  # a sheet before this one needed the rest of the run: train again
            self._start()
        first, self._first = self._first, None
        assert first is not None
        yield 0, first
        while (block := self._pull()) is not None:
            yield int(block[0, 0]), block

    # --- what the other sheets read ------------------------------------------------------------

    @property
    def loc(self) -> _Loc:
        """loc[t] (a Series by column id) and loc[t, qid] of a kept row, as on a DataFrame."""
        return _Loc(self)

    def row(self, t: int) -> np.ndarray:
        """Row t, one of the kept ones (columns as self.ids)."""
        if self._frame is not None:  # kept once read: the Working and Exercise sheets ask thousands of times
            if t not in self._rows:
                self._rows[t] = self._frame.iloc[t][self.ids].to_numpy(dtype=float)
            return self._rows[t]
        if t not in self._kept_rows:
            raise LookupError(f"iteration {t} is not among the rows kept for the other sheets")
        if t not in self._rows:
            self._finish()
        return self._rows[t]

    def rows(self, iterations: Sequence[int], qids: Sequence[str]) -> np.ndarray:
        """The values of qids (columns) at the given iterations (rows), one row per iteration."""
        at = [self._col_of[q] for q in qids]
        return np.array([self.row(t)[at] for t in iterations], dtype=float).reshape(len(iterations), len(at))

    def column(self, qid: str) -> np.ndarray:
        """A whole kept column, one value per iteration."""
        if qid == "iter":
            return np.arange(self.spec.iterations + 1)
        if self._frame is not None:
            return self._frame[qid].to_numpy()
        if qid not in self._kept_columns:
            raise LookupError(f"the column {qid} is not among those kept for the other sheets")
        self._finish()
        return self._columns[qid]

    def diverged_at(self) -> int | None:
        """The first iteration whose loss is not finite, or None when every loss is finite."""
        return reference.first_not_finite(self.column("loss"))

    # --- training --------------------------------------------------------------------------

    def _start(self) -> None:
        """Begin training; the first block waits for the Training sheet."""
        self._source, self._next_row = train_blocks(self.spec, self._block_rows), 0
        self._first = self._pull()

    def _pull(self) -> np.ndarray | None:
        """The source's next block with its iteration column (None after the last), its kept
        rows and columns noted on the first pass through the run."""
        if self._source is None:
            return None
        with np.errstate(all="ignore"):  # an overflow is NaN there, #NUM! in the sheet
            values = next(self._source, None)
        if values is None:
            self._source, self._complete = None, True
            return None
        start, stop = self._next_row, self._next_row + len(values)
        block = np.empty((len(values), len(self.ids)))
        block[:, 0] = np.arange(start, stop)
        block[:, 1:] = values
        if not self._complete:
            for t in self._kept_rows.intersection(range(start, stop)):
                self._rows[t] = block[t - start].copy()
            for qid, column in self._columns.items():
                column[start:stop] = block[:, self._col_of[qid]]
        self._next_row = stop
        return block

    def _finish(self) -> None:
        """Train what is left of the run, so that every kept row and column is filled in."""
        if self._complete:
            return
        if self._first is None:  # the Training sheet is taking the blocks: they must come in order
            raise RuntimeError("a sheet read the run's kept values while the Training sheet took its rows")
        while self._pull() is not None:
            pass
        self._first = None  # the Training sheet, if written after this, trains again


class _Loc:
    def __init__(self, trajectory: Trajectory) -> None:
        self._trajectory = trajectory

    def __getitem__(self, key: int | tuple[int, str]) -> pd.Series | float:
        trajectory = self._trajectory
        if isinstance(key, tuple):
            t, qid = key
            return float(trajectory.row(int(t))[trajectory._col_of[qid]])
        return pd.Series(trajectory.row(int(key)), index=trajectory.ids)
