"""No CSV or workbook cell that sheetnet writes from a roster, a file name or a submission is ever
a formula (OWASP's rule against CSV injection), and numbers stay numbers."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.csvsafe import safe_field
from sheetnet.engines.libreoffice import recalculate
from sheetnet.model.tables import write_csv
from tests.conftest import needs_libreoffice
from tests.test_class import answers_of, fill

NAMES = ['=HYPERLINK("http://x","click")', "+cmd|calc", "@SUM(1)", "-2+3", "\t=1+1"]
ROSTER = (
    "id,name\n"
    '@s1,"=HYPERLINK(""http://x"",""click"")"\n'
    "-s2,+cmd|calc\n"
    "=s3,@SUM(1)\n"
    "+s4,-2+3\n"
    's5,"\t=1+1"\n'
)


def run(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|calc", "'+cmd|calc"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.25", "-0.25"),  # a negative number stays a number
        ("-1e-05", "-1e-05"),
        ("+3", "+3"),
        ("-inf", "'-inf"),  # not a number a spreadsheet reads
        ("s01", "s01"),
        ("", ""),
    ],
)
def test_safe_field_quotes_what_a_spreadsheet_would_evaluate(text: str, written: str) -> None:
    assert safe_field(text) == written


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A class whose ids and names are formulas, graded with a file whose name is one."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    folder = root / "c"
    result = run("class", root / "roster.csv", folder, "--secret", "s")
    assert result.exit_code == 0, result.output
    keys = answers_of(folder)
    subs = root / "subs"
    subs.mkdir()
    fill(folder, "@s1", subs / "=cmd|' _C calc'!A0.xlsx", keys["'@s1"])
    fill(folder, "-s2", subs / "-s2.xlsx", {k: -1.5 for k in keys["'-s2"]})
    grades = root / "grades.csv"
    result = run("grade", folder, *sorted(subs.iterdir()), "--gradebook", grades, "--feedback", root / "fb")
    assert result.exit_code == 0, result.output
    canvas = root / "canvas.csv"
    result = run("grade", folder, *sorted(subs.iterdir()), "--gradebook", canvas, "--format", "canvas",
                 "--assignment", "=1+1")
    assert result.exit_code == 0, result.output
    return folder, grades, root / "fb"






def test_the_gradebook_and_answers_quote_hostile_text(hostile: tuple[Path, Path, Path]) -> None:
    folder, grades, _ = hostile
    canvas = list(csv.reader((grades.parent / "canvas.csv").open(encoding="utf-8")))
    assert canvas[0][-1] == "'=1+1" and canvas[1][0] == "'" + NAMES[0]
    rows = list(csv.reader(grades.open(encoding="utf-8")))
    assert [r[:2] for r in rows[1:6]] == [
        ["'@s1", "'" + NAMES[0]], ["'-s2", "'+cmd|calc"], ["'=s3", "'@SUM(1)"], ["'+s4", "'-2+3"],
        ["s5", "'=1+1"],  # the roster strips the tab
    ]
    assert rows[1][-1] == "'=cmd|' _C calc'!A0.xlsx" and rows[1][2] == rows[1][3]  # full marks
    assert rows[2][-1] == "'-s2.xlsx" and float(rows[2][2]) < float(rows[2][3])
    answers = list(csv.reader((folder / "key" / "answers.csv").open(encoding="utf-8")))
    assert {r[0] for r in answers[1:]} == {"'@s1", "'-s2", "'=s3", "'+s4", "s5"}
    negative = [r[4] for r in answers[1:] if r[4].startswith("-")]
    assert negative and all(float(v) < 0 for v in negative)  # negative answers stay numbers


def test_the_feedback_workbooks_hold_no_formula(hostile: tuple[Path, Path, Path]) -> None:
    _, _, feedback = hostile
    books = sorted(feedback.iterdir())
    assert [b.name for b in books] == ["-s2.xlsx", "@s1.xlsx"]
    for path in books:
        book = openpyxl.load_workbook(path)
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
    title = openpyxl.load_workbook(feedback / "@s1.xlsx").worksheets[0]["A1"].value
    assert NAMES[0] in title


def test_train_csv_quotes_a_hostile_column_name(tmp_path: Path) -> None:
    frame = pd.DataFrame({"iter": [1, 2], "=1+1": [-0.5, 0.25]})
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines() == ["iter,'=1+1", "1,-0.5", "2,0.25"]


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_opens_every_csv_without_a_formula(
    hostile: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    folder, grades, _ = hostile
    for source in (grades, folder / "key" / "answers.csv", grades.parent / "canvas.csv"):
        copy = shutil.copy(source, tmp_path / source.name)
        opened = openpyxl.load_workbook(recalculate(Path(copy), tmp_path / f"{source.stem}.xlsx"))
        cells = [c for row in opened.active.iter_rows() for c in row if c.value is not None]
        assert not [(c.coordinate, c.value) for c in cells if c.data_type == "f"], source.name
        texts = {c.value for c in cells if c.data_type == "s"}
        assert "'" + NAMES[0] in texts or source.name == "answers.csv"
        assert "'=1+1" in texts or source.name != "canvas.csv"  # the assignment's name too
        numbers = [c.value for c in cells if c.data_type == "n"]
        assert numbers and (source.name != "answers.csv" or min(numbers) < 0)  # numbers stay numbers
