"""grade --report: the class report workbook (histogram chart, per-question shares and
discrimination, slips, flags) in the class's language, and the same figures on the terminal."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sheetnet import api
from tests.test_class import answers_of, fill, run

IDS = ["s1", "s2", "s3", "s4", "s5", "s6"]


def submissions(folder: Path, out: Path, zh: bool = False) -> list[Path]:
    """s1, s2 all right; s3, s4 the loss doubled (½ dropped); s5, s6 only the first answer."""
    keys = answers_of(folder)
    out.mkdir()
    files = []
    for sid in IDS:
        answers = dict(keys[sid])
        if sid in ("s3", "s4"):
            answers["0:loss"] *= 2
        if sid in ("s5", "s6"):
            answers = {"0:z1[1]": answers["0:z1[1]"]}
        files.append(fill(folder, sid, out / f"{sid}.xlsx", answers, sheet="练习" if zh else "Exercise"))
    again = fill(folder, "s6", out / "s6-again.xlsx", {}) if not zh else None
    if again is not None:
        os.utime(again, (1_000_000_000, 1_000_000_000))  # older: s6's first file counts
        files.append(again)
    return files


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("report")
    (root / "roster.csv").write_text("id,name\n" + "".join(f"{s},=N {s}\n" for s in IDS), encoding="utf-8")
    result = run("class", root / "roster.csv", root / "c", "--secret", "s", "--ask", "forward,loss")
    assert result.exit_code == 0, result.output
    return root / "c", submissions(root / "c", root / "subs")


def test_the_report_workbook_holds_every_figure(english: tuple[Path, list[Path]], tmp_path: Path) -> None:
    folder, files = english
    report = tmp_path / "report.xlsx"
    result = run("grade", folder, *files, "--report", report)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["Scores", "Questions", "Slips", "Flags"]
    scores = book["Scores"]
    assert scores["A1"].value == "Class report: 6 of 6 students graded"
    bins = {scores.cell(r, 1).value: scores.cell(r, 2).value for r in range(4, 14)}
    assert bins == {0: 0, 1: 2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 2, 9: 2}
    with zipfile.ZipFile(report) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "$B$4:$B$13" in chart
    rows = {r[1]: r for r in book["Questions"].iter_rows(min_row=2, values_only=True)}
    third = pytest.approx(2 / 6)
    assert rows["0:loss"] == ("L", "0:loss", third, 0, third, third, 1)
    assert rows["0:z1[1]"][2:] == (1, 0, 0, 0, 0)  # everyone right: it tells no one apart
    assert rows["0:a1[1]"][2:] == (pytest.approx(4 / 6), 0, 0, pytest.approx(2 / 6), 1)
    slips = list(book["Slips"].iter_rows(min_row=2, values_only=True))
    assert slips == [("the ½ of ½Σ(y−t)² is dropped", 2)]
    flags = list(book["Flags"].iter_rows(min_row=2, values_only=True))
    assert flags == [("s6", "=N s6", "submitted twice: s6-again.xlsx, s6.xlsx (s6.xlsx counts)")]
    assert not [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]  # a name such as =N s6 is text
    loss = [line for line in result.output.splitlines() if line.strip().startswith("0:loss")][-1]
    assert re.fullmatch(r"\s+0:loss\s+L\s+33%\s+0%\s+33%\s+33%\s+\+1\.00", loss)
    assert f"wrote {report}" in result.output


def test_the_api_returns_the_table(english: tuple[Path, list[Path]], tmp_path: Path) -> None:
    folder, files = english
    grades = api.grade(folder, files, report=tmp_path / "r.xlsx", fmt="moodle", assignment="A1",
                       gradebook=tmp_path / "g.csv")
    assert grades.items[0].split() == ["question", "right", "ecf", "wrong", "blank", "discrimination"]
    assert len(grades.items) == 1 + 9 and (tmp_path / "r.xlsx").is_file()
    head = (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head == "First name,Last name,ID number,A1"


def test_a_report_that_is_no_xlsx_is_refused(english: tuple[Path, list[Path]], tmp_path: Path) -> None:
    folder, files = english
    result = run("grade", folder, *files, "--report", tmp_path / "r.csv")
    assert result.exit_code != 0 and "give a name ending in .xlsx" in result.output
    assert not (tmp_path / "r.csv").exists()


def test_a_chinese_class_gets_a_chinese_report(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("id\n" + "\n".join(IDS) + "\n", encoding="utf-8")
    folder = tmp_path / "c"
    result = run("class", tmp_path / "roster.csv", folder, "--secret", "s", "--lang", "zh",
                 "--ask", "forward,loss")
    assert result.exit_code == 0, result.output
    files = submissions(folder, tmp_path / "subs", zh=True)
    assert run("grade", folder, *files, "--report", tmp_path / "r.xlsx").exit_code == 0
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["分数", "题目", "常见错误", "标记"]
    assert book["分数"]["A1"].value == "班级报告：6 名学生中已评分 6 名"
    assert book["常见错误"]["A2"].value == "漏了 ½Σ(y−t)² 中的 ½" and book["常见错误"]["B2"].value == 2
