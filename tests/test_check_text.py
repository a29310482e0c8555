"""The whole workbook checked: every constant cell (labels, ids, symbolic equations, the Guide's
words, the settings' names) against a rebuild of the workbook the file describes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import sheetnet
from sheetnet.engines import gnumeric, libreoffice
from sheetnet.model.spec import load_template
from sheetnet.sheets import layout
from sheetnet.sheets.layout import NetworkLayout
from sheetnet.verify.constants import same_words
from tests.conftest import build, needs_gnumeric, needs_libreoffice


def _spec() -> Any:
    return load_template("seed-004-2-2-2").replace(iterations=12)


def _edited(tmp_path: Path, edit: Callable[[openpyxl.Workbook], None], **options: Any) -> Path:
    path = build(tmp_path, _spec(), **options)
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


def _first_wrong(path: Path, engine: str = "formulas") -> tuple[str, str]:
    report = sheetnet.check(path, engine=engine)
    assert not report.ok
    assert report.first_wrong is not None
    return report.first_wrong.address, report.first_wrong.describe()


def _text_groups(report: Any) -> dict[str, int]:
    return {g.sheet: g.cells for name, g in report.groups.items() if name.startswith("text (")}


def _text_wrong(report: Any) -> int:
    return sum(g.wrong for name, g in report.groups.items() if name.startswith("text ("))


def test_an_untouched_workbook_has_every_sheets_text_checked(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=12)
    report = sheetnet.check(build(tmp_path, spec, compare_lr=(0.1, 2.0), decision_map=5))
    assert report.ok, report.summary()
    texts = _text_groups(report)
    for sheet in ("Guide", "Network", "Training", "Working", "Charts", "Summary", "Learning rates",
                  "Decision map"):
        assert texts.get(sheet, 0) > 0, (sheet, texts)


def test_a_wrong_symbolic_equation_on_the_working_sheet_fails(tmp_path: Path) -> None:
    def edit(book: openpyxl.Workbook) -> None:
        assert book["Working"]["C6"].value == "w₃₁·x₁ + w₃₂·x₂ + b₃"
        book["Working"]["C6"] = "w₃₁·x₁ + w₃₂·x₁ + b₃"

    address, line = _first_wrong(_edited(tmp_path, edit))
    assert address == "Working!C6"
    assert line.endswith("got 'w₃₁·x₁ + w₃₂·x₁ + b₃'; the build writes 'w₃₁·x₁ + w₃₂·x₂ + b₃' here")


def test_a_wrong_training_header_label_fails(tmp_path: Path) -> None:
    def edit(book: openpyxl.Workbook) -> None:
        assert book["Training"]["C2"].value == "w₃₂"
        book["Training"]["C2"] = "w₂₃"

    assert _first_wrong(_edited(tmp_path, edit))[0] == "Training!C2"


@pytest.mark.parametrize(("sheet", "cell"), [("Guide", "B2"), ("Network", "A4"), ("Summary", "A1")])
def test_any_sheets_changed_text_fails_there(tmp_path: Path, sheet: str, cell: str) -> None:
    def edit(book: openpyxl.Workbook) -> None:
        assert isinstance(book[sheet][cell].value, str)
        book[sheet][cell] = book[sheet][cell].value + " (edited)"

    assert _first_wrong(_edited(tmp_path, edit))[0] == f"{sheet}!{cell}"


def test_a_students_edits_of_yellow_cells_are_not_differences(tmp_path: Path) -> None:
    """η and a weight edited: the Guide's sentences quote them, and still pass."""
    spec = _spec()
    net = NetworkLayout(spec)

    def edit(book: openpyxl.Workbook) -> None:
        for key, value in (("lr", 0.25), ("init:W1[1,1]", 0.77)):
            book["Network"][layout.address(*net.input_cells[key])] = value

    report = sheetnet.check(_edited(tmp_path, edit))
    assert report.ok, report.summary()
    assert _text_groups(report)["Guide"] > 0


def test_a_students_note_in_an_empty_cell_is_not_a_difference(tmp_path: Path) -> None:
    path = _edited(tmp_path, lambda book: book["Working"].cell(2, 30, "my note"))
    assert sheetnet.check(path).ok


def test_the_guide_keeps_its_words_while_its_numbers_follow_edits() -> None:
    assert same_words("1. Change η = 0.5 to 2", "1. Change η = 0.25 to 2")
    assert not same_words("1. Change η = 0.5 to 2", "1. Change μ = 0.5 to 2")


@needs_libreoffice
@pytest.mark.libreoffice
def test_text_passes_after_a_libreoffice_round_trip_and_fails_when_changed(tmp_path: Path) -> None:
    path = build(tmp_path, _spec())
    saved = libreoffice.recalculate(path, tmp_path / "saved.xlsx")
    report = sheetnet.check(saved)
    assert report.ok, report.summary()
    assert _text_wrong(report) == 0 and _text_groups(report)["Working"] > 0
    book = openpyxl.load_workbook(saved)
    book["Working"]["C6"] = "w₃₁·x₁"
    book.save(saved)
    assert _first_wrong(saved)[0] == "Working!C6"


@needs_gnumeric
def test_text_passes_after_a_gnumeric_round_trip(tmp_path: Path) -> None:
    path = build(tmp_path, _spec(), lang="zh")
    saved = gnumeric.recalculate(path, tmp_path / "saved.xlsx")
    # Gnumeric rewrites numbers inside formulas (1E-300 as 9.99…e-301), which the formulas
    # engine's Working check compares as text: only the text groups are asserted here.
    report = sheetnet.check(saved)
    assert _text_groups(report)["说明"] > 0 and _text_groups(report)["训练"] > 0
    assert _text_wrong(report) == 0, report.summary()
