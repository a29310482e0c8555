"""Specs crossing Excel's limits are refused before writing, naming the limit and a way around it.

Rows 1,048,576, columns 16,384, 8,192 characters in a formula, 64 nested functions, 32,767
characters of text in a cell; the largest spec inside each limit still builds.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from functools import reduce
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from sheetnet import memo
from sheetnet.cli import app
from sheetnet.equations import graph
from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Call, Num, call
from sheetnet.model import ops
from sheetnet.model.spec import Spec, load_template, to_table
from sheetnet.sheets import layout, limits, working
from sheetnet.sheets.context import FormulaWorksheet
from sheetnet.sheets.layout import FIRST_DATA_ROW, NetworkLayout, TrainingLayout
from sheetnet.sheets.writer import build_workbook
from tests.conftest import build
from tests.test_spec import to_toml

runner = CliRunner()

# The 2-2-2 network with K samples: the loss adds two squares per sample, e.g.
# (T7-Network!$D$14)^2, so its formula grows by about 50 characters a sample. Its Working-sheet
# copy reads cells with four-digit rows (G1234), longer than the Training sheet's (CAB7) in a
# short run, so the Working sheet meets the limit first: 171 samples fit, 172 do not.
MOST_SAMPLES = 171


def _samples(k: int, iterations: int = 3) -> Spec:
    rng = random.Random(k)
    inputs = tuple((round(rng.random(), 2), round(rng.random(), 2)) for _ in range(k))
    targets = tuple((round(rng.random(), 2), round(rng.random(), 2)) for _ in range(k))
    return load_template("seed-004-2-2-2").replace(inputs=inputs, targets=targets, iterations=iterations)


def _longest_formula(path: Path, sheet: str) -> int:
    book = openpyxl.load_workbook(path, read_only=True)
    return max(len(v) for row in book[sheet].iter_rows(values_only=True) for v in row
               if isinstance(v, str) and v.startswith("="))


# --- formula length --------------------------------------------------------------------------


def test_one_sample_too_many_is_refused_naming_the_limit(tmp_path: Path) -> None:
    config = tmp_path / "many.toml"
    config.write_text(to_toml(to_table(_samples(MOST_SAMPLES + 1))), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["build", "--config", str(config), str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "sheetnet: error: the Working sheet's formula for loss would be 8,230 characters long, more "
        "than the 8,192 a spreadsheet allows in a formula; use mode = \"minibatch\" with a small "
        "batch_size (a row then adds a term per sample of its batch, not of the data set), fewer "
        "samples, or narrower layers"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.toml"]  # nothing written


def test_the_most_samples_allowed_still_build(tmp_path: Path) -> None:
    path = build(tmp_path, _samples(MOST_SAMPLES))
    # One sample fewer than the refused spec: its longest formula is 2 squares (50 characters)
    # shorter than the refused 8,230, inside the limit.
    assert _longest_formula(path, "Working") == 8_230 - 50
    assert _longest_formula(path, "Training") <= limits.MAX_FORMULA_CHARS


def test_long_runs_lengthen_the_training_formulas_past_the_limit() -> None:
    # 100,000 iterations: the Training sheet's row numbers get six digits, its loss outgrows
    # the Working sheet's; the layout refuses before the reference even trains.
    spec = _samples(MOST_SAMPLES, iterations=100_000)
    with pytest.raises(SheetnetError) as caught:
        build_workbook(spec, Path("unused.xlsx"))
    message = str(caught.value)
    assert message.startswith("the formula of column loss would be ")
    assert "more than the 8,192 a spreadsheet allows in a formula; use mode = \"minibatch\"" in message


def test_every_formula_written_is_guarded(tmp_path: Path) -> None:
    # A last guard where formulas are written, for sheets no check measures beforehand.
    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = book.add_worksheet("Summary", worksheet_class=FormulaWorksheet)
    ws.write_formula(0, 0, "=" + "+".join(["1"] * 4096))  # 8,192 characters with the "="
    with pytest.raises(SheetnetError, match="a formula on the Summary sheet would be 8,194 characters"):
        ws.write_formula(1, 0, "=" + "+".join(["1"] * 4097))
    book.close()


# --- nesting -------------------------------------------------------------------------------


def _nested_tanh(levels: int) -> ops.Activation:
    return dataclasses.replace(
        ops.ACTIVATIONS["tanh"], excel=lambda z: reduce(lambda e, _: call("TANH", e), range(levels), z))


def test_nesting_is_measured_as_function_depth() -> None:
    z = graph.Cell("z1[1]")
    assert limits.nesting(ops.ACTIVATIONS["linear"].excel(z)) == 0
    assert limits.nesting(ops.ACTIVATIONS["tanh"].excel(z)) == 1
    assert limits.nesting(ops.ACTIVATIONS["sigmoid"].excel(z)) == 2  # IF(z<0, EXP(z)/…, …)
    assert limits.nesting(Call("IF", (Num(1), call("EXP", call("EXP", z)), z))) == 3


@pytest.fixture
def forgetful() -> Iterator[None]:
    """Trees remembered under a swapped registry entry must not outlive it (sheetnet.memo)."""
    memo.forget()
    yield
    memo.forget()


def test_too_deep_nesting_is_refused(monkeypatch: pytest.MonkeyPatch, forgetful: None) -> None:
    # No activation nests that deep; a 65-fold TANH stands in for one that would.
    spec = load_template("seed-004-2-2-2").replace(activations=("tanh", "tanh"), iterations=3)
    monkeypatch.setitem(ops.ACTIVATIONS, "tanh", _nested_tanh(64))
    training = TrainingLayout(spec, NetworkLayout(spec), "Network")  # 64 levels: allowed
    working.check_formulas(spec, training)
    monkeypatch.setitem(ops.ACTIVATIONS, "tanh", _nested_tanh(65))
    memo.forget()  # the trees of the 64-fold TANH are remembered
    with pytest.raises(SheetnetError) as caught:
        TrainingLayout(spec, NetworkLayout(spec), "Network")
    assert str(caught.value) == ("the formula of column a1[1] nests functions 65 levels deep, more than "
                                 "the 64 a spreadsheet allows; use fewer layers or simpler activations")
    with pytest.raises(SheetnetError, match=r"the Working sheet's formula for a1\[1\] nests functions 65"):
        working.check_formulas(spec, training)


# --- rows, columns and text ------------------------------------------------------------------


def test_rows_and_columns_are_refused_one_past_the_largest_sheet() -> None:
    spec = load_template("seed-004-2-2-2")
    most = limits.MAX_ROWS - FIRST_DATA_ROW  # the last data row is row 1,048,576
    layout.check_fits(spec.replace(iterations=most), limits.MAX_COLS)
    with pytest.raises(SheetnetError, match=r"1048577 rows, more than a spreadsheet holds \(1048576\)"):
        layout.check_fits(spec.replace(iterations=most + 1), 10)
    with pytest.raises(SheetnetError, match="16,385 Training columns"):
        layout.check_fits(spec, limits.MAX_COLS + 1)


def test_text_longer_than_a_cell_holds_is_refused(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(iterations=3)
    with pytest.raises(SheetnetError) as caught:
        build(tmp_path, spec.replace(description="x" * 32_768))
    assert str(caught.value) == ("the description is 32,768 characters long, more than the 32,767 a "
                                 "spreadsheet cell holds; shorten it")
    assert list(tmp_path.iterdir()) == []
    path = build(tmp_path, spec.replace(title="標" * 32_767))  # the most a cell holds: kept whole
    book = openpyxl.load_workbook(path, read_only=True)
    assert book["Network"]["A1"].value == "標" * 32_767


def test_rows_of_long_text_stay_within_excels_row_height(tmp_path: Path) -> None:
    description = "A long description, wrapped over many lines of the Guide and Network sheets. " * 200
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=3, description=description))
    book = openpyxl.load_workbook(path)
    heights = {(ws.title, r): d.height for ws in book.worksheets
               for r, d in ws.row_dimensions.items() if d.height is not None}
    # XlsxWriter stores heights in whole pixels: 409 points are 545 pixels, read back 408.75.
    assert heights[("Network", 2)] == heights[("Guide", 4)] == 408.75
    assert max(heights.values()) <= limits.MAX_ROW_POINTS == 409
    assert book["Network"]["A2"].value == description.strip()
