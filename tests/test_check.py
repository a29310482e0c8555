"""Tests for `sheetnet check`: every workbook passes, a tampered one fails at the right cell."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model import ids
from sheetnet.model.spec import load_template, template_names
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, NetworkLayout
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_libreoffice

runner = CliRunner()
SMALL = 30  # iterations: enough rows to group formula shapes, quick to check


def _small(name: str, iterations: int = SMALL):
    spec = load_template(name)
    return spec.replace(iterations=min(spec.iterations, iterations))


def _cell(spec, qid: str, t: int) -> str:
    """Training-sheet address of column qid at iteration t."""
    return layout.address(FIRST_DATA_ROW + t, ids.all_ids(spec).index(qid) + 1)


def _edit(path: Path, sheet: str, changes: dict[str, object]) -> Path:
    """Change cells with openpyxl (which drops the stored formula results: the check ignores them)."""
    book = openpyxl.load_workbook(path)
    for address, value in changes.items():
        book[sheet][address] = value
    book.save(path)
    return path


def _check_cli(path: Path, *args: str):
    return runner.invoke(app, ["check", str(path), *args])


@pytest.mark.parametrize("name", template_names())
def test_every_template_passes(tmp_path: Path, name: str) -> None:
    report = run_check(build(tmp_path, _small(name)))
    assert report.ok, report.summary()
    assert report.cells > 0
    assert report.summary().splitlines()[-1].startswith("OK: ")


@pytest.mark.parametrize(
    "changes",
    [
        {"activations": ("tanh", "relu"), "loss": "mse", "reduction": "sum"},
        {"activations": ("relu", "linear"), "loss": "sse"},
    ],
)
def test_other_activations_and_losses_pass(tmp_path: Path, changes: dict) -> None:
    # relu's IF(z>0,...) must be evaluated row by row in the vectorised call, not over the column
    spec = load_template("seed-004-2-2-2").replace(iterations=SMALL, **changes)
    report = run_check(build(tmp_path, spec))
    assert report.ok, report.summary()


def test_report_lists_each_group_then_ok(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    report = run_check(build(tmp_path, spec))
    lines = report.summary().splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        *(["Training", g] for g in ("param", "forward", "loss", "backward", "gradient")),
        ["Summary", "summary"], ["Charts", "targets"], ["Working", "values"], ["Working", "texts"],
        ["Training", "red"],
        *([sheet, "text"] for sheet in ("Guide", "Network", "Training", "Working", "Charts", "Summary"))]
    n_formulas = sum((spec.iterations + 1) if c.in_final_row else spec.iterations
                     for c in read_workbook(tmp_path / "out.xlsx").columns)
    assert report.training_cells == n_formulas
    others = sum(report.groups[g].cells for g in ("summary", "targets", "values", "texts"))
    others += sum(g.cells for name, g in report.groups.items() if name.startswith("text ("))
    assert report.cells == n_formulas + others + 2  # and the two red rules
    assert f"{report.cells:,} cells agree with the NumPy core, each within 4× its rounding bound" in lines[-1]


def _tampered(tmp_path: Path, sheet: str = "Training", **options: object) -> tuple[Path, str]:
    """A workbook with the sign of one weight update flipped in the middle of the sheet."""
    spec = load_template("seed-004-2-2-2")
    path = build(tmp_path, spec, **options)
    address = _cell(spec, "W1[1,2]", spec.iterations // 2)
    formula = openpyxl.load_workbook(path)[sheet][address].value
    assert formula.startswith("=") and "-" in formula
    return _edit(path, sheet, {address: formula.replace("-", "+", 1)}), address


def test_a_flipped_sign_fails_and_names_the_cell(tmp_path: Path) -> None:
    path, address = _tampered(tmp_path)
    result = _check_cli(path)
    assert result.exit_code == 1, result.output
    assert f"FAIL: first wrong cell Training!{address} (id W1[1,2], iteration 50)" in result.output
    report = run_check(path)
    assert report.wrong == 1  # each cell is evaluated on reference inputs: only the tampered one
    assert report.first_wrong is not None and "+" in (report.first_wrong.formula or "")


def test_a_formula_replaced_by_its_value_fails(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    address = _cell(spec, "a2[1]", 7)
    value = openpyxl.load_workbook(path, data_only=True)["Training"][address].value
    report = run_check(_edit(path, "Training", {address: value}))
    assert not report.ok and report.wrong == 1
    assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"
    assert "no formula" in report.summary()


def test_aggregate_functions_are_evaluated_row_by_row(tmp_path: Path) -> None:
    # MAX over whole columns would give one number for all rows; an equivalent formula with MAX
    # in every row of a column must still pass.
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    sheet = openpyxl.load_workbook(path)["Training"]
    changes = {}
    for t in range(1, spec.iterations + 1):
        address = _cell(spec, "W1[1,1]", t)
        changes[address] = f"=MAX({sheet[address].value[1:]},-1000)"
    assert run_check(_edit(path, "Training", changes)).ok


def _edited_learning_rate(tmp_path: Path) -> Path:
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    row, col = NetworkLayout(spec).setting_cells["learning_rate"]
    return _edit(path, "Network", {layout.address(row, col): 0.9})


def test_an_edited_learning_rate_is_checked_against_itself(tmp_path: Path) -> None:
    path = _edited_learning_rate(tmp_path)
    assert read_workbook(path).spec.learning_rate == 0.9
    result = _check_cli(path)
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output


@pytest.mark.libreoffice
@needs_libreoffice
def test_an_edited_learning_rate_passes_in_libreoffice(tmp_path: Path) -> None:
    result = _check_cli(_edited_learning_rate(tmp_path), "--engine", "libreoffice")
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output and "libreoffice" in result.output


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_finds_the_flipped_sign(tmp_path: Path) -> None:
    # The error spreads to every later row; the first wrong cell is still the tampered one.
    path, address = _tampered(tmp_path)
    result = _check_cli(path, "--engine", "libreoffice")
    assert result.exit_code == 1, result.output
    assert f"first wrong cell Training!{address}" in result.output


def test_a_chinese_workbook_passes(tmp_path: Path) -> None:
    report = run_check(build(tmp_path, _small("seed-004-2-2-2"), lang="zh"))
    assert report.ok, report.summary()


def test_a_tampered_chinese_workbook_names_the_quoted_sheet(tmp_path: Path) -> None:
    path, address = _tampered(tmp_path, sheet="训练", lang="zh")
    report = run_check(path)
    assert report.first_wrong is not None and report.first_wrong.address == f"'训练'!{address}"


def _assert_one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error: ")
    return lines[0]


def test_a_text_file_named_xlsx_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("not a workbook\n", encoding="utf-8")
    assert "not an .xlsx workbook" in _assert_one_line_error(_check_cli(path))


def test_an_unrelated_workbook_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "hello"
    book.save(path)
    assert "not a sheetnet workbook" in _assert_one_line_error(_check_cli(path))


def test_a_workbook_whose_ids_do_not_match_its_network_is_an_error(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    _edit(path, "Training", {layout.address(layout.ID_ROW, 3): "W9[9,9]"})
    line = _assert_one_line_error(_check_cli(path))
    assert "Training!C3" in line and "W9[9,9]" in line


def test_an_unreadable_setting_is_an_error(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    row, col = NetworkLayout(spec).setting_cells["sizes"]
    line = _assert_one_line_error(_check_cli(_edit(path, "Network", {layout.address(row, col): "two"})))
    assert "sizes" in line


def test_a_missing_file_and_an_unknown_engine_are_errors(tmp_path: Path) -> None:
    assert "no such file" in _assert_one_line_error(_check_cli(tmp_path / "missing.xlsx"))
    path = build(tmp_path, _small("seed-004-2-2-2"))
    assert "unknown engine" in _assert_one_line_error(_check_cli(path, "--engine", "excel"))
