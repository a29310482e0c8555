"""Training unrolled into columns: each Training-sheet quantity and the expression that makes it.

Per sample k and layer l (neurons j, inputs i), with f the layer's activation:
    z(l)[j] = Σ_i W(l)[j,i]·a(l−1)[i] + b(l)[j]          a(0) = x, a(l)[j] = f(z(l)[j])
    loss    = r · Σ_k scale·Σ_j (a(L)[j] − t[j])²        r = 1/K for the mean, 1 for the sum
    δ(L)[j] = 2·scale·(a(L)[j] − t[j]) · f′(z(L)[j])
    δ(l)[i] = (Σ_j W(l+1)[j,i]·δ(l+1)[j]) · f′(z(l)[i])
    ∂L/∂W(l)[j,i] = r · Σ_k δ(l)[j]·a(l−1)[i]            ∂L/∂b(l)[j] = r · Σ_k δ(l)[j]
    next row's θ = θ − η·∂L/∂θ
Classification (softmax + cross_entropy, sigmoid + binary_cross_entropy), stable through z:
    softmax a(L)[j] = e^(z[j] − m) / Σ_i e^(z[i] − m)     m = max_i z[i] of the sample
    L_k (CE)  = −Σ_j t[j]·(z[j] − m − ln Σ_i e^(z[i] − m))
    L_k (BCE) = Σ_j max(z[j], 0) − z[j]·t[j] + ln(1 + e^−|z[j]|)
    loss = r · Σ_k L_k        δ(L)[j] = a(L)[j] − t[j]        accuracy = (1/K)·Σ_k correct_k

In sgd/minibatch mode k runs over the B slots of the row's batch instead (K above becomes B):
slot k reads x and t of the sample whose number is in the row's `sample@k` cell, by a live
INDEX into the Network data table (sample_input / sample_target, the one place that decides).
"""

from __future__ import annotations

from sheetnet.equations import layers, updates
from sheetnet.equations.columns import (  # re-exported: the sheets and checks read them here
    LEAKY,
    LEARNING_RATE,
    Column,
    bind_samples,
    data_column,
    initial_key,
    input_key,
    sample_input,
    sample_target,
    target_key,
)
from sheetnet.expr.formula import (
    Cell,
    Expr,
    Num,
    add,
    div,
    mul,
    power,
    sub,
)
from sheetnet.memo import remembered
from sheetnet.model import ids
from sheetnet.model.ops import (
    DEFAULT_OPTIMIZER,
    OPTIMIZERS,
    SOFTMAX,
    activation,
    classification_loss,
    excel_correct,
    squared_loss,
)
from sheetnet.model.spec import Spec

__all__ = ["LEAKY", "LEARNING_RATE", "Column", "bind_samples", "data_column", "initial_key",
           "input_key", "sample_input", "sample_target", "target_key", "training_columns"]

GROUPS = ("iter", "param", "forward", "loss", "backward", "gradient", "optimizer")


# --- the columns ---------------------------------------------------------------------------


def training_columns(spec: Spec) -> list[Column]:
    """Every column of the Training sheet, in order; ids match ids.all_ids(spec)."""
    if getattr(spec, "layered", False):  # a list of layers (conv2d, rnn, attention, …)
        return list(layers.layered_columns(spec))
    return list(_training_columns(spec))


# A build asks for the columns several times (layout, notes, Working sheet, questions), and a
# class builds each student's network twice: worked out once per spec (equal specs, equal trees).
@remembered()
def _training_columns(spec: Spec) -> tuple[Column, ...]:
    columns = [Column("iter", "iter", None)]
    # Epoch and sample numbers: constants fixed at build time (sheetnet.schedule), no formula.
    columns += [Column(qid, "iter", None) for qid in ids.schedule(spec)]
    columns += _parameter_columns(spec)
    columns += _forward_columns(spec)
    if spec.classifies:
        columns += _classification_loss_columns(spec)
    else:
        columns.append(Column("loss", "loss", _loss(spec)))
    columns += _backward_columns(spec)
    columns += _gradient_columns(spec)
    # The optimizer's state and step Δθ (updates.py); none for plain gradient descent.
    columns += [Column(qid, updates.GROUP, formula, first=first, in_final_row=False)
                for qid, formula, first in updates.optimizer_columns(spec)]
    return tuple(columns)


def _parameter_columns(spec: Spec) -> list[Column]:
    trained = set(ids.gradients(spec))
    optimizer = OPTIMIZERS[DEFAULT_OPTIMIZER]
    columns = []
    for qid in ids.params(spec):
        grad = ids.gradient_of(qid)
        if grad in trained and spec.has_optimizer_state:  # θ − Δθ, the optimizer's step
            step = updates.next_parameter(spec, qid)
            columns.append(Column(qid, "param", step, first=initial_key(qid)))
        elif grad in trained:
            step = optimizer.excel(Cell(qid, prev=True), Cell(grad, prev=True), LEARNING_RATE)
            columns.append(Column(qid, "param", step, first=initial_key(qid)))
        else:  # a fixed bias reads its Network cell in every row
            columns.append(Column(qid, "param", initial_key(qid)))
    return columns


def _activation_in(spec: Spec, layer: int, i: int, k: int) -> Expr:
    """a(layer)[i] of sample k, where layer −1 is the input x."""
    if layer < 0:
        return sample_input(spec, i, k)
    return Cell(ids.neuron("a", layer, i, k, spec))


def _weighted_sum(spec: Spec, layer: int, j: int, k: int) -> Expr:
    terms = [
        mul(Cell(ids.weight(layer, j, i)), _activation_in(spec, layer - 1, i, k))
        for i in range(spec.sizes[layer])
    ]
    if spec.bias != "none":
        terms.append(Cell(ids.bias(spec, layer, j)))
    return add(*terms)


def _forward_columns(spec: Spec) -> list[Column]:
    columns = []
    for k in range(spec.slots):
        for layer, act in enumerate(spec.activations):
            n = spec.sizes[layer + 1]
            for j in range(n):
                z = _weighted_sum(spec, layer, j, k)
                columns.append(Column(ids.neuron("z", layer, j, k, spec), "forward", z))
            z_cells = [Cell(ids.neuron("z", layer, j, k, spec)) for j in range(n)]
            for j in range(n):
                if act == SOFTMAX.name:  # a layer function: every z of the sample
                    a = SOFTMAX.of_layer(z_cells, j)
                else:
                    a = activation(act, spec.leaky_slope)(z_cells[j])
                columns.append(Column(ids.neuron("a", layer, j, k, spec), "forward", a))
    return columns


def _output_error(spec: Spec, j: int, k: int) -> Expr:
    return sub(_activation_in(spec, spec.n_layers - 1, j, k), sample_target(spec, j, k))


def _per_sample_mean(spec: Spec, total: Expr) -> Expr:
    """Divide a sum over a row's samples by their number B when the loss is the mean, B > 1."""
    if spec.reduction == "mean" and spec.slots > 1:
        return div(total, Num(spec.slots))
    return total


def _loss(spec: Spec) -> Expr:
    n_out = spec.sizes[-1]
    squares = add(
        *(
            power(_output_error(spec, j, k), Num(2))
            for k in range(spec.slots)
            for j in range(n_out)
        )
    )
    return _per_sample_mean(spec, squared_loss(spec.loss).scaled(squares, n_out))


def _output_cells(spec: Spec, name: str, k: int) -> list[Expr]:
    """z or a of every output neuron of sample k."""
    last = spec.n_layers - 1
    if name == "a":
        return [_activation_in(spec, last, j, k) for j in range(spec.sizes[-1])]
    return [Cell(ids.neuron(name, last, j, k, spec)) for j in range(spec.sizes[-1])]


def _sample_loss(spec: Spec, k: int) -> Expr:
    """Sample k's cross-entropy or binary cross-entropy (the sheet computes it through z)."""
    targets = [sample_target(spec, j, k) for j in range(spec.sizes[-1])]
    return classification_loss(spec.loss).of_sample(_output_cells(spec, "z", k), targets,
                                                    _output_cells(spec, "a", k))


def _classification_loss_columns(spec: Spec) -> list[Column]:
    """Per-sample losses (with several samples), the loss and the accuracy.

    A column per sample keeps each formula short: a sample's cross-entropy with n outputs
    holds n + 1 MAX calls per target, so inlining all K samples in the loss cell would make it
    K times longer (past Excel's 8,192 characters for a few dozen samples); it also shows
    which sample the network still gets wrong.
    """
    K = spec.slots
    if K == 1:
        columns = [Column("loss", "loss", _sample_loss(spec, 0))]
    else:
        columns = [Column(ids.sample_loss(k), "loss", _sample_loss(spec, k)) for k in range(K)]
        columns += [Column(ids.sample_correct(k), "loss", _correct(spec, k)) for k in range(K)]
        total = add(*(Cell(ids.sample_loss(k)) for k in range(K)))
        columns.append(Column("loss", "loss", _per_sample_mean(spec, total)))
    columns.append(Column(ids.ACCURACY, "loss", _accuracy(spec)))
    return columns


def _correct(spec: Spec, k: int) -> Expr:
    """1 when sample k is predicted right; it reads the targets, so it follows their edits."""
    targets = [sample_target(spec, j, k) for j in range(spec.sizes[-1])]
    return excel_correct(_output_cells(spec, "a", k), targets)


def _accuracy(spec: Spec) -> Expr:
    """The share of samples predicted right: the mean of the correct@k columns.

    A column per sample keeps the accuracy short whatever the number of samples (inlined, it
    grew as K·n² and passed Excel's 8,192 characters), and shows which sample is wrong.
    """
    K = spec.slots
    if K == 1:
        return _correct(spec, 0)
    return div(add(*(Cell(ids.sample_correct(k)) for k in range(K))), Num(K))


def _derivative_factor(spec: Spec, layer: int, j: int, k: int) -> Expr | None:
    z = Cell(ids.neuron("z", layer, j, k, spec))
    a = Cell(ids.neuron("a", layer, j, k, spec))
    return activation(spec.activations[layer], spec.leaky_slope).excel_derivative(z, a)


def _times(*factors: Expr | None) -> Expr:
    """Product of the factors that are not None (None stands for a factor of 1)."""
    return mul(*(f for f in factors if f is not None))


def _delta(spec: Spec, layer: int, j: int, k: int) -> Expr:
    if layer == spec.n_layers - 1 and spec.classifies:
        return _output_error(spec, j, k)  # a − t: f′ cancels against the loss's derivative
    derivative = _derivative_factor(spec, layer, j, k)
    if layer == spec.n_layers - 1:
        factor = squared_loss(spec.loss).gradient_factor(spec.sizes[-1])
        return _times(factor, _output_error(spec, j, k), derivative)
    back = add(
        *(
            mul(Cell(ids.weight(layer + 1, h, j)), Cell(ids.neuron("delta", layer + 1, h, k, spec)))
            for h in range(spec.sizes[layer + 2])
        )
    )
    return _times(back, derivative)


def _backward_columns(spec: Spec) -> list[Column]:
    return [
        Column(ids.neuron("delta", layer, j, k, spec), "backward", _delta(spec, layer, j, k),
               in_final_row=False)
        for k in range(spec.slots)
        for layer in reversed(range(spec.n_layers))
        for j in range(spec.sizes[layer + 1])
    ]


def _gradient_columns(spec: Spec) -> list[Column]:
    columns = []
    K = spec.slots
    for layer in range(spec.n_layers):
        n_to, n_from = spec.sizes[layer + 1], spec.sizes[layer]
        for j in range(n_to):
            for i in range(n_from):
                terms = [
                    mul(Cell(ids.neuron("delta", layer, j, k, spec)),
                        _activation_in(spec, layer - 1, i, k))
                    for k in range(K)
                ]
                expr = _per_sample_mean(spec, add(*terms))
                columns.append(Column(ids.weight(layer, j, i, "dW"), "gradient", expr,
                                      in_final_row=False))
        if spec.trains_bias:
            columns += _bias_gradient_columns(spec, layer)
    return columns


def _bias_gradient_columns(spec: Spec, layer: int) -> list[Column]:
    n = spec.sizes[layer + 1]
    neurons_of = [range(n)] if spec.bias == "shared" else [[j] for j in range(n)]
    columns = []
    for qid, neurons in zip(ids.bias_ids(spec, layer, "db"), neurons_of, strict=True):
        terms = [
            Cell(ids.neuron("delta", layer, j, k, spec))
            for k in range(spec.slots)
            for j in neurons
        ]
        expr = _per_sample_mean(spec, add(*terms))
        columns.append(Column(qid, "gradient", expr, in_final_row=False))
    return columns
