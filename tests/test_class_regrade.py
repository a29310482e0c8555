"""Regrading with --previous: per student what changed, the new gradebook written atomically."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_class import answers_of, carried, fill, run

Graded = tuple[Path, list[Path], Path]  # the class, three students' files, the first gradebook (two)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = tmp_path_factory.mktemp("regrade")
    (root / "roster.csv").write_text("id\nr1\nr2\nr3\n", encoding="utf-8")
    folder = root / "c"
    assert run("class", root / "roster.csv", folder, "--secret", "s", "--ask", "forward,loss").exit_code == 0
    keys = answers_of(folder)
    slip = carried(folder / "key" / "r2.toml", {"0:z1[1]": keys["r2"]["0:z1[1]"] * 1.3})
    rounded = {k: float(f"{v:.3g}") for k, v in keys["r3"].items()}  # 3 significant figures
    files = [
        fill(folder, "r1", root / "r1.xlsx", keys["r1"]),
        fill(folder, "r2", root / "r2.xlsx", {k: v for k, v in slip.items() if k in keys["r2"]}),
        fill(folder, "r3", root / "r3.xlsx", rounded),
    ]
    first = root / "first.csv"
    result = run("grade", folder, *files[:2], "--gradebook", first)
    assert result.exit_code == 0, result.output
    return folder, files, first


def test_a_regrade_prints_what_changed_for_whom(graded: Graded, tmp_path: Path) -> None:
    folder, files, first = graded
    book = tmp_path / "grades.csv"
    book.write_bytes(first.read_bytes())
    result = run("grade", folder, *files, "--gradebook", book, "--previous", book, "--ecf-credit", "0.5")
    assert result.exit_code == 0, result.output
    before = {r["id"]: r for r in csv.DictReader(first.open(encoding="utf-8"))}
    after = {r["id"]: r for r in csv.DictReader(book.open(encoding="utf-8"))}
    ecf = [q for q, v in after["r2"].items() if v == "ecf"]
    assert ecf and float(after["r2"]["score"]) == float(before["r2"]["score"]) - 0.5 * len(ecf)
    lines = result.output.split("changes since grades.csv:\n")[1].splitlines()
    assert lines[0] == f"  r2: score {before['r2']['score']} → {after['r2']['score']}"
    assert (lines[1].startswith("  r3: score - → ") and "→ wrong" in lines[1]) or "→ right" in lines[1]
    assert len(lines) == 3 and lines[2].startswith("wrote ")  # r1 unchanged: not listed


def test_the_same_grading_says_no_changes(graded: Graded) -> None:
    folder, files, first = graded
    result = run("grade", folder, *files[:2], "--previous", first)
    assert result.exit_code == 0 and "no changes since first.csv" in result.output


def test_a_verdict_change_is_listed_per_question(graded: Graded, tmp_path: Path) -> None:
    folder, files, first = graded
    out = tmp_path / "g.csv"
    result = run("grade", folder, *files, "--gradebook", out, "--previous", first, "--sig-figs", "2")
    assert result.exit_code == 0, result.output
    r3 = next(line for line in result.output.splitlines() if line.startswith("  r3: "))
    rows = {r["id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert r3 == f"  r3: score - → {rows['r3']['score']}; " + "; ".join(
        f"{q} - → {v}" for q, v in rows["r3"].items() if ":" in q)


def test_a_previous_file_that_is_no_gradebook_is_refused(graded: Graded, tmp_path: Path) -> None:
    folder, files, _ = graded
    bad = tmp_path / "bad.csv"
    bad.write_text("Student,ID\nx,1\n", encoding="utf-8")
    out = tmp_path / "new.csv"
    result = run("grade", folder, *files, "--gradebook", out, "--previous", bad)
    assert result.exit_code != 0 and "--previous" in result.output
    assert "not a plain gradebook" in result.output
    assert not out.exists() and "Traceback" not in result.output


def test_a_read_only_gradebook_is_not_overwritten(graded: Graded, tmp_path: Path) -> None:
    folder, files, first = graded
    book = tmp_path / "grades.csv"
    book.write_bytes(first.read_bytes())
    book.chmod(0o444)
    result = run("grade", folder, *files, "--gradebook", book, "--previous", book, "--ecf-credit", "0")
    assert result.exit_code != 0 and "read-only" in result.output
    assert book.read_bytes() == first.read_bytes()
