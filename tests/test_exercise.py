"""The Exercise sheet: its questions, its id row, and the practice workbook's live self-check."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.classroom import exercise
from sheetnet.classroom.exercise import Setup, build_exercise
from sheetnet.classroom.questions import key_values, questions
from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.model.spec import load_template
from tests.conftest import needs_libreoffice


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    """Row of each question key, found from the id row as a grader would."""
    ids = [c.value for c in ws[exercise.ID_ROW]]
    assert ids[exercise.ITER - 1: exercise.ANSWER] == ["iter", "id", "answer"]
    rows = {}
    for r in range(exercise.FIRST_ROW, ws.max_row + 1):
        t, qid = ws.cell(r, exercise.ITER).value, ws.cell(r, exercise.ID).value
        if qid:
            rows[f"{t}:{qid}"] = r
    return rows


def test_questions_follow_the_working_sheet_with_seed_notation() -> None:
    spec = load_template("seed-004-2-2-2")
    qs = questions(spec)
    assert [q.key for q in qs[:4]] == ["0:z1[1]", "0:a1[1]", "0:z1[2]", "0:a1[2]"]
    assert (qs[0].label, qs[0].equation) == ("z₃", "w₃₁·x₁ + w₃₂·x₂ + b₃")
    assert (qs[1].label, qs[1].equation) == ("a₃", "σ(z₃)")
    assert qs[-1].key == "1:b2[2]" and qs[-1].label == "b₆′"
    assert len(qs) == 8 + 1 + 4 + 12 + 12  # forward, loss, δ, gradients, updated parameters
    keys = key_values(spec)
    assert keys["0:a1[1]"] == pytest.approx(0.6236336, abs=5e-8)  # seed 004's printed a₃
    assert keys["0:a1[2]"] == pytest.approx(0.6250409, abs=5e-8)
    only = questions(spec, ("loss", "update"))
    assert {q.group for q in only} == {"loss", "update"} and len(only) == 13


def test_exercise_command_writes_the_full_workbook_with_an_exercise_sheet(tmp_path: Path) -> None:
    out = tmp_path / "ex.xlsx"
    result = CliRunner().invoke(app, ["exercise", str(out), "--template", "seed-004-2-2-2", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["说明", "网络", "练习", "训练", "演算", "图表", "摘要"]
    ws = book["练习"]
    rows = _rows(ws)
    assert len(rows) == 37
    answer = ws.cell(rows["0:loss"], exercise.ANSWER)
    assert answer.value is None and answer.protection.locked is False
    assert ws.protection.sheet  # everything else stays as it is
    assert ws.cell(exercise.REVEAL_ROW, exercise.EQUATION).value == "否"  # the reveal switch is off


@pytest.mark.libreoffice
@needs_libreoffice
def test_practice_self_check_in_libreoffice(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2")
    built = build_exercise(spec, tmp_path / "practice.xlsx", setup=Setup())
    book = openpyxl.load_workbook(built)
    ws = book["Exercise"]
    rows = _rows(ws)
    typed = {
        "0:z1[1]": 0.505,          # exact
        "0:a1[1]": 0.6236,         # 4 significant figures: right
        "0:z1[2]": 0.6,            # wrong
        "0:a1[2]": "abc",          # not a number: wrong
        "0:dW1[1,1]": 2.8965e-05,  # a small gradient to 5 figures: right
    }
    for key, value in typed.items():
        ws.cell(rows[key], exercise.ANSWER).value = value
    ws.cell(exercise.REVEAL_ROW, exercise.EQUATION).value = "yes"
    book["Network"]["B4"] = 1.0  # η from 0.5 to 1: the expected updates move with it
    typed_file = tmp_path / "typed.xlsx"
    book.save(typed_file)
    after = recalculate(typed_file, tmp_path / "after.xlsx")
    values = openpyxl.load_workbook(after, data_only=True)["Exercise"]
    check = {key: values.cell(r, exercise.CHECK).value for key, r in rows.items()}
    assert check["0:z1[1]"] == "✓" and check["0:a1[1]"] == "✓" and check["0:dW1[1,1]"] == "✓"
    assert check["0:z1[2]"] == "✗" and check["0:a1[2]"] == "✗"
    assert check["0:loss"] in (None, "")  # blank stays blank
    expected = values.cell(rows["0:a1[1]"], exercise.EXPECTED).value
    assert expected == pytest.approx(0.623633628298226, rel=1e-12)  # revealed, recomputed live
    keys = key_values(spec.replace(learning_rate=1.0))
    updated = values.cell(rows["1:W1[1,1]"], exercise.EXPECTED).value
    assert updated == pytest.approx(keys["1:W1[1,1]"], rel=1e-12)
    assert updated != pytest.approx(key_values(spec)["1:W1[1,1]"], rel=1e-9)


def test_a_class_trains_each_student_once_and_the_student_file_reads_no_later_iteration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A student's key, file and answers share one NumPy run (the class's cost was three runs
    each); a workbook of the Guide, Network and Exercise sheets alone trains one iteration."""
    from sheetnet.classroom import classfolder
    from sheetnet.classroom import questions as questions_module
    from sheetnet.classroom.classfolder import ClassOptions, make_class
    from sheetnet.classroom.roster import Student
    from sheetnet.model import reference
    from sheetnet.sheets import trajectory

    runs: list[tuple[str, int]] = []

    def counted(where: str):
        def train(spec):
            runs.append((where, spec.iterations))
            return reference.train(spec)

        return train

    def counted_blocks(spec, block_rows):
        runs.append(("writer", spec.iterations))
        return reference.train_blocks(spec, block_rows)

    for module, where in ((classfolder, "class"), (questions_module, "questions")):
        monkeypatch.setattr(module, "train", counted(where))
    monkeypatch.setattr(trajectory, "train_blocks", counted_blocks)  # the writer trains there
    spec = load_template("seed-004-2-2-2")
    students = [Student("a1", "Ann"), Student("b2", "Bo")]
    drawn = make_class(
        spec, students, tmp_path / "class1", secret="s", options=ClassOptions(template="seed-004-2-2-2")
    )
    full = [("class", v.spec.iterations) for v in drawn]
    assert [r for r in runs if r[0] != "questions"] == full  # variants may check constraints by a run
    assert spec.iterations == 100
    runs.clear()
    build_exercise(spec, tmp_path / "student.xlsx", setup=Setup(mode="student"))
    assert runs == [("writer", 1)]
    runs.clear()
    build_exercise(spec, tmp_path / "key.xlsx", setup=Setup(mode="key"))
    assert runs == [("writer", 100)]
