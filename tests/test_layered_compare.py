"""The Learning-rates and Optimizers sheets of networks of layers (issue 20): every block is the
layered Training columns with the block's own rate or optimizer, and at every row its loss and
parameters equal NumPy's run of the spec with that rate or optimizer, in the workbook's stored
values, in the formulas engine's check, and recomputed by LibreOffice and by Gnumeric."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from typer.testing import CliRunner

from sheetnet import api
from sheetnet.cli import app
from sheetnet.engines import gnumeric, libreoffice
from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, parse_spec, to_table, with_optimizer
from sheetnet.sheets import layout
from sheetnet.sheets import optimizers_sheet as optim_sheet
from sheetnet.sheets import rates as rates_sheet
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layered_network import network_layout
from sheetnet.verify.run import run_check
from tests.conftest import needs_gnumeric, needs_libreoffice

ITERATIONS = 20
# Per template: three rates around its own and three optimizers, its own first where it has one
# (attention-marker trains with momentum).
CASES = {
    "cnn-stripes": ((0.1, 0.5, 1.0), ("sgd", "momentum", "adam")),
    "rnn-sequence": ((0.1, 0.5, 2.0), ("sgd", "momentum", "adam")),
    "attention-marker": ((0.05, 0.1, 0.5), ("momentum", "sgd", "adam")),
}
RATES_SHEET, OPTIM_SHEET = "Learning rates", "Optimizers"
# attention-marker's Wk1[·,3] meets the constant third feature, so its gradient is exactly 0 and
# the loss does not depend on it (a constant added to every key leaves each softmax row as it
# is). Each engine's rounding leaves a ±1e-18 there, which adam divides by its own √v + ε: the
# parameter then moves by up to 1e-11 a step, differently in each engine (measured: 4.5e-9 of the
# column's largest value after 20 iterations). The loss and every other parameter agree to 1e-13.
NORMALISED_NOISE = {("attention-marker", "adam"): {"Wk1[1,3]", "Wk1[2,3]", "Wk1[3,3]"}}


def spec_of(name: str) -> Spec:
    return api.template(name).replace(iterations=ITERATIONS)


def optimizer_spec(spec: Spec, optimizer: str) -> Spec:
    """What the block of `optimizer` trains: the spec itself for its own optimizer, else that
    optimizer with torch's default hyperparameters (as `--optimizer` gives)."""
    return spec if optimizer == spec.optimizer else with_optimizer(spec, optimizer)


@pytest.fixture(scope="module", params=sorted(CASES))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A template's workbook with both comparison sheets, 20 iterations."""
    name = request.param
    rates, optimizers = CASES[name]
    path = tmp_path_factory.mktemp("compare") / f"{name}.xlsx"
    api.build(spec_of(name), path, compare_lr=rates, compare_optim=optimizers)
    return name, path


# --- reading the blocks back ------------------------------------------------------------------


def sheet_values(ws: Any, first_row: int, rows: int) -> np.ndarray:
    """Rows first_row … of the sheet as floats (NaN where a cell holds no number), column c at c − 1."""
    out = []
    for row in ws.iter_rows(min_row=first_row, max_row=first_row + rows - 1, values_only=True):
        out.append([v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in row])
    width = max(map(len, out))
    return np.array([r + [np.nan] * (width - len(r)) for r in out], dtype=float)


def blocks_of(ws: Any, id_row: int) -> list[dict[str, int]]:
    """Each block's columns (id → 0-based column), found from the sheet's own row of ids."""
    (row,) = ws.iter_rows(min_row=id_row, max_row=id_row, values_only=True)
    starts = [c for c, v in enumerate(row) if v == "iter"]
    ends = [*starts[1:], len(row)]
    return [{row[c]: c for c in range(s, e) if row[c]} for s, e in zip(starts, ends, strict=True)]


def assert_block_is_run(name: str, label: str, values: np.ndarray, columns: dict[str, int],
                        spec: Spec, run: pd.DataFrame) -> None:
    """The block's loss and every parameter at every row against NumPy's run of its spec."""
    noise = NORMALISED_NOISE.get((name, spec.optimizer), set())
    assert set(columns) == set(ids.all_ids(spec)), label  # the layered Training columns, all of them
    for qid in ["loss", *ids.params(spec)]:
        got, want = values[:, columns[qid]], run[qid].to_numpy()
        atol = 1e-7 if qid in noise else 1e-12
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=atol, err_msg=f"{name} {label} {qid}")


def assert_sheets_are_runs(name: str, path: Path) -> None:
    """Both comparison sheets of the workbook at path (its values as stored) against NumPy."""
    spec = spec_of(name)
    rates, optimizers = CASES[name]
    book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    ws = book[RATES_SHEET]
    values = sheet_values(ws, rates_sheet.FIRST_DATA_ROW, ITERATIONS + 1)
    blocks = blocks_of(ws, rates_sheet.ID_ROW)
    assert len(blocks) == len(rates)
    for columns, rate in zip(blocks, rates, strict=True):
        own = spec.replace(learning_rate=rate)
        assert_block_is_run(name, f"η={rate}", values, columns, own, train(own))
    ws = book[OPTIM_SHEET]
    values = sheet_values(ws, optim_sheet.FIRST_DATA_ROW, ITERATIONS + 1)
    blocks = blocks_of(ws, optim_sheet.ID_ROW)
    assert len(blocks) == len(optimizers)
    for columns, optimizer in zip(blocks, optimizers, strict=True):
        own = optimizer_spec(spec, optimizer)
        assert_block_is_run(name, optimizer, values, columns, own, train(own))
    book.close()


# --- the blocks' numbers ------------------------------------------------------------------------


def test_every_block_stores_numpys_run_with_its_rate_or_optimizer(built: tuple[str, Path]) -> None:
    assert_sheets_are_runs(*built)


def test_the_check_recomputes_every_block(built: tuple[str, Path]) -> None:
    name, path = built
    spec = spec_of(name)
    rates, optimizers = CASES[name]
    report = run_check(path)
    assert report.ok and report.wrong == 0, report.summary()
    for n, rate in enumerate(rates, start=1):
        group = report.groups[f"block {n} (η={rate:g})"]
        assert group.wrong == 0 and group.cells >= ITERATIONS * (len(ids.all_ids(spec)) - 1), group
    for optimizer in optimizers:
        own = optimizer_spec(spec, optimizer)
        group = report.groups[f"{optimizer} block"]
        assert group.wrong == 0 and group.cells >= ITERATIONS * (len(ids.all_ids(own)) - 1), group
    assert report.groups["rate overview"].cells == 3 * len(rates)


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_recomputes_every_block_to_numpys_run(built: tuple[str, Path], tmp_path: Path) -> None:
    name, path = built
    assert_sheets_are_runs(name, libreoffice.recalculate(path, tmp_path / "recalculated.xlsx"))


@needs_gnumeric
def test_gnumeric_recomputes_every_block_to_numpys_run(built: tuple[str, Path], tmp_path: Path) -> None:
    name, path = built
    assert_sheets_are_runs(name, gnumeric.recalculate(path, tmp_path / "recalculated.xlsx"))


@pytest.mark.libreoffice
@needs_libreoffice
def test_the_libreoffice_check_passes_every_block(built: tuple[str, Path]) -> None:
    """The check's whole-chain path: each block's cells judged on LibreOffice's own values of
    the block, with the block's rate or hyperparameters read from the layered Network layout."""
    name, path = built
    report = run_check(path, engine="libreoffice")
    assert report.ok, report.summary()
    for optimizer in CASES[name][1]:
        assert report.groups[f"{optimizer} block"].wrong == 0


# --- the formulas ------------------------------------------------------------------------------


def test_each_block_reads_its_own_rate_and_hyperparameter_cells(built: tuple[str, Path]) -> None:
    """Row t = 1 of a block reads η (an optimizer's block also β, μ, ε, …) from the block's own
    yellow cells, never from the Network sheet's settings or another block's cells."""
    name, path = built
    net = network_layout(spec_of(name))
    settings = {"Network!" + layout.address(*at, absolute=True) for at in net.setting_cells.values()}
    network_lr = "Network!" + layout.address(*net.setting_cells["learning_rate"], absolute=True)
    book = openpyxl.load_workbook(path)
    for sheet, id_row, first, head, forbidden in (
        (RATES_SHEET, rates_sheet.ID_ROW, rates_sheet.FIRST_DATA_ROW, rates_sheet.RATE_ROW, {network_lr}),
        (OPTIM_SHEET, optim_sheet.ID_ROW, optim_sheet.FIRST_DATA_ROW, optim_sheet.HYPER_ROW, settings),
    ):
        ws = book[sheet]
        for columns in blocks_of(ws, id_row):
            left, right = columns["iter"] + 1, max(columns.values()) + 1  # 1-based: the block's span
            formulas = " ".join(str(ws.cell(first + 1, c + 1).value) for c in columns.values())
            read = {column_index_from_string(m[1]) for m in re.finditer(rf"\$([A-Z]+)\${head}\b", formulas)}
            assert left + 1 in read and all(left < c <= right for c in read), (sheet, read, left, right)
            assert not any(cell in formulas for cell in forbidden), sheet


def test_the_loss_chart_draws_every_blocks_loss_column(built: tuple[str, Path]) -> None:
    path = built[1]
    book = openpyxl.load_workbook(path)
    for sheet, id_row, first in ((RATES_SHEET, rates_sheet.ID_ROW, rates_sheet.FIRST_DATA_ROW),
                                 (OPTIM_SHEET, optim_sheet.ID_ROW, optim_sheet.FIRST_DATA_ROW)):
        ws = book[sheet]
        (chart,) = ws._charts
        last = first + ITERATIONS
        want = []
        for columns in blocks_of(ws, id_row):
            letter = get_column_letter(columns["loss"] + 1)
            want.append(f"{layout.sheet_prefix(sheet)}${letter}${first}:${letter}${last}")
        assert [s.yVal.numRef.f for s in chart.series] == want
        assert chart.y_axis.scaling.logBase == 10


# --- a tampered block --------------------------------------------------------------------------


def tamper(path: Path, sheet: str, id_row: int, first_row: int, block: int, qid: str, t: int) -> str:
    """Change one block cell's formula (add 1e-6), save; returns its address."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    columns = blocks_of(ws, id_row)[block]
    address = f"{get_column_letter(columns[qid] + 1)}{first_row + t}"
    ws[address] = ws[address].value + "+1E-6"
    book.save(path)
    return address


@pytest.mark.parametrize("engine", ["formulas", pytest.param("libreoffice", marks=[
    pytest.mark.libreoffice, needs_libreoffice])])
def test_a_tampered_block_cell_fails_the_check_by_its_address(tmp_path: Path, engine: str) -> None:
    spec = spec_of("rnn-sequence")
    rates, optimizers = CASES["rnn-sequence"]
    path = tmp_path / "rnn.xlsx"
    api.build(spec, path, compare_lr=rates, compare_optim=optimizers)
    delta = next(q for q in ids.all_ids(spec) if q.startswith("delta1["))  # a δ of BPTT
    address = tamper(path, OPTIM_SHEET, optim_sheet.ID_ROW, optim_sheet.FIRST_DATA_ROW, 2, delta, 5)
    report = run_check(path, engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    wrong = report.first_wrong
    assert (wrong.address, wrong.qid, wrong.iteration) == (f"{OPTIM_SHEET}!{address}", "adam block", 5)

    api.build(spec, path, compare_lr=rates)
    address = tamper(path, RATES_SHEET, rates_sheet.ID_ROW, rates_sheet.FIRST_DATA_ROW, 1, "loss", 7)
    report = run_check(path, engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    wrong = report.first_wrong
    assert (wrong.address, wrong.qid, wrong.iteration) == (f"'{RATES_SHEET}'!{address}", "block 2 (η=0.5)", 7)


def test_an_edited_rate_cell_is_checked_against_numpy_with_that_rate(tmp_path: Path) -> None:
    path = tmp_path / "cnn.xlsx"
    api.build(spec_of("cnn-stripes"), path, compare_lr=(0.1, 0.5))
    book = openpyxl.load_workbook(path)
    ws = book[RATES_SHEET]
    ws.cell(rates_sheet.RATE_ROW, blocks_of(ws, rates_sheet.ID_ROW)[0]["iter"] + 2).value = 0.3
    book.save(path)
    report = run_check(path)
    assert report.ok, report.summary()
    assert "block 1 (η=0.3)" in report.groups and "block 2 (η=0.5)" in report.groups


def test_chinese_comparison_sheets_pass_the_check(tmp_path: Path) -> None:
    path = tmp_path / "zh.xlsx"
    api.build(spec_of("attention-marker").replace(iterations=5), path, lang="zh", compare_lr=(0.1, 0.2),
              compare_optim=("momentum", "adam"))
    rates_zh, optim_zh = STRINGS["zh"]["sheet.compare"], STRINGS["zh"]["sheet.compare_optim"]
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert names[-3:] == [rates_zh, STRINGS["zh"]["sheet.layer_maps"], optim_zh], names
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.groups["adam block"].cells > 0 and report.groups[f"text ({rates_zh})"].cells > 0


@pytest.mark.parametrize(("name", "changes"), [
    ("cnn-stripes", {"mode": "sgd", "shuffle": True, "seed": 3}),
    ("rnn-sequence", {"mode": "minibatch", "batch_size": 2}),
])
def test_blocks_in_sgd_and_minibatch_mode_are_numpys_runs(tmp_path: Path, name: str,
                                                          changes: dict[str, Any]) -> None:
    """Each block keeps the spec's schedule (the samples of each row) with its own rate or optimizer."""
    spec = api.template(name).replace(iterations=8, **changes)
    path = tmp_path / f"{name}.xlsx"
    api.build(spec, path, compare_lr=(0.1, 1.0), compare_optim=("sgd", "adam"))
    report = run_check(path)
    assert report.ok, report.summary()
    ws = openpyxl.load_workbook(path, data_only=True, read_only=True)[OPTIM_SHEET]
    values = sheet_values(ws, optim_sheet.FIRST_DATA_ROW, 9)
    adam = with_optimizer(spec, "adam")
    run = train(adam)
    columns = blocks_of(ws, optim_sheet.ID_ROW)[1]
    schedule = ids.schedule(adam)  # the epoch and sample columns
    assert schedule and all(np.array_equal(values[:, columns[q]], run[q].to_numpy()) for q in schedule)
    assert_block_is_run(name, "adam", values, columns, adam, run)


# --- what does not fit, and what is refused ---------------------------------------------------------


def wide_attention() -> Spec:
    """attention-marker with its four samples four times over: 2,791 Training columns a block."""
    table = to_table(api.template("attention-marker"))
    table["data"]["inputs"] *= 4
    table["data"]["targets"] *= 4
    table["training"]["iterations"] = 1
    return parse_spec(table, name="wide")


def test_blocks_past_the_last_column_are_a_one_line_error_that_says_how_many_fit(tmp_path: Path) -> None:
    spec = wide_attention()
    width = len(ids.all_ids(spec))
    assert width == 2791 and (layout.MAX_COLS + 1) // (width + 1) == 5
    out = tmp_path / "wide.xlsx"
    with pytest.raises(SheetnetError, match=r"^--compare-lr: 6 rates need 16,751 columns, more than a "
                       r"spreadsheet holds \(16,384\); a block of this network is 2,791 columns wide, so 5 "
                       r"fit: give 5 rates or fewer$"):
        api.build(spec, out, compare_lr=[0.1] * 6)
    names = ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"]
    with pytest.raises(SheetnetError, match=r"^--compare-optim: 6 optimizers need 16,\d{3} columns, "
                       r".* a block of this network is 2,70\d to 2,83\d columns wide, so the first 5 "
                       r"fit: give 5 optimizers or fewer$"):
        api.build(spec, out, compare_optim=names)
    assert not out.exists()
    api.build(spec, out, compare_lr=[0.1] * 5)  # the five that fit
    ws = openpyxl.load_workbook(out, read_only=True)[RATES_SHEET]
    assert len(blocks_of(ws, rates_sheet.ID_ROW)) == 5 and ws.max_column <= layout.MAX_COLS


def test_the_cli_builds_both_sheets_and_refuses_a_decision_map(tmp_path: Path) -> None:
    out = tmp_path / "rnn.xlsx"
    runner = CliRunner()
    result = runner.invoke(app, ["build", "-t", "rnn-sequence", "--iters", "5", "--compare-lr", "0.1,1",
                                 "--compare-optim", "sgd,adam", str(out)])
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert names[-2:] == [RATES_SHEET, OPTIM_SHEET], names
    out.unlink()
    result = runner.invoke(app, ["build", "-t", "rnn-sequence", "--decision-map", "20", str(out)])
    assert result.exit_code != 0 and not out.exists()
    (line,) = result.output.strip().splitlines()
    assert line.startswith("sheetnet: error: --decision-map: a decision map is drawn for a dense"), line
    assert "reads 4 numbers a sample (input_shape [4, 1]), one axis each, too many for a map" in line, line


def test_the_console_builds_a_layered_template_with_both_comparisons(tmp_path: Path) -> None:
    """The Build page writes the layers as TOML inline tables that it reads back (they were JSON,
    which its TOML fields refused), and its comparison options reach the layered build."""
    from starlette.testclient import TestClient

    from sheetnet.web.app import create_app
    from tests.test_web import Page

    with TestClient(create_app()) as client:
        page = Page(client, "/build?template=cnn-stripes")
        values = page.form_values()
        assert values["network.layers"].startswith('[{kind = "conv2d", channels = 2, kernel = 3, ')
        status = page.run("build", values | {"training.iterations": "5", "compare_lr": "0.1,0.5",
                                             "compare_optim": "sgd,adam"})
        assert status["state"] == "done", status
        path = tmp_path / "workbook.xlsx"
        path.write_bytes(page.download("workbook.xlsx"))
    report = run_check(path)
    assert report.ok, report.summary()
    assert {"block 2 (η=0.5)", "adam block"} <= set(report.groups)
