"""A student's numbers for a network of layers (conv2d, pools, rnn, attention, layernorm, …).

The draw is the dense one (draws.draw): every number keeps its sign and its order of
magnitude. "weights" draws every parameter tensor but the biases (kernels, W, Wx, Wh, Wq, Wk, Wv,
layernorm's gain), "biases" the biases, "targets" a regression's targets (in (0, 1) after a
sigmoid), "inputs" the samples' numbers, a zero becoming a faint number (a tenth of its sample's
typical size, either sign): the picture stays (stripes of 1 on a background of ±0.1, the marked
token), and no gradient is 0 only because a pixel is (with the zeros kept, a conv kernel's
gradient is exactly 0 wherever every sample's arg-max window meets a 0 pixel, and under 1 % of
cnn-stripes' draws passed).

A draw makes a meaningful exercise when iteration 1, computed with the NumPy reference
(model/layer_reference.py, `first_iteration`), has
- every number finite;
- no saturated sigmoid or tanh, rnn steps included: |z| ≤ 3 (draws.MAX_Z);
- no dead ReLU map: every conv2d feature map with ReLU has some z > 0 for every sample, so its
  kernel learns and its max-pool window has a maximum worth routing to;
- no tie in a max-pool window: the largest value beats the next by MIN_POOL_GAP (relative, at
  least absolute), far more than a student's rounding, so the arg-max is not a matter of digits;
- every asked gradient at least draws.MIN_GRADIENT in size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sheetnet.classroom.draws import MAX_Z, MIN_GRADIENT, SATURATING, draw, typical
from sheetnet.model import ids, layer_reference, schedule
from sheetnet.model.layers import Layer
from sheetnet.model.spec import Spec

MIN_POOL_GAP = 1e-3  # the top two of a max-pool window differ by this, times the top's size (≥ 1)
FAINT = 0.1  # a zero input is drawn at this fraction of its sample's typical size


@dataclass(frozen=True)
class FirstIteration:
    """Iteration 1 of a layered spec, per layer (sample on the first axis of every array)."""

    inputs: list[np.ndarray]  # each layer's input, in the layer's in_shape
    forward: list[dict[str, np.ndarray]]  # layer_reference.forward_layer's quantities (z, a, m, h, P, …)
    gradient: dict[str, float]  # ∂L/∂θ by gradient id (dK1[1,1,1,1], …)
    finite: bool  # every forward, backward and gradient number of the row is finite


def first_iteration(spec: Spec) -> FirstIteration:
    """The forward pass of iteration 1's samples and its gradient, from the NumPy reference."""
    batch = schedule.batches(spec, rows=1)[0]
    X = np.asarray(spec.inputs, dtype=float)[batch]
    T = np.asarray(spec.targets, dtype=float)[batch]
    theta = layer_reference.initial_theta(spec)
    with np.errstate(all="ignore"):
        state, backward, gradient = layer_reference.evaluate(spec, theta, X, T)
        params = layer_reference.unflatten(spec, theta)
        inputs, forward = [], []
        x = X.reshape(len(X), *spec.input_shape)
        for layer, p in zip(spec.layers, params, strict=True):
            inputs.append(x)
            forward.append(layer_reference.forward_layer(spec, layer, p, x))
            x = forward[-1]["out"]
    finite = bool(np.isfinite(state).all() and np.isfinite(backward).all())
    return FirstIteration(inputs, forward, dict(zip(ids.gradients(spec), map(float, gradient), strict=True)),
                          finite)


def pool_windows(x: np.ndarray, size: int) -> np.ndarray:
    """x [n, C, H, W] as its size×size windows: [n, C, H/size, W/size, size·size], row-major."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // size, size, w // size, size).transpose(0, 1, 2, 4, 3, 5)
    return blocks.reshape(n, c, h // size, w // size, size * size)


# --- the draw ---------------------------------------------------------------------------------


def draw_layered(template: Spec, rng: np.random.Generator, vary: Sequence[str], decimals: int) -> Spec:
    """The template with the chosen numbers of its layers and samples drawn afresh."""
    def near(values: Sequence[float], *, faint: float = 1.0, unit: bool = False) -> tuple[float, ...]:
        scale = typical(values) * faint
        return tuple(draw(v, scale, rng, decimals, unit=unit) for v in values)

    def tensor(value: Any) -> Any:
        flat = np.array(value, dtype=float)
        return _nested(np.array(near(flat.ravel().tolist())).reshape(flat.shape))

    changes: dict[str, object] = {}
    layers: list[Layer] = []
    for layer in template.layers:
        params = []
        for name, value in layer.params:
            kind = "biases" if name == "bias" else "weights"
            params.append((name, tensor(value) if kind in vary else value))
        layers.append(dataclasses.replace(layer, params=tuple(params)))
    if any(layer.params for layer in template.layers):
        changes["layers"] = tuple(layers)
    if "inputs" in vary:
        changes["inputs"] = tuple(near(row, faint=FAINT) for row in template.inputs)
    if "targets" in vary:  # a regression's (what_varies keeps one-hot classes)
        unit = template.layers[-1].activation == "sigmoid"  # a sigmoid reaches only (0, 1)
        changes["targets"] = tuple(near(row, unit=unit) for row in template.targets)
    if "lr" in vary:
        changes["learning_rate"] = draw(template.learning_rate, template.learning_rate, rng, decimals,
                                         positive=True)
    return template.replace(**changes) if changes else template


def _nested(value: np.ndarray) -> Any:
    if value.ndim == 1:
        return tuple(float(x) for x in value)
    return tuple(_nested(v) for v in value)


# --- the constraints --------------------------------------------------------------------------


def layered_problem(spec: Spec, asked: Sequence[str]) -> str | None:
    """Why this draw of a layered network makes a poor exercise, or None."""
    first = first_iteration(spec)
    if not first.finite:
        return "a number overflows at iteration 1"
    for n, (layer, fwd) in enumerate(zip(spec.layers, first.forward, strict=True)):
        where = f"layer {n + 1} ({layer.kind})"
        if layer.activation in SATURATING and "z" in fwd and np.abs(fwd["z"]).max() > MAX_Z:
            return f"a {layer.activation} of {where} saturates (|z| > {MAX_Z:g})"
        if layer.kind == "conv2d" and layer.activation == "relu":
            alive = (fwd["z"] > 0).any(axis=(2, 3))  # [samples, channels]
            if not alive.all():
                return f"a feature map of {where} is dead (no z > 0) for a sample"
        if layer.kind == "maxpool2d" and not _clear_maxima(first.inputs[n], layer.size):
            return f"a window of {where} has no clear maximum (a tie within {MIN_POOL_GAP:g})"
    if "gradients" in asked:
        for qid, value in first.gradient.items():
            if abs(value) < MIN_GRADIENT:
                return f"the gradient {qid} is smaller than {MIN_GRADIENT:g} in size"
    return None


def _clear_maxima(x: np.ndarray, size: int) -> bool:
    """Whether every window's largest value beats the next by MIN_POOL_GAP·max(1, |largest|)."""
    top2 = np.sort(pool_windows(x, size), axis=-1)[..., -2:]
    gap = top2[..., 1] - top2[..., 0]
    return bool((gap >= MIN_POOL_GAP * np.maximum(1.0, np.abs(top2[..., 1]))).all())


def layered_numbers(spec: Spec) -> list[Any]:
    """What a layered student computes with besides η, inputs and targets: every parameter."""
    return [[[name, _lists(value)] for name, value in layer.params] for layer in spec.layers]


def _lists(value: Any) -> Any:
    return [_lists(v) for v in value] if isinstance(value, tuple) else value

