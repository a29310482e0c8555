"""One drawn number and the limits every draw must meet, shared by the dense variants
(variants.py) and those of a network of layers (layer_variants.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_Z = 3.0  # beyond it σ′(z) < 0.05: the backward pass of a saturated neuron teaches nothing
MIN_GRADIENT = 1e-4
SATURATING = ("sigmoid", "tanh")


def typical(values: Sequence[float]) -> float:
    """The mean size of the non-zero values (0.1 when all are 0): a zero's size in a draw."""
    nonzero = [abs(v) for v in values if v != 0]
    return sum(nonzero) / len(nonzero) if nonzero else 0.1


def draw(
    value: float,
    scale: float,
    rng: np.random.Generator,
    decimals: int,
    *,
    unit: bool = False,
    positive: bool = False,
) -> float:
    """A number of value's sign and about its size (a zero takes the size of its neighbours and
    either sign), rounded to `decimals`, never 0."""
    size = abs(value) or scale
    sign = (1 if value > 0 else -1) if value != 0 else (1 if positive else rng.choice((-1, 1)))
    drawn = sign * size * math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    step = 10.0**-decimals
    if unit:
        drawn = min(max(drawn, step), 1 - step)
    rounded = round(drawn, decimals)
    return rounded if rounded != 0 else sign * step
