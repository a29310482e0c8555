"""The NumPy reference trajectory of a workbook's network, trained in a second process while
this one reads the workbook's Training sheet (the two take similar time; the machine that
checks has at least two cores more often than not).

The second process is forked, so it starts with the spec and every module already in memory.
It writes the float array straight into memory shared with this process (an anonymous shared
mapping made before the fork), so nothing is pickled or copied on the way back: a trajectory
of 40 million cells (Excel's largest sheet) is 320 MB, and a copy in transit would double it.
Where fork is missing (Windows, macOS's default) the training simply follows the reading.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.model import ids
from sheetnet.model.reference import train_array
from sheetnet.model.spec import Spec
from sheetnet.verify.readback import Workbook, read_workbook


def trajectory(spec: Spec, out: np.ndarray | None = None) -> np.ndarray:
    """Every iteration's values in the Training sheet's column order (a diverging run overflows,
    in NumPy as in the workbook), into out when given: trained a block of rows at a time
    straight into place, never a second copy of the whole."""
    with np.errstate(all="ignore"):
        return train_array(spec, out)


def _train_into(spec: Spec, out: np.ndarray) -> None:
    trajectory(spec, out)


def read_while_training(path: Path) -> tuple[Workbook, Callable[[], np.ndarray]]:
    """The workbook read back, and a function that gives its network's reference trajectory,
    trained meanwhile (it waits for the training if that is not done yet)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        book = read_workbook(path)
        return book, lambda: trajectory(book.spec)
    started: list[tuple[Any, np.ndarray, Spec]] = []

    def start(spec: Spec) -> None:
        shape = (spec.iterations + 1, len(ids.all_ids(spec)))
        shared = mmap.mmap(-1, 8 * max(math.prod(shape), 1))  # MAP_SHARED | MAP_ANONYMOUS
        out = np.frombuffer(shared, dtype=float, count=math.prod(shape)).reshape(shape)
        process = multiprocessing.get_context("fork").Process(target=_train_into, args=(spec, out),
                                                              daemon=True)
        process.start()
        started.append((process, out, spec))

    try:
        book = read_workbook(path, on_spec=start)
    except BaseException:
        for process, _, _ in started:
            process.kill()
            process.join()
        raise

    def result() -> np.ndarray:
        process, out, spec = started[0]
        process.join()
        if process.exitcode != 0:  # it failed (killed, out of memory): train here, where any error shows
            return trajectory(spec)
        return out

    return book, result
