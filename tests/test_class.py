"""`sheetnet class` and `sheetnet grade`: variants, student files that leak nothing, keys, grading."""

from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.classroom import exercise, mistakes
from sheetnet.classroom.classfolder import ClassOptions, draw_class
from sheetnet.classroom.grading import Tolerance
from sheetnet.classroom.questions import constants, evaluate_on, key_values, questions
from sheetnet.classroom.roster import Student
from sheetnet.classroom.variants import MAX_Z, MIN_GRADIENT, make_variant
from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.model import ids
from sheetnet.model.spec import load_spec, load_template
from tests.conftest import needs_libreoffice

TEMPLATE = "seed-004-2-2-2"
IDS = ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08"]


def run(*args: str) -> object:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of eight on the default template."""
    root = tmp_path_factory.mktemp("class")
    roster = root / "roster.csv"
    roster.write_text(
        "id,name,email\n" + "".join(f"{s},Name {s},x@y\n" for s in IDS[:-1]) + "s08,王小明,\n",
        encoding="utf-8",
    )
    result = run("class", roster, root / "class1", "--template", TEMPLATE, "--secret", "autumn-2026")
    assert result.exit_code == 0, result.output
    return root / "class1"


def answers_of(folder: Path) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    with open(folder / "key" / "answers.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            result.setdefault(row["id"], {})[f"{row['iteration']}:{row['quantity']}"] = float(row["answer"])
    return result


# --- the class folder ---------------------------------------------------------------------------


def test_class_folder_holds_students_keys_and_record(klass: Path) -> None:
    record = tomllib.loads((klass / "class.toml").read_text(encoding="utf-8"))
    assert [s["id"] for s in record["students"]] == IDS
    assert record["secret_hash"].startswith("sha256:")
    assert record["vary"] == ["inputs", "targets", "weights", "biases"] and record["decimals"] == 2
    for path in klass.rglob("*"):  # the secret itself is nowhere
        if path.is_file():
            assert b"autumn-2026" not in path.read_bytes(), path
    assert sorted(p.name for p in (klass / "students").iterdir()) == [f"{s}.xlsx" for s in IDS]
    book = openpyxl.load_workbook(klass / "students" / "s08.xlsx")
    assert book.sheetnames == ["Guide", "Network", "Exercise"]
    assert "王小明" in book["Network"]["A1"].value and "s08" in book["Exercise"]["A2"].value
    key = openpyxl.load_workbook(klass / "key" / "s08.xlsx")
    assert {"Training", "Working", "Exercise"} <= set(key.sheetnames)


def test_key_toml_rebuilds_the_key(klass: Path, tmp_path: Path) -> None:
    spec = load_spec(klass / "key" / "s03.toml")
    expected = answers_of(klass)["s03"]
    assert key_values(spec)["0:a1[1]"] == expected["0:a1[1]"]
    assert len(expected) == 37
    out = tmp_path / "rebuilt.xlsx"
    result = run("build", "--config", klass / "key" / "s03.toml", out)
    assert result.exit_code == 0, result.output
    training = openpyxl.load_workbook(out, data_only=True)["Training"]
    header = [c.value for c in training[3]]
    assert training.cell(4, header.index("a1[1]") + 1).value == pytest.approx(expected["0:a1[1]"], rel=1e-15)


def _printed(value: float) -> re.Pattern[str]:
    """The value printed with 4 to 17 significant digits, in the forms a file could hold it, as
    whole numbers (0.3109 is not found inside an unrelated 0.310997…)."""
    forms = set()
    for n in range(4, 18):
        g = f"{value:#.{n}g}"
        forms |= {g, g.upper(), format(Decimal(g), "f")}
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\d.])(?:{alternatives})(?![\d])")


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def test_the_leak_search_finds_answers_in_a_key(klass: Path) -> None:
    """The search below is not blind: the key file holds the answers and it finds them."""
    text = _parts(klass / "key" / "s01.xlsx")
    found = [
        k
        for k, v in answers_of(klass)["s01"].items()
        if any(_printed(v).search(b) for b in text.values())
    ]
    assert len(found) == 37


def test_no_student_file_leaks_an_answer(klass: Path) -> None:
    answers = answers_of(klass)
    for sid in IDS:
        text = _parts(klass / "students" / f"{sid}.xlsx")
        names = list(text)
        assert not any("comments" in n or "calcChain" in n or "chart" in n for n in names)
        workbook_xml = text["xl/workbook.xml"]
        assert "hidden" not in workbook_xml and "definedName" not in workbook_xml
        for key, value in answers[sid].items():
            hits = [(n, m.group()) for n, body in text.items() for m in [_printed(value).search(body)] if m]
            assert not hits, f"{sid}'s answer {key} = {value} appears in {hits}"


def test_the_same_secret_rebuilds_the_same_numbers_and_a_new_one_others() -> None:
    spec = load_template(TEMPLATE)
    students = [Student(f"p{n:02d}") for n in range(30)]
    options = ClassOptions(template=TEMPLATE)
    first = draw_class(spec, students, "autumn-2026", options)
    again = draw_class(spec, students, "autumn-2026", options)
    other = draw_class(spec, students, "spring-2027", options)
    assert [v.fingerprint for v in first] == [v.fingerprint for v in again]
    assert len({v.fingerprint for v in first}) == 30  # 30 students, 30 variants
    assert all(a.fingerprint != b.fingerprint for a, b in zip(first, other, strict=True))
    # One student rebuilt alone gets the same numbers; a late enrolment moves no one.
    alone = make_variant(
        spec, "autumn-2026", "p17", vary=options.vary, decimals=2, asked=options.ask, taken=set()
    )
    assert alone.spec == first[17].spec
    later = draw_class(spec, [*students, Student("late")], "autumn-2026", options)
    assert [v.fingerprint for v in later[:30]] == [v.fingerprint for v in first]


@pytest.mark.parametrize(
    "name", ["seed-004-2-2-2", "seed-000-classification", "xor", "iris", "seed-000-regression"]
)
def test_variants_meet_the_constraints(name: str) -> None:
    template = load_template(name)
    drawn = draw_class(template, [Student(f"q{n}") for n in range(6)], "k", ClassOptions(template=name))
    for v in drawn:
        spec = v.spec
        values = key_values(spec)
        assert all(w != 0 for layer in spec.weights for row in layer for w in row)
        assert all(x != 0 for row in spec.inputs for x in row)
        assert all(round(w, 2) == w for layer in spec.weights for row in layer for w in row)
        for layer, act in enumerate(spec.activations):
            if act in ("sigmoid", "tanh"):
                zs = [values[f"0:{q}"] for q in ids.forward(spec) if q.startswith(f"z{layer + 1}[")]
                assert max(abs(z) for z in zs) <= MAX_Z
        assert min(abs(values[f"0:{q}"]) for q in ids.gradients(spec)) >= MIN_GRADIENT
        if spec.classifies or name == "iris":
            assert spec.targets == template.targets  # one-hot (or 0/1) targets kept
        if name == "iris":
            assert spec.inputs == template.inputs  # CSV data kept; only the parameters vary
        assert spec.weights != template.weights


# --- grading ------------------------------------------------------------------------------------


def fill(
    klass: Path, sid: str, out: Path, answers: dict[str, object], network: dict[str, float] | None = None,
    sheet: str = "Exercise",
) -> Path:
    """A student's file with these answers typed (by question key), saved as `out`."""
    book = openpyxl.load_workbook(klass / "students" / f"{sid}.xlsx")
    ws = book[sheet]
    for r in range(exercise.FIRST_ROW, ws.max_row + 1):
        t, qid = ws.cell(r, exercise.ITER).value, ws.cell(r, exercise.ID).value
        if qid and f"{t}:{qid}" in answers:
            ws.cell(r, exercise.ANSWER).value = answers[f"{t}:{qid}"]
    for cell, value in (network or {}).items():
        book["Network"][cell] = value
    book.save(out)
    return out


def carried(
    sid_spec_path: Path,
    changes: dict[str, float] | None = None,
    rounding: int | None = None,
) -> dict[str, float]:
    """Every answer computed in order from the student's own earlier answers, with some answers
    replaced (changes) and each result rounded to `rounding` significant figures."""
    spec = load_spec(sid_spec_path)
    consts = constants(spec)
    own: dict[str, float] = {}
    result = {}
    for q in questions(spec):
        value = evaluate_on(spec, q.expr, own, consts)
        if rounding:
            value = float(f"{value:.{rounding}g}")
        value = (changes or {}).get(q.key, value)
        result[q.key] = value
        if q.iter == 0:
            own[q.qid] = value
    return result


def test_grading_a_class_gives_the_exact_gradebook(klass: Path, tmp_path: Path) -> None:
    keys = answers_of(klass)
    subs = tmp_path / "submissions"
    subs.mkdir()
    qs = [q.key for q in questions(load_template(TEMPLATE))]
    spec = {sid: klass / "key" / f"{sid}.toml" for sid in IDS}
    # s01: every answer right.
    fill(klass, "s01", subs / "s01.xlsx", keys["s01"])
    # s02: rounds every intermediate to 4 significant figures and carries them on.
    fill(klass, "s02", subs / "s02.xlsx", carried(spec["s02"], rounding=4))
    # s03: slips on z₃ (×1.3) and carries on correctly from it.
    slip = keys["s03"]["0:z1[1]"] * 1.3
    fill(klass, "s03", subs / "s03.xlsx", carried(spec["s03"], {"0:z1[1]": slip}))
    # s04: blank, a formula, a decimal comma and text that is no number; the rest right.
    s04 = dict(keys["s04"])
    s04.pop("0:loss")
    s04["0:z1[1]"] = "=" + repr(keys["s04"]["0:z1[1]"] - 0.25) + "+0.25"
    s04["0:a1[1]"] = repr(keys["s04"]["0:a1[1]"]).replace(".", ",")
    s04["0:z1[2]"] = "about a half"
    fill(klass, "s04", subs / "s04.xlsx", s04)
    # s05: the learning rate changed on the Network sheet; answers right for the recorded numbers.
    fill(klass, "s05", subs / "s05.xlsx", keys["s05"], network={"B4": 0.9})
    # s06 hands in a copy of s07's file, named for s06, after s07 handed in their own.
    own = fill(klass, "s07", subs / "s07.xlsx", keys["s07"])
    copy = fill(klass, "s07", subs / "s06-submission.xlsx", keys["s07"])
    os.utime(own, (1_000_000_000, 1_000_000_000))
    os.utime(copy, (1_000_000_200, 1_000_000_200))
    # s08 submits twice; the newer file counts.
    old = fill(klass, "s08", subs / "s08-first.xlsx", {})
    new = fill(klass, "s08", subs / "s08-second.xlsx", keys["s08"])
    os.utime(old, (1_000_000_000, 1_000_000_000))
    os.utime(new, (1_000_000_100, 1_000_000_100))
    (subs / "notes.xlsx").write_bytes(b"not a workbook")

    grades = tmp_path / "grades.csv"
    result = run("grade", klass, *sorted(subs.iterdir()), "--gradebook", grades)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(grades.open(encoding="utf-8")))
    assert rows[0] == ["id", "name", "score", "max", "percent", *qs, "flags", "file"]
    book = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert list(book) == IDS  # roster order
    n = str(len(qs))
    assert [book["s01"][k] for k in ("score", "max", "percent", "flags", "file")] == [
        n,
        n,
        "100.0",
        "",
        "s01.xlsx",
    ]
    assert book["s02"]["score"] == n  # rounded intermediates: full marks
    assert {book["s02"][q] for q in qs} <= {"right", "ecf"}
    s03 = [book["s03"][q] for q in qs]
    assert s03[0] == "wrong" and book["s03"]["0:a1[1]"] == "ecf" and book["s03"]["score"] == str(len(qs) - 1)
    assert book["s03"]["0:z1[2]"] == "right"  # z₄ does not read z₃
    assert [book["s04"][q] for q in ("0:loss", "0:z1[1]", "0:a1[1]", "0:z1[2]")] == [
        "blank",
        "right",
        "right",
        "wrong",
    ]
    assert book["s04"]["score"] == str(len(qs) - 2)
    assert book["s05"]["score"] == n
    assert book["s05"]["flags"] == "Network numbers changed: B4 (graded on the recorded numbers)"
    assert book["s06"]["score"] == "" and book["s06"]["flags"] == (
        "missing; s06-submission.xlsx, named for s06, is s07's file"
    )
    assert book["s07"]["score"] == n and book["s07"]["file"] == "s07.xlsx"
    assert book["s07"]["flags"] == (
        "submitted twice: s07.xlsx, s06-submission.xlsx (s07.xlsx counts); "
        "s06-submission.xlsx carries s07's identity but is named for s06"
    )
    assert book["s08"]["score"] == n and book["s08"]["file"] == "s08-second.xlsx"
    assert book["s08"]["flags"] == "submitted twice: s08-first.xlsx, s08-second.xlsx (s08-second.xlsx counts)"
    assert "not graded" in result.output and "notes.xlsx" in result.output  # a foreign file, said so
    assert re.search(r"0:z1\[1\]\s+z₃\s+right 6  ecf 0  wrong 1  blank 0", result.output)


def test_trivial_wrong_answers_carry_nothing_forward(klass: Path, tmp_path: Path) -> None:
    # z₃ = 0 and then a₃ = σ(0) = 0.5: consistent, but z₃ = 0 is a guess, so a₃ is wrong.
    answers = {"0:z1[1]": 0, "0:a1[1]": 0.5}
    path = fill(klass, "s01", tmp_path / "s01.xlsx", answers)
    grades = tmp_path / "g.csv"
    assert run("grade", klass, path, "--gradebook", grades).exit_code == 0
    row = next(iter(csv.DictReader(grades.open(encoding="utf-8"))))
    assert (row["0:z1[1]"], row["0:a1[1]"]) == ("wrong", "wrong")


def _mistake(name: str, key: str, answer: float) -> str | None:
    spec = load_template(name)
    q = next(q for q in questions(spec) if q.key == key)
    values = key_values(spec)
    return mistakes.name_mistake(spec, q, answer, values, values, constants(spec), Tolerance().close)


def test_each_named_mistake_is_recognised() -> None:
    k = key_values(load_template(TEMPLATE))
    lr = 0.5
    assert _mistake(TEMPLATE, "0:dW2[2,1]", -k["0:dW2[2,1]"]) == "sign"
    assert _mistake(TEMPLATE, "0:delta2[1]", k["0:a2[1]"] - 0.5) == "sigma_prime"  # (a₅ − t₁) alone
    assert _mistake(TEMPLATE, "1:W2[1,1]", 0.25 - k["0:dW2[1,1]"]) == "lr_forgotten"
    assert _mistake(TEMPLATE, "1:W2[1,1]", 0.25 - lr * lr * k["0:dW2[1,1]"]) == "lr_twice"
    assert _mistake(TEMPLATE, "0:dW2[1,2]", k["0:dW2[2,1]"]) == "transposed"
    # z₃ with w₁₃ for w₃₁ … : the weights of the other neuron's row, w₃₁·x₁ + w₄₁·x₂ + b₃
    assert _mistake(TEMPLATE, "0:z1[1]", 0.05 * 0.02 + 0.15 * 0.04 + 0.5) == "transposed"
    assert _mistake(TEMPLATE, "0:loss", 2 * k["0:loss"]) == "half_dropped"
    assert _mistake(TEMPLATE, "0:loss", k["0:loss"] / 2) == "half_doubled"
    r = key_values(load_template("seed-000-regression"))
    assert _mistake("seed-000-regression", "0:dW1[1,1]", 2 * r["0:dW1[1,1]"]) == "mean_as_sum"
    assert _mistake(TEMPLATE, "0:z1[1]", 0.123) is None


def test_chinese_class_and_feedback(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nz1,李雷\nz2,韩梅梅\n", encoding="utf-8")
    folder = tmp_path / "班级"
    result = run("class", roster, folder, "--secret", "秋季", "--lang", "zh", "--ask", "forward,loss")
    assert result.exit_code == 0, result.output
    student = openpyxl.load_workbook(folder / "students" / "z1.xlsx")
    assert student.sheetnames == ["说明", "网络", "练习"]
    keys = answers_of(folder)["z1"]
    assert len(keys) == 9
    wrong = {**keys, "0:loss": 2 * keys["0:loss"]}
    submitted = fill(folder, "z1", tmp_path / "z1.xlsx", wrong, sheet="练习")
    result = run("grade", folder, submitted, "--feedback", tmp_path / "fb", "--gradebook", tmp_path / "g.csv")
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "fb" / "z1.xlsx")["反馈"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "反馈：z1 李雷"
    loss_row = next(r for r in cells if r[0] == "L")
    assert loss_row[5] == "错误" and loss_row[6] == "漏了 ½Σ(y−t)² 中的 ½"
    assert loss_row[3] == pytest.approx(keys["0:loss"], rel=1e-15)
    a_row = next(r for r in cells if r[0] == "a₃")
    assert (
        a_row[5] == "正确"
        and a_row[2].startswith("σ(")
        and a_row[2].endswith(f"= {a_row[3]:.7f}".rstrip("0"))
    )
    rows = list(csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8")))
    assert rows[0]["name"] == "李雷" and rows[1]["flags"] == "missing"
    assert math.isclose(float(rows[0]["percent"]), 100 * 8 / 9, abs_tol=0.05)


def test_a_file_of_another_class_is_flagged(klass: Path, tmp_path: Path) -> None:
    """Same student id, another class (another secret): not this student's numbers; and an id the
    class does not know gets a row of its own."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\ns01\nzz9\n", encoding="utf-8")
    other = tmp_path / "other"
    assert run("class", roster, other, "--template", TEMPLATE, "--secret", "another").exit_code == 0
    keys = answers_of(other)
    mine = fill(other, "s01", tmp_path / "s01.xlsx", keys["s01"])
    stranger = fill(other, "zz9", tmp_path / "zz9.xlsx", keys["zz9"])
    grades = tmp_path / "g.csv"
    assert run("grade", klass, mine, stranger, "--gradebook", grades).exit_code == 0
    rows = {r["id"]: r for r in csv.DictReader(grades.open(encoding="utf-8"))}
    assert rows["s01"]["flags"].startswith("identity does not match the roster's record of this student; "
                                           "Network numbers changed: ")
    assert rows["s01"]["0:z1[1]"] == "wrong"  # graded on s01's numbers of this class
    assert list(rows)[-1] == "zz9" and rows["zz9"]["flags"] == "not in the class"


@pytest.mark.parametrize("name", ["seed-000-classification", "iris", "seed-001-linear-system"])
def test_every_kind_of_network_makes_a_class_that_grades(name: str, tmp_path: Path) -> None:
    """Classification, several samples (summed), minibatches of CSV data: key answers are right."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\na1\na2\n", encoding="utf-8")
    folder = tmp_path / "c"
    result = run("class", roster, folder, "--template", name, "--secret", "s")
    assert result.exit_code == 0, result.output
    keys = answers_of(folder)
    text = _parts(folder / "students" / "a1.xlsx")
    for key, value in keys["a1"].items():
        assert not any(_printed(value).search(body) for body in text.values()), key
    path = fill(folder, "a1", tmp_path / "a1.xlsx", keys["a1"])
    grades = tmp_path / "g.csv"
    assert run("grade", folder, path, "--gradebook", grades).exit_code == 0
    row = next(csv.DictReader(grades.open(encoding="utf-8")))
    assert row["score"] == row["max"] == str(len(keys["a1"]))


@pytest.mark.libreoffice
@needs_libreoffice
def test_handouts_fit_on_a_few_pages_and_name_the_student(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nh1,Grace Hopper\n", encoding="utf-8")
    result = run("class", roster, tmp_path / "c", "--secret", "s", "--pdf")
    assert result.exit_code == 0, result.output
    pages = _pdf_pages(tmp_path / "c" / "students" / "h1.pdf")
    assert 2 <= len(pages) <= 4
    assert all("h1 Grace Hopper" in page for page in pages)  # the header of every page
    key_pages = _pdf_pages(tmp_path / "c" / "key" / "h1.pdf")
    assert 2 <= len(key_pages) <= 4 and all("h1 Grace Hopper — KEY" in page for page in key_pages)
    a3 = answers_of(tmp_path / "c")["h1"]["0:a1[1]"]
    assert re.search(rf"(?<![\d.]){re.escape(f'{a3:.10g}')[:8]}", key_pages[-1])  # the answers printed
    out = tmp_path / "ex.xlsx"
    result = run("exercise", out, "--pdf", tmp_path / "handout.pdf")
    assert result.exit_code == 0, result.output
    pages = _pdf_pages(tmp_path / "handout.pdf")
    assert 2 <= len(pages) <= 4 and "Exercise: iteration 1 by hand" in pages[-1]


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def test_ecf_credit_scales_the_carried_answers(klass: Path, tmp_path: Path) -> None:
    keys = answers_of(klass)
    slip = keys["s03"]["0:z1[1]"] * 1.3
    path = fill(klass, "s03", tmp_path / "s03.xlsx", carried(klass / "key" / "s03.toml", {"0:z1[1]": slip}))
    grades = tmp_path / "g.csv"
    assert run("grade", klass, path, "--gradebook", grades, "--ecf-credit", "0.5").exit_code == 0
    row = next(r for r in csv.DictReader(grades.open(encoding="utf-8")) if r["id"] == "s03")
    verdicts = [v for k, v in row.items() if ":" in k]
    assert verdicts.count("wrong") == 1 and verdicts.count("ecf") > 5
    assert float(row["score"]) == verdicts.count("right") + 0.5 * verdicts.count("ecf")


@pytest.mark.libreoffice
@needs_libreoffice
def test_a_file_saved_by_libreoffice_keeps_its_identity_and_grades(klass: Path, tmp_path: Path) -> None:
    """Students fill their file in a spreadsheet program: LibreOffice's saved copy (custom
    properties, typed formulas, its own number writing) grades like the original."""
    keys = answers_of(klass)["s02"]
    answers: dict[str, object] = dict(keys)
    answers["0:z1[2]"] = "=" + repr(keys["0:z1[2]"] - 0.5) + "+0.5"
    typed = fill(klass, "s02", tmp_path / "typed.xlsx", answers)
    saved = recalculate(typed, tmp_path / "whatever-the-platform-called-it.xlsx")
    grades = tmp_path / "g.csv"
    assert run("grade", klass, saved, "--gradebook", grades).exit_code == 0
    row = next(r for r in csv.DictReader(grades.open(encoding="utf-8")) if r["id"] == "s02")
    assert (row["score"], row["flags"], row["file"]) == ("37", "", saved.name)
