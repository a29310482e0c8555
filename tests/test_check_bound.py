"""The check's per-cell tolerance: every cell is held to its own rounding-error bound.

Tampering with the last row of every column of every template (=0, the value times 1 + 10⁻⁶,
the neighbouring column's formula) is caught wherever the cell's allowed error is smaller than
the change; the cells where it is not (a value that is the small difference of large terms)
are counted and must be few.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.expr.formula import Bin, Call, Cell, Num
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import load_template, template_names
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW
from sheetnet.verify import datacheck
from sheetnet.verify.bound import Leaves, U, evaluate
from sheetnet.verify.local import intended_training
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.recompute import recompute_training
from sheetnet.verify.report import SAFETY, judge
from sheetnet.verify.run import run_check
from tests.conftest import build
from tests.test_check import _edit

ITERATIONS = 4  # the tampered row is the last one: t = 4 (or 3 for columns not in the final row)


def _leaves(**columns: float) -> Leaves:
    return Leaves(lambda qid, prev: np.array([columns[qid]]), lambda key: columns[key],
                  lambda key: np.array([]))


def test_a_sum_whose_terms_cancel_keeps_the_bound_of_its_terms() -> None:
    value, bound = evaluate(Bin("-", Cell("a"), Cell("b")), _leaves(a=1e8, b=1e8 - 1))
    assert value[0] == 1.0
    assert bound[0] == pytest.approx(U * 2e8, rel=1e-6)  # not U · 1


def test_a_product_of_small_numbers_stays_small() -> None:
    _value, bound = evaluate(Bin("*", Cell("a"), Cell("b")), _leaves(a=1e-7, b=3e-8))
    assert bound[0] == pytest.approx(U * 3e-15)


def test_an_uncertain_branch_widens_the_bound_to_both_branches() -> None:
    relu_derivative = Call("IF", (Bin(">", Cell("z"), Num(0)), Num(1), Num(0)))
    sure = Leaves(lambda qid, prev: np.array([1e-20]), lambda key: 0.0, lambda key: np.array([]))
    unsure = dataclasses.replace(sure, leaf_rel=2.0)  # z is known only to ±2e-20: maybe negative
    assert evaluate(relu_derivative, sure)[1][0] == 0.0
    assert evaluate(relu_derivative, unsure)[1][0] == 1.0


def test_the_rtol_floor_is_relative_to_the_cells_own_value() -> None:
    expected = np.array([801.0, 8e-14, 8e-14])
    got = np.array([801.0, 0.0, 8e-14 * (1 + 1e-12)])
    verdict = judge(expected, got, np.array([1e-13, 1e-29, 1e-29]), rtol=1e-9)
    assert verdict.bad.tolist() == [False, True, False]


def _tampers(book, t: int, c: int) -> dict[str, str]:
    text = book.contents[t, c]
    neighbour = book.contents[t, c + 1 if c + 1 < len(book.columns) else c - 1]
    return {"zero": "=0", "scaled": f"=({text[1:]})*1.000001", "neighbour": neighbour}


@pytest.mark.parametrize("name", template_names())
def test_tampering_with_the_last_row_of_any_column_is_caught(tmp_path: Path, name: str) -> None:
    spec = load_template(name)
    book = read_workbook(build(tmp_path, spec.replace(iterations=min(spec.iterations, ITERATIONS))))
    datacheck.reference_cells(book, datacheck.expected_cells(book))
    reference = train(book.spec)[ids.all_ids(book.spec)].to_numpy(dtype=float)
    _, bound = intended_training(book, reference, book.network)
    caught, excused = 0, []
    every_cell = book.contents.to_array()  # formula texts and values (cells.py keeps shapes)
    for c, column in enumerate(book.columns):
        if column.formula is None:
            continue
        t = book.spec.iterations if column.in_final_row else book.spec.iterations - 1
        for kind, text in _tampers(book, t, c).items():
            if text == book.contents[t, c] or not isinstance(text, str):
                continue
            alone = np.full(book.contents.shape, None, dtype=object)  # recompute this column only
            alone[:, c] = every_cell[:, c]
            alone[t, c] = text
            got, _, _ = recompute_training(dataclasses.replace(book, contents=alone), reference)
            verdict = judge(reference[t, c], got[t, c], bound[t, c], rtol=1e-9)
            change = abs(got[t, c] - reference[t, c])
            allowed = max(SAFETY * bound[t, c], 1e-9 * abs(reference[t, c]))
            assert bool(verdict.bad) == (change > allowed), (column.qid, kind, text)
            if verdict.bad:
                caught += 1
            elif change > 0:  # the change hides in the cell's own bound: a loose cell, counted
                excused.append((column.qid, kind, change, allowed))
                assert kind != "scaled" or bool(verdict.loose), (column.qid, kind)
    print(f"{name}: {caught} tampered cells caught, {len(excused)} within their bound: {excused}")
    assert caught > 0 and len(excused) <= caught // 20, excused


def test_a_zeroed_loss_late_in_a_converging_run_fails(tmp_path: Path) -> None:
    # The case: the loss falls from 801 to about 1e-13 over 1,000 iterations; under the
    # old column-scale rule a loss of 0 at iteration 900 passed.
    spec = load_template("seed-001-linear-system")
    assert spec.iterations >= 1000
    path = build(tmp_path, spec.replace(iterations=1000))
    address = layout.address(FIRST_DATA_ROW + 900, ids.all_ids(spec).index("loss") + 1)
    result = CliRunner().invoke(app, ["check", str(_edit(path, "Training", {address: "=0"}))])
    assert result.exit_code == 1, result.output
    assert f"FAIL: first wrong cell Training!{address} (id loss, iteration 900)" in result.output


@pytest.mark.parametrize("name", ["seed-004-2-2-2", "iris", "seed-000-classification"])
def test_a_tampered_cell_is_named(tmp_path: Path, name: str) -> None:
    spec = load_template(name)
    spec = spec.replace(iterations=min(spec.iterations, 6))
    path = build(tmp_path, spec)
    c = ids.all_ids(spec).index("loss")
    address = layout.address(FIRST_DATA_ROW + 5, c + 1)
    report = run_check(_edit(path, "Training", {address: "=0"}))
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Training!{address}"
