"""A submission is identified by its Network numbers when its identity (the document's custom
properties) is lost, as Excel on the web or Gnumeric may lose it, or contradicts its numbers."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from sheetnet.classroom.identify import IDENTIFIED
from sheetnet.classroom.submission import custom_properties
from sheetnet.engines import gnumeric, libreoffice
from sheetnet.model.spec import load_template
from tests.conftest import needs_gnumeric, needs_libreoffice
from tests.test_class import IDS, TEMPLATE, answers_of, fill, questions, run

FULL = str(len(questions(load_template(TEMPLATE))))


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("identity")
    (root / "roster.csv").write_text("id\n" + "\n".join(IDS) + "\n", encoding="utf-8")
    result = run("class", root / "roster.csv", root / "c", "--template", TEMPLATE, "--secret", "autumn-2026")
    assert result.exit_code == 0, result.output
    return root / "c"


def rewrite_properties(src: Path, dst: Path, old: bytes | None = None, new: bytes = b"") -> Path:
    """src without docProps/custom.xml (old None), or with old replaced by new in it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "docProps/custom.xml":
                if old is None:
                    continue
                data = data.replace(old, new)
            elif old is None and item.filename in ("[Content_Types].xml", "_rels/.rels"):
                data = data.replace(b"docProps/custom.xml", b"docProps/gone.xml")
            zout.writestr(item, data)
    return dst


def graded(klass: Path, tmp_path: Path, *files: Path) -> dict[str, dict[str, str]]:
    grades = tmp_path / "g.csv"
    result = run("grade", klass, *files, "--gradebook", grades)
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in csv.DictReader(grades.open(encoding="utf-8"))}


def test_a_file_without_its_properties_is_identified_by_its_numbers(klass: Path, tmp_path: Path) -> None:
    keys = answers_of(klass)
    typed = fill(klass, "s03", tmp_path / "typed.xlsx", keys["s03"])
    bare = rewrite_properties(typed, tmp_path / "upload.xlsx")
    assert custom_properties(bare) == {}
    rows = graded(klass, tmp_path, bare)
    assert (rows["s03"]["score"], rows["s03"]["flags"]) == (FULL, IDENTIFIED)
    assert rows["s03"]["file"] == "upload.xlsx"
    assert rows["s04"]["flags"] == "missing" and "?" not in rows


def test_an_identity_its_numbers_contradict_is_flagged(klass: Path, tmp_path: Path) -> None:
    """s04's identity written into s03's file: the numbers say s03, and both are said."""
    keys = answers_of(klass)
    typed = fill(klass, "s03", tmp_path / "typed.xlsx", keys["s03"])
    lying = rewrite_properties(typed, tmp_path / "lying.xlsx", b">s03<", b">s04<")
    assert custom_properties(lying)["sheetnet-student"] == "s04"
    rows = graded(klass, tmp_path, lying)
    assert rows["s03"]["score"] == FULL
    assert rows["s03"]["flags"] == f"{IDENTIFIED}: lying.xlsx says it is s04's but holds s03's numbers"
    assert rows["s04"]["flags"] == "missing"


def test_one_edited_number_still_identifies_a_file_without_identity(klass: Path, tmp_path: Path) -> None:
    keys = answers_of(klass)
    typed = fill(klass, "s05", tmp_path / "typed.xlsx", keys["s05"], network={"B4": 0.9})
    rows = graded(klass, tmp_path, rewrite_properties(typed, tmp_path / "x.xlsx"))
    assert rows["s05"]["score"] == FULL
    changed = "Network numbers changed: B4 (graded on the recorded numbers)"
    assert rows["s05"]["flags"] == f"{IDENTIFIED}; {changed}"


def test_numbers_of_no_student_and_no_identity_stay_a_stranger(klass: Path, tmp_path: Path) -> None:
    keys = answers_of(klass)
    edits = {"B4": 0.9, "B30": 0.123, "C30": 0.321, "B34": 0.7}  # lr, x₁, x₂, w₁₃
    typed = fill(klass, "s05", tmp_path / "typed.xlsx", keys["s05"], network=edits)
    rows = graded(klass, tmp_path, rewrite_properties(typed, tmp_path / "x.xlsx"))
    assert rows["?"]["flags"] == "no student identity in the file"
    assert rows["s05"]["flags"] == "missing"


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param(libreoffice.recalculate, marks=[pytest.mark.libreoffice, needs_libreoffice],
                     id="libreoffice"),
        pytest.param(gnumeric.recalculate, marks=[pytest.mark.gnumeric, needs_gnumeric], id="gnumeric"),
    ],
)
@pytest.mark.parametrize("stripped", [False, True], ids=["kept", "stripped"])
def test_a_file_saved_by_another_program_grades_for_the_right_student(
    klass: Path, tmp_path: Path, engine: object, stripped: bool
) -> None:
    keys = answers_of(klass)
    typed = fill(klass, "s06", tmp_path / "typed.xlsx", keys["s06"])
    if stripped:
        typed = rewrite_properties(typed, tmp_path / "bare.xlsx")
    saved = engine(typed, tmp_path / "resaved.xlsx")  # type: ignore[operator]
    rows = graded(klass, tmp_path, saved)
    assert (rows["s06"]["score"], rows["s06"]["file"]) == (FULL, "resaved.xlsx")
    kept = custom_properties(saved).get("sheetnet-student") == "s06"
    assert rows["s06"]["flags"] == ("" if kept else IDENTIFIED)
    assert not stripped or not kept
