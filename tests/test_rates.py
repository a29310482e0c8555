"""The learning-rate comparison sheet: one live block per rate, each equal to the reference."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import rates as compare
from tests.conftest import build, needs_libreoffice

RATES = (0.1, 0.5, 2.0)
SHEET = "Learning rates"


@dataclasses.dataclass
class BlockCells:
    rate_cell: str  # e.g. B23
    columns: dict[str, str]  # column id → letter


def blocks_of(ws: Any) -> list[BlockCells]:
    """Each block's rate cell and columns, found from the sheet itself (its rows of ids)."""
    starts = [c.column for c in ws[compare.ID_ROW] if c.value == "iter"]
    blocks = []
    for n, start in enumerate(starts):
        end = starts[n + 1] - 1 if n + 1 < len(starts) else ws.max_column + 1
        columns = {c.value: get_column_letter(c.column) for c in ws[compare.ID_ROW][start - 1:end - 1]
                   if c.value}
        blocks.append(BlockCells(f"{get_column_letter(start + 1)}{compare.RATE_ROW}", columns))
    return blocks


def column_values(ws: Any, letter: str, n: int) -> list[Any]:
    first = compare.FIRST_DATA_ROW
    return [ws[f"{letter}{r}"].value for r in range(first, first + n)]


def assert_block_equals(ws: Any, block: BlockCells, spec: Spec, rate: float, qids: list[str]) -> None:
    frame = train(dataclasses.replace(spec, learning_rate=rate))
    for qid in qids:
        got = column_values(ws, block.columns[qid], spec.iterations + 1)
        want = frame[qid].tolist()
        for t, (g, w) in enumerate(zip(got, want, strict=True)):
            if math.isnan(w):  # deltas and gradients stop one row before the end
                assert g is None, (rate, qid, t, g)
                continue
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-13), (rate, qid, t, g, w)


# --- the option ------------------------------------------------------------------------------


def test_parse_rates() -> None:
    assert compare.parse_rates("0.1,0.5,2") == (0.1, 0.5, 2.0)
    assert compare.parse_rates(" 1e-3 , 5 ") == (0.001, 5.0)


@pytest.mark.parametrize(("text", "word"), [
    ("0.1,abc", "'abc' is not a number"),
    ("0.1,,2", "'' is not a number"),
    ("", "'' is not a number"),
    ("0.1,0", "positive"),
    ("-1", "positive"),
    ("nan", "positive"),
    ("inf", "positive"),
    (",".join(["0.1"] * (compare.MAX_RATES + 1)), f"at most {compare.MAX_RATES}"),
])
def test_bad_rates_are_one_line_errors(text: str, word: str) -> None:
    with pytest.raises(SheetnetError, match=re.escape(word)):
        compare.parse_rates(text)


@pytest.mark.parametrize("text", ["0.1,abc", "0,1", "-2", "1,2,3,4,5,6,7,8,9", "nan"])
def test_cli_refuses_bad_rates_with_exit_2(tmp_path: Path, text: str) -> None:
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(app, ["build", "--compare-lr", text, str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error: --compare-lr")
    assert "Traceback" not in result.output
    assert not out.exists()


def test_no_option_no_sheet(tmp_path: Path) -> None:
    assert SHEET not in openpyxl.load_workbook(build(tmp_path, "seed-004-2-2-2")).sheetnames


# --- the sheet -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cmp") / "cmp.xlsx"
    result = CliRunner().invoke(app, ["build", "--compare-lr", "0.1,0.5,2", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_each_block_reads_its_own_rate_cell(built: Path) -> None:
    ws = openpyxl.load_workbook(built)[SHEET]
    blocks = blocks_of(ws)
    assert [ws[b.rate_cell].value for b in blocks] == list(RATES)
    assert ws.row_dimensions[compare.BAND_ROW].height == 45  # two-line group names fit
    row = compare.FIRST_DATA_ROW + 1  # t = 1: the first update
    for block in blocks:
        col = block.columns["W1[1,1]"]
        formula = ws[f"{col}{row}"].value
        rate_ref = "$" + re.sub(r"(\d+)", r"$\1", block.rate_cell)
        assert rate_ref in formula, formula
        assert "Network!$B$4" not in formula  # not the Network sheet's learning rate
        others = [b for b in blocks if b is not block]
        assert all("$" + re.sub(r"(\d+)", r"$\1", o.rate_cell) not in formula for o in others)
    # Same expressions as the Training sheet, only the columns and the rate cell differ.
    training = openpyxl.load_workbook(built)["Training"]
    assert training[f"A{4}"].value == 0 and ws[f"A{compare.FIRST_DATA_ROW}"].value == 0
    assert set(blocks[0].columns) == {c.value for c in training[3] if c.value}


def test_stored_values_are_the_reference_for_each_rate(built: Path) -> None:
    ws = openpyxl.load_workbook(built, data_only=True)[SHEET]
    spec = load_template("seed-004-2-2-2")
    for block, rate in zip(blocks_of(ws), RATES, strict=True):
        assert_block_equals(ws, block, spec, rate, ["loss", "W2[2,2]", "a2[1]", "dW1[1,1]"])


def test_chart_overlays_the_loss_of_every_rate_on_a_log_axis(built: Path) -> None:
    ws = openpyxl.load_workbook(built)[SHEET]
    (chart,) = ws._charts
    blocks = blocks_of(ws)
    last = compare.FIRST_DATA_ROW + 100
    refs = [s.yVal.numRef.f for s in chart.series]
    assert refs == [f"'{SHEET}'!${b.columns['loss']}${compare.FIRST_DATA_ROW}:${b.columns['loss']}${last}"
                    for b in blocks]
    assert chart.y_axis.scaling.logBase == 10
    # Series names are cells whose formulas follow the rate cells: ="η = "&B23.
    for series, block in zip(chart.series, blocks, strict=True):
        name_cell = series.tx.strRef.f.split("!")[1].replace("$", "")
        assert ws[name_cell].value.endswith("&$" + re.sub(r"(\d+)", r"$\1", block.rate_cell))


@pytest.mark.libreoffice
@needs_libreoffice
def test_recalculated_blocks_equal_the_reference_and_follow_an_edited_rate(
    built: Path, tmp_path: Path
) -> None:
    spec = load_template("seed-004-2-2-2")
    qids = ["loss", "W1[1,1]", "b2[2]", "a2[2]", "delta1[1]", "db1[2]"]
    ws = openpyxl.load_workbook(recalculate(built, tmp_path / "recalc.xlsx"), data_only=True)[SHEET]
    blocks = blocks_of(ws)
    for block, rate in zip(blocks, RATES, strict=True):
        assert_block_equals(ws, block, spec, rate, qids)

    # Edit the middle rate only: its block follows the new rate, the others do not move.
    book = openpyxl.load_workbook(built)
    book[SHEET][blocks[1].rate_cell] = 1.25
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    ws = openpyxl.load_workbook(recalculate(edited, tmp_path / "edited-recalc.xlsx"), data_only=True)[SHEET]
    for block, rate in zip(blocks, (RATES[0], 1.25, RATES[2]), strict=True):
        assert_block_equals(ws, block, spec, rate, qids)
    final = ws[f"C{compare.OVERVIEW_ROW + 2}"].value  # the overview's final loss of rate 2
    assert math.isclose(final, train(dataclasses.replace(spec, learning_rate=1.25))["loss"].iloc[-1],
                        rel_tol=1e-9)


def test_a_diverging_rate_stores_errors_not_numbers(tmp_path: Path) -> None:
    spec = load_template("seed-001-linear-system")  # diverges for rates above about 0.03
    path = build(tmp_path, dataclasses.replace(spec, iterations=400), compare_lr=(0.001, 0.1))
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    good, bad = blocks_of(ws)
    loss = column_values(ws, bad.columns["loss"], 401)
    assert isinstance(loss[0], float) and loss[-1] == "#NUM!"
    frame = train(dataclasses.replace(spec, learning_rate=0.001, iterations=400))
    np.testing.assert_allclose(column_values(ws, good.columns["loss"], 401), frame["loss"], rtol=1e-12)
