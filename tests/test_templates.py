"""Each template reproduces its seed tutorial's worked numbers (and not the tutorials' slips)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sheetnet.model.reference import train
from sheetnet.model.spec import DEFAULT_TEMPLATE, Spec, load_template, template_names
from tests.conftest import LAYERED_TEMPLATES, TEMPLATES


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def run(name: str, iterations: int | None = None) -> tuple[Spec, pd.DataFrame]:
    spec = load_template(name)
    if iterations is not None:
        spec = spec.replace(iterations=iterations)
    return spec, train(spec)


def weights(frame: pd.DataFrame, t: int, prefix: str, n_to: int, n_from: int) -> np.ndarray:
    """The matrix prefix[j,i] (e.g. W1) of row t as an (n_to, n_from) array."""
    return np.array(
        [[frame.loc[t, f"{prefix}[{j},{i}]"] for i in range(1, n_from + 1)] for j in range(1, n_to + 1)]
    )


def test_the_templates_exist_and_the_default_is_seed_004() -> None:
    assert template_names() == sorted(TEMPLATES + LAYERED_TEMPLATES)
    assert DEFAULT_TEMPLATE == "seed-004-2-2-2"


# --- seed 004: the 2-2-2 network of the Zhihu tutorial --------------------------------------


def test_seed_004_forward_pass_and_not_the_articles_slip() -> None:
    spec, frame = run("seed-004-2-2-2")
    assert spec.sizes == (2, 2, 2)
    row = frame.loc[0]
    # The article's a3 is our a1[1]; right to its 7 decimals.
    assert round(row["a1[1]"], 7) == 0.6236336
    assert row["z1[1]"] == pytest.approx(0.05 * 0.02 + 0.1 * 0.04 + 0.5, rel=1e-15)
    # Its a4 = 0.50274997 forgot the bias: sigmoid(0.011). The correct one is sigmoid(0.511).
    assert row["z1[2]"] == pytest.approx(0.511, rel=1e-14)
    assert row["a1[2]"] == pytest.approx(sigmoid(0.511), rel=1e-14)
    assert round(row["a1[2]"], 7) == 0.6250409
    assert round(sigmoid(0.011), 8) == 0.50274997  # the slip really is the bias left out
    assert abs(row["a1[2]"] - 0.50274997) > 0.1
    # Output layer by hand: a5 = sigmoid(w53·a3 + w54·a4 + w5b), a6 likewise.
    a3, a4 = sigmoid(0.505), sigmoid(0.511)
    a5 = 1 / (1 + math.exp(-(0.25 * a3 + 0.3 * a4 + 0.9)))
    a6 = 1 / (1 + math.exp(-(0.35 * a3 + 0.4 * a4 + 0.9)))
    assert row["a2[1]"] == pytest.approx(a5, rel=1e-14)
    assert row["a2[2]"] == pytest.approx(a6, rel=1e-14)
    assert row["loss"] == pytest.approx(0.5 * ((a5 - 0.5) ** 2 + (a6 - 0.9) ** 2), rel=1e-14)
    # First gradients by the chain rule written out for this network.
    d5 = (a5 - 0.5) * a5 * (1 - a5)
    d6 = (a6 - 0.9) * a6 * (1 - a6)
    d3 = (0.25 * d5 + 0.35 * d6) * a3 * (1 - a3)
    assert row["dW2[1,1]"] == pytest.approx(d5 * a3, rel=1e-13)  # ∂L/∂w53
    assert row["dW2[2,2]"] == pytest.approx(d6 * a4, rel=1e-13)  # ∂L/∂w64
    assert row["db2[2]"] == pytest.approx(d6, rel=1e-13)
    assert row["dW1[1,2]"] == pytest.approx(d3 * 0.04, rel=1e-13)  # ∂L/∂w32
    assert frame.loc[1, "W2[1,1]"] == pytest.approx(0.25 - 0.5 * d5 * a3, rel=1e-14)


# --- seed 001: the article's own NumPy code as the oracle ------------------------------------


def bp_demo(iterations: int) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """bp_demo of seed 001, verbatim but for the iteration count and printing the loss."""

    def sigmoid(input):
        return 1 / (1 + np.e**(-input))

    def sigmoid_backward(out):
        return out*(1- out)

    losses = []
    w1 = np.array([[0.1, 0.15], [0.2, 0.25], [0.3, 0.35]])
    w2 = np.array([[0.4, 0.45, 0.5], [0.55, 0.6, 0.65]])
    b1 = 0.35
    b2 = 0.65
    input = np.array([5, 10]).reshape(2, 1)
    label = np.array([0.01, 0.99]).reshape(2, 1)
    for i in range(iterations):  # noqa: B007
        net_h = w1 @ input + b1
        out_h = sigmoid(net_h)
        net_o = w2 @ out_h + b2
        out_o = sigmoid(net_o)
        loss = np.sum((out_o - label)**2)
        losses.append(float(loss))  # the article: print(loss)
        dw2 = (out_o - label) * sigmoid_backward(out_o) @ out_h.T
        # (out_o - label) * sigmoid_backward(out_o) --> dloss/net_o
        dout_h = w2.T @ ((out_o - label) * sigmoid_backward(out_o))
        dw1 = dout_h * sigmoid_backward(out_h) @ input.T
        w1 = w1 - 0.5 * dw1
        w2 = w2 - 0.5 * dw2
    return w1, w2, losses


@pytest.mark.parametrize("iterations", [100, 1000])
def test_seed_001_bp_demo_matches_the_articles_code(iterations: int) -> None:
    spec, frame = run("seed-001-bp-demo", iterations)
    assert spec.bias == "shared" and not spec.train_bias
    w1, w2, losses = bp_demo(iterations)
    np.testing.assert_allclose(weights(frame, iterations, "W1", 3, 2), w1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(weights(frame, iterations, "W2", 2, 3), w2, rtol=1e-12, atol=0)
    # The article prints Σ(y−t)² but steps along ½Σ(y−t)²: our loss is half of what it prints.
    np.testing.assert_allclose(frame["loss"].to_numpy()[:iterations], np.array(losses) / 2, rtol=1e-12)
    # The fixed biases never move.
    assert (frame["b1"] == 0.35).all() and (frame["b2"] == 0.65).all()
    # It learns: the outputs approach the labels.
    if iterations == 1000:
        assert abs(frame.loc[1000, "a2[1]"] - 0.01) < 0.02
        assert abs(frame.loc[1000, "a2[2]"] - 0.99) < 0.02


def matrix_grad_demo(iterations: int) -> np.ndarray:
    """matrix_grad_demo of seed 001 (with its loss_grad), verbatim but for the count and prints."""

    def loss_grad(o1, o2, label):
        grad = [2 * (o1 - label[0]), 2 * (o2 - label[1])]
        return np.array(grad)

    A = np.array([[4.0, 5], [7.0, 2]])
    X = np.array([2, 6.0])  # 随便给的初始值
    Lable = np.array([14, 11])
    lr = 0.001
    for i in range(iterations):  # noqa: B007
        O = A @ X  # 前向  # noqa: E741
        grad = A.T @ loss_grad(O[0], O[1], Lable)
        X[0] = X[0] - lr*grad[0]
        X[1] = X[1] - lr*grad[1]
    return X


def test_seed_001_linear_system_solves_the_equations() -> None:
    spec, frame = run("seed-001-linear-system")
    assert spec.iterations == 1000
    solution = weights(frame, 1000, "W1", 1, 2)[0]
    assert abs(solution[0] - 1) < 1e-6 and abs(solution[1] - 2) < 1e-6
    for t in (1, 10, 100, 1000):
        np.testing.assert_allclose(weights(frame, t, "W1", 1, 2)[0], matrix_grad_demo(t), rtol=1e-12)
    # The loss is the article's Loss = Σ(O − label)² over both equations.
    assert frame.loc[0, "loss"] == (4 * 2 + 5 * 6 - 14) ** 2 + (7 * 2 + 2 * 6 - 11) ** 2


def matmul_grad(iterations: int) -> tuple[np.ndarray, list[float]]:
    """matmul_grad of seed 001, verbatim but for the count and prints."""
    losses = []
    W = np.array([[4, 5], [7, 2]])
    X = np.array([2, 6.0]).reshape(2, 1)
    label = np.array([14, 11]).reshape(2, 1)
    for i in range(iterations):  # noqa: B007
        Y = W @ X  # 线性相乘
        Loss = 0.5 * np.sum((Y-label)**2)  # 损失值 --> 标量
        losses.append(float(Loss))
        dW = (Y-label) @ X.T  # 矩阵求导公式
        W = W - 0.01*dW  # 更新weight
    return W, losses


def test_seed_001_matmul_matches_the_articles_code() -> None:
    spec, frame = run("seed-001-matmul")
    assert spec.iterations == 100
    W, losses = matmul_grad(100)
    np.testing.assert_allclose(weights(frame, 100, "W1", 2, 2), W, rtol=1e-12)
    np.testing.assert_allclose(frame["loss"].to_numpy()[:100], losses, rtol=1e-12)
    # The description's claim: the error shrinks by 1 − 0.01·|X|² = 0.6 every iteration.
    # (first 20 only: later the error is down at round-off level)
    error = frame["a1[1]"].to_numpy()[:21] - 14
    np.testing.assert_allclose(error[1:] / error[:-1], 0.6, rtol=1e-9)


# --- seed 000: the article's hand-derived gradients -------------------------------------------


def test_seed_000_gradients_are_the_articles_formulas() -> None:
    spec, frame = run("seed-000-regression")
    assert spec.n_samples == 2 and spec.reduction == "mean"
    w11, w21, w12, w22, w3, w4 = 0.1, 0.2, 0.3, 0.4, 0.5, 0.6
    grads = {name: 0.0 for name in ("w11", "w21", "w12", "w22", "w3", "w4")}
    loss = 0.0
    for (x1, x2), (y_true,) in zip(spec.inputs, spec.targets, strict=True):
        h1 = x1 * w11 + x2 * w21
        h2 = x1 * w12 + x2 * w22
        y = w3 * h1 + w4 * h2
        loss += 0.5 * (y - y_true) ** 2 / 2
        grads["w3"] += (y - y_true) * h1 / 2
        grads["w4"] += (y - y_true) * h2 / 2
        grads["w11"] += (y - y_true) * w3 * x1 / 2
        grads["w21"] += (y - y_true) * w3 * x2 / 2
        grads["w12"] += (y - y_true) * w4 * x1 / 2
        grads["w22"] += (y - y_true) * w4 * x2 / 2
    row = frame.loc[0]
    # The article's w_{i,j} (from input i to hidden j) is our W1[j,i].
    column = {"w11": "dW1[1,1]", "w21": "dW1[1,2]", "w12": "dW1[2,1]", "w22": "dW1[2,2]",
              "w3": "dW2[1,1]", "w4": "dW2[1,2]"}
    for name, qid in column.items():
        assert row[qid] == pytest.approx(grads[name], rel=1e-14), name
    assert row["loss"] == pytest.approx(loss, rel=1e-14)
    assert row["a1[1]@1"] == pytest.approx(0.5 * w11 + 1.0 * w21, rel=1e-15)  # h1 of sample 1


# --- seed 003: one update by hand --------------------------------------------------------------


def test_seed_003_single_update_and_not_the_articles_rounding() -> None:
    spec, frame = run("seed-003-single-update")
    assert spec.iterations == 1 and spec.learning_rate == 1.0
    row0 = frame.loc[0]
    assert row0["z1[1]"] == pytest.approx(2.0 * 0.4 + 3.0 * 0.5, rel=1e-15)
    assert row0["a1[1]"] - spec.targets[0][0] == pytest.approx(-1.5, rel=1e-12)  # error t − o = 1.5
    new_w11 = frame.loc[1, "W1[1,1]"]
    assert round(new_w11, 7) == 2.0496917
    s = sigmoid(2.3)
    assert new_w11 == pytest.approx(2.0 + 1.5 * s * (1 - s) * 0.4, rel=1e-12)
    assert abs(new_w11 - 2.0492) > 4e-4  # the article rounds sigmoid′(2.3) = 0.0827 to 0.082


# --- iris: CSV data, standardised, softmax, minibatches ---------------------------------------


def test_iris_learns_146_of_the_150_flowers_in_20_epochs() -> None:
    spec, frame = run("iris")
    assert (spec.n_samples, spec.slots, spec.class_names) == (150, 10, ("setosa", "versicolor", "virginica"))
    assert spec.iterations // (spec.n_samples // spec.slots) == 20  # epochs
    # Every epoch visits every flower once, in the order written into the sample columns.
    samples = frame[[f"sample@{k}" for k in range(1, 11)]].to_numpy()
    for epoch in range(20):
        assert sorted(samples[15 * epoch : 15 * (epoch + 1)].ravel()) == list(range(1, 151))
    # The whole data set through the final weights (the sheet's accuracy column is per batch).
    last = frame.iloc[-1]
    x = (np.array(spec.inputs) - np.mean(spec.inputs, axis=0)) / np.std(spec.inputs, axis=0)
    w1, w2 = weights(frame, spec.iterations, "W1", 4, 4), weights(frame, spec.iterations, "W2", 3, 4)
    b1 = np.array([last[f"b1[{j}]"] for j in range(1, 5)])
    b2 = np.array([last[f"b2[{j}]"] for j in range(1, 4)])
    scores = np.tanh(x @ w1.T + b1) @ w2.T + b2  # softmax keeps the arg-max: no need to apply it
    right = scores.argmax(axis=1) == np.array(spec.targets).argmax(axis=1)
    assert right.sum() == 146
    assert frame["accuracy"].iloc[:15].mean() < 0.8 < frame["accuracy"].iloc[-15:].mean()


# --- descriptions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mentions"),
    [
        ("seed-000-regression", ["seed 000", "(y − y_true)·h1"]),
        ("seed-000-classification", ["seed 000", "2. Classification", "(y − y_true)·h1", "δ = p − t",
                                     "iteration 35"]),
        ("iris", ["Fisher", "CC BY 4.0", "setosa, versicolor, virginica", "146 of the 150"]),
        ("xor", ["XOR", "binary cross-entropy", "a − t", "init.seed = 3", "iteration 412"]),
        ("seed-001-bp-demo", ["seed 001", "bp_demo", "half"]),
        ("seed-001-linear-system", ["seed 001", "matrix_grad_demo"]),
        ("seed-001-matmul", ["seed 001", "matmul_grad"]),
        ("seed-003-single-update", ["seed 003", "slip", "2.0492", "2.0496917"]),
        ("seed-004-2-2-2", ["seed 004", "slip", "0.50274997", "0.6236336", "0.6250409"]),
    ],
)
def test_descriptions_name_their_source(name: str, mentions: list[str]) -> None:
    spec = load_template(name)
    assert spec.title
    for text in mentions:
        assert text in spec.description, (name, text)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_lowers_its_loss(name: str) -> None:
    spec, frame = run(name)
    assert len(frame) == spec.iterations + 1
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0]
    assert np.isfinite(frame["loss"]).all()
