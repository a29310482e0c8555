"""Whose file is it, by its Network numbers.

The identity a student file carries lives in the document's custom properties, which Excel on the
web and other editors may drop. Every student of a class has numbers of their own (variants.py
refuses a draw that another student has), so the typed Network numbers identify the file too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sheetnet.classroom.questions import constants
from sheetnet.model.spec import Spec
from sheetnet.sheets.layered_network import network_layout

IDENTIFIED = "identified by its numbers"
NEAR = 2  # a file without identity whose numbers differ from one student's in at most this many cells
DIGITS = 12  # LibreOffice writes 15 significant digits, the class's numbers have a few decimals

Vector = tuple[float | None, ...]


def typed_values(spec: Spec) -> dict[str, float]:
    """What the student's file was written with, by Const key (raw inputs where standardised)."""
    consts = constants(spec)
    for k, x in enumerate(spec.inputs):
        for i, v in enumerate(x):
            consts[f"x[{i + 1}]@{k + 1}"] = float(v)
    return consts


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(f"{value:.{DIGITS}g}")


class NumberIndex:
    """The class's students by the numbers of their Network sheet."""

    def __init__(self, template: Spec, specs: Mapping[str, Spec]) -> None:
        typed = network_layout(template).typed_cells()
        known = typed_values(template)  # the cells grading compares (changed_cells), no others
        self.cells = sorted(((k, c) for k, c in typed.items() if k in known), key=lambda kv: kv[1])
        self.vectors: dict[str, Vector] = {}
        self.owners: dict[Vector, str] = {}
        for sid, spec in specs.items():
            values = typed_values(spec)
            vector = tuple(_number(values.get(key)) for key, _ in self.cells)
            self.vectors[sid] = vector
            self.owners.setdefault(vector, sid)

    def vector(self, network: Mapping[tuple[int, int], Any]) -> Vector:
        return tuple(_number(network.get(cell)) for _, cell in self.cells)

    def owner(self, network: Mapping[tuple[int, int], Any]) -> str | None:
        """The student whose numbers these are, exactly."""
        return self.owners.get(self.vector(network))

    def nearest(self, network: Mapping[tuple[int, int], Any]) -> str | None:
        """The one student whose numbers differ in at most NEAR cells (a student who edited one)."""
        got = self.vector(network)
        if len(got) <= 2 * NEAR:
            return None  # too few numbers for a near match to mean anything
        close = [sid for sid, v in self.vectors.items()
                 if sum(a != b for a, b in zip(v, got, strict=True)) <= NEAR]
        return close[0] if len(close) == 1 else None


def identify(
    path: Path, claimed: str, network: Mapping[tuple[int, int], Any], roster: Mapping[str, object],
    index: NumberIndex,
) -> tuple[str, list[str]]:
    """The student a file belongs to and what to flag: its numbers win over a missing identity or
    one they contradict; a file whose numbers match no student keeps the identity it carries."""
    owner = index.owner(network)
    if owner is None and claimed not in roster:
        owner = index.nearest(network)
    if owner is None or owner == claimed:
        return claimed, []
    if not claimed:
        return owner, [IDENTIFIED]
    return owner, [f"{IDENTIFIED}: {path.name} says it is {claimed}'s but holds {owner}'s numbers"]
