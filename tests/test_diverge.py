"""Diverging training: NumPy and the workbook agree on where numbers stop being finite.

A spreadsheet cell that reads an error is an error, and a formula's a+b+c overflows as soon as
a partial sum does; the NumPy core follows the same rules, so the first iteration whose loss is
not finite is the same in NumPy, in `formulas` and in LibreOffice.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.model import ids
from sheetnet.model.reference import DivergedWarning, diverged_at, train
from sheetnet.model.spec import Spec, load_template, parse_spec
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_libreoffice

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sheetnet.model.reference.DivergedWarning")


def random_spec(sizes: list[int], hidden: str, lr: float, iterations: int = 60) -> Spec:
    """A net with a linear output layer (it can grow without bound) and 3 samples, seeded."""
    rng = np.random.default_rng(1)
    layers = range(len(sizes) - 1)
    return parse_spec({
        "network": {"sizes": sizes, "activations": [hidden, "linear"], "bias": "per-neuron"},
        "training": {"learning_rate": lr, "iterations": iterations},
        "init": {"weights": [rng.uniform(-1, 1, (sizes[n + 1], sizes[n])).round(3).tolist() for n in layers],
                 "biases": [rng.uniform(-1, 1, sizes[n + 1]).round(3).tolist() for n in layers]},
        "data": {"inputs": rng.uniform(-2, 2, (3, sizes[0])).round(3).tolist(),
                 "targets": rng.uniform(-1, 1, (3, sizes[-1])).round(3).tolist()},
    })


def reference(spec: Spec):
    with np.errstate(all="ignore"):
        return train(spec)


def first_error_row(values: list[object]) -> int | None:
    """The first t whose value is not a finite number (LibreOffice writes '#NUM!' there)."""
    for t, value in enumerate(values):
        if not (isinstance(value, int | float) and math.isfinite(value)):
            return t
    return None


def loss_column(path: Path, spec: Spec) -> list[object]:
    ws = openpyxl.load_workbook(path, data_only=True)["Training"]
    col = ids.all_ids(spec).index("loss") + 1
    return [ws.cell(FIRST_DATA_ROW + t, col).value for t in range(spec.iterations + 1)]


def cell(spec: Spec, qid: str, t: int) -> str:
    return layout.address(FIRST_DATA_ROW + t, ids.all_ids(spec).index(qid) + 1)


# (sizes, hidden activation, learning rate) → the first iteration whose loss is not finite.
DIVERGING = [
    ([2, 2, 1], "linear", 50, 5),
    ([2, 3, 2], "linear", 1e6, 3),
    ([2, 2, 1], "sigmoid", 1e3, 49),
    ([2, 3, 2], "sigmoid", 1e6, 24),
    ([2, 2, 1], "tanh", 1e6, 25),
    ([2, 3, 2], "tanh", 1e3, 44),
    ([2, 2, 1], "relu", 1e3, 4),  # a ^ overflows: formulas gave #VALUE! to every row of the loss
    ([2, 3, 2], "relu", 1e3, 51),
    ([2, 3, 2], "relu", 1e6, 25),  # NumPy said 26 while it summed the loss in another order
]


# --- NumPy follows a spreadsheet's rules ------------------------------------------------------


def test_a_function_of_an_overflow_stays_not_finite() -> None:
    # Each of these would be rescued to a number by plain NumPy: relu(−inf) = 0 (np.where even
    # makes relu(NaN) = 0), sigmoid(inf) = 1, tanh(−inf) = −1. The sheet shows #NUM! there.
    spec = parse_spec({
        "network": {"sizes": [1, 3, 1], "activations": ["relu", "linear"], "bias": "none"},
        "training": {"learning_rate": 0.1, "iterations": 1},
        "init": {"weights": [[[-1e308], [1e308], [0.5]], [[1.0, 1.0, 1.0]]]},
        "data": {"inputs": [[10.0]], "targets": [[0.0]]},
    })
    row = reference(spec).loc[0]
    assert math.isnan(row["z1[1]"]) and math.isnan(row["a1[1]"])  # −1e309 overflowed
    assert math.isnan(row["z1[2]"]) and math.isnan(row["a1[2]"])
    assert (row["z1[3]"], row["a1[3]"]) == (5.0, 5.0)  # the finite neuron stays finite
    assert math.isnan(row["a2[1]"]) and math.isnan(row["loss"])
    for hidden in ("sigmoid", "tanh"):
        row = reference(spec.replace(activations=(hidden, "linear"))).loc[0]
        assert math.isnan(row["a1[1]"]) and math.isnan(row["a1[2]"]), hidden
        finite = {"sigmoid": 1 / (1 + math.exp(-5)), "tanh": math.tanh(5)}[hidden]
        assert row["a1[3]"] == pytest.approx(finite, rel=1e-15)


def test_the_loss_overflows_when_its_sum_does() -> None:
    # Two samples with y − t = 1e154: the workbook's 0.5*((y1−t1)^2+(y2−t2)^2) overflows in the
    # sum (2e308), although halving each square first would give 1e308.
    def loss(weight: float) -> float:
        return reference(parse_spec({
            "network": {"sizes": [1, 1], "activations": ["linear"], "bias": "none"},
            "training": {"learning_rate": 0.1, "iterations": 1, "reduction": "sum"},
            "init": {"weights": [[[weight]]]},
            "data": {"inputs": [[1.0], [1.0]], "targets": [[0.0], [0.0]]},
        })).loc[0, "loss"]

    assert math.isnan(loss(1e154))
    assert loss(0.9e154) == pytest.approx(0.81e308)  # 1.62e308 still fits


def test_a_gradient_overflows_when_its_sum_over_samples_does() -> None:
    # δ·x = 1e308 for each of two samples: the workbook's (δ1·x1+δ2·x2)/2 overflows in the sum,
    # although taking half of each term first would give 1e308.
    spec = parse_spec({
        "network": {"sizes": [1, 1], "activations": ["linear"], "bias": "none"},
        "training": {"learning_rate": 0.1, "iterations": 1, "reduction": "mean"},
        "init": {"weights": [[[1e308]]]},
        "data": {"inputs": [[1.0], [1.0]], "targets": [[0.0], [0.0]]},
    })
    row = reference(spec).loc[0]
    assert (row["delta1[1]@1"], row["delta1[1]@2"]) == (1e308, 1e308)
    assert math.isnan(row["dW1[1,1]"])


def test_a_weighted_sum_overflows_when_a_partial_sum_does(tmp_path: Path) -> None:
    # z = 1e308·1 + 1e308·1 − 1e308·1 − 1e308·1 + 0·1 + … is #NUM! in a spreadsheet (its first
    # two terms overflow); NumPy's matmul adds 16 terms in another order and gets 0.
    weights = [1e308, 1e308, -1e308, -1e308] + [0.0] * 12
    spec = parse_spec({
        "network": {"sizes": [16, 1], "activations": ["linear"], "bias": "none"},
        "training": {"learning_rate": 0.1, "iterations": 1},
        "init": {"weights": [[weights]]},
        "data": {"inputs": [[1.0] * 16], "targets": [[0.0]]},
    })
    frame = reference(spec)
    assert math.isnan(frame.loc[0, "z1[1]"]) and diverged_at(frame) == 0
    report = run_check(build(tmp_path, spec))  # `formulas` gives #NUM! in the same cells
    assert report.ok, report.summary()
    # Every cell but t and the 16 initial weights (rows t = 0, 1; no gradients in row 1).
    n_columns = 16 + 3  # W, z, a, loss in both rows; δ and ∂L/∂W in row 0 only
    assert (report.training_cells, report.not_finite) == (2 * (n_columns + 1) + 17, 2 * n_columns + 17 - 16)


@pytest.mark.parametrize(("sizes", "hidden", "lr", "first"), DIVERGING)
def test_numpy_and_formulas_agree_where_training_diverges(
    tmp_path: Path, sizes: list[int], hidden: str, lr: float, first: int
) -> None:
    spec = random_spec(sizes, hidden, lr)
    frame = reference(spec)
    assert diverged_at(frame) == first
    assert np.isfinite(frame.loc[: first - 1, "loss"]).all() and frame.loc[first:, "loss"].isna().all()
    report = run_check(build(tmp_path, spec))
    assert report.ok, report.summary()
    # Every loss cell was recomputed by `formulas`: the not-finite ones are exactly NumPy's.
    assert report.not_finite > spec.iterations - first
    assert report.not_finite_from is not None and report.not_finite_from <= first
    assert report.groups["loss"].cells == spec.iterations + 1


def test_a_converging_run_has_no_divergence() -> None:
    frame = reference(random_spec([2, 3, 2], "tanh", 0.05))
    assert diverged_at(frame) is None and np.isfinite(frame["loss"]).all()


# --- the check ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diverged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Spec, Path]:
    spec = random_spec([2, 2, 1], "relu", 50, iterations=12)  # the loss is #NUM! from t = 5
    return spec, build(tmp_path_factory.mktemp("diverged"), spec)


def _patched(tmp_path: Path, path: Path, address: str, formula: str) -> Path:
    book = openpyxl.load_workbook(path)
    book["Training"][address] = formula
    out = tmp_path / "patched.xlsx"
    book.save(out)
    return out


def test_check_explains_cells_that_are_not_finite_in_both(diverged: tuple[Spec, Path]) -> None:
    spec, path = diverged
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    report = run_check(path)
    assert report.ok and report.not_finite_from == 5  # the squares in the loss overflow first
    line = (f"{report.not_finite:,} cells are not finite in both the workbook and NumPy, from "
            f"iteration 5 on (training diverged; they count as agreeing)")
    assert line in result.stdout.splitlines()
    frame = reference(spec)
    assert report.not_finite == int(frame.drop(columns="iter").iloc[:-1].isna().to_numpy().sum()
                                    + frame.drop(columns="iter").iloc[-1].isna().sum()
                                    - len(ids.backward(spec) + ids.gradients(spec)))


def test_an_error_only_in_the_workbook_is_a_mismatch(tmp_path: Path, diverged: tuple[Spec, Path]) -> None:
    spec, path = diverged
    for formula in ("=1/0", "=1E+300*1E+300"):
        address = cell(spec, "a1[2]@2", 2)  # finite in NumPy
        report = run_check(_patched(tmp_path, path, address, formula))
        assert not report.ok and report.wrong == 1, formula
        assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"
        assert "got an error (not a finite number)" in report.summary()


def test_a_number_where_numpy_overflowed_is_a_mismatch(tmp_path: Path, diverged: tuple[Spec, Path]) -> None:
    spec, path = diverged
    address = cell(spec, "loss", 7)
    assert math.isnan(reference(spec).loc[7, "loss"])
    report = run_check(_patched(tmp_path, path, address, "=0.5"))
    assert not report.ok and report.wrong == 1
    wrong = report.first_wrong
    assert wrong is not None and wrong.address == f"Training!{address}" and wrong.got == 0.5
    assert "expected an error (not a finite number), got 0.5" in report.summary()


def test_a_small_error_early_in_a_diverging_column_is_still_found(
    tmp_path: Path, diverged: tuple[Spec, Path]
) -> None:
    # The column ends near 1e300; the tolerance of row 1 must not grow with it.
    spec, path = diverged
    address = cell(spec, "W1[1,1]", 1)
    formula = openpyxl.load_workbook(path)["Training"][address].value
    report = run_check(_patched(tmp_path, path, address, formula + "+0.001"))
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Training!{address}"


# --- the workbook ------------------------------------------------------------------------------


def test_first_diverged_row_is_marked_red(diverged: tuple[Spec, Path]) -> None:
    spec, path = diverged
    ws = openpyxl.load_workbook(path)["Training"]
    last = layout.column_letter(len(ids.all_ids(spec)))
    loss = layout.column_letter(ids.all_ids(spec).index("loss") + 1)
    ranges = {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting}
    area = f"A{FIRST_DATA_ROW}:{last}{FIRST_DATA_ROW + spec.iterations}"
    assert ranges == {area: [[f"AND(ISERROR(${loss}4),NOT(ISERROR(${loss}3)))"], ["ISERROR(A4)"]]}
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert rules[0].priority < rules[1].priority  # the whole row's red wins over an error cell's
    assert rules[0].dxf.fill.bgColor.rgb == "FFFF7C80" and rules[1].dxf.fill.bgColor.rgb == "FFFFC7CE"


def test_stored_values_are_errors_from_the_first_diverged_row(diverged: tuple[Spec, Path]) -> None:
    spec, path = diverged
    values = loss_column(path, spec)  # the values XlsxWriter stored, no recalculation
    assert first_error_row(values) == 5 and set(values[5:]) == {"#NUM!"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_network_sheet_says_what_a_red_row_means(tmp_path: Path, lang: str) -> None:
    ws = openpyxl.load_workbook(build(tmp_path, "seed-004-2-2-2", lang=lang)).worksheets[1]
    text = ws["C4"].value  # beside the learning rate η in B4
    assert ws["B4"].value == 0.5
    words = ("turns red", "smaller η") if lang == "en" else ("变红", "减小 η")
    assert all(word in text for word in words), text


def test_only_the_learning_rate_carries_the_red_row_note(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(activations=("leaky_relu", "sigmoid"), iterations=3)
    ws = openpyxl.load_workbook(build(tmp_path, spec)).worksheets[1]
    notes = {row[0].value: row[2].value for row in ws.iter_rows(min_row=4, max_row=20, max_col=3)}
    assert "turns red" in notes["Learning rate η"]
    assert notes["Leaky ReLU slope α"] is None  # editable here, but not the rate


def test_build_warns_with_the_first_diverged_iteration(tmp_path: Path) -> None:
    out = tmp_path / "lin.xlsx"
    result = runner.invoke(app, ["build", str(out), "-t", "seed-001-linear-system", "--lr", "5",
                                 "--iters", "80"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "wrote" in result.stdout
    assert result.stderr.splitlines() == [
        "sheetnet: warning: training diverged: the loss is not finite from iteration 53 on (a number "
        "overflowed; the workbook shows #NUM! there); try a learning rate smaller than 5"]
    assert diverged_at(reference(load_template("seed-001-linear-system").replace(learning_rate=5))) == 53


def test_train_warns_too_and_a_converging_build_does_not(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "-t", "seed-001-linear-system", "--lr", "1", "--iters", "80",
                                 "--csv", str(tmp_path / "t.csv")])
    assert result.exit_code == 0 and "from iteration 69 on" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    result = runner.invoke(app, ["build", str(tmp_path / "ok.xlsx"), "-t", "seed-001-linear-system"])
    assert result.exit_code == 0 and result.stderr == ""


def test_build_workbook_issues_a_diverged_warning(tmp_path: Path) -> None:
    with pytest.warns(DivergedWarning, match="from iteration 5 on"):
        build(tmp_path, random_spec([2, 2, 1], "linear", 50, iterations=8))


# --- LibreOffice -------------------------------------------------------------------------------


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_shows_num_from_the_same_iteration(tmp_path: Path) -> None:
    sizes, hidden, lr, first = DIVERGING[-1]  # the relu net whose loss sum order mattered
    spec = random_spec(sizes, hidden, lr, iterations=30)
    values = loss_column(recalculate(build(tmp_path, spec), tmp_path / "recalculated.xlsx"), spec)
    assert first_error_row(values) == first == diverged_at(reference(spec))
    assert set(values[first:]) == {"#NUM!"}
    np.testing.assert_allclose(np.array(values[:first], dtype=float), reference(spec)["loss"][:first],
                               rtol=1e-12)


@pytest.mark.libreoffice
@needs_libreoffice
@pytest.mark.parametrize(("sizes", "hidden", "lr", "first"), [DIVERGING[1], DIVERGING[3]])
def test_libreoffice_check_agrees_on_a_diverging_workbook(
    tmp_path: Path, sizes: list[int], hidden: str, lr: float, first: int
) -> None:
    spec = random_spec(sizes, hidden, lr, iterations=first + 6)
    report = run_check(build(tmp_path, spec), engine="libreoffice")
    assert report.ok, report.summary()
    assert report.not_finite_from is not None and report.not_finite_from <= first
    assert "(training diverged; they count as agreeing)" in report.summary()


def test_each_learning_rate_block_is_marked_too(tmp_path: Path) -> None:
    from sheetnet.sheets import rates as compare

    spec = load_template("seed-001-linear-system").replace(iterations=60)
    ws = openpyxl.load_workbook(build(tmp_path, spec, compare_lr=(0.01, 5.0)))["Learning rates"]
    width = len(ids.all_ids(spec))
    loss = ids.all_ids(spec).index("loss") + 1
    first, last = compare.FIRST_DATA_ROW, compare.FIRST_DATA_ROW + 60
    expected = {}
    for offset in (0, width + 1):  # one empty column between the blocks
        left, right = layout.column_letter(offset + 1), layout.column_letter(offset + width)
        col = layout.column_letter(offset + loss)
        expected[f"{left}{first}:{right}{last}"] = [
            [f"AND(ISERROR(${col}{first}),NOT(ISERROR(${col}{first - 1})))"], [f"ISERROR({left}{first})"]]
    assert {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting} == expected
