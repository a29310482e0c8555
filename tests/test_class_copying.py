"""Copy detection: a copied file, a copied wrong answer, and an honest class with no flags."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sheetnet.classroom.grading import Tolerance
from tests.test_class import IDS, TEMPLATE, answers_of, carried, fill, run

COPY_WORDS = ("match", "same wrong")


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("copying")
    (root / "roster.csv").write_text("id\n" + "\n".join(IDS) + "\n", encoding="utf-8")
    result = run("class", root / "roster.csv", root / "c", "--template", TEMPLATE, "--secret", "winter")
    assert result.exit_code == 0, result.output
    return root / "c"


def graded(klass: Path, tmp_path: Path, answers: dict[str, dict[str, object]]) -> dict[str, dict[str, str]]:
    files = [fill(klass, sid, tmp_path / f"{sid}.xlsx", a) for sid, a in answers.items()]
    grades = tmp_path / "g.csv"
    result = run("grade", klass, *files, "--gradebook", grades)
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in csv.DictReader(grades.open(encoding="utf-8"))}


def honest(klass: Path) -> dict[str, dict[str, object]]:
    """Every way to be honest: right, rounded and carried, a slip carried on, blanks, wild guesses."""
    keys = answers_of(klass)
    answers: dict[str, dict[str, object]] = {sid: dict(keys[sid]) for sid in IDS}
    answers["s02"] = dict(carried(klass / "key" / "s02.toml", rounding=4))
    answers["s03"] = dict(carried(klass / "key" / "s03.toml", {"0:z1[1]": keys["s03"]["0:z1[1]"] * 1.3}))
    for key in list(answers["s04"])[:5]:
        answers["s04"].pop(key)
    answers["s05"].update({"0:loss": 0, "0:a1[1]": 1, "0:z1[2]": 0.777})
    answers["s06"].update({"0:loss": 0, "0:a1[1]": 1, "0:z1[2]": 0.555})  # the same guesses: no copy
    return answers


def test_an_honest_class_has_no_copy_flags(klass: Path, tmp_path: Path) -> None:
    rows = graded(klass, tmp_path, honest(klass))
    assert [sid for sid, r in rows.items() if any(w in r["flags"] for w in COPY_WORDS)] == []
    assert rows["s03"]["0:a1[1]"] == "ecf" and rows["s05"]["0:z1[2]"] == "wrong"


def test_a_copied_file_is_flagged_with_the_number_of_matches(klass: Path, tmp_path: Path) -> None:
    answers = honest(klass)
    keys = answers_of(klass)
    answers["s06"] = dict(keys["s07"])  # s07's answers typed into s06's own file
    close = Tolerance(3).close  # keys that differ at 3 significant figures (copying.py)
    differ = sum(not close(keys["s07"][q], keys["s06"][q]) for q in keys["s06"])
    assert differ >= 30
    rows = graded(klass, tmp_path, answers)
    assert rows["s06"]["flags"] == f"answers match s07's numbers at {differ} questions"
    assert not any(w in rows[sid]["flags"] for sid in IDS if sid != "s06" for w in COPY_WORDS)


def test_a_copied_wrong_answer_flags_both(klass: Path, tmp_path: Path) -> None:
    answers = honest(klass)
    for sid in ("s07", "s08"):
        answers[sid].update({"0:loss": 0.4242, "0:z1[2]": -0.3131})
    rows = graded(klass, tmp_path, answers)
    assert (rows["s07"]["0:loss"], rows["s08"]["0:z1[2]"]) == ("wrong", "wrong")
    assert rows["s07"]["flags"] == "same wrong values as s08 at 2 questions"
    assert rows["s08"]["flags"] == "same wrong values as s07 at 2 questions"
    one = honest(klass)
    for sid in ("s07", "s08"):
        one[sid]["0:loss"] = 0.4242  # one shared wrong value is not enough
    rows = graded(klass, tmp_path, one)
    assert rows["s07"]["flags"] == rows["s08"]["flags"] == ""


def test_three_copied_answers_are_flagged_but_three_chance_matches_among_many_wrong_are_not(
    klass: Path, tmp_path: Path
) -> None:
    answers = honest(klass)
    keys = answers_of(klass)
    three = ["0:z1[1]", "0:a1[1]", "0:loss"]
    answers["s06"].update({q: keys["s07"][q] for q in three})  # the rest is s06's own, right
    answers["s05"] = {q: v * 1.37 for q, v in keys["s05"].items()}  # wrong throughout …
    answers["s05"].update({q: keys["s08"][q] for q in three})  # … and three meet s08's key
    rows = graded(klass, tmp_path, answers)
    assert rows["s06"]["flags"] == "answers match s07's numbers at 3 questions"
    assert not any(w in rows["s05"]["flags"] for w in COPY_WORDS)


def test_two_shared_values_among_many_wrong_answers_are_no_copy(klass: Path, tmp_path: Path) -> None:
    answers = honest(klass)
    keys = answers_of(klass)
    for sid, factor in (("s05", 1.37), ("s06", 1.51)):  # wrong throughout, each in their own way …
        answers[sid] = {q: v * factor for q, v in keys[sid].items()}
        answers[sid].update({"0:loss": 0.4242, "0:z1[2]": -0.3131})  # … and two values in common
    rows = graded(klass, tmp_path, answers)
    assert rows["s05"]["0:loss"] == rows["s06"]["0:z1[2]"] == "wrong"
    assert not any(w in rows[sid]["flags"] for sid in IDS for w in COPY_WORDS)
