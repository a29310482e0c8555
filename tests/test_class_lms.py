"""Learning platforms: roster exports of Canvas, Moodle and Blackboard make a class that keeps the
platform's identity columns, and `grade --format` writes each platform's import file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_class import answers_of, fill, run

CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (123)\n"
    "    Points Possible,,,,,10\n"
    '"Lovelace, Ada",1001,A-1,ada,Section 1,7\n'
    '"=Turing, Alan",1002,A-2,,Section 2,9\n'
)
MOODLE = (
    "First name,Last name,ID number,Email address,Roles\n"
    "Ada,Lovelace,20260001,ada@example.edu,Student\n"
    "Alan,Turing,20260002,alan@example.edu,Student\n"
)
BLACKBOARD = (
    "Last Name\tFirst Name\tUsername\tStudent ID\tLast Access\tAvailability\tQuiz [Total Pts: 10 Score] |55\n"
    "Lovelace\tAda\talovelace\t0001\t2026-09-01\tYes\t7\n"
    "Turing\tAlan\taturing\t0002\t2026-09-01\tYes\t\n"
)


def make(tmp_path: Path, roster: str | bytes) -> Path:
    path = tmp_path / "export.csv"
    if isinstance(roster, bytes):
        path.write_bytes(roster)
    else:
        path.write_text(roster, encoding="utf-8")
    result = run("class", path, tmp_path / "c", "--secret", "s", "--ask", "forward,loss")
    assert result.exit_code == 0, result.output
    return tmp_path / "c"


def grade(folder: Path, tmp_path: Path, sid: str, *options: str) -> list[list[str]]:
    keys = answers_of(folder)
    path = fill(folder, sid, tmp_path / f"{sid}.xlsx", keys[sid])
    out = tmp_path / "import.csv"
    result = run("grade", folder, path, "--gradebook", out, *options)
    assert result.exit_code == 0, result.output
    return list(csv.reader(out.open(encoding="utf-8")))


def test_a_canvas_export_makes_a_class_and_a_canvas_gradebook(tmp_path: Path) -> None:
    folder = make(tmp_path, CANVAS)
    assert sorted(p.name for p in (folder / "students").iterdir()) == ["1002.xlsx", "ada.xlsx"]
    rows = grade(folder, tmp_path, "ada", "--format", "canvas", "--assignment", "Backprop 1 (77)")
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Backprop 1 (77)"],
        ["Lovelace, Ada", "1001", "A-1", "ada", "Section 1", "9"],
        ["'=Turing, Alan", "1002", "A-2", "", "Section 2", ""],  # never a formula
    ]


def test_a_moodle_export_keeps_its_id_number(tmp_path: Path) -> None:
    folder = make(tmp_path, MOODLE)
    rows = grade(folder, tmp_path, "20260002", "--format", "moodle", "--assignment", "Backprop")
    assert rows == [
        ["First name", "Last name", "ID number", "Email address", "Backprop"],
        ["Ada", "Lovelace", "20260001", "ada@example.edu", ""],
        ["Alan", "Turing", "20260002", "alan@example.edu", "9"],
    ]


def test_a_blackboard_download_in_utf16_with_tabs(tmp_path: Path) -> None:
    folder = make(tmp_path, BLACKBOARD.encode("utf-16"))
    rows = grade(folder, tmp_path, "alovelace", "--format", "blackboard", "--assignment", "Backprop")
    assert rows == [
        ["Last Name", "First Name", "Username", "Student ID", "Backprop [Total Pts: 9 Score]"],
        ["Lovelace", "Ada", "alovelace", "0001", "9"],
        ["Turing", "Alan", "aturing", "0002", ""],
    ]
    text = (tmp_path / "import.csv").read_text(encoding="utf-8")
    assert text.splitlines()[1] == '"Lovelace","Ada","alovelace","0001","9"'  # every field quoted


def test_a_plain_roster_puts_its_id_in_the_platform_identity_column(tmp_path: Path) -> None:
    folder = make(tmp_path, "id,name\ns1,Grace Hopper\n")
    rows = grade(folder, tmp_path, "s1", "--format", "moodle")
    assert rows == [["First name", "Last name", "ID number", "Exercise"], ["Grace", "Hopper", "s1", "9"]]
    plain = grade(folder, tmp_path, "s1")
    assert plain[0][:5] == ["id", "name", "score", "max", "percent"] and plain[1][:5] == [
        "s1", "Grace Hopper", "9", "9", "100.0"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--format", "excel"), "--format excel: unknown; use one of plain, canvas, moodle, blackboard"),
        (("--format", "canvas", "--assignment", " "), "--assignment: give the assignment's name"),
    ],
)
def test_bad_format_options(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    folder = make(tmp_path, MOODLE)
    out = tmp_path / "g.csv"
    result = run("grade", folder, folder / "students" / "20260001.xlsx", "--gradebook", out, *options)
    assert result.exit_code != 0 and message in result.output and not out.exists()
