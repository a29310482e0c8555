"""Bad input to `sheetnet class`, `exercise` and `grade`: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sheetnet.cli import app


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        ("name,email\nAnn,a@x\n", "roster.csv: the roster has no 'id' column (its columns: name, email)"),
        ("id,name\n", "roster.csv: the roster lists no students"),
        ("id,name\ns1,Ann\ns2,Bob\ns1,Cy\n", "roster.csv: the id 's1' appears twice (lines 2 and 4)"),
        ("id\n../x\n", "roster.csv, line 2: the id '../x' cannot be a file name"),
        ("id\na/b\n", "roster.csv, line 2: the id 'a/b' cannot be a file name"),
        ("id\nCON\n", "roster.csv, line 2: the id 'CON' cannot be a file name (Windows reserves that name)"),
        ("id,name\n,Ann\n", "roster.csv, line 2: the id '' cannot be a file name (it is empty)"),
    ],
)
def test_bad_rosters(tmp_path: Path, roster: str, message: str) -> None:
    code, output = run("class", _roster(tmp_path, roster), tmp_path / "class1", "--secret", "s")
    assert code == 2
    assert output.startswith("sheetnet: error: ") and message in output and output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]  # nothing written, nothing left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "a class needs a secret (--secret TEXT)"),
        (("--secret", ""), "a class needs a secret (--secret TEXT)"),
        (("--secret", "s", "--vary", "inputs,colour"), "--vary: unknown word 'colour'; choose from: inputs, "
         "targets, weights, biases, lr"),
        (("--secret", "s", "--ask", "forward,backwards"), "--ask: unknown word 'backwards'"),
        (("--secret", "s", "--vary", "lr"), "seed-004-2-2-2: no variant meets the exercise's constraints in "
         "2000 draws; the most frequent failure (2000 draws): the gradient dW1[1,1] is smaller than 0.0001"),
        (("--secret", "s", "--decimals", "9"), "--decimals must be between 0 and 6, got 9"),
        (("--secret", "s", "--lang", "fr"), "unknown language 'fr'"),
    ],
)
def test_bad_class_options(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, output = run("class", _roster(tmp_path, "id\ns1\ns2\n"), tmp_path / "class1", *args)
    assert code == 2 and message in output and output.count("\n") == 1, output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]


def test_a_folder_that_is_no_class_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "class1"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    code, output = run("class", _roster(tmp_path, "id\ns1\n"), folder, "--secret", "s")
    assert code == 2 and "exists and is not a sheetnet class" in output
    assert [p.name for p in folder.iterdir()] == ["thesis.docx"]


def test_a_class_is_rebuilt_in_place_only_with_its_secret(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "id\ns1\n")
    folder = tmp_path / "class1"
    assert run("class", roster, folder, "--secret", "s")[0] == 0
    before = (folder / "key" / "s1.toml").read_text(encoding="utf-8")
    code, output = run("class", roster, folder, "--secret", "other")
    assert code == 2 and "is a class made with another secret" in output
    roster.write_text("id\ns1\nlate\n", encoding="utf-8")  # a late enrolment
    assert run("class", roster, folder, "--secret", "s")[0] == 0
    assert (folder / "key" / "s1.toml").read_text(encoding="utf-8") == before
    assert (folder / "students" / "late.xlsx").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class1", "roster.csv"]  # no temporary folder left


def test_grade_refuses_a_folder_that_is_no_class(tmp_path: Path) -> None:
    code, output = run("grade", tmp_path, tmp_path / "x.xlsx")
    assert code == 2 and "not a sheetnet class folder (no readable class.toml)" in output


def test_exercise_refuses_a_bad_ask(tmp_path: Path) -> None:
    code, output = run("exercise", tmp_path / "ex.xlsx", "--ask", "")
    assert code == 2 and "--ask: no word" in output
    assert not (tmp_path / "ex.xlsx").exists()
