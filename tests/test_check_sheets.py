"""Tamper tests for the sheets beside Training that the check compares cell by cell: the
Summary's target row, the Charts target table, the Learning-rates overview, the Optimizers
sheet (every block, its 1 − β cells and overview) and the Exercise sheet. Each untouched file
passes; one changed formula fails and is named, in the formulas engine and in the whole-chain
engines (LibreOffice, Gnumeric)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from sheetnet.api import check, exercise
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout
from sheetnet.sheets import optimizers_sheet as optim
from tests.conftest import build, needs_gnumeric, needs_libreoffice
from tests.test_check import _edit

ENGINES = [
    "formulas",
    pytest.param("libreoffice", marks=[needs_libreoffice, pytest.mark.libreoffice]),
    pytest.param("gnumeric", marks=[needs_gnumeric, pytest.mark.gnumeric]),
]


def _spec(iterations: int = 8):
    return load_template("seed-004-2-2-2").replace(iterations=iterations)


def _formula(path: Path, sheet: str, address: str) -> str:
    value = openpyxl.load_workbook(path)[sheet][address].value
    assert isinstance(value, str) and value.startswith("="), (address, value)
    return value


def _fails_at(path: Path, engine: str, address: str) -> None:
    report = check(path, engine=engine)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.address == address, report.summary()


# --- the Summary's target row and the Charts target table ------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_the_untouched_targets_pass(tmp_path: Path, engine: str) -> None:
    report = check(build(tmp_path, _spec()), engine=engine)
    assert report.ok, report.summary()
    assert report.groups["targets"].cells == 2 * 3  # t = 0 and t = N: t and two targets


@pytest.mark.parametrize("engine", ENGINES)
def test_a_summary_target_reading_the_other_target_fails(tmp_path: Path, engine: str) -> None:
    path = build(tmp_path, _spec())
    assert _formula(path, "Summary", "C8") == "=Network!$D$30"  # a₅'s target 0.01; the next is 0.99
    _fails_at(_edit(path, "Summary", {"C8": "=Network!$E$30"}), engine, "Summary!C8")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_charts_target_reading_the_other_target_fails(tmp_path: Path, engine: str) -> None:
    path = build(tmp_path, _spec())
    assert _formula(path, "Charts", "C44") == "=Network!$E$30"
    _fails_at(_edit(path, "Charts", {"C44": "=Network!$D$30"}), engine, "Charts!C44")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_charts_t_cell_of_the_wrong_row_fails(tmp_path: Path, engine: str) -> None:
    path = build(tmp_path, _spec())
    assert _formula(path, "Charts", "A44") == "=Training!A12"  # t = N = 8
    _fails_at(_edit(path, "Charts", {"A44": "=Training!A11"}), engine, "Charts!A44")


# --- the Learning-rates overview -------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("address", "tampered"), [
    ("A6", '="η = "&$B$23'),  # block 2's legend naming block 1's rate
    ("B6", "=$B$23"),
    ("C6", "=0"),
])
def test_a_tampered_rate_overview_cell_fails(tmp_path: Path, engine: str, address: str,
                                             tampered: str) -> None:
    path = build(tmp_path, _spec(), compare_lr=(0.1, 0.5))
    assert check(path, engine=engine).ok
    _fails_at(_edit(path, "Learning rates", {address: tampered}), engine, f"'Learning rates'!{address}")


def test_the_final_loss_of_the_neighbouring_column_fails(tmp_path: Path) -> None:
    path = build(tmp_path, _spec(), compare_lr=(0.1, 0.5))
    text = _formula(path, "Learning rates", "C5")
    row = text[1:].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    letters = text[1:-len(row)]
    neighbour = layout.column_letter(openpyxl.utils.column_index_from_string(letters) - 1)
    _fails_at(_edit(path, "Learning rates", {"C5": f"={neighbour}{row}"}), "formulas", "'Learning rates'!C5")


# --- the Optimizers sheet --------------------------------------------------------------------


def _optim_book(tmp_path: Path) -> tuple[Path, list]:
    spec = _spec()
    path = build(tmp_path, spec, compare_optim=("sgd", "momentum", "adam"))
    from sheetnet.sheets.layout import NetworkLayout

    placed = optim.placements(spec, NetworkLayout(spec), "Network", ("sgd", "momentum", "adam"))
    return path, placed


@pytest.mark.parametrize("engine", ENGINES)
def test_every_optimizer_block_is_checked(tmp_path: Path, engine: str) -> None:
    path, _ = _optim_book(tmp_path)
    report = check(path, engine=engine)
    assert report.ok, report.summary()
    blocks = [name for name, group in report.groups.items() if group.sheet == "Optimizers"]
    assert blocks == ["sgd block", "momentum block", "adam block", "optim overview", "text (Optimizers)"]
    # Per block: every column of every row (the last row of its loss columns only).
    assert report.groups["optim overview"].cells == 3 * 2 + 2  # η and final loss; adam's 1 − β₁, 1 − β₂


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tampered_optimizer_block_cell_fails(tmp_path: Path, engine: str) -> None:
    path, placed = _optim_book(tmp_path)
    _, _, training, _ = placed[2]  # adam
    for qid in training.col_of:
        if qid.startswith("m:"):  # adam's first moment of a parameter, at iteration 5
            address = layout.address(training.row_of(5), training.col_of[qid])
            break
    text = _formula(path, "Optimizers", address)
    tampered = f"=({text[1:]})*(1+1E-6)"
    _fails_at(_edit(path, "Optimizers", {address: tampered}), engine, f"Optimizers!{address}")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_edited_hyperparameter_is_checked_against_numpy_with_it(tmp_path: Path, engine: str) -> None:
    path, placed = _optim_book(tmp_path)
    hyper = placed[1][3]  # momentum's cells
    address = hyper["momentum"].replace("$", "")
    report = check(_edit(path, "Optimizers", {address: 0.5}), engine=engine)
    assert report.ok, report.summary()


def test_an_edited_hyperparameter_changes_what_numpy_expects(tmp_path: Path) -> None:
    # The check trains NumPy with the edited μ: a block whose formulas still read the old μ fails.
    path, placed = _optim_book(tmp_path)
    hyper = placed[1][3]
    address = hyper["momentum"].replace("$", "")
    book = openpyxl.load_workbook(path)
    book["Optimizers"][address] = 0.5
    for row in book["Optimizers"].iter_rows():
        for cell in row:  # every formula reads the typed 0.9 instead of the μ cell
            if isinstance(cell.value, str) and hyper["momentum"] in cell.value:
                cell.value = cell.value.replace(hyper["momentum"], "0.9")
    book.save(path)
    report = check(path)
    assert not report.ok and report.first_wrong is not None, report.summary()
    assert report.first_wrong.qid == "momentum block" and report.groups["sgd block"].max_abs == 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("which", ["complement", "rate", "final"])
def test_a_tampered_optimizer_overview_or_complement_fails(tmp_path: Path, engine: str, which: str) -> None:
    path, placed = _optim_book(tmp_path)
    adam = placed[2][3]
    address = {"complement": adam["one_minus_beta1"].replace("$", ""),
               "rate": f"B{optim.OVERVIEW_ROW + 2}", "final": f"C{optim.OVERVIEW_ROW + 3}"}[which]
    text = _formula(path, "Optimizers", address)
    tampered = {"complement": text.replace("1-", "1.001-"), "rate": f"={adam['lr']}*(1+1E-6)",
                "final": "=0"}[which]
    _fails_at(_edit(path, "Optimizers", {address: tampered}), engine, f"Optimizers!{address}")


# --- the Exercise sheet ----------------------------------------------------------------------


def _exercise(tmp_path: Path) -> Path:
    return exercise(_spec(), tmp_path / "exercise.xlsx")


def _question_rows(path: Path) -> list[int]:
    ws = openpyxl.load_workbook(path)["Exercise"]
    return [r for r in range(9, ws.max_row + 1) if isinstance(ws.cell(r, 3).value, int | float)]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_untouched_exercise_passes_with_answers_typed(tmp_path: Path, engine: str) -> None:
    path = _exercise(tmp_path)
    report = check(path, engine=engine)
    assert report.ok, report.summary()
    n = len(_question_rows(path))
    assert report.groups["expected"].cells == report.groups["self-check"].cells == n == 37
    # A student types a right answer, a wrong one, text, and turns the reveal switch on.
    from sheetnet.api import train

    rows = _question_rows(path)
    frame = train(_spec())
    ws = openpyxl.load_workbook(path)["Exercise"]
    right = float(frame.loc[int(ws.cell(rows[0], 3).value), ws.cell(rows[0], 4).value])
    typed = {f"E{rows[0]}": right, f"E{rows[1]}": 123.0, f"E{rows[2]}": "I don't know", "B5": "yes"}
    report = check(_edit(path, "Exercise", typed), engine=engine)
    assert report.ok, report.summary()


@pytest.mark.parametrize("engine", ENGINES)
def test_an_expected_value_reading_the_neighbouring_line_fails(tmp_path: Path, engine: str) -> None:
    path = _exercise(tmp_path)
    row = _question_rows(path)[3]
    text = _formula(path, "Exercise", f"G{row}")
    tampered = re.sub(r"\$G\$(\d+)", lambda m: f"$G${int(m[1]) + 1}", text)  # the next Working line
    assert tampered != text
    _fails_at(_edit(path, "Exercise", {f"G{row}": tampered}), engine, f"Exercise!G{row}")


@pytest.mark.parametrize("tampered", [
    lambda text: text.replace("5E-4", "5E-1"),  # a tolerance so loose that a wrong answer passes
    lambda text: text.replace('"✓","✗"', '"✗","✓"'),  # the marks swapped
    lambda text: text.replace('IF(E10="","",', 'IF(E10="","✗",'),  # a blank marked wrong
])
def test_a_tampered_self_check_fails(tmp_path: Path, tampered) -> None:
    path = _exercise(tmp_path)
    text = _formula(path, "Exercise", "F10")
    assert tampered(text) != text
    _fails_at(_edit(path, "Exercise", {"F10": tampered(text)}), "formulas", "Exercise!F10")


# --- the Decision map's ranges, parameters and axes -----------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("address", "change"), [
    ("B5", lambda text: text.replace("0.1*", "0.2*")),  # a wider margin
    ("C10", lambda text: text.replace("+1)", "+0)")),  # the parameters of row t − 1
    ("E12", lambda text: f"=({text[1:]})*(1+1E-6)"),  # an x₁ point
    ("B14", lambda text: text.replace("+1*", "+2*")),  # the next x₂ point
])
def test_a_tampered_map_cell_fails(tmp_path: Path, engine: str, address: str, change) -> None:
    path = build(tmp_path, load_template("xor").replace(iterations=10), decision_map=5)
    assert check(path, engine=engine).ok
    text = _formula(path, "Decision map", address)
    assert change(text) != text
    _fails_at(_edit(path, "Decision map", {address: change(text)}), engine, f"'Decision map'!{address}")


@pytest.mark.parametrize("sig_figs", [1, 8])
def test_an_exercise_with_another_tolerance_passes(tmp_path: Path, sig_figs: int) -> None:
    # The file does not record --sig-figs: the check reads the tolerance most rows use.
    path = exercise(_spec(), tmp_path / "exercise.xlsx", sig_figs=sig_figs)
    report = check(path)
    assert report.ok, report.summary()
    assert report.groups["self-check"].cells == 37
