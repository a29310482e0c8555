"""IronCalc, the fourth engine: `sheetnet check --engine ironcalc` recalculates the whole file in
IronCalc and judges every cell locally, like LibreOffice and Gnumeric."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import sheetnet
from sheetnet.cli import app
from sheetnet.engines import ironcalc
from sheetnet.equations.numbertext import number_text
from sheetnet.model import ids
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, NetworkLayout
from tests.conftest import build, needs_ironcalc

runner = CliRunner()


@needs_ironcalc
@pytest.mark.parametrize("template", ["xor", "iris"])
def test_every_cell_agrees_in_ironcalc(tmp_path: Path, template: str) -> None:
    spec = load_template(template).replace(iterations=20)
    path = build(tmp_path, spec, decision_map=6 if template == "xor" else 0)
    report = sheetnet.check(path, engine="ironcalc")
    assert report.ok, report.summary()
    assert report.engine == "ironcalc"
    assert report.groups["forward"].drift is not None and report.groups["forward"].drift < 1e-12
    assert "texts" in report.groups  # Working's text lines (the number-text zero test)
    assert ("map" in report.groups) == (template == "xor")


@needs_ironcalc
def test_ironcalc_recalculates_an_edited_weight(tmp_path: Path) -> None:
    """openpyxl's save drops every stored value: IronCalc must compute each cell itself, from
    the weight as edited, for the check (which trains NumPy on the edited weight) to pass."""
    spec = load_template("seed-004-2-2-2").replace(iterations=10)
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    row, col = NetworkLayout(spec).input_cells["init:W1[1,1]"]
    book["Network"][layout.address(row, col)] = 0.9
    book.save(path)
    report = sheetnet.check(path, engine="ironcalc")
    assert report.ok, report.summary()
    assert report.training_cells > 300  # every Training cell of 11 rows


@needs_ironcalc
def test_a_wrong_formula_fails_in_ironcalc_naming_its_cell(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(iterations=10)
    path = build(tmp_path, spec)
    col = ids.all_ids(spec).index("a2[1]") + 1
    address = layout.address(FIRST_DATA_ROW + 6, col)
    book = openpyxl.load_workbook(path)
    cell = book["Training"][address]
    cell.value = cell.value + "*1.001"
    book.save(path)
    result = runner.invoke(app, ["check", "--engine", "ironcalc", str(path)])
    assert result.exit_code == 1
    assert f"FAIL: first wrong cell Training!{address} (id a2[1], iteration 6)" in result.stdout


@needs_ironcalc
def test_engine_all_includes_ironcalc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the formulas engine and IronCalc, so the test needs neither LibreOffice nor Gnumeric.
    monkeypatch.setattr("sheetnet.verify.report.ENGINES", ("formulas", "ironcalc"))
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=5))
    result = runner.invoke(app, ["check", "--engine", "all", str(path)])
    assert result.exit_code == 0, result.output
    assert "ironcalc: OK" in result.stdout and "formulas: OK" in result.stdout


def test_engine_all_leaves_out_ironcalc_where_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sheetnet.verify.report.ENGINES", ("formulas", "ironcalc"))
    monkeypatch.setitem(sys.modules, "ironcalc", None)  # import ironcalc raises ImportError
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=5))
    result = runner.invoke(app, ["check", "--engine", "all", str(path)])
    assert result.exit_code == 0, result.output
    assert "ironcalc" not in result.stdout  # one engine: the plain summary


def test_a_missing_ironcalc_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ironcalc", None)
    assert not ironcalc.available()
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=5))
    result = runner.invoke(app, ["check", "--engine", "ironcalc", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"sheetnet: error: {path}: IronCalc (the Python package ironcalc) is not installed: "
        "install it with pip install 'sheetnet[ironcalc]' or use --engine formulas"]


@needs_ironcalc
def test_zero_prints_as_zero_in_ironcalc() -> None:
    """IronCalc compares with an absolute tolerance (0 < 1E-300 is FALSE there): the number-text
    formula's zero test must still print 0, as number_text() does."""
    import ironcalc as ic

    from sheetnet.equations.numbertext import number_text_formula

    model = ic.create("t", "en", "UTC")
    values = [0.0, -0.586, 1.5e-9, 0.6236336, 12345678.9]
    for row, x in enumerate(values, start=1):
        model.update_cell_with_number(0, row, 1, x)
        model.update_cell_with_formula(0, row, 2, "=" + number_text_formula(f"A{row}"))
    model.evaluate()
    assert [model.get_formatted_cell_value(0, row, 2) for row in range(1, len(values) + 1)] == [
        number_text(x) for x in values]


@needs_ironcalc
@pytest.mark.parametrize("template", ["cnn-stripes", "rnn-sequence", "attention-marker"])
def test_networks_of_layers_agree_in_ironcalc(tmp_path: Path, template: str) -> None:
    """Convolution, max-pool, BPTT and attention's row softmax, recalculated by IronCalc."""
    path = build(tmp_path, load_template(template).replace(iterations=15))
    report = sheetnet.check(path, engine="ironcalc")
    assert report.ok, report.summary()
    assert report.groups["backward"].cells > 100
