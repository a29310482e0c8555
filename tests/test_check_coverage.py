"""The proof of "every cell": each formula cell of every sheet a workbook holds is one the check
compared (report.covered), for every template and the optional sheets."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetnet.api import check, exercise
from sheetnet.model.spec import load_template, template_names
from sheetnet.verify.report import Report
from tests.conftest import build

ITERATIONS = 6


def formula_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Every formula cell of every sheet: sheet → {(row, col)}."""
    book = openpyxl.load_workbook(path)
    return {ws.title: {(c.row, c.column) for row in ws.iter_rows() for c in row if c.data_type == "f"}
            for ws in book.worksheets}


def uncovered(path: Path, report: Report) -> dict[str, list[str]]:
    """The formula cells the check did not compare, by sheet (empty when every one was)."""
    from sheetnet.sheets.layout import address

    missing = {}
    for sheet, cells in formula_cells(path).items():
        left = cells - report.covered.of(sheet)
        if left:
            missing[sheet] = [*[address(r, c) for r, c in sorted(left)][:10], f"({len(left)} cells)"]
    return missing


def _small(name: str):
    spec = load_template(name)
    return spec.replace(iterations=min(spec.iterations, ITERATIONS))


@pytest.mark.parametrize("name", template_names())
def test_every_formula_cell_of_every_template_is_checked(tmp_path: Path, name: str) -> None:
    path = build(tmp_path, _small(name))
    report = check(path)
    assert report.ok, report.summary()
    assert not (missing := uncovered(path, report)), missing


@pytest.mark.parametrize("options", [
    {"compare_lr": (0.1, 2.0)},
    {"compare_optim": ("sgd", "momentum", "adam")},
    {"lang": "zh", "compare_lr": (0.5,), "compare_optim": ("rmsprop", "adamw")},
], ids=["compare-lr", "compare-optim", "zh"])
def test_every_formula_cell_of_the_comparison_sheets_is_checked(tmp_path: Path, options: dict) -> None:
    path = build(tmp_path, _small("seed-004-2-2-2"), **options)
    report = check(path)
    assert report.ok, report.summary()
    assert not (missing := uncovered(path, report)), missing


@pytest.mark.parametrize("name", ["xor", "seed-000-regression"])
def test_every_formula_cell_of_a_decision_map_is_checked(tmp_path: Path, name: str) -> None:
    path = build(tmp_path, _small(name), decision_map=5)
    report = check(path)
    assert report.ok, report.summary()
    assert not (missing := uncovered(path, report)), missing


def test_every_formula_cell_of_a_fitted_curve_is_checked(tmp_path: Path) -> None:
    from tests.test_decision_map import regression

    path = build(tmp_path, regression(standardize=True), decision_map=7)
    report = check(path)
    assert report.ok, report.summary()
    assert not (missing := uncovered(path, report)), missing


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_formula_cell_of_an_exercise_is_checked(tmp_path: Path, lang: str) -> None:
    path = exercise(_small("seed-004-2-2-2"), tmp_path / "exercise.xlsx", lang=lang)
    report = check(path)
    assert report.ok, report.summary()
    assert not (missing := uncovered(path, report)), missing
