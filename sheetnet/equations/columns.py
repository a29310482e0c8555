"""What a Training column is, and the Network-sheet inputs its formulas read: shared by the dense
graph (graph.py) and the layered one (layers.py).

In sgd/minibatch mode slot k reads x and t of the sample whose number is in the row's `sample@k`
cell, by a live INDEX into the Network data table (sample_input / sample_target, the one place
that decides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sheetnet.expr.formula import Call, Cell, Const, ConstRange, Expr, rewrite
from sheetnet.model import ids
from sheetnet.model.ops import LEAKY_SLOPE
from sheetnet.model.spec import Spec


@dataclass(frozen=True)
class Column:
    """One Training-sheet column: its id, group and formula.

    `first` is the formula of row 0 where it differs (parameters read the Network sheet there);
    `in_final_row` says whether the row after the last update has this column.
    """

    qid: str
    group: str
    formula: Expr | None
    first: Expr | None = None
    in_final_row: bool = True

    def formula_for(self, t: int) -> Expr | None:
        return self.first if t == 0 and self.first is not None else self.formula


# --- Network-sheet inputs, by key (layout.py gives each key its cell) ----------------------

LEARNING_RATE = Const("lr")
LEAKY = LEAKY_SLOPE  # network.leaky_slope, read by every leaky_relu formula


def input_key(i: int, k: int) -> Const:
    return Const(str(ids.Qid("x", neuron=i, sample=k)))


def target_key(j: int, k: int) -> Const:
    return Const(str(ids.Qid("t", neuron=j, sample=k)))


def initial_key(param_id: str) -> Const:
    return Const(f"init:{param_id}")


def data_column(key: Const) -> ConstRange:
    """`x[1]@3` → the whole data column `x[1]` (every sample's x[1])."""
    return ConstRange(str(ids.parse(key.key).replace(sample=None)))


# --- the samples of a row: x and t of slot k -------------------------------------------------


def sample_input(spec: Spec, i: int, k: int) -> Expr:
    """x[i] of slot k: sample k's Network cell in batch mode, else INDEX(x[i] column, sample@k)."""
    return _sample_value(spec, input_key(i, k))


def sample_target(spec: Spec, j: int, k: int) -> Expr:
    """t[j] of slot k, like sample_input."""
    return _sample_value(spec, target_key(j, k))


def bind_samples(spec: Spec, expr: Expr, samples: Sequence[int]) -> Expr:
    """expr with every slot lookup replaced by the Network cell of the sample (from 0) that
    the slot holds: the formula of one particular row, e.g. for iteration 1 worked by hand."""
    if spec.mode == "batch":
        return expr
    sample_of = {ids.sample(k, spec): int(n) for k, n in enumerate(samples)}

    def bind(node: Expr) -> Expr | None:
        match node:
            case Call("INDEX", (ConstRange(key), Cell(qid))) if qid in sample_of:
                return Const(f"{key}@{sample_of[qid] + 1}")
        return None

    return rewrite(expr, bind)


def _sample_value(spec: Spec, key: Const) -> Expr:
    if spec.mode == "batch":
        return key
    if spec.n_samples == 1:
        # Every row uses the one sample: its cell itself, not INDEX over a one-cell range
        # (Gnumeric gives #REF! for that; the cell is the same number in every engine).
        return Const(f"{data_column(key).key}@1")
    k = ids.parse(key.key).sample
    assert k is not None, key
    return Call("INDEX", (data_column(key), Cell(ids.sample(k, spec))))
