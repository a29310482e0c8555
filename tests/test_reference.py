"""The NumPy reference core: its gradients against central finite differences, and its DataFrame."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sheetnet.model import ids
from sheetnet.model.ops import ACTIVATIONS as OPS_ACTIVATIONS
from sheetnet.model.reference import train
from sheetnet.model.schedule import batches
from sheetnet.model.spec import ACTIVATIONS, BIAS_MODES, LOSSES, REDUCTIONS, Spec, load_template, parse_spec
from tests import test_properties as properties
from tests.conftest import TEMPLATES

# --- an independent forward pass and loss, written from the definitions --------------------

FUNCTIONS = {
    "linear": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(),  # textbook form: fine for moderate z
}


def leaky(slope: float):
    return lambda z: np.where(z > 0, z, slope * z)


def sample_loss(spec: Spec, a: np.ndarray, t: np.ndarray) -> float:
    """One sample's loss in its textbook form (the core uses the stable forms through z)."""
    if spec.loss == "cross_entropy":
        return float(-np.sum(t * np.log(a)))
    if spec.loss == "binary_cross_entropy":
        return float(-np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)))
    squares = float(np.sum((a - t) ** 2))
    return {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / spec.sizes[-1]}[spec.loss] * squares


def total_loss(spec: Spec, weights: list[np.ndarray], biases: list[np.ndarray]) -> float:
    """L = r·Σ_k per-sample loss, per-sample = ½Σ, Σ or Σ/n of (y − t)², or a cross-entropy;
    r = 1/K (mean) or 1 (sum)."""
    total = 0.0
    for x, t in zip(spec.inputs, spec.targets, strict=True):
        a = np.array(x)
        for layer, act in enumerate(spec.activations):
            z = weights[layer] @ a
            if spec.bias != "none":
                z = z + biases[layer]  # shape (n,) or (1,) for a shared bias
            a = leaky(spec.leaky_slope)(z) if act == "leaky_relu" else FUNCTIONS[act](z)
        total += sample_loss(spec, a, np.array(t))
    return total / spec.n_samples if spec.reduction == "mean" else total


def parameters_at(spec: Spec, frame: pd.DataFrame, t: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weights and biases of row t, read back from the DataFrame by column id."""
    weights, biases = [], []
    for layer in range(spec.n_layers):
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        weights.append(np.array([[frame.loc[t, ids.weight(layer, j, i)] for i in range(n_from)]
                                 for j in range(n_to)]))
        biases.append(np.array([frame.loc[t, q] for q in ids.bias_ids(spec, layer)]))
    return weights, biases


def finite_difference_gradients(spec: Spec, frame: pd.DataFrame, t: int, h: float = 1e-6) -> dict[str, float]:
    """Central differences of the total loss w.r.t. every weight and every bias, keyed by gradient id."""
    weights, biases = parameters_at(spec, frame, t)
    result = {}
    for layer in range(spec.n_layers):
        for j, i in np.ndindex(weights[layer].shape):
            result[ids.weight(layer, j, i, "dW")] = _central(spec, weights, biases, weights[layer], (j, i), h)
        for n, qid in enumerate(ids.bias_ids(spec, layer, "db")):
            result[qid] = _central(spec, weights, biases, biases[layer], (n,), h)
    return result


def _central(spec: Spec, weights: list, biases: list, array: np.ndarray, index: tuple, h: float) -> float:
    original = array[index]
    array[index] = original + h
    up = total_loss(spec, weights, biases)
    array[index] = original - h
    down = total_loss(spec, weights, biases)
    array[index] = original
    return (up - down) / (2 * h)


def assert_gradients_match(spec: Spec, frame: pd.DataFrame, t: int) -> None:
    weights, biases = parameters_at(spec, frame, t)
    assert frame.loc[t, "loss"] == pytest.approx(total_loss(spec, weights, biases), rel=1e-12, abs=1e-15)
    numeric = finite_difference_gradients(spec, frame, t)
    trained = ids.gradients(spec)
    if spec.trains_bias or spec.bias == "none":
        assert sorted(numeric) == sorted(trained)
    else:  # fixed biases have no gradient column
        assert not any(q.startswith("db") for q in trained)
    for qid in trained:
        scale = max(1.0, abs(frame.loc[t, "loss"]))
        assert frame.loc[t, qid] == pytest.approx(numeric[qid], rel=1e-5, abs=1e-7 * scale), (t, qid)


# --- every template, at iteration 0 and later ------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_gradients_equal_finite_differences(name: str) -> None:
    spec = load_template(name)
    spec = spec.replace(iterations=min(spec.iterations, 30))
    frame = train(spec)
    if spec.mode != "batch" or spec.standardize:  # minibatches of standardised data (iris)
        order = batches(spec)
        for t in sorted({0, spec.iterations // 2, spec.iterations - 1}):
            row = frame.loc[t]
            for qid, value in properties.finite_differences(spec, row, order[t]).items():
                assert row[qid] == pytest.approx(value, rel=1e-5, abs=1e-7), (t, qid)
        return
    for t in sorted({0, spec.iterations // 2, spec.iterations - 1}):
        assert_gradients_match(spec, frame, t)


def base_table(**changes: Any) -> dict[str, Any]:
    """A 2-3-2 network with several samples; keyword arguments replace [network]/[training] keys."""
    table: dict[str, Any] = {
        "title": "extra",
        "network": {"sizes": [2, 3, 2], "activations": ["tanh", "sigmoid"], "bias": "per-neuron",
                    "train_bias": True, "loss": "half_sse"},
        "training": {"learning_rate": 0.3, "iterations": 6, "reduction": "mean"},
        "init": {"weights": [[[0.3, -0.7], [0.5, 0.2], [-0.4, 0.9]], [[0.6, -0.3, 0.8], [-0.5, 0.4, 0.1]]],
                 "biases": [[0.1, -0.2, 0.05], [0.3, -0.1]]},
        "data": {"inputs": [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]],
                 "targets": [[0.2, 0.9], [0.7, 0.1], [0.4, 0.6]]},
    }
    for key, value in changes.items():
        section = "training" if key in ("learning_rate", "iterations", "reduction") else "network"
        table[section][key] = value
    if table["network"]["bias"] == "shared":
        table["init"]["biases"] = [0.1, -0.2]
    elif table["network"]["bias"] == "none":
        del table["init"]["biases"]
    return table


EXTRA = {
    "tanh-sigmoid-mean": {},
    "tanh-tanh-sse-sum": {"activations": ["tanh", "tanh"], "loss": "sse", "reduction": "sum"},
    "relu-linear-mse-mean": {"activations": ["relu", "linear"], "loss": "mse"},
    "relu-sigmoid-mse-sum": {"activations": ["relu", "sigmoid"], "loss": "mse", "reduction": "sum"},
    "sigmoid-linear-sse-mean": {"activations": ["sigmoid", "linear"], "loss": "sse"},
    "shared-trained-bias": {"bias": "shared", "activations": ["sigmoid", "tanh"]},
    "shared-fixed-bias": {"bias": "shared", "train_bias": False, "loss": "sse"},
    "per-neuron-fixed-bias": {"train_bias": False, "activations": ["relu", "tanh"]},
    "no-bias": {"bias": "none", "activations": ["tanh", "linear"], "reduction": "sum"},
    "leaky-sigmoid-mean": {"activations": ["leaky_relu", "sigmoid"], "leaky_slope": 0.2},
    "leaky-tanh-sum": {"activations": ["leaky_relu", "tanh"], "loss": "sse", "reduction": "sum"},
    "tanh-sigmoid-bce-mean": {"loss": "binary_cross_entropy"},
    "leaky-sigmoid-bce-sum": {"activations": ["leaky_relu", "sigmoid"], "loss": "binary_cross_entropy",
                              "reduction": "sum", "leaky_slope": 0.05},
    "shared-sigmoid-bce": {"bias": "shared", "activations": ["relu", "sigmoid"],
                           "loss": "binary_cross_entropy"},
}

# softmax + cross-entropy needs one-hot targets: the base data's rows would be refused.
ONE_HOT = {"data": {"inputs": [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]],
                    "targets": [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]}}
SOFTMAX = {
    "tanh-softmax-ce-mean": {"activations": ["tanh", "softmax"], "loss": "cross_entropy"},
    "leaky-softmax-ce-sum": {"activations": ["leaky_relu", "softmax"], "loss": "cross_entropy",
                             "reduction": "sum", "leaky_slope": 0.3},
    "linear-softmax-ce-no-bias": {"activations": ["linear", "softmax"], "loss": "cross_entropy",
                                  "bias": "none"},
}


@pytest.mark.parametrize("changes", SOFTMAX.values(), ids=SOFTMAX.keys())
def test_softmax_cross_entropy_gradients_equal_finite_differences(changes: dict[str, Any]) -> None:
    spec = parse_spec(base_table(**changes) | ONE_HOT)
    frame = train(spec)
    for t in (0, 3, spec.iterations - 1):
        assert_gradients_match(spec, frame, t)


def test_three_class_softmax_gradients_equal_finite_differences() -> None:
    table = base_table(sizes=[2, 3, 3], activations=["sigmoid", "softmax"], loss="cross_entropy")
    table["init"]["weights"][1].append([0.2, -0.6, 0.4])
    table["init"]["biases"][1].append(0.15)
    table["data"]["targets"] = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    spec = parse_spec(table)
    frame = train(spec)
    for t in (0, spec.iterations - 1):
        assert_gradients_match(spec, frame, t)


@pytest.mark.parametrize("changes", EXTRA.values(), ids=EXTRA.keys())
def test_extra_specs_gradients_equal_finite_differences(changes: dict[str, Any]) -> None:
    spec = parse_spec(base_table(**changes))
    frame = train(spec)
    for t in (0, 3, spec.iterations - 1):
        assert_gradients_match(spec, frame, t)


def test_relu_kink_is_away_from_the_extra_specs() -> None:
    """The relu cases above are only meaningful when no z sits within the FD step of 0."""
    for key in ("relu-linear-mse-mean", "relu-sigmoid-mse-sum", "per-neuron-fixed-bias",
                "leaky-sigmoid-mean", "leaky-tanh-sum", "leaky-sigmoid-bce-sum", "shared-sigmoid-bce"):
        spec = parse_spec(base_table(**EXTRA[key]))
        frame = train(spec)
        z = frame[[q for q in ids.forward(spec) if q.startswith("z1")]].to_numpy()
        assert np.abs(z).min() > 1e-3
        assert (z < 0).any() and (z > 0).any()  # both sides of the kink are exercised


def targets(loss: str, n_samples: int, n_out: int, rng: np.random.Generator) -> list[list[float]]:
    if loss == "cross_entropy":
        return np.eye(n_out)[rng.integers(0, n_out, size=n_samples)].tolist()
    if loss == "binary_cross_entropy":
        return rng.uniform(0, 1, size=(n_samples, n_out)).round(6).tolist()
    return rng.uniform(-1.5, 1.5, size=(n_samples, n_out)).round(6).tolist()


@st.composite
def random_specs(draw: st.DrawFn) -> Spec:
    n_layers = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=n_layers + 1, max_size=n_layers + 1))
    bias = draw(st.sampled_from(BIAS_MODES))
    n_samples = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def matrix(rows: int, cols: int) -> list[list[float]]:
        return rng.uniform(-1.5, 1.5, size=(rows, cols)).round(6).tolist()

    # Hidden layers take any elementwise activation; the output layer's activation decides the
    # losses it may have (softmax: cross-entropy on one-hot targets, sigmoid: also BCE in [0, 1]).
    hidden = [a for a in ACTIVATIONS if a != "softmax"]
    activations = draw(st.lists(st.sampled_from(hidden), min_size=n_layers - 1, max_size=n_layers - 1))
    out = draw(st.sampled_from(ACTIVATIONS if sizes[-1] > 1 else hidden))
    activations.append(out)
    squared = [loss for loss in LOSSES if loss not in ("cross_entropy", "binary_cross_entropy")]
    loss = {"softmax": "cross_entropy"}.get(out) or draw(
        st.sampled_from(squared + (["binary_cross_entropy"] if out == "sigmoid" else [])))
    init: dict[str, Any] = {"weights": [matrix(b, a) for a, b in itertools.pairwise(sizes)]}
    if bias == "per-neuron":
        init["biases"] = [matrix(1, n)[0] for n in sizes[1:]]
    elif bias == "shared":
        init["biases"] = [matrix(1, 1)[0][0] for _ in sizes[1:]]
    table = {
        "network": {
            "sizes": sizes,
            "activations": activations,
            "bias": bias,
            "train_bias": draw(st.booleans()),
            "loss": loss,
            "leaky_slope": draw(st.sampled_from([0.0, 0.01, 0.3])),
        },
        "training": {"learning_rate": 0.2, "iterations": 2, "reduction": draw(st.sampled_from(REDUCTIONS))},
        "init": init,
        "data": {"inputs": matrix(n_samples, sizes[0]), "targets": targets(loss, n_samples, sizes[-1], rng)},
    }
    return parse_spec(table)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_specs())
def test_random_specs_gradients_equal_finite_differences(spec: Spec) -> None:
    frame = train(spec)
    if {"relu", "leaky_relu"} & set(spec.activations):  # an FD across the kink means nothing
        z = frame[[q for q in ids.forward(spec) if q.startswith("z")]].to_numpy()[:2]
        assume(np.abs(z).min() > 1e-4)
    for t in (0, 1):
        assert_gradients_match(spec, frame, t)


# --- numerical safety --------------------------------------------------------------------------


def test_sigmoid_does_not_overflow() -> None:
    sigmoid = OPS_ACTIVATIONS["sigmoid"].numpy
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, -745.2, -30.0, 0.0, 30.0, 745.2, 1000.0]))
    assert values[0] == 0.0 and values[-1] == 1.0
    assert values[3] == 0.5
    assert values[2] == pytest.approx(np.exp(-30) / (1 + np.exp(-30)), rel=1e-15)
    assert values[4] == pytest.approx(1 / (1 + np.exp(-30)), rel=1e-15)


def test_training_through_saturated_sigmoids_raises_no_warnings() -> None:
    spec = parse_spec({
        "network": {"sizes": [1, 2, 1], "activations": ["sigmoid", "sigmoid"], "bias": "none"},
        "training": {"learning_rate": 0.5, "iterations": 3},
        "init": {"weights": [[[1.0], [-1.0]], [[1000.0, -1000.0]]]},
        "data": {"inputs": [[1000.0]], "targets": [[0.5]]},
    })
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        frame = train(spec)
    row = frame.loc[0]
    assert (row["a1[1]"], row["a1[2]"]) == (1.0, 0.0)
    assert row["z2[1]"] == 1000.0 and row["a2[1]"] == 1.0
    assert row["loss"] == 0.125
    assert row["delta2[1]"] == 0.0 and row["dW1[1,1]"] == 0.0
    assert np.isfinite(frame.drop(index=3).to_numpy()).all()


# --- the DataFrame ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_frame_shape_and_columns(name: str) -> None:
    spec = load_template(name).replace(iterations=7)
    frame = train(spec)
    assert list(frame.columns) == ids.all_ids(spec)
    assert len(frame) == 8
    assert list(frame.index) == list(range(8)) and list(frame["iter"]) == list(range(8))
    backward_and_gradients = ids.backward(spec) + ids.gradients(spec)
    last = frame.loc[7]
    assert last[backward_and_gradients].isna().all()
    assert np.isfinite(last[ids.params(spec) + ids.forward(spec) + ["loss"]].astype(float)).all()
    assert np.isfinite(frame.loc[:6].to_numpy(dtype=float)).all()


def test_ids_for_several_samples_and_a_shared_bias() -> None:
    spec = parse_spec(base_table(bias="shared", sizes=[2, 1, 1], activations=["tanh", "linear"]) | {
        "init": {"weights": [[[0.3, -0.7]], [[0.6]]], "biases": [0.1, -0.2]},
        "data": {"inputs": [[0.5, -1.0], [1.5, 0.25]], "targets": [[0.2], [0.7]]},
    })
    assert ids.all_ids(spec) == [
        "iter", "W1[1,1]", "W1[1,2]", "b1", "W2[1,1]", "b2",
        "z1[1]@1", "a1[1]@1", "z2[1]@1", "a2[1]@1", "z1[1]@2", "a1[1]@2", "z2[1]@2", "a2[1]@2",
        "loss",
        "delta2[1]@1", "delta1[1]@1", "delta2[1]@2", "delta1[1]@2",
        "dW1[1,1]", "dW1[1,2]", "db1", "dW2[1,1]", "db2",
    ]
    frame = train(spec)
    assert list(frame.columns) == ids.all_ids(spec)
    # The column order is the meaning: sample 2's z1 is W1·x2 + b1.
    assert frame.loc[0, "z1[1]@2"] == pytest.approx(0.3 * 1.5 - 0.7 * 0.25 + 0.1, rel=1e-15)
    assert frame.loc[0, "a2[1]@1"] == pytest.approx(0.6 * np.tanh(0.3 * 0.5 + 0.7 + 0.1) - 0.2, rel=1e-15)


@pytest.mark.parametrize("bias", ["shared", "per-neuron"])
def test_fixed_biases_stay_constant(bias: str) -> None:
    spec = parse_spec(base_table(bias=bias, train_bias=False, iterations=20))
    frame = train(spec)
    for layer in range(spec.n_layers):
        for n, qid in enumerate(ids.bias_ids(spec, layer)):
            assert (frame[qid] == spec.biases[layer][n]).all()
    assert not any(q.startswith("db") for q in frame.columns)
    # ... while the weights do move, and trained biases would too
    assert frame["W1[1,1]"].nunique() > 1
    trained = train(parse_spec(base_table(bias=bias, iterations=20)))
    assert trained[ids.bias_ids(spec, 0)[0]].nunique() > 1


def test_update_rule_links_consecutive_rows() -> None:
    spec = parse_spec(base_table(iterations=5))
    frame = train(spec)
    for t in range(5):
        for qid in ids.params(spec):
            expected = frame.loc[t, qid] - spec.learning_rate * frame.loc[t, ids.gradient_of(qid)]
            assert frame.loc[t + 1, qid] == pytest.approx(expected, rel=1e-15, abs=1e-17)
