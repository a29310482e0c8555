"""The check's one-line verdict stays readable: the cell, the expected and found values and what
is wrong in words, never past ~300 characters; --json and -v carry the whole formulas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model.spec import load_template
from sheetnet.verify.report import VERDICT_CHARS, WrongCell
from tests.conftest import build

runner = CliRunner()


def _edited(tmp_path: Path, template: str, sheet: str, cell: str, value: Any) -> Path:
    path = build(tmp_path, load_template(template).replace(iterations=5))
    book = openpyxl.load_workbook(path)
    book[sheet][cell] = value
    book.save(path)
    return path


def _fail_line(result: Any) -> str:
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("FAIL: ")]
    return line


def test_a_summary_cell_not_the_builds_reference_says_so(tmp_path: Path) -> None:
    path = _edited(tmp_path, "seed-004-2-2-2", "Summary", "C8", "=-1*Network!$D$30")
    line = _fail_line(runner.invoke(app, ["check", str(path)]))
    assert line == ("FAIL: first wrong cell Summary!C8 (id summary, iteration 0): expected 0.5, "
                    "got =-1*Network!$D$30; not the reference the build writes: =Network!$D$30")


def test_a_summary_reference_to_another_cell_shows_both(tmp_path: Path) -> None:
    path = _edited(tmp_path, "seed-004-2-2-2", "Summary", "C8", "=Network!$D$31")
    line = _fail_line(runner.invoke(app, ["check", str(path)]))
    assert line.startswith("FAIL: first wrong cell Summary!C8 (id summary, iteration 0): expected 0.5, got ")
    assert line.endswith("; not the reference the build writes: =Network!$D$30")


def _longest_working_formula(path: Path) -> tuple[str, str]:
    ws = openpyxl.load_workbook(path)["Working"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    cell = max(cells, key=lambda c: len(c.value))
    return cell.coordinate, cell.value


def test_a_long_working_formula_gives_a_short_line_and_the_whole_formula_in_json_and_v(
    tmp_path: Path,
) -> None:
    path = build(tmp_path, load_template("iris").replace(iterations=3))
    address, formula = _longest_working_formula(path)
    assert len(formula) > 3000  # the case the verdict used to print twice
    tampered = formula.replace("&", '&"!"&', 1)  # the line now reads wrong
    book = openpyxl.load_workbook(path)
    book["Working"][address] = tampered
    book.save(path)

    line = _fail_line(runner.invoke(app, ["check", str(path)]))
    assert line.startswith(f"FAIL: first wrong cell Working!{address} ")
    assert len(line) <= len("FAIL: ") + VERDICT_CHARS
    assert tampered not in line and "…" in line

    verbose = runner.invoke(app, ["check", "-v", str(path)])
    assert f"  formula in the file: {tampered}" in verbose.stdout.splitlines()

    report = json.loads(runner.invoke(app, ["check", "--json", str(path)]).stdout)
    assert report["first_wrong"]["formula"] == tampered
    assert report["first_wrong"]["verdict"] == line.removeprefix("FAIL: ")


@pytest.mark.parametrize("got", [0.25, float("nan"), "#VALUE!", None, "x" * 5000])
def test_every_verdict_fits_the_limit(got: Any) -> None:
    cell = WrongCell("Working!E177", "values", 1, "=" + "A1+" * 3000 + "1", 0.5, got,
                     "its formula is not this line's expression", build_formula="=B" + "2" * 4000)
    assert len(cell.describe()) <= VERDICT_CHARS
    assert cell.describe().startswith("first wrong cell Working!E177 (id values, iteration 1): expected 0.5")
