"""NumPy reference trainer: textbook matrix backpropagation, float64, every iteration in a DataFrame.

It shares nothing with the workbook code but the spec and the NumPy functions of the ops
registry (activations, the stable cross-entropies, accuracy), so a wrong formula in the workbook
cannot hide behind the same mistake here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheetnet import ids
from sheetnet.ops import CLASSIFICATION_LOSSES, LOSSES, activation, correct
from sheetnet.spec import Spec


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


def initial_parameters(spec: Spec) -> Parameters:
    weights = [np.array(w, dtype=float) for w in spec.weights]
    biases = [np.array(b, dtype=float).reshape(-1, 1) for b in spec.biases]
    return Parameters(weights, biases)


def forward(spec: Spec, params: Parameters, X: np.ndarray) -> tuple[list, list]:
    """z(l) = W(l)·a(l−1) + b(l), a(l) = f(z(l)), for all samples at once (one per column)."""
    z, a = [], [X]
    for layer, act in enumerate(spec.activations):
        z.append(params.weights[layer] @ a[-1] + params.bias_term(layer))
        a.append(activation(act, spec.leaky_slope).numpy(z[-1]))
    return z, a


def sample_weight(spec: Spec) -> float:
    """Each sample's weight in the total loss: 1/K for the mean over K samples, 1 for the sum."""
    return 1.0 / spec.n_samples if spec.reduction == "mean" else 1.0


def loss_value(spec: Spec, output: np.ndarray, T: np.ndarray) -> float:
    scale = LOSSES[spec.loss].scale(spec.sizes[-1])
    per_sample = scale * np.sum((output - T) ** 2, axis=0)
    return float(sample_weight(spec) * per_sample.sum())


def classification_loss(spec: Spec, z_out: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each sample's cross-entropy or binary cross-entropy, from the output layer's z (stable)."""
    return CLASSIFICATION_LOSSES[spec.loss].numpy(z_out, T)


def accuracy(spec: Spec, output: np.ndarray, T: np.ndarray) -> float:
    """The share of samples predicted right (ops.correct), whatever the loss reduction."""
    return float(correct(output, T).sum() / spec.n_samples)


def step(spec: Spec, params: Parameters, X: np.ndarray, T: np.ndarray) -> Step:
    """Forward pass, loss, and backpropagation of δ = ∂loss/∂z layer by layer."""
    z, a = forward(spec, params, X)
    L = spec.n_layers
    derivative = [activation(act, spec.leaky_slope).numpy_derivative for act in spec.activations]
    delta: list[np.ndarray] = [np.empty(0)] * L
    if spec.classifies:
        # softmax + cross-entropy and sigmoid + binary cross-entropy: ∂loss/∂z = a − t.
        delta[L - 1] = a[L] - T
    else:
        scale = LOSSES[spec.loss].scale(spec.sizes[-1])
        delta[L - 1] = 2 * scale * (a[L] - T) * derivative[L - 1](z[L - 1], a[L])
    for layer in range(L - 2, -1, -1):
        back = params.weights[layer + 1].T @ delta[layer + 1]
        delta[layer] = back * derivative[layer](z[layer], a[layer + 1])
    r = sample_weight(spec)
    dW = [r * delta[layer] @ a[layer].T for layer in range(L)]
    db = [_bias_gradient(spec, r, d) for d in delta]
    if spec.classifies:
        per_sample = classification_loss(spec, z[L - 1], T)
        return Step(z, a, float(r * per_sample.sum()), delta, dW, db, per_sample,
                    accuracy(spec, a[L], T))
    return Step(z, a, loss_value(spec, a[L], T), delta, dW, db)


def _bias_gradient(spec: Spec, r: float, delta: np.ndarray) -> np.ndarray:
    if spec.bias == "shared":
        return np.array([[r * delta.sum()]])
    if spec.bias == "per-neuron":
        return r * delta.sum(axis=1, keepdims=True)
    return np.zeros((0, 1))


def update(spec: Spec, params: Parameters, s: Step) -> Parameters:
    """Gradient descent: θ ← θ − η·∂L/∂θ (biases only when they are trained)."""
    lr = spec.learning_rate
    weights = [w - lr * g for w, g in zip(params.weights, s.dW, strict=True)]
    if spec.trains_bias:
        biases = [b - lr * g for b, g in zip(params.biases, s.db, strict=True)]
    else:
        biases = params.biases
    return Parameters(weights, biases)


def train(spec: Spec) -> pd.DataFrame:
    """Every iteration as a row (index = updates applied so far), columns named by column id.

    Row t holds the parameters after t updates, the forward pass and loss they give, and
    (for t < iterations) the deltas and gradients that make row t+1.
    """
    X = np.array(spec.inputs, dtype=float).T  # one column per sample
    T = np.array(spec.targets, dtype=float).T
    params = initial_parameters(spec)
    columns = ids.all_ids(spec)
    # One preallocated float array filled row by row: a dict per row cost more than the math.
    # The final row has no deltas or gradients; they stay NaN.
    values = np.full((spec.iterations + 1, len(columns) - 1), np.nan)
    for t in range(spec.iterations + 1):
        s = step(spec, params, X, T)
        state = _state_values(spec, params, s)
        values[t, : state.size] = state
        if t < spec.iterations:
            values[t, state.size :] = _backprop_values(spec, s)
        params = update(spec, params, s)
    frame = pd.DataFrame(values, columns=columns[1:], copy=False)  # the array is ours alone
    frame.insert(0, "iter", np.arange(spec.iterations + 1))
    return frame.set_index("iter", drop=False)


# The flat rows below follow the column order of ids.all_ids, which the tests pin down.


def _state_values(spec: Spec, params: Parameters, s: Step) -> np.ndarray:
    """Parameters (W row by row, then biases), then per sample z and a of each layer, the loss
    (for classification: each sample's loss first when there are several, the accuracy after)."""
    parts = [p.ravel() for layer in range(spec.n_layers)
             for p in (params.weights[layer], params.biases[layer])]
    # Rows: z then a of layer 1, layer 2, ...; columns: samples. Its transpose, flattened,
    # lists sample 1's values first.
    forward = np.concatenate([np.concatenate((s.z[layer], s.a[layer + 1]))
                              for layer in range(spec.n_layers)])
    if not spec.classifies:
        return np.concatenate((*parts, forward.T.ravel(), [s.loss]))
    per_sample = s.sample_losses if spec.n_samples > 1 else []
    return np.concatenate((*parts, forward.T.ravel(), per_sample, [s.loss, s.accuracy]))


def _backprop_values(spec: Spec, s: Step) -> np.ndarray:
    """Per sample the deltas from the last layer back, then the gradients in parameter order."""
    backward = np.concatenate(s.delta[::-1])
    gradients = []
    for layer in range(spec.n_layers):
        gradients.append(s.dW[layer].ravel())
        if spec.trains_bias:
            gradients.append(s.db[layer].ravel())
    return np.concatenate((backward.T.ravel(), *gradients))
