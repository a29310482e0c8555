"""Classification: softmax + cross-entropy, sigmoid + binary cross-entropy, leaky ReLU, accuracy."""

from __future__ import annotations

import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from sheetnet.equations import graph
from sheetnet.expr.formula import Cell, Num, evaluate
from sheetnet.model import ids
from sheetnet.model.ops import activation, binary_cross_entropy, cross_entropy, softmax
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, NetworkLayout
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.recompute import compile_formula, recompute_training
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_libreoffice


def spec_of(sizes: list[int], activations: list[str], loss: str, weights: list, inputs: list,
            targets: list, iterations: int = 1, **network: Any) -> Spec:
    return parse_spec({
        "network": {"sizes": sizes, "activations": activations, "bias": "none", "loss": loss, **network},
        "training": {"learning_rate": 0.5, "iterations": iterations},
        "init": {"weights": weights},
        "data": {"inputs": inputs, "targets": targets},
    })


def column(spec: Spec, qid: str) -> int:
    return ids.all_ids(spec).index(qid)


# --- one softmax/cross-entropy step by hand ----------------------------------------------------


def test_one_softmax_cross_entropy_step_by_hand() -> None:
    # z = W·x = (0.1·1 + 0.2·2, 0.3·1 + 0.4·2) = (0.5, 1.1); a₁ = e^0.5/(e^0.5 + e^1.1) = 1/(1 + e^0.6)
    spec = spec_of([2, 2], ["softmax"], "cross_entropy", [[[0.1, 0.2], [0.3, 0.4]]], [[1.0, 2.0]],
                   [[0.0, 1.0]])
    row, after = train(spec).loc[0], train(spec).loc[1]
    assert row["z1[1]"] == pytest.approx(0.5, rel=1e-15) and row["z1[2]"] == pytest.approx(1.1, rel=1e-15)
    assert row["a1[1]"] == pytest.approx(0.35434369377420455, rel=1e-13)
    assert row["a1[2]"] == pytest.approx(0.6456563062257954, rel=1e-13)
    assert row["loss"] == pytest.approx(0.43748795048588573, rel=1e-13)  # −ln a₂ = ln(1 + e^−0.6)
    # δ = a − t, ∂L/∂w_ji = δ_j·x_i, w′ = w − 0.5·∂L/∂w
    assert row["delta1[1]"] == pytest.approx(0.35434369377420455, rel=1e-13)
    assert row["delta1[2]"] == pytest.approx(-0.3543436937742046, rel=1e-13)
    assert row["dW1[2,2]"] == pytest.approx(-0.7086873875484092, rel=1e-13)
    assert after["W1[1,1]"] == pytest.approx(-0.07717184688710227, rel=1e-13)
    assert after["W1[1,2]"] == pytest.approx(-0.15434369377420454, rel=1e-13)
    assert after["W1[2,1]"] == pytest.approx(0.4771718468871023, rel=1e-13)
    assert after["W1[2,2]"] == pytest.approx(0.7543436937742046, rel=1e-13)
    assert row["accuracy"] == 1.0  # a₂ > a₁ and the target is class 2


def test_stable_losses_equal_the_textbook_forms() -> None:
    z = np.array([[0.5, -2.0, 3.0], [1.1, 0.7, -1.0], [-0.3, 0.0, 2.5]])
    t = np.eye(3)[[2, 0, 1]].T  # one one-hot column per sample
    a = np.exp(z) / np.exp(z).sum(axis=0)
    np.testing.assert_allclose(softmax(z), a, rtol=1e-15)
    np.testing.assert_allclose(cross_entropy(z, t), -(t * np.log(a)).sum(axis=0), rtol=1e-13)
    s = 1 / (1 + np.exp(-z))
    t01 = np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.5], [0.2, 1.0, 0.0]])
    np.testing.assert_allclose(binary_cross_entropy(z, t01),
                               -(t01 * np.log(s) + (1 - t01) * np.log(1 - s)).sum(axis=0), rtol=1e-13)


def test_stable_losses_do_not_overflow() -> None:
    z = np.array([[1000.0, -1000.0], [0.0, 800.0], [-1000.0, 1000.0]])
    t = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        assert softmax(z)[:, 0].tolist() == [1.0, 0.0, 0.0]
        assert cross_entropy(z, t).tolist() == [1000.0, 0.0]  # −ln a = z_max − z_target
        # sample 1: max(1000, 0) + ln 2 (z = 0) + 0; sample 2: 800 + (1000 − 1000·1)
        assert binary_cross_entropy(z, t).tolist() == [1000 + math.log(2), 800.0]


# --- huge z: finite in NumPy and in the check (no #NUM!) ----------------------------------------

# Sample losses by hand: softmax z = (1000, −1000, 0) with target 2 gives 1000 − (−1000) = 2000,
# z = (−1000, 1000, 1) with target 1 gives 2000 (mean 2000); sigmoid z = 1000 with t = 0 gives
# 1000, z = −1000 with t = 0 gives 0 (mean 500).
HUGE_LOSS = {"softmax": 2000.0, "sigmoid": 500.0}
HUGE = {
    "softmax": ([2, 3], ["softmax"], "cross_entropy", [[[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, 1.0]]],
                [[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "sigmoid": ([2, 1], ["sigmoid"], "binary_cross_entropy", [[[1000.0, -1000.0]]],
                [[1.0, 0.0], [0.0, 1.0]], [[0.0], [0.0]]),
}


def huge_spec(kind: str) -> Spec:
    sizes, acts, loss, weights, inputs, targets = HUGE[kind]
    return spec_of(sizes, acts, loss, weights, inputs, targets, iterations=5)


@pytest.mark.parametrize("kind", HUGE)
def test_huge_z_gives_a_finite_loss(tmp_path: Path, kind: str) -> None:
    spec = huge_spec(kind)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        frame = train(spec)
    assert frame.loc[0, "loss"] == HUGE_LOSS[kind]
    assert np.isfinite(frame.drop(index=spec.iterations).to_numpy(dtype=float)).all()
    path = build(tmp_path, spec)
    report = run_check(path)
    assert report.ok, report.summary()
    book = read_workbook(path)
    got, _, _ = recompute_training(book, frame[ids.all_ids(spec)].to_numpy(dtype=float))
    assert np.isfinite(got[:, column(spec, "loss")]).all()
    assert got[0, column(spec, "loss")] == HUGE_LOSS[kind]


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", HUGE)
def test_huge_z_is_finite_in_libreoffice(tmp_path: Path, kind: str) -> None:
    report = run_check(build(tmp_path, huge_spec(kind)), engine="libreoffice")
    assert report.ok, report.summary()
    assert report.first_wrong is None


# --- accuracy ----------------------------------------------------------------------------------


def _target_cell(spec: Spec, j: int, k: int) -> str:
    row, col = NetworkLayout(spec).input_cells[graph.target_key(j, k).key]
    return layout.address(row, col)


def _recomputed(path: Path) -> tuple[Spec, np.ndarray]:
    """The Training sheet as the formulas engine computes it from the workbook's own inputs."""
    book = read_workbook(path)
    reference = train(book.spec)[ids.all_ids(book.spec)].to_numpy(dtype=float)
    got, _, _ = recompute_training(book, reference)
    return book.spec, got


def test_accuracy_of_seed_000_classification_and_after_editing_a_target(tmp_path: Path) -> None:
    spec = load_template("seed-000-classification").replace(iterations=3)
    # At t = 0, y₂ − y₁ = 0.2·(h₁ + h₂) = 0.2·(0.4·x₁ + 0.6·x₂) > 0 for every sample: all are
    # predicted class 2, so samples 3 and 4 are right and samples 1 and 2 wrong.
    assert train(spec).loc[0, "accuracy"] == 0.5
    path = build(tmp_path, spec)
    _, got = _recomputed(path)
    assert got[0, column(spec, "accuracy")] == 0.5
    # Sample 1 relabelled class 2 (one-hot 0, 1): now it is right too.
    book = openpyxl.load_workbook(path)
    book["Network"][_target_cell(spec, 0, 0)] = 0
    book["Network"][_target_cell(spec, 1, 0)] = 1
    book.save(path)
    edited, got = _recomputed(path)
    assert edited.targets[0] == (0.0, 1.0)
    assert got[0, column(spec, "accuracy")] == 0.75
    assert train(edited).loc[0, "accuracy"] == 0.75
    assert run_check(path).ok


def test_single_sigmoid_accuracy_uses_the_half_threshold(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=2)
    frame = train(spec)
    outputs = [frame.loc[0, f"a2[1]@{k}"] for k in range(1, 5)]
    assert all(a < 0.5 for a in outputs)  # all predicted 0: samples 1 and 4 (targets 0) right
    assert frame.loc[0, "accuracy"] == 0.5
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    book["Network"][_target_cell(spec, 0, 1)] = 0.4  # sample 2's target now below 0.5: right
    book.save(path)
    _, got = _recomputed(path)
    assert got[0, column(spec, "accuracy")] == 0.75
    assert run_check(path).ok


def test_accuracy_counts_a_tie_when_the_target_is_among_the_largest() -> None:
    # Zero weights: a = (½, ½) for both samples, each target class is a largest output.
    spec = spec_of([1, 2], ["softmax"], "cross_entropy", [[[0.0], [0.0]]], [[1.0], [2.0]],
                   [[1.0, 0.0], [0.0, 1.0]])
    assert train(spec).loc[0, "accuracy"] == 1.0
    values = {"a1[1]@1": 0.5, "a1[2]@1": 0.5, "a1[1]@2": 0.5, "a1[2]@2": 0.5}
    targets = {"t[1]@1": 1.0, "t[2]@1": 0.0, "t[1]@2": 0.0, "t[2]@2": 1.0}
    # Each sample's correct@k column, then the accuracy as their mean (issue 15 item 20).
    for k in range(2):
        values[ids.sample_correct(k)] = evaluate(
            graph._correct(spec, k), lambda n: values[n.qid] if isinstance(n, Cell) else targets[n.key])
    assert [values["correct@1"], values["correct@2"]] == [1.0, 1.0]
    assert evaluate(graph._accuracy(spec), lambda n: values[n.qid]) == 1.0


def test_xor_learns_in_numpy() -> None:
    spec = load_template("xor")
    frame = train(spec)
    assert spec.iterations <= 2000 and spec.loss == "binary_cross_entropy"
    assert frame.loc[0, "accuracy"] == 0.5
    assert frame["accuracy"].iloc[-1] == 1.0
    assert int(np.argmax(frame["accuracy"].to_numpy() == 1.0)) == 412  # as the description says
    outputs = [frame[f"a2[1]@{k}"].iloc[-1] for k in range(1, 5)]
    assert outputs[0] < 0.05 and outputs[3] < 0.05 and outputs[1] > 0.95 and outputs[2] > 0.95


def test_seed_000_classification_learns() -> None:
    spec = load_template("seed-000-classification")
    assert spec.activations == ("linear", "softmax") and spec.bias == "none"
    assert spec.weights[0] == ((0.1, 0.2), (0.3, 0.4))  # the regression chapter's w11, w21, w12, w22
    frame = train(spec)
    assert frame.loc[0, "accuracy"] == 0.5 and frame["accuracy"].iloc[-1] == 1.0
    assert int(np.argmax(frame["accuracy"].to_numpy() == 1.0)) == 35
    assert frame["loss"].iloc[-1] < 0.05
    # The article's ∂loss/∂w3 = (y − y_true)·h1 with the softmax output p in place of y.
    row = frame.loc[0]
    expected = sum((row[f"a2[1]@{k}"] - spec.targets[k - 1][0]) * row[f"a1[1]@{k}"] for k in range(1, 5)) / 4
    assert row["dW2[1,1]"] == pytest.approx(expected, rel=1e-13)


@needs_libreoffice
@pytest.mark.libreoffice
def test_xor_reaches_full_accuracy_in_libreoffice(tmp_path: Path) -> None:
    from sheetnet.engines.libreoffice import recalculate

    spec = load_template("xor")
    path = build(tmp_path, spec)
    # openpyxl saves formulas without their stored values: only a real recalculation fills them.
    openpyxl.load_workbook(path).save(path)
    address = layout.address(FIRST_DATA_ROW + spec.iterations, column(spec, "accuracy") + 1)
    out = recalculate(path, tmp_path / "recalculated.xlsx")
    value = openpyxl.load_workbook(out, data_only=True)["Training"][address].value
    assert value == 1.0  # every cell of xor is compared by test_libreoffice_recompute


# --- both engines on leaky ReLU and a three-class softmax ---------------------------------------


def leaky_spec() -> Spec:
    return parse_spec({
        "network": {"sizes": [2, 3, 1], "activations": ["leaky_relu", "sigmoid"], "loss": "half_sse",
                    "leaky_slope": 0.1},
        "training": {"learning_rate": 0.5, "iterations": 30},
        "init": {"weights": [[[0.5, -0.4], [-0.3, 0.8], [0.2, 0.2]], [[0.6, -0.5, 0.3]]],
                 "biases": [[0.1, -0.15, 0.05], [0.05]]},  # no z lands on the kink at 0
        "data": {"inputs": [[1.0, 0.5], [-1.0, 0.5], [0.3, -0.9]], "targets": [[1.0], [0.0], [0.5]]},
    })


def three_class_spec() -> Spec:
    return parse_spec({
        "network": {"sizes": [2, 3, 3], "activations": ["tanh", "softmax"], "loss": "cross_entropy"},
        "training": {"learning_rate": 0.5, "iterations": 30, "reduction": "sum"},
        "init": {"seed": 11},
        "data": {"inputs": [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [0.5, 0.5]],
                 "targets": [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]},
    })


SPECS = {"leaky_relu": leaky_spec, "softmax-3-classes": three_class_spec,
         "seed-000-classification": lambda: load_template("seed-000-classification").replace(iterations=30),
         "xor": lambda: load_template("xor").replace(iterations=30)}


@pytest.mark.parametrize("name", SPECS)
def test_formulas_engine_agrees(tmp_path: Path, name: str) -> None:
    spec = SPECS[name]()
    frame = train(spec)
    if "leaky_relu" in spec.activations:  # both sides of the kink are used, none too close to it
        z = frame[[q for q in ids.forward(spec) if q.startswith("z1")]].to_numpy()
        assert (z < 0).any() and (z > 0).any() and np.abs(z).min() > 1e-6
    report = run_check(build(tmp_path, spec))
    assert report.ok, report.summary()


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["leaky_relu", "softmax-3-classes"])  # the templates: in
def test_libreoffice_agrees(tmp_path: Path, name: str) -> None:  # test_libreoffice_recompute
    report = run_check(build(tmp_path, SPECS[name]()), engine="libreoffice")
    assert report.ok, report.summary()


def test_edited_leaky_slope_is_read_back_and_checked(tmp_path: Path) -> None:
    spec = leaky_spec()
    path = build(tmp_path, spec)
    row, col = NetworkLayout(spec).setting_cells["leaky_slope"]
    book = openpyxl.load_workbook(path)
    book["Network"][layout.address(row, col)] = 0.25
    book.save(path)
    report = run_check(path)
    assert report.ok, report.summary()
    assert read_workbook(path).spec.leaky_slope == 0.25
    assert not np.allclose(train(spec)["loss"], train(spec.replace(leaky_slope=0.25))["loss"])


# --- conventions and the check's treatment of MAX -----------------------------------------------


def test_subgradient_conventions_at_zero_agree() -> None:
    zero = np.array([0.0])
    assert activation("relu", 0.2).numpy_derivative(zero, zero)[0] == 0.0
    assert activation("leaky_relu", 0.2).numpy_derivative(zero, zero)[0] == 0.2
    assert activation("leaky_relu", 0.2).numpy(np.array([-2.0]))[0] == pytest.approx(-0.4)
    lookup = {"leaky_slope": 0.2}
    for name, expected in (("relu", 0.0), ("leaky_relu", 0.2)):
        expr = activation(name, 0.2).excel_derivative(Num(0), Num(0))
        assert evaluate(expr, lambda n: lookup[n.key]) == expected


def test_check_evaluates_max_formulas_for_all_rows_at_once(tmp_path: Path) -> None:
    spec = load_template("seed-000-classification").replace(iterations=3)
    book = read_workbook(build(tmp_path, spec))
    own, network = book.training_sheet.upper(), book.network_sheet.upper()
    for qid in ("a2[1]@1", "loss@1", "correct@1"):
        text = book.contents[1, column(spec, qid)]
        assert "MAX(" in text
        assert compile_formula(text, FIRST_DATA_ROW + 1, own, network).elementwise, qid
    compiled = compile_formula("=MAX(A5,B5,-C5)", 5, own, network)
    assert compiled.elementwise
    rows = [np.array([[1.0], [5.0], [-2.0]]), np.array([[3.0], [2.0], [-7.0]]),
            np.array([[0.0], [9.0], [-3.0]])]
    assert np.asarray(compiled.function(*rows), dtype=float).ravel().tolist() == [3.0, 5.0, 3.0]


def test_output_delta_is_a_minus_t(tmp_path: Path) -> None:
    for name in ("xor", "seed-000-classification"):
        spec = load_template(name).replace(iterations=2)
        book = openpyxl.load_workbook(build(tmp_path, spec, f"{name}.xlsx"))
        ws = book["Training"]
        text = ws[layout.address(FIRST_DATA_ROW, column(spec, "delta2[1]@1") + 1)].value
        a = layout.column_letter(column(spec, "a2[1]@1") + 1)
        assert text.startswith(f"={a}{FIRST_DATA_ROW}-Network!$")  # =a−t, no f′ factor


def test_working_sheet_prints_the_textbook_forms(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(build(tmp_path, "seed-000-classification"), data_only=True)
    lines = {row[0]: row for row in book["Working"].iter_rows(values_only=True) if row[0]}
    a5 = lines["a₅⁽¹⁾"]
    assert "exp(z₅⁽¹⁾)/(exp(z₅⁽¹⁾) + exp(z₆⁽¹⁾))" in a5
    assert "exp(0.298)/(exp(0.298) + exp(0.402))" in a5
    assert a5[-1] == pytest.approx(math.exp(0.298) / (math.exp(0.298) + math.exp(0.402)), rel=1e-12)
    assert "−(t₁⁽¹⁾·ln(a₅⁽¹⁾) + t₂⁽¹⁾·ln(a₆⁽¹⁾))" in lines["L⁽¹⁾"]
    assert lines["L⁽¹⁾"][-1] == pytest.approx(-math.log(a5[-1]), rel=1e-12)


def test_loss_group_ids_and_the_accuracy_chart(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=5)
    all_ids = ids.all_ids(spec)
    start = all_ids.index("loss@1")
    assert all_ids[start:start + 10] == ["loss@1", "loss@2", "loss@3", "loss@4", "correct@1", "correct@2",
                                         "correct@3", "correct@4", "loss", "accuracy"]
    assert all_ids[start - 1] == "a2[1]@4" and all_ids[start + 10] == "delta2[1]@1"
    assert ids.losses(load_template("seed-004-2-2-2")) == ["loss"]  # squared losses: unchanged
    one = spec_of([2, 2], ["softmax"], "cross_entropy", [[[0.1, 0.2], [0.3, 0.4]]], [[1.0, 2.0]],
                  [[0.0, 1.0]])
    assert ids.losses(one) == ["loss", "accuracy"]  # one sample: the loss is its loss
    path = build(tmp_path, spec)
    accuracy = layout.column_letter(column(spec, "accuracy") + 1)
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2 + 1 + 4  # loss (linear, log), accuracy, one output chart per sample
    assert sum(f"Training!${accuracy}$4:${accuracy}$9" in c for c in charts) == 1
