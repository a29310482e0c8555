"""The network's outputs and parameters by id, dense or layered: what the Charts and Summary
sheets (and their checks) show beside the loss."""

from __future__ import annotations

from sheetnet.equations import labels, layer_names
from sheetnet.model import ids
from sheetnet.model.spec import Spec


def layered(spec: Spec) -> bool:
    return bool(getattr(spec, "layered", False))


def count(spec: Spec) -> int:
    """How many outputs a sample has."""
    if layered(spec):
        n = 1
        for d in layer_names.shapes(spec)[-1]:
            n *= d
        return n
    return spec.sizes[-1]


def output_id(spec: Spec, j: int, k: int) -> str:
    """The column of output j of slot k: a(L)[j] (a layered network ends in a dense layer)."""
    if layered(spec):
        return layer_names.quantity(spec, "a", len(spec.layers) - 1, (j,), k)
    return ids.neuron("a", spec.n_layers - 1, j, k, spec)


def output_label(spec: Spec, j: int) -> str:
    """a₅ for a dense network; a⁽⁴⁾[1] for a layered one."""
    if layered(spec):
        # the id without a sample: a chart of sample 2 must not call its series "(sample 1)"
        return labels.label(spec, output_id(spec, j, 0).split("@")[0])
    return labels.neuron_label(spec, spec.n_layers - 1, j)


def parameter_ids(spec: Spec) -> list[str]:
    """Every parameter column, in the Training sheet's order."""
    if layered(spec):
        from sheetnet.equations.graph import training_columns

        return [c.qid for c in training_columns(spec) if c.group == "param"]
    return ids.params(spec)
