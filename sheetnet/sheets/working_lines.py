"""The rows of a Working sheet: a quantity's line or a heading, shared by the dense Working sheet
(working.py) and the one of a network of layers (layered_working.py), which lists them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sheetnet.equations import graph, updates
from sheetnet.expr.formula import Cell, Expr, Num, rewrite
from sheetnet.model import schedule
from sheetnet.model.spec import Spec


@dataclass(frozen=True)
class Line:
    """One quantity: `qid` its Training column (for an update: the parameter's)."""

    qid: str
    group: str
    expr: Expr


@dataclass(frozen=True)
class Heading:
    """A section header (sample and layer None) or a sub-header: a sample's (with several samples)
    or, in a network of layers, a layer's (its index from 0)."""

    group: str
    sample: int | None = None
    text_key: str = ""  # the words key of its text, when not working.<group>
    layer: int | None = None

    @property
    def is_section(self) -> bool:
        return self.sample is None and self.layer is None


Item = Line | Heading


def bound(column: graph.Column, spec: Spec, batch: np.ndarray) -> Expr:
    """The column's formula with the sample slots bound to iteration 1's samples (batch)."""
    if column.formula is None:
        raise ValueError(f"column {column.qid} has no formula")
    return graph.bind_samples(spec, column.formula, batch)


def first_update(column: graph.Column) -> Expr:
    """An optimizer column's formula in row 0, with the row's t (0 there) as a number."""
    return rewrite(column.formula_for(0), lambda node: Num(0) if node == Cell("iter") else None)


def first_batch(spec: Spec) -> list[int]:
    """The sample numbers (from 1) that iteration 1 uses, slot by slot."""
    return [int(k) + 1 for k in schedule.batches(spec, rows=1)[0]]


def optimizer_headings(spec: Spec, columns: dict[str, graph.Column]) -> list[Item]:
    """The optimizer's state and step of update 1 (row 0's formulas), when it keeps state, then
    the update section's heading: the same for dense and layered networks."""
    if not spec.has_optimizer_state:
        return [Heading("update")]
    return [Heading("optimizer"),
            *(Line(c.qid, "optimizer", first_update(c))
              for c in columns.values() if c.group == updates.GROUP),
            Heading("update", text_key="working.optimizer_update")]
