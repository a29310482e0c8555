"""Property tests over random networks: the NumPy core, the `formulas` recompute and LibreOffice agree.

Each drawn spec has 1–4 layers of widths 1–6, any activation, bias mode and loss the spec
accepts, trained or fixed biases, 1–5 samples (standardised or not), either reduction, a random
learning rate and 1–20 iterations, in batch, sgd or minibatch mode, with any optimizer and random
hyperparameters. For each one:

* NumPy's gradients equal central finite differences of an independent loss written from the
  definitions below (at iteration 0 and at the last update, where the values are finite);
* the workbook recomputed cell by cell by `formulas` equals NumPy within 1e-9 relative;
* for a smaller profile, LibreOffice's full recalculation equals NumPy too.

SHEETNET_PROPERTY_EXAMPLES=500 runs more examples (the default keeps CI inside its budget).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sheetnet.errors import SheetnetError
from sheetnet.model import ids, optimizers
from sheetnet.model.reference import train
from sheetnet.model.schedule import batches
from sheetnet.model.spec import ACTIVATIONS, BIAS_MODES, LOSSES, MODES, REDUCTIONS, Spec, parse_spec
from sheetnet.sheets.writer import build_workbook
from sheetnet.verify.run import run_check
from tests.conftest import needs_gnumeric, needs_libreoffice

# Some drawn rates make training overflow: that is a case to test, not a warning to show.
pytestmark = pytest.mark.filterwarnings("ignore::sheetnet.model.reference.DivergedWarning")

EXAMPLES = int(os.environ.get("SHEETNET_PROPERTY_EXAMPLES", "30"))
LIBREOFFICE_EXAMPLES = max(2, EXAMPLES // 10)
SLOPE = 0.05  # one of leaky_relu's slopes in the drawn specs

# Activations whose output layer pairs only with one loss, and losses that need one activation.
OUTPUT_ONLY = {"softmax"}
LOSS_NEEDS = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}


# --- an independent loss, written from the definitions ------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


FUNCTIONS = {
    "linear": lambda z: z,
    "sigmoid": lambda z: np.exp(-np.logaddexp(0, -z)),  # 1/(1 + e^−z) without overflow
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softmax": _softmax,
}


def sample_loss(loss: str, y: np.ndarray, t: np.ndarray, z: np.ndarray) -> float:
    """One sample's loss from the output y (and its weighted sum z, for the logarithms: the
    log of a softmax or sigmoid that rounds to 0 is still finite when taken from z)."""
    n = len(y)
    match loss:
        case "half_sse":
            return 0.5 * float(np.sum((y - t) ** 2))
        case "sse":
            return float(np.sum((y - t) ** 2))
        case "mse":
            return float(np.sum((y - t) ** 2)) / n
        case "cross_entropy":  # log softmax(z)_j = z_j − log Σ_i e^z_i
            return -float(np.sum(t * (z - np.logaddexp.reduce(z))))
        case "binary_cross_entropy":  # log σ(z) = −log(1 + e^−z), log(1 − σ(z)) = −log(1 + e^z)
            return float(np.sum(t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)))
    raise AssertionError(f"no independent definition of the loss {loss!r}")


def total_loss(spec: Spec, weights: list[np.ndarray], biases: list[np.ndarray], batch: np.ndarray) -> float:
    """The loss of one row: over the samples of its batch (all samples in batch mode)."""
    total = 0.0
    inputs = np.array(spec.inputs)
    if spec.standardize:  # x̃ = (x − μ)/σ over the whole data set, σ with ddof = 0
        inputs = (inputs - inputs.mean(axis=0)) / inputs.std(axis=0)
    for k in batch:
        a, t = inputs[k], spec.targets[k]
        for layer, act in enumerate(spec.activations):
            z = weights[layer] @ a
            if spec.bias != "none":
                z = z + biases[layer]
            a = np.where(z > 0, z, spec.leaky_slope * z) if act == "leaky_relu" else FUNCTIONS[act](z)
        total += sample_loss(spec.loss, a, np.array(t), z)
    return total / len(batch) if spec.reduction == "mean" else total


def parameters_at(spec: Spec, row: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights, biases = [], []
    for layer in range(spec.n_layers):
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        weights.append(np.array([[row[ids.weight(layer, j, i)] for i in range(n_from)]
                                 for j in range(n_to)], dtype=float))
        biases.append(np.array([row[q] for q in ids.bias_ids(spec, layer)], dtype=float))
    return weights, biases


def finite_differences(spec: Spec, row: Any, batch: np.ndarray, h: float = 1e-6) -> dict[str, float]:
    """Central differences of total_loss for every trained parameter, keyed by gradient id."""
    weights, biases = parameters_at(spec, row)
    result = {}
    for layer in range(spec.n_layers):
        arrays = [(weights[layer], ids.weight(layer, j, i, "dW"), (j, i))
                  for j, i in np.ndindex(weights[layer].shape)]
        if spec.trains_bias:
            arrays += [(biases[layer], q, (n,)) for n, q in enumerate(ids.bias_ids(spec, layer, "db"))]
        for array, qid, index in arrays:
            original = array[index]
            array[index] = original + h
            up = total_loss(spec, weights, biases, batch)
            array[index] = original - h
            down = total_loss(spec, weights, biases, batch)
            array[index] = original
            result[qid] = (up - down) / (2 * h)
    return result


# --- the strategy ------------------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn, max_layers: int = 4, max_width: int = 6, max_samples: int = 5) -> Spec:
    """A random spec the spec parser accepts, drawn over every activation, bias mode and loss."""
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    loss = draw(st.sampled_from(LOSSES))
    hidden = [a for a in ACTIVATIONS if a not in OUTPUT_ONLY]
    activations = draw(st.lists(st.sampled_from(hidden), min_size=n_layers, max_size=n_layers))
    if loss in LOSS_NEEDS:
        activations[-1] = LOSS_NEEDS[loss]
        if loss == "cross_entropy":
            sizes[-1] = max(sizes[-1], 2)
    else:
        activations[-1] = draw(st.sampled_from([a for a in hidden]))
    bias = draw(st.sampled_from(BIAS_MODES))
    n_samples = draw(st.integers(1, max_samples))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def matrix(rows: int, cols: int, scale: float = 1.5) -> list[list[float]]:
        return rng.uniform(-scale, scale, size=(rows, cols)).round(6).tolist()

    init: dict[str, Any] = {"weights": [matrix(b, a) for a, b in itertools.pairwise(sizes)]}
    if bias == "per-neuron":
        init["biases"] = [matrix(1, n)[0] for n in sizes[1:]]
    elif bias == "shared":
        init["biases"] = [matrix(1, 1)[0][0] for _ in sizes[1:]]
    network: dict[str, Any] = {"sizes": sizes, "activations": activations, "bias": bias,
                               "train_bias": draw(st.booleans()), "loss": loss}
    if "leaky_relu" in activations:
        network["leaky_slope"] = draw(st.sampled_from([0.0, SLOPE, 0.3]))
    training: dict[str, Any] = {
        # Now and then a rate that makes training overflow: the engines must agree on where.
        "learning_rate": draw(st.floats(1e-3, 3.0) | st.sampled_from([50.0, 1e4])),
        "iterations": draw(st.integers(1, 20)),
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        "mode": draw(st.sampled_from(MODES)),
    }
    if training["mode"] == "minibatch":  # the batch size must divide the samples
        divisors = [b for b in range(1, n_samples + 1) if n_samples % b == 0]
        training["batch_size"] = draw(st.sampled_from(divisors))
    if training["mode"] != "batch" and draw(st.booleans()):
        training |= {"shuffle": True, "seed": draw(st.integers(0, 1000))}
    training |= draw(optimizer_settings())
    table = {
        "network": network,
        "training": training,
        "init": init,
        "data": {"inputs": matrix(n_samples, sizes[0]), "targets": _targets(rng, loss, n_samples, sizes[-1])},
    }
    if n_samples > 1 and draw(st.booleans()):  # x̃ = (x − μ)/σ on the Network sheet
        table["data"]["standardize"] = True
    try:
        return parse_spec(table)
    except SheetnetError as exc:  # a combination the spec refuses is not a test case
        assume(False)
        raise AssertionError("unreachable") from exc


# Each hyperparameter over its valid range, with the values people use.
HYPERPARAMETERS = {
    "momentum": st.floats(0.01, 0.99) | st.sampled_from([0.9]),
    "beta1": st.floats(0.0, 0.99) | st.sampled_from([0.9]),
    "beta2": st.floats(0.5, 0.9999) | st.sampled_from([0.999]),
    "eps": st.sampled_from([1e-8, 1e-10, 1e-3, 0.1]),
    "alpha": st.floats(0.5, 0.999) | st.sampled_from([0.99]),
    "weight_decay": st.sampled_from([0.0, 0.01, 0.5]),
}


@st.composite
def optimizer_settings(draw: st.DrawFn) -> dict[str, Any]:
    """[training] keys of a random optimizer (none: plain gradient descent) and some of its
    hyperparameters (the others keep torch's defaults)."""
    name = draw(st.sampled_from(optimizers.NAMES))
    if name == "sgd" and draw(st.booleans()):
        return {}
    table: dict[str, Any] = {"optimizer": name}
    for field in optimizers.OPTIMIZERS[name].fields:
        if draw(st.booleans()):
            table[field] = draw(HYPERPARAMETERS[field])
    return table


def _targets(rng: np.random.Generator, loss: str, n_samples: int, n_out: int) -> list[list[float]]:
    if loss == "cross_entropy":  # one-hot rows
        return np.eye(n_out)[rng.integers(0, n_out, n_samples)].tolist()
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n_samples, n_out)).astype(float).tolist()
    return rng.uniform(-1.5, 1.5, size=(n_samples, n_out)).round(6).tolist()


def _away_from_kinks(spec: Spec, row: Any) -> bool:
    """A finite difference across relu's kink means nothing: every z must be clear of 0."""
    if not {"relu", "leaky_relu"} & set(spec.activations):
        return True
    z = np.array([row[q] for q in ids.forward(spec) if q.startswith("z")], dtype=float)
    return bool(np.abs(z).min() > 1e-4)


def _finite(row: Any, spec: Spec) -> bool:
    values = np.array([row[q] for q in ids.all_ids(spec)], dtype=float)
    return bool(np.isfinite(values).all()) and float(np.abs(values).max()) < 1e6


# --- the properties ------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES * 5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(specs())
def test_numpy_gradients_equal_finite_differences(spec: Spec) -> None:
    with np.errstate(all="ignore"):
        frame = train(spec)
    order = batches(spec)
    checked = 0
    for t in sorted({0, spec.iterations - 1}):
        row = frame.loc[t]
        if not (_finite(row, spec) and _away_from_kinks(spec, row)):
            continue
        numeric = finite_differences(spec, row, order[t])
        assert sorted(numeric) == sorted(ids.gradients(spec))
        weights, biases = parameters_at(spec, row)
        assert row["loss"] == pytest.approx(total_loss(spec, weights, biases, order[t]), rel=1e-10, abs=1e-14)
        scale = max(1.0, abs(row["loss"]))
        for qid, value in numeric.items():
            assert row[qid] == pytest.approx(value, rel=1e-5, abs=1e-7 * scale), (t, qid)
        checked += 1
    assume(checked > 0)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_formulas_recompute_equals_numpy(tmp_path: Path, spec: Spec) -> None:
    path = build_workbook(spec, tmp_path / "random.xlsx")
    report = run_check(path, rtol=1e-9)
    assert report.ok, report.summary()
    assert report.cells >= (spec.iterations + 1) * len(ids.params(spec))


@pytest.mark.libreoffice
@needs_libreoffice
@settings(max_examples=LIBREOFFICE_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(spec=specs(max_layers=3, max_width=4, max_samples=3))
def test_libreoffice_recompute_equals_numpy(tmp_path: Path, spec: Spec) -> None:
    path = build_workbook(spec, tmp_path / "random.xlsx")
    report = run_check(path, engine="libreoffice", rtol=1e-9)
    assert report.ok, report.summary()


@pytest.mark.gnumeric
@needs_gnumeric
@settings(max_examples=LIBREOFFICE_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
@given(spec=specs(max_layers=3, max_width=4, max_samples=3))
def test_gnumeric_recompute_equals_numpy(tmp_path: Path, spec: Spec) -> None:
    # Every spec, sgd with a single sample included (its rows read the sample's cell itself:
    # Gnumeric 1.12 gives #REF! for INDEX over a one-cell range, tests/test_sgd.py).
    path = build_workbook(spec, tmp_path / "random.xlsx")
    report = run_check(path, engine="gnumeric", rtol=1e-9)
    assert report.ok, report.summary()
