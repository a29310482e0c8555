"""The check's memory once the workbook is read: the formulas engine judges the Training sheet a
column at a time, so what it holds beyond the read-back cells and the reference does not grow
with the rows as a whole sheet of results and bounds would (16 bytes a cell: 620 MB at Excel's
largest sheet, where bench/bench.py --huge measures the whole check's peak)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sheetnet.model.spec import load_template
from sheetnet.sheets.writer import build_workbook
from sheetnet.verify import run
from sheetnet.verify.run import run_check


def _peak_after_reading(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(the check's peak traced memory after the workbook is read and NumPy has trained, less
    what it held then, and the cells checked). tracemalloc sees NumPy's arrays; the reference
    lives in a shared mapping it does not see, the same at every size."""
    reading: Callable[[Path], tuple[Any, Callable[[], Any]]] = run.read_while_training
    held: list[int] = []

    def read_then_trace(p: Path) -> tuple[Any, Callable[[], Any]]:
        book, training = reading(p)
        reference = training()
        tracemalloc.start()
        held.append(tracemalloc.get_traced_memory()[0])
        return book, lambda: reference

    monkeypatch.setattr(run, "read_while_training", read_then_trace)
    try:
        report = run_check(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok, report.summary()
    return peak - held[0], report.cells


def test_the_formulas_check_holds_a_column_not_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_template("seed-004-2-2-2")
    peaks = {}
    for iterations in (1_000, 10_000):
        path = tmp_path / f"run-{iterations}.xlsx"
        build_workbook(spec.replace(iterations=iterations), path)
        if not peaks:  # a first check compiles the formulas (cached): both measured runs reuse them
            _peak_after_reading(path, monkeypatch)
        peaks[iterations] = _peak_after_reading(path, monkeypatch)
    (small, small_cells), (large, large_cells) = peaks[1_000], peaks[10_000]
    assert large_cells - small_cells > 9_000 * 37  # seed-004-2-2-2: 38 Training columns a row
    per_cell = (large - small) / (large_cells - small_cells)
    # A column's results, bounds and the temporaries of its formulas are arrays of one column
    # (measured: 4.1 bytes a cell of the sheet); the check that held the whole sheet's results
    # and bounds, and every compiled formula's last arrays, grew 29.7 bytes a cell here.
    assert per_cell < 8, f"{per_cell:.1f} bytes a cell"
