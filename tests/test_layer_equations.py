"""The layered equations (equations/layers.py) evaluated as trees: every gradient column of
iteration 1 equals the finite difference of the loss column, for every layer kind."""

from __future__ import annotations

import random
from types import SimpleNamespace as Layer
from typing import Any

import pytest

from sheetnet.equations.layers import layered_columns as remembered_columns
from sheetnet.expr.formula import Cell, Const, Expr, evaluate

layered_columns = remembered_columns.__wrapped__  # type: ignore[attr-defined]  # fake specs: unhashable


def fake_spec(input_shape: tuple[int, ...], layers: list[Any], loss: str, samples: int = 2) -> Any:
    """The fields the equations read: shapes and losses only (no numbers: those are cells)."""
    return Layer(input_shape=input_shape, layers=tuple(layers), loss=loss, slots=samples,
                 n_samples=samples, mode="batch", leaky_slope=0.01, reduction="mean",
                 classifies=loss in ("cross_entropy", "binary_cross_entropy"),
                 has_optimizer_state=False, name="test", title="test", optimizer="sgd")


def first_row(spec: Any, inputs: list[list[float]], targets: list[list[float]],
              init: dict[str, float]) -> dict[str, float]:
    """Row 0 of the Training sheet computed from the trees."""
    values: dict[str, float] = {}

    def lookup(node: Cell | Const) -> float:
        if isinstance(node, Cell):
            return values[node.qid]
        if node.key.startswith("init:"):
            return init[node.key.removeprefix("init:")]
        if node.key == "lr":
            return 0.1
        name, k = node.key.split("@")
        table = inputs if name.startswith("x") else targets
        return table[int(k) - 1][int(name[2:-1]) - 1]

    for column in layered_columns(spec):
        expr: Expr | None = column.formula_for(0)
        if expr is not None:
            values[column.qid] = evaluate(expr, lookup)
    return values


CASES = {
    "conv2d+maxpool2d": ((1, 4, 4), [Layer(kind="conv2d", channels=2, kernel=3, activation="relu"),
                                     Layer(kind="maxpool2d", size=2), Layer(kind="flatten"),
                                     Layer(kind="dense", size=2, activation="softmax")], "cross_entropy"),
    "conv2d+avgpool2d": ((2, 4, 4), [Layer(kind="conv2d", channels=2, kernel=2, activation="tanh"),
                                     Layer(kind="avgpool2d", size=2), Layer(kind="flatten"),
                                     Layer(kind="dense", size=1, activation="linear")], "mse"),
    "rnn": ((4, 2), [Layer(kind="rnn", size=3, activation="tanh"),
                     Layer(kind="dense", size=2, activation="softmax")], "cross_entropy"),
    "attention+layernorm+meanpool": ((3, 2), [
        Layer(kind="attention", dim=2, causal=False), Layer(kind="layernorm"), Layer(kind="meanpool"),
        Layer(kind="dense", size=2, activation="softmax")], "cross_entropy"),
    "causal attention": ((3, 2), [Layer(kind="attention", dim=2, causal=True), Layer(kind="meanpool"),
                                  Layer(kind="dense", size=1, activation="sigmoid")],
                         "binary_cross_entropy"),
    "layernorm of a vector": ((3,), [Layer(kind="dense", size=3, activation="sigmoid"),
                                     Layer(kind="layernorm"),
                                     Layer(kind="dense", size=2, activation="linear")], "half_sse"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_gradient_is_the_loss_finite_difference(case: str) -> None:
    shape, layers, loss = CASES[case]
    spec = fake_spec(shape, layers, loss)
    rnd = random.Random(7)
    n_in = 1
    for n in shape:
        n_in *= n
    params = [c.qid for c in layered_columns(spec) if c.group == "param"]
    init = {p: rnd.uniform(-0.8, 0.8) for p in params}
    n_out = next(layer.size for layer in reversed(layers) if hasattr(layer, "size"))
    inputs = [[rnd.uniform(-1, 1) for _ in range(n_in)] for _ in range(2)]
    targets = [[float(j == k % n_out) if spec.classifies else rnd.uniform(-1, 1) for j in range(n_out)]
               for k in range(2)]
    row = first_row(spec, inputs, targets, init)
    h = 1e-6
    for p in params:
        up = first_row(spec, inputs, targets, {**init, p: init[p] + h})["loss"]
        down = first_row(spec, inputs, targets, {**init, p: init[p] - h})["loss"]
        assert row["d" + p] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), p


def test_maxpool_routes_through_the_first_maximum_of_a_tie() -> None:
    """Two equal maxima in a window: the δ goes to the first in row-major order, as torch's."""
    spec = fake_spec((1, 2, 2), [Layer(kind="conv2d", channels=1, kernel=1, activation="linear"),
                                 Layer(kind="maxpool2d", size=2), Layer(kind="flatten"),
                                 Layer(kind="dense", size=1, activation="linear")], "half_sse", samples=1)
    init = {"K1[1,1,1,1]": 1.0, "b1[1]": 0.0, "W4[1,1]": 2.0, "b4[1]": 0.0}
    row = first_row(spec, [[0.5, 0.9, 0.9, 0.1]], [[0.0]], init)
    assert row["arg2[1,1,1]"] == 2  # the first of the two 0.9s, row-major
    assert row["loss"] == pytest.approx(0.5 * 1.8**2)
    # δ at the pool is w·(a − t) = 3.6, routed to position 2 alone: ∂L/∂K = 3.6·0.9, ∂L/∂b = 3.6
    # (both tied positions would double them).
    assert row["dK1[1,1,1,1]"] == pytest.approx(3.6 * 0.9)
    assert row["db1[1]"] == pytest.approx(3.6)
