"""A different network for every student: numbers drawn near the template's from a seed that an
HMAC of the class secret and the student id gives, so the same secret rebuilds the same numbers and
one student can be rebuilt alone.

Each number keeps its sign and its order of magnitude (drawn log-uniformly between half and twice
the template's), rounded to `decimals` so the hand calculation stays humane. A draw is kept only
when the exercise stays meaningful: no weight or input is 0, no sigmoid or tanh saturates at
iteration 1 (|z| ≤ 3), every asked gradient is at least 1e-4 in size, and no other student of the
class has the same numbers; otherwise the next draw (a counter in the HMAC message) is tried.
A network of layers draws and checks its numbers in layer_variants.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections import Counter
from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np

from sheetnet.classroom import draws, layer_variants
from sheetnet.classroom.draws import MAX_Z, MIN_GRADIENT, SATURATING
from sheetnet.classroom.questions import Question, key_values, questions, tree_values
from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.model.spec import Spec

VARY = ("inputs", "targets", "weights", "biases", "lr")
DEFAULT_VARY = ("inputs", "targets", "weights", "biases")
MAX_DRAWS = 2000


@dataclass(frozen=True)
class Variant:
    """One student's network and the draw that made it."""

    student: str
    spec: Spec
    draw: int

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.spec)


def fingerprint(spec: Spec) -> str:
    """A short hash of the numbers a student computes with (not of the title or the name)."""
    numbers = [spec.learning_rate, spec.weights, spec.biases, spec.inputs, spec.targets]
    if spec.layered:  # its parameters live in its layers (a dense spec's hash stays as it was)
        numbers.append(layer_variants.layered_numbers(spec))
    return hashlib.sha256(json.dumps(numbers).encode()).hexdigest()[:16]


def secret_hash(secret: str) -> str:
    """What class.toml records of the secret: enough to recognise it, never the secret itself."""
    return "sha256:" + hashlib.sha256(("sheetnet-class\x00" + secret).encode()).hexdigest()


def seed(secret: str, student: str, draw: int) -> int:
    """The random seed of a student's draw: an HMAC-SHA256, not Python's salted hash()."""
    digest = hmac.new(secret.encode(), f"{student}\x00{draw}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def what_varies(spec: Spec, vary: Sequence[str]) -> tuple[str, ...]:
    """vary without what must stay: CSV data stays, and so do classification targets (one-hot)."""
    kept = set(vary)
    if spec.input_names or spec.target_names or spec.class_names:
        kept -= {"inputs", "targets"}
    if spec.classifies:
        kept -= {"targets"}
    return tuple(v for v in VARY if v in kept)


def make_variant(
    template: Spec,
    secret: str,
    student: str,
    *,
    vary: Sequence[str],
    decimals: int,
    asked: Sequence[str],
    taken: Set[str] = frozenset(),
    start: int = 0,
) -> Variant:
    """The first draw (from `start`) for this student that meets every constraint and whose
    numbers are not `taken` by another student."""
    vary = what_varies(template, vary)
    trees = None if template.layered else _trees(template)
    failures: Counter[str] = Counter()
    for draw in range(start, MAX_DRAWS):
        rng = np.random.default_rng(seed(secret, student, draw))
        spec = draw_spec(template, rng, vary, decimals)
        problem = first_problem(spec, asked, trees)
        if problem is None and fingerprint(spec) in taken:
            problem = "the same numbers as another student's"
        if problem is None:
            return Variant(student, spec, draw)
        failures[problem] += 1
    worst, count = failures.most_common(1)[0] if failures else ("none left", 0)
    raise SheetnetError(
        f"{template.name or 'the spec'}: no variant meets the exercise's constraints in "
        f"{MAX_DRAWS} draws; the most frequent failure ({count} draws): {worst}; vary more "
        "(--vary), use more --decimals, or ask fewer groups (--ask)"
    )


def draw_spec(template: Spec, rng: np.random.Generator, vary: Sequence[str], decimals: int) -> Spec:
    """The template with the chosen numbers drawn afresh."""
    if template.layered:
        return layer_variants.draw_layered(template, rng, vary, decimals)

    def near(values: Sequence[float], *, unit: bool = False) -> tuple[float, ...]:
        scale = draws.typical(values)
        return tuple(draws.draw(v, scale, rng, decimals, unit=unit) for v in values)

    changes: dict[str, object] = {}
    if "weights" in vary:
        changes["weights"] = tuple(tuple(near(row) for row in w) for w in template.weights)
    if "biases" in vary and template.bias != "none":
        changes["biases"] = tuple(near(b) for b in template.biases)
    if "inputs" in vary:
        changes["inputs"] = tuple(near(row) for row in template.inputs)
    if "targets" in vary:
        unit = template.activations[-1] == "sigmoid"  # a sigmoid reaches only (0, 1)
        changes["targets"] = tuple(near(row, unit=unit) for row in template.targets)
    if "lr" in vary:
        changes["learning_rate"] = draws.draw(
            template.learning_rate, template.learning_rate, rng, decimals, positive=True
        )
    return template.replace(**changes) if changes else template


_TREES: dict[Spec, list[Question]] = {}


def _trees(template: Spec) -> list[Question]:
    """Every question of the template's shape (a variant has the same shape, so the same trees)."""
    if template not in _TREES:
        _TREES[template] = questions(template)
    return _TREES[template]


def first_problem(spec: Spec, asked: Sequence[str], trees: Sequence[Question] | None = None) -> str | None:
    """Why this draw makes a poor exercise, or None."""
    if spec.layered:
        return layer_variants.layered_problem(spec, asked)
    values = tree_values(spec, trees) if trees is not None else key_values(spec)
    if not all(math.isfinite(v) for v in values.values()):
        return "a number overflows at iteration 1"
    for layer, act in enumerate(spec.activations):
        if act not in SATURATING:
            continue
        for k in range(spec.slots):
            for j in range(spec.sizes[layer + 1]):
                qid = ids.neuron("z", layer, j, k, spec)
                if abs(values[f"0:{qid}"]) > MAX_Z:
                    return f"a {act} saturates (|{qid}| > {MAX_Z:g})"
    if "gradients" in asked:
        for qid in ids.gradients(spec):
            if abs(values[f"0:{qid}"]) < MIN_GRADIENT:
                return f"the gradient {qid} is smaller than {MIN_GRADIENT:g} in size"
    return None
