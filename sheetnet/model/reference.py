"""NumPy reference trainer: textbook matrix backpropagation, float64, every iteration in a DataFrame.

It shares nothing with the workbook code but the spec, the NumPy functions of the ops registry
(activations, the stable cross-entropies, accuracy) and the NumPy standardisation of the
inputs, so a wrong formula in the workbook cannot hide behind the same mistake here.

A diverging run overflows. The trainer then follows a spreadsheet's rules so that NumPy and the
workbook agree on where the first non-finite number appears: sums are added term by term in the
order the formulas add them (a partial sum overflows in the same place), and a function of a
non-finite number is NaN, never rescued to a finite value (see `_as_in_a_spreadsheet`). Every
non-finite value in the frame is NaN; the workbook shows #NUM! there.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sheetnet.errors import SheetnetWarning
from sheetnet.model import ids, layer_reference, ops, optimizers, schedule
from sheetnet.model.ops import (
    DEFAULT_OPTIMIZER,
    OPTIMIZERS,
    activation,
    correct,
    squared_loss,
)
from sheetnet.model.spec import Spec, model_inputs

if TYPE_CHECKING:
    import pandas as pd  # imported by train(): `sheetnet check` never needs a frame


@dataclass
class Parameters:
    weights: list[np.ndarray]  # W[l] has shape (n_to, n_from)
    biases: list[np.ndarray]  # b[l] has shape (n_to, 1), (1, 1) when shared, (0, 1) when none

    def bias_term(self, layer: int) -> np.ndarray | float:
        b = self.biases[layer]
        return 0.0 if b.size == 0 else b  # (1, 1) broadcasts as a shared bias


@dataclass
class Step:
    """One iteration: activations per layer (columns = samples), loss, deltas, gradients."""

    z: list[np.ndarray]
    a: list[np.ndarray]  # a[0] is the input X, a[l] the output of layer l
    loss: float
    delta: list[np.ndarray]  # ∂(per-sample loss)/∂z, one column per sample
    dW: list[np.ndarray]
    db: list[np.ndarray]
    sample_losses: np.ndarray | None = None  # classification: each sample's loss
    accuracy: float | None = None  # classification: the share of samples predicted right
    sample_correct: np.ndarray | None = None  # classification: 1 for each sample predicted right


def initial_parameters(spec: Spec) -> Parameters:
    weights = [np.array(w, dtype=float) for w in spec.weights]
    biases = [np.array(b, dtype=float).reshape(-1, 1) for b in spec.biases]
    return Parameters(weights, biases)


def forward(spec: Spec, params: Parameters, X: np.ndarray) -> tuple[list, list]:
    """z(l) = W(l)·a(l−1) + b(l), a(l) = f(z(l)), for all samples at once (one per column)."""
    z, a = [], [X]
    for layer, act in enumerate(spec.activations):
        z.append(_dot(params.weights[layer], a[-1]) + params.bias_term(layer))
        a.append(_as_in_a_spreadsheet(activation(act, spec.leaky_slope).numpy, z[-1]))
    return z, a


def _summed(terms: np.ndarray, axis: int) -> np.ndarray:
    """Σ along axis, added term by term from the first as a formula's a+b+c is, so that a partial
    sum overflows exactly where the spreadsheet's does (np.sum adds pairwise, matmul in blocks)."""
    return np.add.accumulate(terms, axis=axis).take(-1, axis=axis)


def _dot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B, each entry's sum Σ_i A[j,i]·B[i,k] added term by term (see _summed)."""
    return _summed(A[:, :, None] * B, axis=1)


def _as_in_a_spreadsheet(function: Callable[..., np.ndarray], *inputs: np.ndarray) -> np.ndarray:
    """function(*inputs), NaN wherever an input is not finite or the result overflows.

    A spreadsheet cell that reads an error is an error, but NumPy can turn inf back into a
    number: sigmoid(inf) = 1, tanh(−inf) = −1, ReLU(−inf) = 0 (np.where even turns NaN into 0).
    Non-finite inputs go in as NaN, which NumPy's arithmetic and reductions pass on (a function
    of a whole sample, such as a softmax written with np.max or np.sum, so turns all of that
    sample NaN, as its formulas all read the error), and the result is NaN where an input is.
    Sums and products need no guard: they never make inf finite.
    """
    finite = [np.isfinite(x) for x in inputs]
    if all(ok.all() for ok in finite):  # the usual case, so it costs little
        result = function(*inputs)
        if np.isfinite(result).all():
            return result
    result = function(*(np.where(ok, x, np.nan) for x, ok in zip(inputs, finite, strict=True)))
    bad = ~np.isfinite(result)
    for ok in finite:
        bad = bad | ~ok
    return np.where(bad, np.nan, result)


def sample_weight(spec: Spec) -> float:
    """Each sample's weight in a row's loss: 1/B for the mean over the B samples of the row's
    batch (B = K, all samples, in batch mode), 1 for the sum."""
    return 1.0 / spec.slots if spec.reduction == "mean" else 1.0


def loss_value(spec: Spec, output: np.ndarray, T: np.ndarray) -> float:
    # Σ_k Σ_j (y − t)² first, sample by sample, then scaled, as the workbook's formula does:
    # scaling each sample's sum first would keep finite a total that overflows in the sheet.
    total = _summed(((output - T) ** 2).T.ravel(), axis=0)
    scale = squared_loss(spec.loss).scale(spec.sizes[-1])
    return float(sample_weight(spec) * (scale * total))


def classification_loss(spec: Spec, z_out: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each sample's cross-entropy or binary cross-entropy, from the output layer's z (stable)."""
    # A sample's loss formula reads all its z: an error in any of them is an error in the loss.
    with np.errstate(all="ignore"):
        losses = ops.classification_loss(spec.loss).numpy(z_out, T)
    return np.where(np.isfinite(z_out).all(axis=0) & np.isfinite(losses), losses, np.nan)


def sample_correct(output: np.ndarray, T: np.ndarray) -> np.ndarray:
    """1 or 0 per sample (ops.correct); an error (NaN) for a sample whose output is one, as the
    sheet's comparison of an error is an error."""
    with np.errstate(invalid="ignore"):
        right = correct(output, T).astype(float)
    return np.where(np.isfinite(output).all(axis=0), right, np.nan)


def accuracy(spec: Spec, output: np.ndarray, T: np.ndarray) -> float:
    """The share of the row's samples predicted right, whatever the reduction: the mean of
    sample_correct, an error (NaN) when any of them is one."""
    return float(_summed(sample_correct(output, T), axis=0) / spec.slots)


def step(spec: Spec, params: Parameters, X: np.ndarray, T: np.ndarray) -> Step:
    """Forward pass, loss, and backpropagation of δ = ∂loss/∂z layer by layer."""
    z, a = forward(spec, params, X)
    L = spec.n_layers
    derivative = [activation(act, spec.leaky_slope).numpy_derivative for act in spec.activations]
    delta: list[np.ndarray] = [np.empty(0)] * L
    # f′ of the hidden layers; the output layer's factor depends on the loss below.
    f_prime = [_as_in_a_spreadsheet(derivative[n], z[n], a[n + 1]) for n in range(L - 1)]
    if spec.classifies:
        # softmax + cross-entropy and sigmoid + binary cross-entropy: ∂loss/∂z = a − t.
        delta[L - 1] = a[L] - T
    else:
        scale = squared_loss(spec.loss).scale(spec.sizes[-1])
        delta[L - 1] = 2 * scale * (a[L] - T) * _as_in_a_spreadsheet(derivative[L - 1], z[L - 1], a[L])
    for layer in range(L - 2, -1, -1):
        back = _dot(params.weights[layer + 1].T, delta[layer + 1])
        delta[layer] = back * f_prime[layer]
    r = sample_weight(spec)
    # Σ_k over the samples, then the mean's 1/K, as the workbook sums and then divides.
    dW = [r * _dot(delta[layer], a[layer].T) for layer in range(L)]
    db = [_bias_gradient(spec, r, d) for d in delta]
    if spec.classifies:
        per_sample = classification_loss(spec, z[L - 1], T)
        return Step(z, a, float(r * _summed(per_sample, axis=0)), delta, dW, db, per_sample,
                    accuracy(spec, a[L], T), sample_correct(a[L], T))
    return Step(z, a, loss_value(spec, a[L], T), delta, dW, db)


def _bias_gradient(spec: Spec, r: float, delta: np.ndarray) -> np.ndarray:
    if spec.bias == "shared":  # sample by sample, every neuron of a sample in turn
        return np.array([[r * _summed(delta.T.ravel(), axis=0)]])
    if spec.bias == "per-neuron":
        return r * _summed(delta, axis=1)[:, None]
    return np.zeros((0, 1))


def update(spec: Spec, params: Parameters, s: Step) -> Parameters:
    """The optimizer's step, e.g. θ ← θ − η·∂L/∂θ (biases only when they are trained)."""
    lr, step = spec.learning_rate, OPTIMIZERS[DEFAULT_OPTIMIZER].numpy
    weights = [step(w, g, lr) for w, g in zip(params.weights, s.dW, strict=True)]
    if spec.trains_bias:
        biases = [step(b, g, lr) for b, g in zip(params.biases, s.db, strict=True)]
    else:
        biases = params.biases
    return Parameters(weights, biases)


# --- optimizers: the trainable parameters as one flat vector, in the order of ids.gradients -----


def flat_parameters(spec: Spec, params: Parameters) -> np.ndarray:
    parts = []
    for layer in range(spec.n_layers):
        parts.append(params.weights[layer].ravel())
        if spec.trains_bias:
            parts.append(params.biases[layer].ravel())
    return np.concatenate(parts)


def flat_gradients(spec: Spec, s: Step) -> np.ndarray:
    parts = []
    for layer in range(spec.n_layers):
        parts.append(s.dW[layer].ravel())
        if spec.trains_bias:
            parts.append(s.db[layer].ravel())
    return np.concatenate(parts)


def apply_step(spec: Spec, params: Parameters, delta: np.ndarray) -> Parameters:
    """θ − Δθ for every trainable parameter, or θ·(1 − η·λ) − Δθ for adamw with weight decay
    (torch decays θ first); delta is flat, in the order of flat_parameters."""
    factor = optimizers.decay_factor(spec.optimizer, spec.settings)

    def stepped(theta: np.ndarray, d: np.ndarray) -> np.ndarray:
        return (theta if factor is None else theta * factor) - d.reshape(theta.shape)

    weights, biases, at = [], [], 0
    for layer in range(spec.n_layers):
        w = params.weights[layer]
        weights.append(stepped(w, delta[at : at + w.size]))
        at += w.size
        b = params.biases[layer]
        if spec.trains_bias:
            biases.append(stepped(b, delta[at : at + b.size]))
            at += b.size
        else:
            biases.append(b)
    return Parameters(weights, biases)


def optimizer_step(spec: Spec, state: optimizers.State, theta: np.ndarray, g: np.ndarray,
                   t: int) -> tuple[optimizers.State, np.ndarray]:
    """The optimizer's state and Δθ of update t (from 1), as a spreadsheet gets them when
    training diverges: an element whose state, gradient or parameter is not finite gets NaN."""
    new, delta = optimizers.OPTIMIZERS[spec.optimizer].update(spec.settings, state, g, theta, t)
    finite = np.isfinite(theta) & np.isfinite(g)
    new = {name: np.where(np.isfinite(x), x, np.nan) for name, x in new.items()}
    for x in new.values():
        finite &= np.isfinite(x)
    return new, np.where(finite & np.isfinite(delta), delta, np.nan)


def _optimizer_values(spec: Spec, state: optimizers.State, delta: np.ndarray, t: int) -> np.ndarray:
    """A row's optimizer columns (ids.optimizer): 1 − β₁ᵗ, 1 − β₂ᵗ, then per parameter its
    state and Δθ."""
    entry = optimizers.OPTIMIZERS[spec.optimizer]
    names = entry.states(spec.settings)
    per_parameter = np.stack([*(state[n] for n in names), delta], axis=1).ravel()
    if not entry.bias_corrected:
        return per_parameter
    return np.concatenate((optimizers.bias_corrections(spec.settings, t), per_parameter))


BLOCK_ROWS = 4096  # rows a block of train_blocks holds: 1.3 MB at 40 columns, few Python calls


def train_blocks(spec: Spec, block_rows: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
    """Every iteration's row, block_rows rows at a time, in ids.all_ids order without "iter"
    (block n holds rows n·block_rows onwards): the one training loop that train and the workbook
    writer share, so a run of a million rows never needs all of them in memory at once.

    Row t holds the parameters after t updates, the forward pass and loss they give on row t's
    batch (every sample in batch mode), and (for t < iterations) the deltas and gradients that
    make row t+1. The parameters and the optimizer's state carry over from block to block.
    """
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}")
    if spec.layered:
        yield from _layered_blocks(spec, block_rows)
        return
    X = model_inputs(spec).T  # one column per sample; x̃ = (x − μ)/σ when standardised
    T = np.array(spec.targets, dtype=float).T
    params = initial_parameters(spec)
    width = len(ids.all_ids(spec)) - 1
    order = schedule.batches(spec)  # the samples of each row, as the Training sheet lists them
    fixed = len(ids.schedule(spec))
    epochs = schedule.epochs(spec) if fixed else None
    memory: optimizers.State = {}  # the optimizer's state (momentum buffer, m, v, …)
    for start in range(0, spec.iterations + 1, block_rows):
        stop = min(start + block_rows, spec.iterations + 1)
        # One preallocated float array filled row by row: a dict per row cost more than the math.
        # The final row has no deltas or gradients; they stay NaN.
        values = np.full((stop - start, width), np.nan)
        if fixed:
            values[:, 0] = epochs[start:stop]
            values[:, 1:fixed] = order[start:stop] + 1  # sample numbers from 1
        for t in range(start, stop):
            row = values[t - start]
            s = step(spec, params, X[:, order[t]], T[:, order[t]])
            state = _state_values(spec, params, s)
            row[fixed : fixed + state.size] = state
            if t == spec.iterations:
                break
            backprop = _backprop_values(spec, s)
            at = fixed + state.size
            row[at : at + backprop.size] = backprop
            if not spec.has_optimizer_state:
                params = update(spec, params, s)
                continue
            theta, g = flat_parameters(spec, params), flat_gradients(spec, s)
            memory, delta = optimizer_step(spec, memory, theta, g, t + 1)
            row[at + backprop.size :] = _optimizer_values(spec, memory, delta, t + 1)
            params = apply_step(spec, params, delta)
        values[~np.isfinite(values)] = np.nan  # an overflow to ±inf is #NUM! in the workbook, like NaN
        yield values


def _layered_blocks(spec: Spec, block_rows: int) -> Iterator[np.ndarray]:
    """train_blocks for a network of layers: the rows of layer_reference.evaluate, the parameters
    one flat vector (in the order of ids.params, which for a layered spec is that of the
    gradients), stepped by the same optimizers."""
    X = np.array(spec.inputs, dtype=float)  # one row per sample, flattened in C order
    T = np.array(spec.targets, dtype=float)
    theta = layer_reference.initial_theta(spec)
    width = len(ids.all_ids(spec)) - 1
    order = schedule.batches(spec)
    fixed = len(ids.schedule(spec))
    epochs = schedule.epochs(spec) if fixed else None
    memory: optimizers.State = {}
    for start in range(0, spec.iterations + 1, block_rows):
        stop = min(start + block_rows, spec.iterations + 1)
        values = np.full((stop - start, width), np.nan)
        if fixed:
            values[:, 0] = epochs[start:stop]
            values[:, 1:fixed] = order[start:stop] + 1
        for t in range(start, stop):
            row = values[t - start]
            state, backprop, g = layer_reference.evaluate(spec, theta, X[order[t]], T[order[t]])
            row[fixed : fixed + state.size] = state
            if t == spec.iterations:
                break
            at = fixed + state.size
            row[at : at + backprop.size] = backprop
            if not spec.has_optimizer_state:
                theta = theta - spec.learning_rate * g
                continue
            memory, delta = optimizer_step(spec, memory, theta, g, t + 1)
            row[at + backprop.size :] = _optimizer_values(spec, memory, delta, t + 1)
            factor = optimizers.decay_factor(spec.optimizer, spec.settings)
            theta = (theta if factor is None else theta * factor) - delta
        values[~np.isfinite(values)] = np.nan
        yield values


def train_array(spec: Spec, out: np.ndarray | None = None) -> np.ndarray:
    """Every iteration as a row of ids.all_ids(spec) (t first), as floats: into out when given
    (e.g. memory shared with another process), else a new array. No copy of it is ever made,
    and no pandas: `sheetnet check` trains with this and never imports it."""
    shape = (spec.iterations + 1, len(ids.all_ids(spec)))
    if out is None:
        out = np.empty(shape)
    elif out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, the run needs {shape}")
    out[:, 0] = np.arange(shape[0])
    start = 0
    for block in train_blocks(spec):
        out[start : start + len(block), 1:] = block
        start += len(block)
    return out


def train(spec: Spec) -> pd.DataFrame:
    """Every iteration as a row (index = updates applied so far), columns named by column id
    (see train_blocks for what row t holds)."""
    import pandas as pd  # not at the top: `sheetnet check` trains with train_array, without pandas

    columns = ids.all_ids(spec)
    values = train_array(spec)
    frame = pd.DataFrame(values[:, 1:], columns=columns[1:], copy=False)  # the array is ours alone
    frame.insert(0, "iter", np.arange(spec.iterations + 1))
    return frame.set_index("iter", drop=False)


# The flat rows below follow the column order of ids.all_ids, which the tests pin down.


def _state_values(spec: Spec, params: Parameters, s: Step) -> np.ndarray:
    """Parameters (W row by row, then biases), then per sample z and a of each layer, the loss
    (for classification: each sample's loss and correct@k first when there are several, the
    accuracy after)."""
    parts = [p.ravel() for layer in range(spec.n_layers)
             for p in (params.weights[layer], params.biases[layer])]
    # Rows: z then a of layer 1, layer 2, ...; columns: samples. Its transpose, flattened,
    # lists sample 1's values first.
    forward = np.concatenate([np.concatenate((s.z[layer], s.a[layer + 1]))
                              for layer in range(spec.n_layers)])
    if not spec.classifies:
        return np.concatenate((*parts, forward.T.ravel(), [s.loss]))
    per_sample = [s.sample_losses, s.sample_correct] if spec.slots > 1 else []
    return np.concatenate((*parts, forward.T.ravel(), *per_sample, [s.loss, s.accuracy]))


def _backprop_values(spec: Spec, s: Step) -> np.ndarray:
    """Per sample the deltas from the last layer back, then the gradients in parameter order."""
    backward = np.concatenate(s.delta[::-1])
    gradients = []
    for layer in range(spec.n_layers):
        gradients.append(s.dW[layer].ravel())
        if spec.trains_bias:
            gradients.append(s.db[layer].ravel())
    return np.concatenate((backward.T.ravel(), *gradients))


# --- divergence ----------------------------------------------------------------------------


class DivergedWarning(SheetnetWarning):
    """Training overflowed: from some iteration on the loss is not finite (#NUM! in the sheet)."""


def first_not_finite(loss: np.ndarray) -> int | None:
    """The first iteration whose loss is not finite, or None when every loss is finite; loss
    holds one value per iteration from t = 0 (a frame's column, or the writer's kept column)."""
    bad = ~np.isfinite(np.asarray(loss, dtype=float))
    return int(np.argmax(bad)) if bad.any() else None


def diverged_at(frame: pd.DataFrame) -> int | None:
    """first_not_finite of a run's loss column."""
    return first_not_finite(frame["loss"].to_numpy())


def divergence_message(spec: Spec, iteration: int) -> str:
    if iteration == 0:  # before any update: no learning rate can help
        return ("the loss is not finite at the start (iteration 0, before any update; the workbook "
                "shows #NUM! there): a number overflowed because the inputs or the initial weights "
                "are too large; scale the inputs (data.standardize = true) or use smaller weights")
    return (f"training diverged: the loss is not finite from iteration {iteration} on (a number "
            f"overflowed; the workbook shows #NUM! there); try a learning rate smaller than "
            f"{spec.learning_rate:g}")


def warn_if_diverged(spec: Spec, iteration: int | None) -> None:
    """Issue a DivergedWarning naming the first iteration whose loss is not finite (if any),
    pointed at the code that called the caller (sheetnet.train, build_workbook)."""
    if iteration is not None:
        warnings.warn(divergence_message(spec, iteration), DivergedWarning, stacklevel=3)
