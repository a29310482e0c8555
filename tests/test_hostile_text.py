"""User text (titles, descriptions, also the [zh] ones) is always written as text.

A title such as =1+1 or +SUM(A1) must not become a formula, http://x not a hyperlink, -2 not a
number, in every sheet where it appears and in the page headers; real formulas stay formulas.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from sheetnet.equations import graph
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import writer as workbook
from sheetnet.verify.run import run_check
from tests.conftest import build

HOSTILE = ["=1+1", "+SUM(A1)", "-2", "@x", "=HYPERLINK(\"http://x\",\"click\")", "http://x", "{=A1:A2}"]


def _spec(title: str, description: str) -> Spec:
    return load_template("seed-004-2-2-2").replace(iterations=3, title=title, description=description)


def _cells_with(path: Path, *texts: str) -> list[tuple[str, str, str, object]]:
    """(sheet, cell, data type, value) of every cell whose value is one of texts."""
    book = openpyxl.load_workbook(path)
    return sorted((ws.title, c.coordinate, c.data_type, c.value) for ws in book.worksheets
                  for row in ws.iter_rows() for c in row if c.value in texts)


def _formula_counts(path: Path) -> Counter[str]:
    book = openpyxl.load_workbook(path)
    return Counter(ws.title for ws in book.worksheets for row in ws.iter_rows() for c in row
                   if c.data_type == "f")


@pytest.mark.parametrize("title", HOSTILE)
def test_a_hostile_title_and_description_stay_text(tmp_path: Path, title: str) -> None:
    description = f"{title} in the description\nsecond line"
    path = build(tmp_path, _spec(title, description))
    # The title heads the Network sheet (read back by the check) and the Guide; the description
    # follows each. Nothing else holds them, and every one is a plain string, exactly as given.
    assert _cells_with(path, title, description) == sorted([
        ("Guide", "B1", "s", title), ("Guide", "B4", "s", description),
        ("Network", "A1", "s", title), ("Network", "A2", "s", description),
    ])
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert not any(c.hyperlink for row in ws.iter_rows() for c in row)  # http://x is no link
        assert ws.oddHeader.left.text == title  # the page header prints the title as text
    with zipfile.ZipFile(path) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/")]
        formulas = "".join(archive.read(n).decode() for n in archive.namelist()
                           if n.startswith("xl/worksheets/sheet")).split("<f>")[1:]
    assert charts and not any(title in chart for chart in charts)  # chart titles are our words
    assert not any(title in f.split("</f>")[0] for f in formulas)


def test_a_hostile_chinese_title_stays_text(tmp_path: Path) -> None:
    title, description = "网络=1+1", "=说明：第一行\n+第二行"
    spec = _spec("plain", "plain").replace(translations=(("zh", title, description),))
    path = build(tmp_path, spec, lang="zh")
    assert _cells_with(path, title, description) == [
        ("网络", "A1", "s", title), ("网络", "A2", "s", description),
        ("说明", "B1", "s", title), ("说明", "B4", "s", description),
    ]
    assert run_check(path).ok  # the check reads the Network sheet with its title as it is


def test_the_text_option_keeps_every_real_formula(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Build once with XlsxWriter's default (strings starting "=" become formulas) and once as
    # shipped, with a harmless title: each sheet has the same number of formula cells.
    spec = _spec("plain title", "plain description")
    shipped = _formula_counts(build(tmp_path, spec, name="shipped.xlsx", compare_lr=(0.1, 1.0)))
    monkeypatch.setitem(workbook.WORKBOOK_OPTIONS, "strings_to_formulas", True)
    default = _formula_counts(build(tmp_path, spec, name="default.xlsx", compare_lr=(0.1, 1.0)))
    assert shipped == default
    assert set(shipped) == {"Training", "Working", "Charts", "Summary", "Learning rates"}
    columns = [c for c in graph.training_columns(spec) if c.formula is not None]
    assert len(columns) == 37  # 12 parameters, 8 forward, the loss, 4 deltas, 12 gradients
    # Rows t = 0, 1, 2 hold every formula column; the last row (t = 3) the 21 before the deltas.
    assert shipped["Training"] == 3 * 37 + sum(c.in_final_row for c in columns) == 3 * 37 + 21
