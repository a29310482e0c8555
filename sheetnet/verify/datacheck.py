"""The check of the Network sheet's formulas: the standardised inputs (μ, σ and x̃ = (x − μ)/σ per
input column) and the optimizer's complements 1 − β₁, 1 − β₂, 1 − α.

The expected values come from the NumPy standardisation of the raw data read back from the
sheet (so an edited raw value is checked against itself). Like the Training cells, each
formula is evaluated by the `formulas` engine on reference values of the cells it reads: μ and
σ on the raw column, x̃ on its raw value and the reference μ and σ. With LibreOffice the values
it recalculated are compared instead. The Training formulas read the x̃ cells, so the check
gives those cells their reference values first (`reference_cells`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from sheetnet.equations import graph, updates
from sheetnet.model import standardize
from sheetnet.sheets import layout
from sheetnet.sheets.layered_network import network_layout
from sheetnet.verify.bound import U
from sheetnet.verify.cells import formula_shape
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float, call_formula, compile_formula, input_cell
from sheetnet.verify.report import Report, WrongCell, judge
from sheetnet.verify.vectorised import light_functions

GROUP = "data"
Address = tuple[int, int]


@dataclass(frozen=True)
class Expected:
    """A standardisation cell of the Network sheet and its NumPy value."""

    cell: Address
    name: str  # e.g. "μ(x[1])", "σ(x[2])", "x̃[1]@5"
    value: float
    held: Any = None  # what the workbook stored there (a typed number where a formula belongs)
    bound: float = 0.0  # its rounding-error bound (report.judge)


def expected_cells(book: Workbook) -> list[Expected]:
    """μ, σ (per input column) and every x̃, with their NumPy values, and the optimizer's 1 − β."""
    spec = book.spec
    net = network_layout(spec)
    # 1 − β: one subtraction of exact inputs, so its bound is one rounding of the result
    cells = [(net.input_cells[key], _complement_name(field), 1 - getattr(spec, field),
              U * abs(1 - getattr(spec, field)))
             for field, key in updates.COMPLEMENTS.items() if key in net.input_cells]
    if spec.standardize:
        x = np.asarray(spec.inputs, dtype=float)
        mu, sigma = standardize.statistics(spec.inputs)
        x_tilde = standardize.standardized(spec.inputs)
        e_mu, e_sigma, e_x = _bounds(x, mu, sigma, x_tilde)
        n_in = spec.sizes[0]
        cells += [(net.mean_cells[i], f"μ(x[{i + 1}])", mu[i], e_mu[i]) for i in range(n_in)]
        cells += [(net.std_cells[i], f"σ(x[{i + 1}])", sigma[i], e_sigma[i]) for i in range(n_in)]
        cells += [(net.input_cells[graph.input_key(i, k).key], f"x̃[{i + 1}]@{k + 1}", x_tilde[k, i],
                   e_x[k, i]) for k in range(spec.n_samples) for i in range(n_in)]
    return [Expected(cell, name, float(value), book.network.get(cell), float(bound))
            for cell, name, value, bound in cells]


def _bounds(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, x_tilde: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rounding-error bounds of μ = Σx/n, σ = √(Σ(x − μ)²/n) and x̃ = (x − μ)/σ, as bound.py
    would carry them: a sum of n terms adds up to n units of roundoff of Σ|term|."""
    n = x.shape[0]
    e_mu = (n + 1) * U * np.abs(x).mean(axis=0)
    dev = np.abs(x - mu)
    e_dev = e_mu + U * (np.abs(x) + np.abs(mu))  # the rounding of each x − μ
    e_var = (n + 3) * U * ((dev + e_dev) ** 2).mean(axis=0) + (2 * dev * e_dev + e_dev**2).mean(axis=0)
    with np.errstate(all="ignore"):
        e_sigma = np.where(sigma > 0, e_var / (2 * sigma), np.inf) + U * sigma
        e_x = (e_dev + np.abs(x_tilde) * e_sigma) / sigma + U * np.abs(x_tilde)
    return e_mu, e_sigma, e_x


def _complement_name(field: str) -> str:
    return f"1 − {field}"


def reference_cells(book: Workbook, expected: list[Expected]) -> None:
    """Give the standardisation cells their NumPy values, as the Training formulas' inputs."""
    book.network.update({e.cell: e.value for e in expected})


def missing_formulas(book: Workbook, expected: list[Expected]) -> dict[Address, str]:
    """Standardisation cells that hold a typed value instead of their formula."""
    return {e.cell: "the cell holds no formula" for e in expected if e.cell not in book.network_formulas}


# --- the formulas engine -------------------------------------------------------------------

_RANGE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+):\$?([A-Za-z]{1,3})\$?(\d+)")


def recompute(book: Workbook, expected: list[Expected]) -> tuple[dict[Address, float], dict[Address, str]]:
    """Each standardisation cell evaluated from its own formula; notes for cells left unevaluated."""
    own = book.network_sheet.upper()
    got: dict[Address, float] = {}
    shapes: dict[str, list[Address]] = {}
    notes = missing_formulas(book, expected)
    for e in expected:
        text = book.network_formulas.get(e.cell)
        if text is None:
            got[e.cell] = as_float(e.held)
        elif ":" in text:  # AVERAGE / STDEVP over a range: a handful of cells, one by one
            got[e.cell], note = _evaluate_range_formula(text, book.network)
            if note:
                notes[e.cell] = note
        else:
            shapes.setdefault(formula_shape(text, e.cell[0], own)[0] + f"|{e.cell[1]}", []).append(e.cell)
    for cells in shapes.values():
        first = cells[0]
        try:
            compiled = compile_formula(book.network_formulas[first], first[0], own, own)
        except Exception as exc:  # Unsupported, or text formulas cannot take
            notes.update(dict.fromkeys(cells, str(exc)))
            got.update(dict.fromkeys(cells, math.nan))
            continue
        rows = np.array([r for r, _ in cells])
        args = [_column(book.network, rows, ref.row, ref.col) if ref.kind == "relative"
                else book.network.get((ref.row, ref.col), 0.0) for ref in compiled.inputs]
        got.update(zip(cells, call_formula(compiled, args, len(cells)).tolist(), strict=True))
    return got, notes


def _column(values: dict[Address, Any], rows: np.ndarray, offset: int, col: int) -> np.ndarray:
    return np.array([[as_float(values.get((int(r) + offset, col), 0.0))] for r in rows])


def _evaluate_range_formula(text: str, values: dict[Address, Any]) -> tuple[float, str]:
    import formulas
    from openpyxl.utils import column_index_from_string

    try:
        with light_functions():
            function = formulas.Parser().ast(text)[1].compile()
    except Exception as exc:  # formulas raises many kinds of errors on text it cannot parse
        return math.nan, f"the formulas package cannot parse it ({type(exc).__name__})"
    args = []
    for name in function.inputs:
        m = _RANGE.fullmatch(name.rpartition("!")[2])
        if m is None:  # one cell
            _, col, row = input_cell(name)
            args.append(as_float(values.get((row, column_index_from_string(col)), 0.0)))
            continue
        c1, r1, c2, r2 = (column_index_from_string(m[1].upper()), int(m[2]),
                          column_index_from_string(m[3].upper()), int(m[4]))
        args.append(np.array([[values.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)],
                             dtype=object))
    try:
        return as_float(np.asarray(function(*args), dtype=object).reshape(-1)[0]), ""
    except Exception:  # any failure inside formulas is an error value in that cell
        return math.nan, ""


# --- comparison ----------------------------------------------------------------------------


def compare(book: Workbook, expected: list[Expected], got: dict[Address, float],
            notes: dict[Address, str], report: Report, leaf_rel: float = 0.0) -> None:
    """Add the standardisation cells to the report; a wrong one is the first wrong cell (it
    comes before every Training cell that reads it)."""
    if not expected:
        return
    stats = report.group(GROUP, book.network_sheet)
    first: Expected | None = None
    # Each cell within its own bound (plus the engine's rounding of what it wrote, leaf_rel).
    want = np.array([e.value for e in expected])
    have = np.array([got.get(e.cell, math.nan) for e in expected])
    verdict = judge(want, have, np.array([e.bound for e in expected]) + leaf_rel * np.abs(have), report.rtol)
    bad = verdict.bad | np.array([e.cell in notes for e in expected], dtype=bool)
    stats.add(verdict)
    report.covered.add(book.network_sheet, (e.cell for e in expected))
    report.cells += len(expected)
    report.wrong += int(bad.sum())
    if bad.any():
        first = expected[int(np.argmax(bad))]
    if first is not None:
        at = layout.sheet_prefix(book.network_sheet) + layout.address(*first.cell)
        report.first_wrong = WrongCell(at, first.name, 0, book.network_formulas.get(first.cell),
                                       first.value, got.get(first.cell, math.nan), notes.get(first.cell, ""))
