"""The Summary sheet: which iterations, live references to the right Training rows, right values."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout, summary
from tests.conftest import build, needs_libreoffice

REF = re.compile(r"^=Training!([A-Z]+)(\d+)$")


@pytest.mark.parametrize(("iterations", "every", "rows"), [
    (100, None, [0, 1, 2, 5, *range(10, 101, 10)]),
    (1000, None, [0, 1, 2, 5, 10, 20, 50, *range(100, 1001, 100)]),
    (1000, 250, [0, 1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 750, 1000]),
    (7, None, list(range(8))),
    (1, None, [0, 1]),
    (33, 1000, [0, 1, 2, 5, 10, 20, 33]),
])
def test_summary_iterations(iterations: int, every: int | None, rows: list[int]) -> None:
    assert summary.summary_iterations(iterations, every) == rows


def test_default_every_gives_about_ten_even_rows() -> None:
    assert [summary.default_every(n) for n in (1, 10, 11, 100, 200, 250, 1000, 5000, 1_048_000)] == [
        1, 1, 2, 10, 20, 50, 100, 500, 100_000]


@pytest.mark.parametrize("bad", [0, -3, True])
def test_bad_every_is_refused(bad: Any) -> None:
    with pytest.raises(SheetnetError, match="--summary-every"):
        summary.summary_iterations(100, bad)


def summary_table(path: Path, data_only: bool = False) -> tuple[list[str], list[list[Any]]]:
    ws = openpyxl.load_workbook(path, data_only=data_only)["Summary"]
    ids = [c.value for c in ws[summary.ID_ROW]]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=summary.FIRST_DATA_ROW)]
    return ids, [r for r in rows if r[0] is not None]


def test_rows_refer_to_the_training_rows_of_their_iteration(tmp_path: Path) -> None:
    path = build(tmp_path, load_template("seed-001-bp-demo").replace(iterations=1000))
    training = openpyxl.load_workbook(path)["Training"]
    column_of = {c.value: c.column_letter for c in training[layout.ID_ROW] if c.value}
    ids, rows = summary_table(path)
    assert ids[:2] == ["iter", "loss"] and "a2[2]" in ids and "W2[2,3]" in ids and "b1" in ids
    expected_t = summary.summary_iterations(1000, None)
    assert len(rows) == len(expected_t)
    for t, row in zip(expected_t, rows, strict=True):
        for qid, formula in zip(ids, row, strict=True):
            col, r = REF.match(formula).groups()
            assert int(r) == layout.FIRST_DATA_ROW + t
            assert col == column_of[qid]
            assert training[f"{col}{r}"].value is not None  # the referenced cell exists
    # Seed 001's handout rows: after 10, 100 and 1000 iterations.
    assert {10, 100, 1000} <= set(expected_t)


def test_stored_values_are_the_reference_and_targets_are_shown(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2")
    path = build(tmp_path, spec, summary_every=25)
    ids, rows = summary_table(path, data_only=True)
    frame = train(spec)
    for row in rows:
        t = int(row[0])
        assert row == pytest.approx([frame.loc[t, q] for q in ids], rel=1e-12)
    assert [r[0] for r in rows] == [0, 1, 2, 5, 10, 20, 25, 50, 75, 100]
    # The band row is tall enough for two-line group names (set before its cells were written).
    assert openpyxl.load_workbook(path)["Summary"].row_dimensions[summary.BAND_ROW].height == 45
    book = openpyxl.load_workbook(path)
    targets = [c.value for c in book["Summary"][summary.TARGET_ROW]]
    for j in range(2):
        formula = targets[ids.index(f"a2[{j + 1}]")]
        assert formula.startswith("=Network!$")
        assert book["Network"][formula.removeprefix("=Network!").replace("$", "")].value == spec.targets[0][j]


@pytest.mark.libreoffice
@needs_libreoffice
def test_recalculated_summary_equals_the_reference(tmp_path: Path) -> None:
    spec = dataclasses.replace(load_template("seed-000-regression"), iterations=300)
    path = build(tmp_path, spec)
    recalculated = recalculate(path, tmp_path / "recalc.xlsx")
    ids, rows = summary_table(recalculated, data_only=True)
    frame = train(spec)
    assert [r[0] for r in rows] == summary.summary_iterations(300, None)
    for row in rows:
        t = int(row[0])
        for qid, value in zip(ids, row, strict=True):
            assert math.isclose(value, frame.loc[t, qid], rel_tol=1e-9, abs_tol=1e-12), (t, qid)


def test_cli_summary_every(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["build", "--summary-every", "30", str(out)])
    assert result.exit_code == 0, result.output
    _, rows = summary_table(out)
    assert [int(REF.match(r[0]).group(2)) - layout.FIRST_DATA_ROW for r in rows] == [
        0, 1, 2, 5, 10, 20, 30, 50, 60, 90, 100]
    bad = runner.invoke(app, ["build", "--summary-every", "0", str(tmp_path / "bad.xlsx")])
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("sheetnet: error: --summary-every")
    assert not (tmp_path / "bad.xlsx").exists()
