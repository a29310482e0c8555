"""The check of the Working sheet: iteration 1 worked by hand, its values and substituted text.

Each line holds a value formula (the line's Training expression over this sheet's earlier
values and the Network inputs) and a text formula that writes the same equation with the
numbers substituted (TEXT of those cells). With the formulas engine both formula texts must be
the ones the printers make for that line (the Training sheet's check proves the expression
right cell by cell) — `formulas` cannot evaluate TEXT as spreadsheets do. With a whole-chain
engine the value it computed is compared with NumPy's, within the line's rounding bound, and
the text it computed must equal the text printer's rendering of NumPy's numbers (textprint).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from sheetnet.equations import graph, textprint, updates
from sheetnet.expr.formula import Cell, Const, to_excel
from sheetnet.model import ids
from sheetnet.model.spec import model_inputs
from sheetnet.sheets import layout, limits, working
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.verify.bound import Leaves, evaluate
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.referencerun import ReferenceRun
from sheetnet.verify.report import Report, WrongCell, judge, shorten

Cells = dict[tuple[int, int], Any]


def check_working(book: Workbook, sheet: str, cells: Cells, frame: ReferenceRun, report: Report,
                  engine: Cells | None = None, leaf_rel: float = 0.0) -> None:
    """Add the Working sheet's values and texts to the report (groups "values" and "texts")."""
    spec = book.spec
    entries = working.items(spec)
    rows = working.rows_of(entries)
    lines = [(e, r) for e, r in zip(entries, rows, strict=True) if isinstance(e, working.Line)]
    value_row = {e.qid: r for e, r in lines if e.group != "update"}
    training = TrainingLayout(spec, network_layout(spec), book.network_sheet)
    leaves = working.Leaves(spec, value_row, set(ids.params(spec)),
                            {key: training.constant_address(key) for key in training.network.input_cells},
                            {}, _constant_values(book, frame), frame)
    network_cells = training.network.input_cells
    params = set(ids.params(spec))

    def own_value(node: Cell | Const) -> float:
        if isinstance(node, Cell) and node.qid not in params:
            return as_float((engine or {}).get((value_row[node.qid], working.VALUE)))
        key = node.key if isinstance(node, Const) else graph.initial_key(node.qid).key
        return as_float(book.network.get(network_cells[key], 0.0))

    values: list[tuple[tuple[int, int], float, float, float, Any]] = []
    texts: list[tuple[tuple[int, int], str | None, Any, Any]] = []
    for line, r in lines:
        t = 1 if line.group == "update" else 0  # an update's value is the parameter of row t = 1
        want = float(frame.loc[t, line.qid])
        value_at, text_at = (r, working.VALUE), (r, working.NUMBERS)
        value_formula = to_excel(line.expr, leaves.address)
        text_formula = textprint.text_formula(line.expr, leaves.address)
        if engine is None:
            bound = _one(evaluate(line.expr, _bound_leaves(leaves.value, leaf_rel))[1])
            got = want if cells.get(value_at) == value_formula else np.nan
            values.append((value_at, want, got, bound, cells.get(value_at)))
            held = cells.get(text_at)
            if len(text_formula) > limits.MAX_FORMULA_CHARS:  # written as the reference numbers' text
                plain = textprint.text_value(line.expr, leaves.value)
                text_formula = plain if plain is not None else "#NUM!"
            texts.append((text_at, text_formula, text_formula if held == text_formula else held, held))
        else:  # locally: the line's expression on the engine's own earlier lines and inputs
            got = as_float(engine.get(value_at))
            local, bound = evaluate(line.expr, _bound_leaves(own_value, leaf_rel))
            allowed = _one(bound) + leaf_rel * abs(got)
            values.append((value_at, _one(local), got, allowed, cells.get(value_at)))
            # The text of the engine's own numbers: a value that is rounding noise (a gradient
            # exactly 0 in exact arithmetic, 1e-18 in NumPy, 0 or 4e-22 in an engine) reads alike
            # only there; the value check above judges those numbers.
            rendered = textprint.text_value(line.expr, own_value)
            texts.append((text_at, rendered, engine.get(text_at), cells.get(text_at)))
    _values(book, sheet, values, report)
    judge_texts(book, sheet, texts, report)


def _constant_values(book: Workbook, frame: ReferenceRun) -> dict[str, float]:
    """What each Network input holds in NumPy's run (the inputs standardised when they are)."""
    spec = book.spec
    values = {graph.LEARNING_RATE.key: spec.learning_rate, graph.LEAKY.key: spec.leaky_slope}
    for field in updates.network_keys(spec):  # the optimizer's hyperparameters and their 1 − β
        base = next((f for f, key in updates.COMPLEMENTS.items() if key == field), None)
        values[field] = 1 - getattr(spec, base) if base else getattr(spec, field)
    for k, (x, t) in enumerate(zip(model_inputs(spec).tolist(), spec.targets, strict=True)):
        values |= {graph.input_key(i, k).key: v for i, v in enumerate(x)}
        values |= {graph.target_key(j, k).key: v for j, v in enumerate(t)}
    values |= {graph.initial_key(q).key: float(frame.loc[0, q]) for q in ids.params(spec)}
    return values


def _bound_leaves(value: Callable[[Cell | Const], float], leaf_rel: float) -> Leaves:
    return Leaves(lambda qid, prev: np.array([value(Cell(qid, prev))]),
                  lambda key: value(Const(key)), lambda key: np.array([]), leaf_rel)


def _one(x: Any) -> float:
    return float(np.asarray(x).reshape(-1)[0])


def _values(book: Workbook, sheet: str, found: list[tuple[tuple[int, int], float, float, float, Any]],
            report: Report) -> None:
    verdict = judge(np.array([f[1] for f in found]), np.array([f[2] for f in found]),
                    np.array([f[3] for f in found]), report.rtol)
    report.group("values", sheet).add(verdict)
    report.count(verdict)
    report.covered.add(sheet, (f[0] for f in found))
    if verdict.bad.any() and report.first_wrong is None:
        at, want, got, _, held = found[int(np.argmax(verdict.bad))]
        note = "" if np.isfinite(got) else "its formula is not this line's expression"
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(*at), "values", 1,
                                       held if isinstance(held, str) else None, want, got, note)


def judge_texts(book: Workbook, sheet: str, found: list[tuple[tuple[int, int], str | None, Any, Any]],
                report: Report, name: str = "texts") -> None:
    """Each live text line (address, the text it should read, the engine's text, the formula) judged
    into the group `name` of the report (a group is one sheet's: the Guide's lines have their own)."""
    group = report.group(name, sheet)
    bad = [f for f in found if not _same_text(f[1], f[2])]
    group.cells += len(found)
    report.cells += len(found)
    report.covered.add(sheet, (f[0] for f in found))
    report.wrong += len(bad)
    if bad and report.first_wrong is None:
        at, want, got, held = bad[0]
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(*at), name, 1,
                                       held if isinstance(held, str) else None, np.nan, got,
                                       f"the line should read {shorten(repr(want))}")


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:E-?\d+)?")
_BRACKETED = re.compile(r"\((" + _NUMBER.pattern + r")\)")


def _same_text(want: str | None, got: Any) -> bool:
    """The line's text as the engine computed it equals the text printer's.

    Gnumeric's ROUND is not correctly rounded and its number-to-text conversion prints up to 21
    digits, so it may show 0.09821729 as 0.098217290000000000002; a number that agrees with the
    printer's to its 7 significant digits counts as the same number (docs/check.md).
    """
    if want == got:
        return True
    if not isinstance(want, str) or not isinstance(got, str):
        return False
    def numbers(text: str) -> tuple[str, list[float]]:
        text = _BRACKETED.sub(r"\1", text)  # (-3E-19) where IronCalc, seeing 0, writes 0
        return _NUMBER.sub("#", text), [float(n) for n in _NUMBER.findall(text)]
    (want_shape, want_numbers), (got_shape, got_numbers) = numbers(want), numbers(got)
    return want_shape == got_shape and all(
        _same_number(w, g) for w, g in zip(want_numbers, got_numbers, strict=True))


# IronCalc compares numbers with an absolute tolerance of about 1e-15 (docs/check.md), so its
# test ABS(x)<=1E-300 prints 0 for a rounding-noise value such as 2e-19.
_NOISE = 1e-15


def _same_number(want: float, got: float) -> bool:
    return format(want, ".7g") == format(got, ".7g") or (got == 0 and abs(want) < _NOISE)
