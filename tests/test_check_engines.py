"""The check's engines and its reports: Gnumeric and LibreOffice checked cell by cell on their own
values, `--engine all` in one table, stale stored values, `--json`."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model import ids
from sheetnet.model.spec import load_template, template_names
from sheetnet.sheets import layout
from sheetnet.verify.report import DRIFT_RTOL, TRAINING_GROUPS
from sheetnet.verify.run import run_check
from sheetnet.verify.stored import sheet_part
from tests.conftest import build, needs_gnumeric, needs_libreoffice
from tests.test_check import _cell, _edit, _small

runner = CliRunner()
ENGINES = ["formulas", pytest.param("gnumeric", marks=[needs_gnumeric, pytest.mark.gnumeric])]


def _rewrite_cell(path: Path, address: str, formula: str | None = None, value: str | None = None) -> Path:
    """Change a Training cell's formula text or stored value in the raw XML, keeping the other."""
    with zipfile.ZipFile(path) as archive:
        part = sheet_part(archive, "Training")
        members = {info: archive.read(info.filename) for info in archive.infolist()}
    out = path.with_name("edited.xlsx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members.items():
            if info.filename == part:
                text = data.decode("utf-8")
                cell = re.search(rf'<c r="{address}"[^>]*>(?:(?!</c>).)*</c>', text, re.S)
                assert cell is not None
                new = cell[0]
                if formula is not None:
                    new = re.sub(r"<f>[^<]*</f>", f"<f>{formula}</f>", new)
                if value is not None:
                    new = re.sub(r"<v>[^<]*</v>", f"<v>{value}</v>", new)
                assert new != cell[0]
                data = (text[: cell.start()] + new + text[cell.end():]).encode("utf-8")
            archive.writestr(info, data)
    return out


def test_a_stale_stored_value_is_reported_and_fails_only_when_strict(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    address = _cell(spec, "a2[1]", 12)
    path = _rewrite_cell(build(tmp_path, spec), address, value="0.25")
    result = runner.invoke(app, ["check", str(path)])
    # The formulas engine never reads stored values: every formula still checks out.
    assert result.exit_code == 0, result.output
    assert (f"1 stored values differ from the formulas' results, first Training!{address}: stored 0.25"
            in result.output)
    strict = runner.invoke(app, ["check", str(path), "--strict"])
    assert strict.exit_code == 1 and "FAIL: 1 stale stored values (--strict)" in strict.output


def test_a_formula_changed_in_the_xml_with_its_old_value_kept(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    address = _cell(spec, "W1[1,2]", 9)
    path = build(tmp_path, spec)
    formula = openpyxl.load_workbook(path)["Training"][address].value
    path = _rewrite_cell(path, address, formula=formula[1:].replace("-", "+", 1))
    report = run_check(path)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Training!{address}" and report.wrong == 1
    assert report.stale == 1 and report.first_stale is not None
    assert report.first_stale.address == f"Training!{address}"


def test_a_workbook_saved_by_openpyxl_has_no_stored_values_and_none_stale(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    path = _edit(build(tmp_path, spec), "Training", {})
    report = run_check(path)
    assert report.ok and report.stale == 0 and report.stale_line() is None


def test_json_report(tmp_path: Path) -> None:
    spec = _small("seed-004-2-2-2")
    address = _cell(spec, "loss", 20)
    path = _edit(build(tmp_path, spec), "Training", {address: "=0"})
    result = runner.invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["ok"] is False and body["engine"] == "formulas" and body["wrong"] == 1
    assert body["first_wrong"]["address"] == f"Training!{address}"
    assert body["first_wrong"]["formula"] == "=0" and body["first_wrong"]["got"] == 0.0
    groups = {(g["sheet"], g["group"]): g for g in body["groups"]}
    assert groups["Training", "loss"]["cells"] == spec.iterations + 1
    assert groups["Training", "loss"]["max_error_of_value"] == 1.0
    assert body["flags"] == {"diverged_cells": 0, "diverged_from": None, "drift_over_tolerance": False,
                             "stale": 0, "strict": False}


@needs_gnumeric
@pytest.mark.gnumeric
# attention-marker's constant third feature makes ∂L/∂Wk[·,3] zero in exact arithmetic: those
# gradient cells (and the momentum they feed) are each engine's own rounding, ±1e-18, so their
# relative drift is large while every parameter, forward value and loss keeps to NumPy's.
@pytest.mark.parametrize("name", template_names())
def test_every_template_passes_in_gnumeric(tmp_path: Path, name: str) -> None:
    report = run_check(build(tmp_path, _small(name)), engine="gnumeric")
    assert report.ok, report.summary()
    rounding_only = ("gradient", "optimizer") if name == "attention-marker" else ()
    drifts = [report.groups[g].drift for g in TRAINING_GROUPS
              if g in report.groups and g not in rounding_only]
    assert all(d is not None and d < DRIFT_RTOL for d in drifts), drifts


@needs_gnumeric
@needs_libreoffice
@pytest.mark.gnumeric
@pytest.mark.libreoffice
@pytest.mark.parametrize("engine", ["gnumeric", "libreoffice"])
def test_a_whole_chain_engine_names_a_wrong_cell_locally(tmp_path: Path, engine: str) -> None:
    # The engine computes every later cell from the tampered one, so only a local check (the
    # intended expression on the engine's own inputs) names this cell and no other.
    spec = _small("xor")
    address = _cell(spec, "loss", 10)
    path = _edit(build(tmp_path, spec), "Training", {address: "=0"})
    report = run_check(path, engine=engine)
    assert not report.ok and report.wrong == 1, report.summary()
    assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"


@needs_gnumeric
@needs_libreoffice
@pytest.mark.gnumeric
@pytest.mark.libreoffice
def test_engine_all_prints_one_table(tmp_path: Path) -> None:
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=20))
    result = runner.invoke(app, ["check", str(path), "--engine", "all"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    engines = ["formulas", "libreoffice", "gnumeric", "ironcalc"]  # IronCalc comes with the test extra
    assert lines[0].split() == ["sheet", "group", "cells", *engines]
    assert [line.split(":")[0] for line in lines[-4:]] == engines
    assert all(": OK" in line for line in lines[-4:])


def test_an_unknown_engine_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(build(tmp_path, _small("xor"))), "--engine", "excel"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "sheetnet: error: unknown engine 'excel'; expected one of: formulas, libreoffice, gnumeric, "
        "ironcalc, all"]


def test_a_missing_ssconvert_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build(tmp_path, _small("xor"))
    monkeypatch.setenv("SHEETNET_SSCONVERT", str(tmp_path / "no-ssconvert"))
    result = runner.invoke(app, ["check", str(path), "--engine", "gnumeric"])
    assert result.exit_code == 2
    where = tmp_path / "no-ssconvert"
    assert result.output.strip().splitlines() == [
        f"sheetnet: error: {path}: Gnumeric's ssconvert not found at SHEETNET_SSCONVERT={where}:"
        " install it (Debian: apt-get install gnumeric) or use --engine formulas"]


# --- the other sheets ---------------------------------------------------------------------


def _sheet_formula(path: Path, sheet: str, prefix: str) -> tuple[str, str]:
    """The address and text of the first formula of the sheet that starts with prefix."""
    ws = openpyxl.load_workbook(path)[sheet]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(prefix):
                return cell.coordinate, cell.value
    raise AssertionError(f"no formula {prefix}… on {sheet}")


def _shift_row(text: str) -> str:
    """The same reference one row further down: =Training!K14 → =Training!K15."""
    return re.sub(r"(\d+)$", lambda m: str(int(m[1]) + 1), text)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_summary_reference_to_the_wrong_iteration_fails(tmp_path: Path, engine: str) -> None:
    spec = _small("seed-004-2-2-2")
    path = build(tmp_path, spec)
    address, text = _sheet_formula(path, "Summary", "=Training!B")  # a weight, never constant
    report = run_check(_edit(path, "Summary", {address: _shift_row(text)}), engine=engine)
    assert not report.ok and report.wrong == 1, report.summary()
    assert report.first_wrong is not None and report.first_wrong.address == f"Summary!{address}"
    assert ["Summary", "summary"] in [line.split()[:2] for line in report.summary().splitlines()]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_epoch_mean_over_the_wrong_column_fails(tmp_path: Path, engine: str) -> None:
    spec = load_template("iris").replace(iterations=40)
    path = build(tmp_path, spec)
    address, text = _sheet_formula(path, "Charts", "=AVERAGEIF(")
    loss_column = layout.column_letter(ids.all_ids(spec).index("loss") + 1)
    other = layout.column_letter(ids.all_ids(spec).index("loss") + 2)
    tampered = text.replace(f"${loss_column}$", f"${other}$")
    assert tampered != text
    report = run_check(_edit(path, "Charts", {address: tampered}), engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.address == f"Charts!{address}"
    assert report.groups["epochs"].cells == 2 * 4  # 2 complete epochs: e, last t, mean loss, accuracy


def test_missing_red_rules_fail(tmp_path: Path) -> None:
    path = build(tmp_path, _small("seed-004-2-2-2"))
    with zipfile.ZipFile(path) as archive:
        part = sheet_part(archive, "Training")
        members = {info: archive.read(info.filename) for info in archive.infolist()}
    out = tmp_path / "no-rules.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members.items():
            if info.filename == part:
                data = re.sub(rb"<conditionalFormatting.*</conditionalFormatting>", b"", data, flags=re.S)
            archive.writestr(info, data)
    report = run_check(out)
    assert not report.ok and report.wrong == 2 and report.first_wrong is not None
    assert "that paints divergence is missing" in report.first_wrong.note


# --- the Learning-rates sheet ---------------------------------------------------------------


def _rates_book(tmp_path: Path) -> tuple[Path, object]:
    spec = load_template("seed-004-2-2-2").replace(iterations=12)
    return build(tmp_path, spec, compare_lr=(0.1, 0.5, 2.0)), spec


@pytest.mark.parametrize("engine", ENGINES)
def test_every_learning_rate_block_is_checked(tmp_path: Path, engine: str) -> None:
    path, _ = _rates_book(tmp_path)
    report = run_check(path, engine=engine)
    assert report.ok, report.summary()
    blocks = [name for name in report.groups if name.startswith("block ")]
    assert blocks == ["block 1 (η=0.1)", "block 2 (η=0.5)", "block 3 (η=2)"]
    assert all(report.groups[b].sheet == "Learning rates" for b in blocks)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_edited_block_rate_is_checked_against_numpy_with_that_rate(tmp_path: Path, engine: str) -> None:
    path, spec = _rates_book(tmp_path)
    width = len(ids.all_ids(spec)) + 1
    rate_cell = layout.address(23, width + 2)  # block 2's yellow rate cell
    report = run_check(_edit(path, "Learning rates", {rate_cell: 0.7}), engine=engine)
    assert report.ok, report.summary()
    assert "block 2 (η=0.7)" in report.groups


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tampered_block_cell_fails(tmp_path: Path, engine: str) -> None:
    path, spec = _rates_book(tmp_path)
    width = len(ids.all_ids(spec)) + 1
    c = ids.all_ids(spec).index("loss")
    address = layout.address(27 + 7, 2 * width + c + 1)  # block 3, iteration 7
    report = run_check(_edit(path, "Learning rates", {address: "=0"}), engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.address == f"'Learning rates'!{address}"
    assert report.wrong == 1


# --- the Working sheet ----------------------------------------------------------------------


def _working_line(path: Path, column: int) -> tuple[str, str]:
    """The address and formula of the Working sheet's first line in column (5: text, 7: value)."""
    ws = openpyxl.load_workbook(path)["Working"]
    for row in ws.iter_rows(min_col=column, max_col=column):
        cell = row[0]
        if isinstance(cell.value, str) and cell.value.startswith("=") and len(cell.value) > 1:
            return cell.coordinate, cell.value
    raise AssertionError("no line on the Working sheet")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tampered_working_value_fails(tmp_path: Path, engine: str) -> None:
    path = build(tmp_path, _small("seed-004-2-2-2"))
    address, formula = _working_line(path, 7)
    report = run_check(_edit(path, "Working", {address: f"=({formula[1:]})*1.000001"}), engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.address == f"Working!{address}"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tampered_working_text_fails(tmp_path: Path, engine: str) -> None:
    path = build(tmp_path, _small("seed-004-2-2-2"))
    address, formula = _working_line(path, 5)
    assert '"×"' in formula
    report = run_check(_edit(path, "Working", {address: formula.replace('"×"', '"*"', 1)}), engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.address == f"Working!{address}"
    assert "the line should read" in report.first_wrong.note
    assert report.groups["texts"].cells == report.groups["values"].cells == 37
