"""The NumPy reference of networks of layers: every gradient of every kind against finite
differences on random shapes (seeded), the layered form of a dense network against the dense
reference, and the whole trajectory in the order of ids.all_ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sheetnet.model import ids, layer_reference, reference
from sheetnet.model.spec import Spec, load_template, parse_spec

# Networks that put every kind after a layer with parameters, so that its ∂/∂input is checked
# too (through the gradients of the layer before it).
NETWORKS: dict[str, tuple[list[int], list[dict[str, Any]]]] = {
    "conv2d": ([2, 5, 4], [{"kind": "conv2d", "channels": 2, "kernel": 2, "activation": "tanh"},
                           {"kind": "conv2d", "channels": 3, "kernel": 2, "activation": "sigmoid"},
                           {"kind": "flatten"}, {"kind": "dense", "size": 3, "activation": "softmax"}]),
    "maxpool2d": ([1, 5, 5], [{"kind": "conv2d", "channels": 2, "kernel": 2, "activation": "leaky_relu"},
                              {"kind": "maxpool2d", "size": 2}, {"kind": "flatten"},
                              {"kind": "dense", "size": 2, "activation": "softmax"}]),
    "avgpool2d": ([2, 4, 4], [{"kind": "conv2d", "channels": 2, "kernel": 3},
                              {"kind": "avgpool2d", "size": 2}, {"kind": "flatten"},
                              {"kind": "dense", "size": 2}]),
    "rnn": ([4, 3], [{"kind": "layernorm"}, {"kind": "rnn", "size": 3},
                     {"kind": "dense", "size": 2, "activation": "sigmoid"}]),
    "rnn-after-attention": ([4, 2], [{"kind": "attention", "dim": 3},
                                     {"kind": "rnn", "size": 2, "activation": "sigmoid"},
                                     {"kind": "dense", "size": 2}]),
    "attention": ([3, 3], [{"kind": "layernorm"}, {"kind": "attention", "dim": 2},
                           {"kind": "meanpool"}, {"kind": "dense", "size": 2, "activation": "softmax"}]),
    "attention-causal": ([4, 2], [{"kind": "attention", "dim": 2, "causal": True},
                                  {"kind": "attention", "dim": 3, "causal": True}, {"kind": "flatten"},
                                  {"kind": "dense", "size": 1, "activation": "tanh"}]),
    "layernorm": ([3, 2], [{"kind": "attention", "dim": 3}, {"kind": "layernorm"},
                           {"kind": "meanpool"}, {"kind": "dense", "size": 2}]),
    "layernorm-vector": ([3], [{"kind": "dense", "size": 4, "activation": "tanh"}, {"kind": "layernorm"},
                               {"kind": "dense", "size": 2, "activation": "softmax"}]),
    "meanpool": ([3, 2], [{"kind": "rnn", "size": 2}, {"kind": "dense", "size": 3, "activation": "tanh"},
                          {"kind": "dense", "size": 1}]),
    "meanpool-after-attention": ([4, 2], [{"kind": "attention", "dim": 2}, {"kind": "meanpool"},
                                          {"kind": "dense", "size": 2, "activation": "sigmoid"}]),
    "dense": ([4], [{"kind": "dense", "size": 3, "activation": "tanh"},
                    {"kind": "dense", "size": 2, "activation": "sigmoid"}]),
}
LOSSES = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}


def random_spec(name: str, draw: int, samples: int = 3, loss: str = "", **training: Any) -> Spec:
    """The network `name` with random (seeded) parameters, inputs and targets; the loss its
    output pairs with, or a squared loss given."""
    shape, layers = NETWORKS[name]
    rng = np.random.default_rng(draw)
    n_out = layers[-1]["size"]
    output = layers[-1].get("activation", "linear")
    loss = loss or LOSSES.get(output, "half_sse")
    if loss == "cross_entropy":
        targets = np.eye(n_out)[rng.integers(0, n_out, samples)]
    else:
        targets = rng.uniform(0, 1, (samples, n_out))
    table = {
        "network": {"input_shape": shape, "loss": loss, "layers": layers},
        "training": {"learning_rate": 0.1, "iterations": 3, **training},
        "init": {"seed": draw},
        "data": {"inputs": rng.normal(size=(samples, *shape)).tolist(), "targets": targets.tolist()},
    }
    spec = parse_spec(table, name=name)
    # The seed's biases are 0 and its layernorm gains 1: random ones exercise every term.
    theta = layer_reference.initial_theta(spec) + rng.normal(scale=0.3, size=len(ids.params(spec)))
    return with_theta(spec, theta)


def with_theta(spec: Spec, theta: np.ndarray) -> Spec:
    """spec with its initial parameters replaced by the flat vector theta."""
    import dataclasses

    params = layer_reference.unflatten(spec, theta)
    layers = tuple(dataclasses.replace(layer, params=tuple(
        (name, _nested(params[n][name])) for name in layer.param_names))
        for n, layer in enumerate(spec.layers))
    return dataclasses.replace(spec, layers=layers)


def _nested(a: np.ndarray) -> Any:
    return tuple(_nested(x) for x in a) if a.ndim else float(a)


def loss_at(spec: Spec, theta: np.ndarray) -> float:
    X, T = np.array(spec.inputs), np.array(spec.targets, dtype=float)
    state, _, _ = layer_reference.evaluate(spec, theta, X, T)
    columns = ids.params(spec) + ids.forward(spec) + ids.losses(spec)
    return float(state[columns.index("loss")])


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_every_gradient_matches_finite_differences(name: str, reduction: str) -> None:
    spec = random_spec(name, draw=len(name), reduction=reduction)
    theta = layer_reference.initial_theta(spec)
    X, T = np.array(spec.inputs), np.array(spec.targets, dtype=float)
    _, _, gradient = layer_reference.evaluate(spec, theta, X, T)
    h = 1e-6
    numeric = np.array([(loss_at(spec, theta + h * e) - loss_at(spec, theta - h * e)) / (2 * h)
                        for e in np.eye(len(theta))])
    assert len(gradient) == len(ids.gradients(spec)) == len(theta)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(gradient).max() > 1e-3  # a real check, not zeros against zeros


@pytest.mark.parametrize(("name", "loss"), [("maxpool2d", ""), ("attention-causal", ""),
                                           ("avgpool2d", "sse"), ("meanpool", "mse"),
                                           ("attention-causal", "mse")])
def test_the_gradients_of_a_bigger_batch_and_every_squared_loss_match_too(name: str, loss: str) -> None:
    spec = random_spec(name, draw=7, samples=5, loss=loss)
    assert spec.loss == (loss or spec.loss)
    theta = layer_reference.initial_theta(spec)
    _, _, gradient = layer_reference.evaluate(spec, theta, np.array(spec.inputs),
                                              np.array(spec.targets, dtype=float))
    h = 1e-6
    numeric = [(loss_at(spec, theta + h * e) - loss_at(spec, theta - h * e)) / (2 * h)
               for e in np.eye(len(theta))]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


def test_a_dense_network_as_layers_trains_as_the_dense_reference() -> None:
    """The same 2-3-2 network given by sizes and by layers: every shared column equal."""
    weights = [[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9], [-0.1, 0.2, 0.3]]]
    biases = [[0.05, -0.05, 0.1], [0.2, -0.1]]
    data = {"inputs": [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]],
            "targets": [[1, 0], [0, 1], [1, 0]]}
    training = {"learning_rate": 0.3, "iterations": 5, "optimizer": "adam"}
    dense = parse_spec({"network": {"sizes": [2, 3, 2], "activations": ["tanh", "softmax"],
                                    "loss": "cross_entropy"},
                        "training": training, "init": {"weights": weights, "biases": biases},
                        "data": data})
    layered = parse_spec({"network": {"input_shape": [2], "loss": "cross_entropy", "layers": [
        {"kind": "dense", "size": 3, "activation": "tanh"},
        {"kind": "dense", "size": 2, "activation": "softmax"}]},
        "training": training,
        "init": {"layers": [{"weight": weights[0], "bias": biases[0]},
                            {"weight": weights[1], "bias": biases[1]}]},
        "data": data})
    a, b = reference.train(dense), reference.train(layered)
    shared = [c for c in a.columns if c in b.columns and not c.startswith("delta1")]
    assert len(shared) > 60
    np.testing.assert_allclose(b[shared].to_numpy(), a[shared].to_numpy(), rtol=1e-12, atol=1e-15)
    assert b["loss"].iloc[-1] < b["loss"].iloc[0]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam",
                                       "adamw"])
@pytest.mark.parametrize("mode", [{}, {"mode": "sgd"}, {"mode": "minibatch", "batch_size": 2,
                                                         "shuffle": True, "seed": 3}])
def test_every_optimizer_and_mode_fills_every_column(optimizer: str, mode: dict[str, Any]) -> None:
    extra = {"weight_decay": 0.01} if optimizer == "adamw" else {}
    spec = random_spec("maxpool2d", draw=2, samples=4, optimizer=optimizer, **mode, **extra)
    frame = reference.train(spec)
    assert list(frame.columns) == ids.all_ids(spec)
    assert np.isfinite(frame.iloc[:-1].to_numpy()).all()
    # Row 1's parameters are row 0's stepped by the optimizer columns (or −η·g for plain sgd).
    params = ids.params(spec)
    before, after = frame.loc[0, params].to_numpy(), frame.loc[1, params].to_numpy()
    if optimizer == "sgd":
        step = 0.1 * frame.loc[0, ids.gradients(spec)].to_numpy()
    else:
        step = frame.loc[0, [ids.state("step", p) for p in params]].to_numpy()
    factor = 1 - 0.1 * 0.01 if optimizer == "adamw" else 1
    np.testing.assert_allclose(after, before * factor - step, rtol=1e-12, atol=1e-15)


def test_the_sample_columns_follow_the_schedule() -> None:
    spec = random_spec("attention", draw=4, samples=4, mode="minibatch", batch_size=2)
    frame = reference.train(spec)
    assert frame["sample@1"].tolist()[:3] == [1, 3, 1] and frame["sample@2"].tolist()[:3] == [2, 4, 2]
    # Slot 2 of row 1 is sample 4: its forward pass computed alone gives the same P.
    theta = frame.loc[1, ids.params(spec)].to_numpy()
    one = layer_reference.run_batch(spec, layer_reference.unflatten(spec, theta),
                                    np.array(spec.inputs[3:4]), np.array(spec.targets[3:4]))
    got = frame.loc[1, [f"P2[{t},{u}]@2" for t in (1, 2, 3) for u in (1, 2, 3)]].to_numpy()
    np.testing.assert_allclose(got, one.forward[1]["P"].ravel(), rtol=1e-13)


def test_sheetnet_train_writes_every_column_of_a_network_of_layers(tmp_path: Path) -> None:
    out = tmp_path / "run.csv"
    result = subprocess.run([sys.executable, "-m", "sheetnet", "train", "-t", "rnn-sequence", "-n", "7",
                             "--optimizer", "adam", "--csv", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    spec = load_template("rnn-sequence").replace(iterations=7, optimizer="adam")
    assert list(frame.columns) == ids.all_ids(spec) and len(frame) == 8
    np.testing.assert_allclose(frame.to_numpy(), reference.train(spec).to_numpy(), rtol=1e-15)


# --- overflow: NaN where the sheet shows #NUM!, never a number NumPy made of infinity -----------


def overflowing(shape: list[int], layers: list[dict[str, Any]], init: list[dict[str, Any]],
                sample: Any) -> pd.Series:
    spec = parse_spec({"network": {"input_shape": shape, "loss": "half_sse", "layers": layers},
                       "training": {"learning_rate": 0.1, "iterations": 1},
                       "init": {"layers": init}, "data": {"inputs": [sample], "targets": [[0]]}})
    with np.errstate(all="ignore"):
        return reference.train(spec).loc[0]


def test_an_overflow_is_not_rescued_by_tanh() -> None:
    # z = 1e308·10 overflows: a sheet shows #NUM! in z and in everything that reads it, where
    # NumPy's tanh(inf) would be 1.
    row = overflowing([2, 1], [{"kind": "rnn", "size": 1}, {"kind": "dense", "size": 1}],
                      [{"weight_ih": [[1e308]], "weight_hh": [[0.5]], "bias": [0]},
                       {"weight": [[1]], "bias": [0]}], [[10], [0]])
    assert np.isnan(row["z1[1,1]"]) and np.isnan(row["h1[1,1]"]) and np.isnan(row["h1[2,1]"])
    assert np.isnan(row["loss"]) and np.isnan(row["dWx1[1,1]"])


def test_an_error_in_a_max_pool_window_makes_its_arg_max_an_error() -> None:
    row = overflowing([1, 2, 2], [{"kind": "conv2d", "channels": 1, "kernel": 1},
                                  {"kind": "maxpool2d", "size": 2}, {"kind": "flatten"},
                                  {"kind": "dense", "size": 1}],
                      [{"weight": [[[[1e308]]]], "bias": [0]}, {"weight": [[1]], "bias": [0]}],
                      [[[1, 10], [2, 3]]])
    assert row["z1[1,1,1]"] == 1e308 and np.isnan(row["z1[1,1,2]"])
    assert np.isnan(row["a2[1,1,1]"]) and np.isnan(row["m2[1,1,1]"])  # not 2, NaN's position
    assert all(np.isnan(row[f"da1[1,{r},{s}]"]) for r in (1, 2) for s in (1, 2))


def test_a_causal_mask_keeps_an_error_out_of_the_earlier_steps() -> None:
    # V of step 2 overflows; step 1 attends only to itself, so its output stays a number, and a
    # masked dS is 0 as its constant cell is.
    row = overflowing([2, 1], [{"kind": "attention", "dim": 1, "causal": True}, {"kind": "flatten"},
                               {"kind": "dense", "size": 1}],
                      [{"wq": [[0.5]], "wk": [[0.5]], "wv": [[1e308]]},
                       {"weight": [[0.0, 0.0]], "bias": [0]}], [[1], [10]])
    assert row["P1[1,1]"] == 1 and row["P1[1,2]"] == 0
    assert row["a1[1,1]"] == 1e308 and np.isnan(row["a1[2,1]"])
    assert row["dS1[1,2]"] == 0 and np.isnan(row["loss"])


# --- random shapes --------------------------------------------------------------------------

SMOOTH = ("tanh", "sigmoid", "linear")


def random_layers(kind: str, rng: np.random.Generator) -> tuple[list[int], list[dict[str, Any]]]:
    """A network around `kind` with every size drawn (1 to a few), ending in a dense layer."""
    def n(low: int, high: int) -> int:
        return int(rng.integers(low, high + 1))

    def act() -> str:
        return str(rng.choice(SMOOTH))

    if kind in ("conv2d", "maxpool2d", "avgpool2d"):
        k, size = n(1, 3), 2 if kind != "conv2d" else 1
        out_h, out_w = size * n(1, 2), size * n(1, 2)
        shape = [n(1, 2), out_h + k - 1, out_w + k - 1]
        layers = [{"kind": "conv2d", "channels": n(1, 3), "kernel": k, "activation": act()}]
        if kind != "conv2d":
            layers.append({"kind": kind, "size": size})
        else:
            layers.append({"kind": "conv2d", "channels": n(1, 2), "kernel": 1, "activation": act()})
        return shape, [*layers, {"kind": "flatten"}]
    steps, features = n(2, 4), n(1, 3)
    if kind == "rnn":  # layer norm over at least two features: over one it is 0
        return [steps, features + 1], [{"kind": "layernorm"}, {"kind": "rnn", "size": n(1, 3),
                                                            "activation": act()}]
    if kind == "attention":
        return [steps, features], [{"kind": "attention", "dim": n(1, 3), "causal": bool(rng.integers(2))},
                                   {"kind": "attention", "dim": n(1, 2)}, {"kind": "meanpool"}]
    if kind == "layernorm":
        return [steps, features + 1], [{"kind": "attention", "dim": n(2, 3)}, {"kind": "layernorm"},
                                       {"kind": "flatten"}]
    return [features], [{"kind": "dense", "size": n(1, 3), "activation": act()}]  # dense


@pytest.mark.parametrize("kind", ["conv2d", "maxpool2d", "avgpool2d", "rnn", "attention", "layernorm",
                                  "dense"])
@pytest.mark.parametrize("draw", [11, 12, 13])
def test_every_gradient_on_random_shapes(kind: str, draw: int) -> None:
    rng = np.random.default_rng(draw)
    shape, layers = random_layers(kind, rng)
    output = str(rng.choice(["softmax", "sigmoid", "linear"]))
    n_out = int(rng.integers(2, 4))
    NETWORKS[f"random-{kind}-{draw}"] = (shape, [*layers, {"kind": "dense", "size": n_out,
                                                            "activation": output}])
    try:
        spec = random_spec(f"random-{kind}-{draw}", draw=draw, samples=int(rng.integers(1, 4)))
    finally:
        del NETWORKS[f"random-{kind}-{draw}"]
    theta = layer_reference.initial_theta(spec)
    X, T = np.array(spec.inputs), np.array(spec.targets, dtype=float)
    _, _, gradient = layer_reference.evaluate(spec, theta, X, T)
    h = 1e-6
    numeric = [(loss_at(spec, theta + h * e) - loss_at(spec, theta - h * e)) / (2 * h)
               for e in np.eye(len(theta))]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)
