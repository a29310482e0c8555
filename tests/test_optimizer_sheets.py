"""Optimizers in the workbook: the optimizer group's formulas pass the check for every optimizer
in batch, sgd and minibatch mode (formulas and LibreOffice), the hyperparameters are live cells
on the Network sheet, and the Working sheet works update 1 by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, with_optimizer
from sheetnet.sheets import layout
from sheetnet.sheets import optimizers_sheet as compare
from sheetnet.sheets.layout import FIRST_DATA_ROW, ID_ROW, LABEL_ROW, NetworkLayout
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_gnumeric, needs_libreoffice

HYPER = {
    "sgd": {"weight_decay": 0.01},
    "momentum": {"momentum": 0.8},
    "nesterov": {"momentum": 0.9, "weight_decay": 0.001},
    "rmsprop": {"alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01},
    "adagrad": {"eps": 1e-6},
    "adam": {"beta1": 0.8, "beta2": 0.99, "weight_decay": 0.001},
    "adamw": {"weight_decay": 0.05},
}
RATES = {"sgd": 0.5, "momentum": 0.2, "nesterov": 0.2, "rmsprop": 0.01, "adagrad": 0.2, "adam": 0.05,
         "adamw": 0.05}
MODES = {"batch": {}, "sgd": {"mode": "sgd"}, "minibatch": {"mode": "minibatch", "batch_size": 2}}


def xor_with(optimizer: str, mode: str = "batch", iterations: int = 25, **changes: Any) -> Spec:
    spec = with_optimizer(load_template("xor"), optimizer)
    return spec.replace(**{"iterations": iterations, "learning_rate": RATES[optimizer],
                           **HYPER[optimizer], **MODES[mode], **changes})


def _cell(spec: Spec, qid: str, t: int) -> str:
    return layout.address(FIRST_DATA_ROW + t, ids.all_ids(spec).index(qid) + 1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("optimizer", HYPER)
def test_every_optimizer_passes_the_check_in_every_mode(tmp_path: Path, optimizer: str, mode: str) -> None:
    spec = xor_with(optimizer, mode)
    report = run_check(build(tmp_path, spec))
    assert report.ok, report.summary()
    assert report.groups["optimizer"].cells > 0
    complements = len([k for k in ("beta1", "beta2", "alpha") if k in spec.hyperparameters])
    data = report.groups.get("data")
    assert (data.cells if data else 0) == complements  # each 1 − β cell checked


@pytest.mark.libreoffice
@needs_libreoffice
@pytest.mark.parametrize(("optimizer", "mode"), [("adam", "minibatch"), ("nesterov", "sgd"),
                                                 ("rmsprop", "batch"), ("adamw", "batch"),
                                                 ("adagrad", "minibatch"), ("sgd", "batch")])
def test_libreoffice_agrees_for_every_optimizer(tmp_path: Path, optimizer: str, mode: str) -> None:
    report = run_check(build(tmp_path, xor_with(optimizer, mode, iterations=60)), engine="libreoffice")
    assert report.ok, report.summary()
    optimizer = report.groups["optimizer"]
    assert optimizer.max_bound < 1  # every cell within its own rounding bound (locally)
    assert optimizer.drift is not None and optimizer.drift < 1e-12  # the whole chain agrees with NumPy


def test_the_optimizer_columns_and_their_formulas(tmp_path: Path) -> None:
    spec = xor_with("adam")
    sheet = openpyxl.load_workbook(build(tmp_path, spec))["Training"]
    network = NetworkLayout(spec)
    beta1 = layout.address(*network.setting_cells["beta1"], absolute=True)
    one_minus_beta1 = layout.address(*network.setting_cells["one_minus_beta1"], absolute=True)
    found = [c.value for c in sheet[ID_ROW]]
    assert found[found.index("dW2[1,2]") + 1:][:5] == ["db2[1]", "bc1", "bc2", "m:W1[1,1]", "v:W1[1,1]"]
    t = _cell(spec, "iter", 3)
    power = f"Network!{beta1}^({t}+1)"  # 0 where it would underflow (LibreOffice's #NUM!)
    assert sheet[_cell(spec, "bc1", 3)].value == f"=1-IF(Network!{beta1}<EXP(-700/({t}+1)),0,{power})"
    m, g = _cell(spec, "m:W1[1,1]", 3), _cell(spec, "dW1[1,1]", 3)
    above = _cell(spec, "m:W1[1,1]", 2)
    decay = layout.address(*network.setting_cells["weight_decay"], absolute=True)
    w = _cell(spec, "W1[1,1]", 3)
    assert sheet[m].value == (f"=Network!{beta1}*{above}+Network!{one_minus_beta1}*({g}+Network!{decay}*{w})")
    # the next row subtracts the step
    assert sheet[_cell(spec, "W1[1,1]", 4)].value == f"={w}-{_cell(spec, 'step:W1[1,1]', 3)}"
    labels = {c.value for c in sheet[LABEL_ROW]}
    assert {"m₃₁", "v₃₁", "Δw₃₁", "m(b₃)", "Δb₅", "1 − β₁ᵗ⁺¹"} <= labels
    # the step columns are absent from the last row, as the gradients are
    assert sheet[_cell(spec, "step:W1[1,1]", spec.iterations)].value is None


def test_hyperparameters_are_yellow_cells_and_one_minus_beta_is_a_formula(tmp_path: Path) -> None:
    spec = xor_with("adam")
    network = NetworkLayout(spec)
    sheet = openpyxl.load_workbook(build(tmp_path, spec))["Network"]
    for name in ("beta1", "beta2", "eps", "weight_decay"):
        cell = sheet[layout.address(*network.setting_cells[name])]
        assert cell.value == getattr(spec, name)
        assert cell.fill.fgColor.rgb.endswith("FFFF99"), name
    beta2 = layout.address(*network.setting_cells["beta2"])
    assert sheet[layout.address(*network.setting_cells["one_minus_beta2"])].value == f"=1-{beta2}"
    assert sheet[layout.address(*network.setting_cells["optimizer"])].value == "adam"


SETTING_LABELS = {"momentum": "Momentum μ", "beta1": "β₁ (decay of m)", "one_minus_beta1": "1 − β₁",
                  "beta2": "β₂ (decay of v)", "one_minus_beta2": "1 − β₂", "eps": "ε (added to the root)",
                  "alpha": "RMSprop smoothing α", "one_minus_alpha": "1 − α",
                  "weight_decay": "Weight decay λ"}


@pytest.mark.parametrize(("optimizer", "changes", "yellow", "grey"), [
    ("sgd", {}, [], ["weight_decay"]),
    ("momentum", {}, ["momentum"], ["weight_decay"]),
    ("nesterov", {"weight_decay": 0.01}, ["momentum", "weight_decay"], []),
    ("rmsprop", {}, ["eps", "alpha"], ["momentum", "weight_decay"]),
    ("rmsprop", {"momentum": 0.5}, ["momentum", "eps", "alpha"], ["weight_decay"]),
    ("adagrad", {}, ["eps"], ["weight_decay"]),
    ("adam", {}, ["beta1", "beta2", "eps"], ["weight_decay"]),
    ("adamw", {"weight_decay": 0.01}, ["beta1", "beta2", "eps", "weight_decay"], []),
])
def test_the_network_sheet_shows_only_the_optimizers_own_hyperparameters(
        tmp_path: Path, optimizer: str, changes: dict[str, float], yellow: list[str],
        grey: list[str]) -> None:
    spec = with_optimizer(load_template("xor"), optimizer).replace(iterations=3, **changes)
    sheet = openpyxl.load_workbook(build(tmp_path, spec))["Network"]
    rows = {sheet.cell(r, 1).value: r for r in range(1, layout.DATA_HEADER_ROW)}
    shown = [name for name, label in SETTING_LABELS.items() if label in rows]
    complements = [f"one_minus_{f}" for f in ("beta1", "beta2", "alpha") if f in yellow]
    assert sorted(shown) == sorted(yellow + grey + complements)
    for name in yellow:
        assert sheet.cell(rows[SETTING_LABELS[name]], 2).fill.fgColor.rgb.endswith("FFFF99"), name
    for name in grey:  # a 0 that leaves its term out of every formula: grey, with a note
        cell = sheet.cell(rows[SETTING_LABELS[name]], 2)
        assert cell.value == 0 and not cell.fill.fgColor.rgb.endswith("FFFF99")
        assert "set " + name + " in the spec" in sheet.cell(cell.row, 3).value
    read = read_workbook(build(tmp_path, spec, "again.xlsx")).spec
    assert read.settings == spec.settings and read.optimizer == optimizer


def test_an_edited_beta_is_read_back_and_checked_against_itself(tmp_path: Path) -> None:
    spec = xor_with("adam")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    book["Network"][layout.address(*NetworkLayout(spec).setting_cells["beta1"])] = 0.5
    book.save(path)  # openpyxl drops every stored result: the check computes 1 − β₁ itself
    read = read_workbook(path).spec
    assert (read.optimizer, read.beta1, read.beta2, read.weight_decay) == ("adam", 0.5, 0.99, 0.001)
    assert run_check(path).ok
    assert train(read)["W1[1,1]"].iloc[-1] != train(spec)["W1[1,1]"].iloc[-1]


@pytest.mark.libreoffice
@needs_libreoffice
def test_an_edited_momentum_passes_in_libreoffice(tmp_path: Path) -> None:
    spec = xor_with("momentum")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    book["Network"][layout.address(*NetworkLayout(spec).setting_cells["momentum"])] = 0.3
    book.save(path)
    report = run_check(path, engine="libreoffice")
    assert report.ok, report.summary()


def test_a_tampered_state_cell_is_the_first_wrong_cell(tmp_path: Path) -> None:
    spec = xor_with("rmsprop")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    address = _cell(spec, "s:W2[1,1]", 5)
    book["Training"][address] = book["Training"][address].value.replace("+", "-", 1)
    book.save(path)
    report = run_check(path)
    assert not report.ok
    assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"


def test_a_wrong_one_minus_beta_cell_is_caught(tmp_path: Path) -> None:
    spec = xor_with("adam")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    where = layout.address(*NetworkLayout(spec).setting_cells["one_minus_beta1"])
    book["Network"][where] = "=1.1-B1"
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Network!{where}"


def test_working_sheet_works_the_first_adam_step(tmp_path: Path) -> None:
    spec = xor_with("adam", weight_decay=0.0)
    sheet = openpyxl.load_workbook(build(tmp_path, spec), data_only=True)["Working"]
    rows = {r[0].value: r for r in sheet.iter_rows() if r[0].value}
    frame = train(spec)
    assert rows["m₃₁"][2].value == "(1 − β₁)·∂L/∂w₃₁"
    assert rows["Δw₃₁"][2].value == "η/(1 − β₁ᵗ⁺¹)·m₃₁/(√v₃₁/√(1 − β₂ᵗ⁺¹) + ε)"  # torch's order
    assert rows["Δw₃₁"][6].value == pytest.approx(frame.loc[0, "step:W1[1,1]"], rel=1e-15)
    assert rows["w₃₁′"][2].value == "w₃₁ − Δw₃₁"
    assert rows["w₃₁′"][6].value == pytest.approx(frame.loc[1, "W1[1,1]"], rel=1e-15)
    assert rows["1 − β₁ᵗ⁺¹"][4].value == "1 − 0.8^(0 + 1)"


@pytest.mark.libreoffice
@needs_libreoffice
def test_working_sheet_recomputes_in_libreoffice(tmp_path: Path) -> None:
    from sheetnet.engines.libreoffice import recalculate

    spec = xor_with("nesterov")
    out = recalculate(build(tmp_path, spec), tmp_path / "re.xlsx")
    sheet = openpyxl.load_workbook(out, data_only=True)["Working"]
    rows = {r[0].value: r for r in sheet.iter_rows() if r[0].value}
    frame = train(spec)
    assert rows["b₃₁"][6].value == pytest.approx(frame.loc[0, "b:W1[1,1]"], rel=1e-13)
    assert rows["Δb₅"][6].value == pytest.approx(frame.loc[0, "step:b2[1]"], rel=1e-13)


# --- the command line and the Optimizers sheet ----------------------------------------------

runner = CliRunner()
COMPARED = ("sgd", "momentum", "adam")


def _blocks(ws: Any) -> list[dict[str, str]]:
    """Each block's columns (id → letter), found from the sheet's row of ids."""
    starts = [c.column for c in ws[compare.ID_ROW] if c.value == "iter"]
    result = []
    for n, start in enumerate(starts):
        end = starts[n + 1] - 1 if n + 1 < len(starts) else ws.max_column + 1
        result.append({c.value: get_column_letter(c.column) for c in ws[compare.ID_ROW][start - 1:end - 1]
                       if c.value})
    return result


def test_cli_optimizer_and_compare_optim(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    result = runner.invoke(app, ["build", "--template", "xor", "--optimizer", "adam", "--lr", "0.05",
                                 "--iters", "40", "--compare-optim", ",".join(COMPARED), str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[-1] == "Optimizers"
    spec = read_workbook(out).spec
    assert (spec.optimizer, spec.learning_rate, spec.beta2) == ("adam", 0.05, 0.999)
    ws = book["Optimizers"]
    assert [ws.cell(compare.OVERVIEW_ROW + 1 + n, 1).value for n in range(3)] == list(COMPARED)
    (chart,) = ws._charts
    assert len(chart.series) == 3 and chart.y_axis.scaling.logBase == 10
    blocks = _blocks(ws)
    assert "b:W1[1,1]" in blocks[1] and "m:W1[1,1]" in blocks[2] and not any(":" in q for q in blocks[0])
    zh = runner.invoke(app, ["build", "--template", "xor", "--iters", "5", "--lang", "zh", "--compare-optim",
                             "adam", str(tmp_path / "zh.xlsx")])
    assert zh.exit_code == 0 and "优化器对比" in openpyxl.load_workbook(tmp_path / "zh.xlsx").sheetnames


@pytest.mark.parametrize(("args", "message"), [
    (["--optimizer", "lbfgs"], "--optimizer: unknown optimizer 'lbfgs'; expected one of: sgd, momentum"),
    (["--compare-optim", "sgd,adamx"], "--compare-optim: unknown optimizer 'adamx'"),
    (["--compare-optim", "adam,adam"], "--compare-optim: each optimizer once"),
    (["--compare-optim", ","], "--compare-optim: give at least one optimizer"),
])
def test_cli_bad_optimizers_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "bad.xlsx"
    result = runner.invoke(app, ["build", *args, str(out)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert not out.exists()


def test_cli_train_with_an_optimizer(tmp_path: Path) -> None:
    csv = tmp_path / "run.csv"
    result = runner.invoke(app, ["train", "--template", "xor", "--optimizer", "nesterov", "--iters", "5",
                                 "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    assert "b:W1[1,1]" in csv.read_text().splitlines()[0]


@pytest.mark.libreoffice
@needs_libreoffice
def test_the_optimizers_sheet_recomputes_to_each_optimizers_reference(tmp_path: Path) -> None:
    from sheetnet.engines.libreoffice import recalculate

    spec = load_template("xor").replace(iterations=40, learning_rate=0.1)
    built = build(tmp_path, spec, compare_optim=COMPARED)
    book = openpyxl.load_workbook(built)
    blocks = _blocks(book["Optimizers"])
    # Edit adam's β₁ in its own block: only that block follows.
    beta1 = next(c for c in book["Optimizers"][compare.HYPER_LABEL_ROW] if c.value == "β₁")
    book["Optimizers"].cell(compare.HYPER_ROW, beta1.column).value = 0.5
    book.save(tmp_path / "edited.xlsx")
    ws = openpyxl.load_workbook(recalculate(tmp_path / "edited.xlsx", tmp_path / "re.xlsx"),
                                data_only=True)["Optimizers"]
    specs = [spec, with_optimizer(spec, "momentum"), with_optimizer(spec, "adam").replace(beta1=0.5)]
    for columns, block_spec in zip(blocks, specs, strict=True):
        frame = train(block_spec)
        state = [q for q in ("b:W1[1,1]", "m:b2[1]", "step:W2[1,1]") if q in columns]
        for qid in ("loss", "W1[1,1]", *state):
            for t in range(spec.iterations + 1):
                want = frame.loc[t, qid]
                got = ws[f"{columns[qid]}{compare.FIRST_DATA_ROW + t}"].value
                if math.isnan(want):
                    assert got is None
                else:
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (block_spec.optimizer, qid, t)


def test_adam_divergence_is_reported_as_for_gradient_descent(tmp_path: Path) -> None:
    out = tmp_path / "div.xlsx"
    result = runner.invoke(app, ["build", "--template", "seed-000-regression", "--optimizer", "adam",
                                 "--lr", "1e160", "--iters", "20", str(out)])
    assert result.exit_code == 0
    assert ("sheetnet: warning: training diverged: the loss is not finite from iteration 1 on"
            in result.output)
    report = run_check(out)
    assert report.ok and report.not_finite > 0, report.summary()


def test_bias_correction_is_one_minus_beta_to_the_t_where_the_power_underflows() -> None:
    # LibreOffice's ^ gives #NUM! where β^t underflows (0.9^7000: Adam after ~6,700 rows), so the
    # sheet writes 0 where β < e^(−700/t); 1 − β^t is exactly 1 there in double precision.
    from sheetnet.equations.updates import bias_correction
    from sheetnet.expr.formula import Const, evaluate, to_excel

    bc = bias_correction("beta1")
    text = to_excel(bc, lambda n: "B" if isinstance(n, Const) else "t")
    assert text == "=1-IF(B<EXP(-700/(t+1)),0,B^(t+1))"
    for beta in (0.0, 1e-200, 6.4e-169, 0.5, 0.9, 0.999):
        for t in (0, 1, 2, 99, 6999, 1_000_000):
            value = evaluate(bc, lambda n, b=beta, s=t: b if isinstance(n, Const) else s)
            assert value == 1 - beta ** (t + 1), (beta, t)


@pytest.mark.libreoffice
@needs_libreoffice
@pytest.mark.parametrize("engine", ["libreoffice", pytest.param("gnumeric", marks=needs_gnumeric)])
def test_adam_whose_beta_power_underflows_recomputes_in_every_engine(tmp_path: Path, engine: str) -> None:
    # β₁ = 10⁻²⁰⁰: β₁² underflows in row 1, as 0.9^t does after ~6,700 rows; LibreOffice gave #NUM!.
    spec = load_template("seed-004-2-2-2").replace(optimizer="adam", beta1=1e-200, iterations=4)
    report = run_check(build(tmp_path, spec), engine=engine)
    assert report.ok, report.summary()
    assert report.not_finite == 0
