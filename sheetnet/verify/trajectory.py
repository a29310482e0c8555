"""The NumPy reference trajectory of a workbook's network, trained in a second process while
this one reads the workbook's Training sheet (the two take similar time; the machine that
checks has at least two cores more often than not).

The second process is forked, so it starts with the spec and every module already in memory
and sends back only the float array. Where fork is missing (Windows, macOS's default) the
training simply follows the reading.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec
from sheetnet.verify.readback import Workbook, read_workbook


def trajectory(spec: Spec) -> np.ndarray:
    """Every iteration's values in the Training sheet's column order (a diverging run overflows,
    in NumPy as in the workbook)."""
    with np.errstate(all="ignore"):
        return train(spec)[ids.all_ids(spec)].to_numpy(dtype=float)


def read_while_training(path: Path) -> tuple[Workbook, Callable[[], np.ndarray]]:
    """The workbook read back, and a function that gives its network's reference trajectory,
    trained meanwhile (it waits for the training if that is not done yet)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        book = read_workbook(path)
        return book, lambda: trajectory(book.spec)
    started: list[Future[np.ndarray]] = []
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        book = read_workbook(path, on_spec=lambda spec: started.append(pool.submit(trajectory, spec)))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise

    def result() -> np.ndarray:
        try:
            return started[0].result()
        finally:
            pool.shutdown()

    return book, result
