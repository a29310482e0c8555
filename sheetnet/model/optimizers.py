"""Optimizers as torch.optim computes them: one registry entry per optimizer.

Each entry names the spec fields it reads, the state it keeps per parameter element and its
NumPy update, written as torch.optim's documented pseudo-code for one step t = 1, 2, … (with
momentum's dampening = 0, RMSprop's centered = False, Adagrad's lr_decay = 0 and initial
accumulator 0, Adam's amsgrad = False):

    g ← ∂L/∂θ + λ·θ                            L2 weight decay (every optimizer but adamw)
    sgd       Δθ = η·g
    momentum  b = g (t = 1), μ·b + g (t > 1);  Δθ = η·b
    nesterov  the same b;                      Δθ = η·(g + μ·b)
    rmsprop   s = α·s + (1−α)·g·g (s₀ = 0);    Δθ = η·g/(√s + ε)
              with μ > 0: b = μ·b + g/(√s + ε) (b₀ = 0), Δθ = η·b
    adagrad   G = G + g·g (G₀ = 0);            Δθ = η·g/(√G + ε)
    adam      m = β₁·m + (1−β₁)·g, v = β₂·v + (1−β₂)·g·g (m₀ = v₀ = 0)
              Δθ = (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)
    adamw     adam on the plain gradient, after θ ← θ·(1 − η·λ)
    θ ← θ − Δθ

Each product and quotient is rounded in the order torch's kernels round it (step 1 equals
torch's bit for bit): (1−α)·g·g is ((1−α)·g)·g as addcmul computes it, η·g/(√s + ε) is
(η·g)/(√s + ε) as addcdiv computes it, and Adam's step is torch's step_size = η/(1−β₁ᵗ) times m
over √v/√(1−β₂ᵗ) + ε. Where torch's CPU kernels fuse a multiply and an add into one rounding
(add with alpha, addcmul, lerp: FMA instructions), no spreadsheet can round as they do; the sum
here is the same sum rounded twice (docs/spec.md gives the measured difference).

The workbook writes the same updates as formulas (sheetnet/equations/updates.py), separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
State = dict[str, Array]

# Hyperparameters besides the learning rate, in the order the Network sheet lists them.
HYPERPARAMETERS = ("momentum", "beta1", "beta2", "eps", "alpha", "weight_decay")
# The symbol each is written with, in the Guide, the notes and the Working sheet.
SYMBOLS = {"learning_rate": "η", "momentum": "μ", "beta1": "β₁", "beta2": "β₂", "eps": "ε",
           "alpha": "α", "weight_decay": "λ"}
# Defaults as torch.optim has them, where an optimizer has no default of its own.
DEFAULTS = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "alpha": 0.99,
            "weight_decay": 0.0}


@dataclass(frozen=True)
class Settings:
    """The numbers an update reads (those its optimizer does not use keep their defaults)."""

    learning_rate: float
    momentum: float = DEFAULTS["momentum"]
    beta1: float = DEFAULTS["beta1"]
    beta2: float = DEFAULTS["beta2"]
    eps: float = DEFAULTS["eps"]
    alpha: float = DEFAULTS["alpha"]
    weight_decay: float = 0.0


# (settings, state before the step, gradient, parameter, step number t from 1) → (state, Δθ)
Update = Callable[[Settings, State, Array, Array, int], tuple[State, Array]]


@dataclass(frozen=True)
class Optimizer:
    name: str
    fields: tuple[str, ...]  # the hyperparameters it reads (weight_decay: every optimizer)
    defaults: dict[str, float]  # where its default differs from DEFAULTS (adagrad's ε)
    update: Update
    bias_corrected: bool = False  # adam, adamw: 1 − β₁ᵗ and 1 − β₂ᵗ once per row

    def default(self, field: str) -> float:
        return self.defaults.get(field, DEFAULTS[field])

    def states(self, settings: Settings) -> tuple[str, ...]:
        """The state it keeps per parameter element, as the column-id prefixes m, v, b, s, G."""
        return _STATES[self.name](settings)


def _l2(h: Settings, g: Array, theta: Array) -> Array:
    """torch's weight_decay: g + λ·θ (nothing added when λ = 0)."""
    return g + h.weight_decay * theta if h.weight_decay else g


def _sgd(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    return {}, h.learning_rate * _l2(h, g, theta)


def _momentum(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    g = _l2(h, g, theta)
    b = g if t == 1 else h.momentum * state["b"] + g  # the buffer starts at g₁, not at 0
    return {"b": b}, h.learning_rate * b


def _nesterov(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    g = _l2(h, g, theta)
    b = g if t == 1 else h.momentum * state["b"] + g
    return {"b": b}, h.learning_rate * (g + h.momentum * b)


def _rmsprop(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    g = _l2(h, g, theta)
    s = (1 - h.alpha) * g * g if t == 1 else h.alpha * state["s"] + (1 - h.alpha) * g * g
    if not h.momentum:
        return {"s": s}, h.learning_rate * g / (np.sqrt(s) + h.eps)
    scaled = g / (np.sqrt(s) + h.eps)
    b = scaled if t == 1 else h.momentum * state["b"] + scaled  # b₀ = 0
    return {"s": s, "b": b}, h.learning_rate * b


def _adagrad(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    g = _l2(h, g, theta)
    G = g * g if t == 1 else state["G"] + g * g
    return {"G": G}, h.learning_rate * g / (np.sqrt(G) + h.eps)


def _adam_moments(h: Settings, state: State, g: Array, t: int) -> tuple[State, Array]:
    """m and v, and Δθ = η·m̂/(√v̂ + ε) with the bias corrections of step t, rounded as torch
    computes it: step_size = η/(1−β₁ᵗ), then step_size·m / (√v/√(1−β₂ᵗ) + ε)."""
    m = (1 - h.beta1) * g if t == 1 else h.beta1 * state["m"] + (1 - h.beta1) * g
    v = (1 - h.beta2) * g * g if t == 1 else h.beta2 * state["v"] + (1 - h.beta2) * g * g
    bc1, bc2 = bias_corrections(h, t)
    return {"m": m, "v": v}, h.learning_rate / bc1 * m / (np.sqrt(v) / np.sqrt(bc2) + h.eps)


def _adam(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    return _adam_moments(h, state, _l2(h, g, theta), t)


def _adamw(h: Settings, state: State, g: Array, theta: Array, t: int) -> tuple[State, Array]:
    """Adam's step on the plain gradient; θ·(1 − η·λ) is applied first (decay_factor)."""
    return _adam_moments(h, state, g, t)


def decay_factor(optimizer: str, h: Settings) -> float | None:
    """1 − η·λ, by which adamw multiplies θ before its step (torch's param.mul_), else None:
    the next parameter is θ·(1 − η·λ) − Δθ."""
    if optimizer == "adamw" and h.weight_decay:
        return 1 - h.learning_rate * h.weight_decay
    return None


def bias_corrections(h: Settings, t: int) -> tuple[float, float]:
    """1 − β₁ᵗ and 1 − β₂ᵗ of step t (from 1)."""
    return 1 - h.beta1**t, 1 - h.beta2**t


_STATES: dict[str, Callable[[Settings], tuple[str, ...]]] = {
    "sgd": lambda h: (),
    "momentum": lambda h: ("b",),
    "nesterov": lambda h: ("b",),
    "rmsprop": lambda h: ("s", "b") if h.momentum else ("s",),
    "adagrad": lambda h: ("G",),
    "adam": lambda h: ("m", "v"),
    "adamw": lambda h: ("m", "v"),
}

OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer("sgd", ("weight_decay",), {}, _sgd),
    "momentum": Optimizer("momentum", ("momentum", "weight_decay"), {}, _momentum),
    "nesterov": Optimizer("nesterov", ("momentum", "weight_decay"), {}, _nesterov),
    "rmsprop": Optimizer("rmsprop", ("momentum", "alpha", "eps", "weight_decay"), {"momentum": 0.0},
                         _rmsprop),
    "adagrad": Optimizer("adagrad", ("eps", "weight_decay"), {"eps": 1e-10}, _adagrad),
    "adam": Optimizer("adam", ("beta1", "beta2", "eps", "weight_decay"), {}, _adam, bias_corrected=True),
    "adamw": Optimizer("adamw", ("beta1", "beta2", "eps", "weight_decay"), {}, _adamw,
                       bias_corrected=True),
}
NAMES = tuple(OPTIMIZERS)


def users(field: str) -> list[str]:
    """The optimizers that read a hyperparameter."""
    return [name for name, entry in OPTIMIZERS.items() if field in entry.fields]


def check_range(field: str, value: float, optimizer: str) -> str | None:
    """Why value is out of range for field (a phrase for the error), or None when it is fine."""
    if field in ("beta1", "beta2") and not 0 <= value < 1:
        return "must lie in [0, 1)"
    if field == "alpha" and not 0 <= value < 1:
        return "must lie in [0, 1)"
    if field == "momentum":
        if optimizer == "nesterov" and not 0 < value < 1:
            return 'must lie in (0, 1) for optimizer = "nesterov"'
        if not 0 <= value < 1:
            return "must lie in [0, 1)"
    if field == "eps" and not value > 0:
        return "must be a positive number"
    if field == "weight_decay" and not value >= 0:
        return "must be at least 0"
    return None
