"""The layered equations (equations/layers.py) evaluated as trees, independently of the NumPy
reference: every gradient column of iteration 1 equals the finite difference of the loss
column, for every layer kind, and max-pool's δ goes to the first maximum of a tie."""

from __future__ import annotations

import numpy as np
import pytest

from sheetnet.equations import layer_names
from sheetnet.equations.layers import layered_columns
from sheetnet.expr.formula import Cell, Const, evaluate
from sheetnet.model.spec import Spec
from tests.test_layered_workbook import CASES, case_spec, layered_spec


def initial(spec: Spec) -> dict[str, float]:
    values = {}
    for layer, name, shape in layer_names.parameter_shapes(spec):
        tensor = layer_names.initial_values(spec, layer, name)
        for index in np.ndindex(*shape):
            values[layer_names.parameter(spec, layer, name, index)] = float(tensor[index])
    return values


def first_row(spec: Spec, init: dict[str, float]) -> dict[str, float]:
    """Row 0 of the Training sheet computed from the trees (columns in any order)."""
    columns = {c.qid: c for c in layered_columns(spec)}
    values: dict[str, float] = {}

    def lookup(node: Cell | Const) -> float:
        if isinstance(node, Cell):
            if node.qid not in values:
                expr = columns[node.qid].formula_for(0)
                assert expr is not None
                values[node.qid] = evaluate(expr, lookup)
            return values[node.qid]
        if node.key.startswith("init:"):
            return init[node.key.removeprefix("init:")]
        name, k = node.key.split("@")
        table = spec.inputs if name.startswith("x") else spec.targets
        return table[int(k) - 1][int(name[2:-1]) - 1]

    for qid, column in columns.items():
        if column.group != "optimizer" and column.formula is not None:
            lookup(Cell(qid))
    return values


# A row of sgd reads its sample through INDEX, which these trees do not evaluate; the batch
# cases cover every kind.
BATCH_CASES = sorted(c for c in CASES if case_spec(c).mode == "batch")


@pytest.mark.parametrize("case", BATCH_CASES)
def test_every_gradient_is_the_loss_finite_difference(case: str) -> None:
    spec = case_spec(case)
    init = initial(spec)
    row = first_row(spec, init)
    h = 1e-6
    for p in init:
        up = first_row(spec, {**init, p: init[p] + h})["loss"]
        down = first_row(spec, {**init, p: init[p] - h})["loss"]
        assert row["d" + p] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), p


def test_maxpool_routes_through_the_first_maximum_of_a_tie() -> None:
    """Two equal maxima in a window: the δ goes to the first in row-major order, as torch's."""
    spec = layered_spec([1, 2, 2], [{"kind": "conv2d", "channels": 1, "kernel": 1},
                                    {"kind": "maxpool2d", "size": 2}, {"kind": "flatten"},
                                    {"kind": "dense", "size": 1}], "half_sse", samples=1)
    spec = spec.replace(inputs=((0.5, 0.9, 0.9, 0.1),), targets=((0.0,),))
    init = {"K1[1,1,1,1]": 1.0, "b1[1]": 0.0, "W4[1,1]": 2.0, "b4[1]": 0.0}
    row = first_row(spec, init)
    assert row["m2[1,1,1]"] == 2  # the first of the two 0.9s, row-major
    assert row["loss"] == pytest.approx(0.5 * 1.8**2)
    # δ at the pool is w·(a − t) = 3.6, routed to position 2 alone: ∂L/∂K = 3.6·0.9, ∂L/∂b = 3.6
    # (both tied positions would double them).
    assert row["dK1[1,1,1,1]"] == pytest.approx(3.6 * 0.9)
    assert row["db1[1]"] == pytest.approx(3.6)
