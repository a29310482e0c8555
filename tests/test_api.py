"""The Python API: the README's example runs, the functions give the numbers the CLI gives, bad
input raises SheetnetError with the CLI's one-line message, and `import sheetnet` stays cheap."""

from __future__ import annotations

import importlib.metadata
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

import sheetnet
from sheetnet.cli import app
from sheetnet.model.reference import train as train_reference
from sheetnet.model.spec import load_template
from tests.conftest import needs_libreoffice

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def readme_example() -> str:
    """The README's notebook example: the python code block after the "Python" heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_and_says_what_it_claims(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = readme_example()
    assert "import sheetnet" in code and "sheetnet.check(" in code
    names: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), names)
    run, report = names["run"], names["report"]
    assert len(run) == 501  # iterations=500: rows 0..500
    assert round(run.loc[0, "a1[1]"], 7) == 0.6236336  # seed 004's a3
    assert report.ok and report.wrong == 0 and report.cells > 0
    book = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    assert "学习率对比" in book.sheetnames  # lang="zh", compare_lr=...


def test_train_is_the_reference_core_with_the_training_ids() -> None:
    spec = sheetnet.template("seed-004-2-2-2").replace(iterations=20)
    run = sheetnet.train(spec)
    expected = train_reference(load_template("seed-004-2-2-2").replace(iterations=20))
    assert list(run.columns) == list(expected.columns)
    np.testing.assert_array_equal(run.to_numpy(), expected.to_numpy())
    assert round(run.loc[0, "a1[2]"], 7) == 0.6250409


def test_load_spec_and_spec_replace(tmp_path: Path) -> None:
    path = tmp_path / "net.toml"
    path.write_text((ROOT / "templates" / "xor.toml").read_text(encoding="utf-8"), encoding="utf-8")
    spec = sheetnet.load_spec(str(path))
    assert isinstance(spec, sheetnet.Spec) and spec.name == "net" and spec.sizes == (2, 2, 1)
    assert spec.replace(learning_rate=2.0).learning_rate == 2.0
    assert "xor" in sheetnet.templates()


def test_build_and_check_report_progress(tmp_path: Path) -> None:
    spec = sheetnet.template().replace(iterations=30)
    calls: list[tuple[int, int, str]] = []
    out = sheetnet.build(spec, tmp_path / "p.xlsx", progress=lambda *a: calls.append(a))
    assert out == tmp_path / "p.xlsx" and out.is_file()
    rows = [(d, t) for d, t, w in calls if w == "Training sheet rows"]
    assert rows[-1] == (31, 31) and all(t == 31 for _, t in rows)
    assert {"training with NumPy", "zipping the workbook"} <= {w for *_, w in calls}
    calls.clear()
    report = sheetnet.check(out, progress=lambda *a: calls.append(a))
    assert report.ok
    columns = [(d, t) for d, t, w in calls if w == "recomputing Training columns"]
    assert columns[0][0] == 0 and columns[-1][0] == columns[-1][1] == 38  # the 2-2-2 net's ids
    assert [d for d, _ in columns] == sorted(d for d, _ in columns)
    assert {"reading the workbook", "training with NumPy"} <= {w for *_, w in calls}


def test_the_row_loop_reports_every_few_thousand_rows_not_every_row(tmp_path: Path) -> None:
    spec = sheetnet.template().replace(iterations=20_000)
    rows: list[int] = []
    sheetnet.build(spec, tmp_path / "big.xlsx",
                   progress=lambda d, t, w: rows.append(d) if w == "Training sheet rows" else None)
    # 38 columns: a report every 50,000 // 38 = 1,315 rows, 16 in all, plus the final one
    assert len(rows) == math.ceil(20_001 / 1_315) + 1
    assert rows[-1] == 20_001 and rows == sorted(rows)


def cli_error(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    return result.stderr.strip().removeprefix("sheetnet: error: ")


@pytest.mark.parametrize(("call", "args"), [
    (lambda tmp: sheetnet.template("nope"), ["build", "-t", "nope", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.load_spec(tmp / "missing.toml"), ["train", "-c", "{tmp}/missing.toml"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "a.txt"), ["build", "{tmp}/a.txt"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "no" / "a.xlsx"), ["build", "{tmp}/no/a.xlsx"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "a.xlsx", compare_lr=[0.1, -1.0]),
     ["build", "--compare-lr", "0.1,-1", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "a.xlsx", summary_every=0),
     ["build", "--summary-every", "0", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "a.xlsx", paper="a3"),
     ["build", "--paper", "a3", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.build(sheetnet.template(), tmp / "a.xlsx", lang="fr"),
     ["build", "--lang", "fr", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.check(tmp / "missing.xlsx"), ["check", "{tmp}/missing.xlsx"]),
    (lambda tmp: sheetnet.check(tmp / "a.xlsx", engine="excel"),
     ["check", "--engine", "excel", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.check(tmp / "a.xlsx", rtol=-1.0), ["check", "--rtol", "-1", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.pdf(tmp / "missing.xlsx", tmp / "a.pdf"),
     ["pdf", "{tmp}/missing.xlsx", "{tmp}/a.pdf"]),
    (lambda tmp: sheetnet.exercise(sheetnet.template(), tmp / "a.xlsx", ask=["forward", "sideways"]),
     ["exercise", "--ask", "forward,sideways", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.exercise(sheetnet.template(), tmp / "a.xlsx", sig_figs=0),
     ["exercise", "--sig-figs", "0", "{tmp}/a.xlsx"]),
    (lambda tmp: sheetnet.make_class(sheetnet.template(), tmp / "r.csv", tmp / "c", secret=""),
     ["class", "{tmp}/r.csv", "{tmp}/c"]),
    (lambda tmp: sheetnet.make_class(sheetnet.template(), tmp / "r.csv", tmp / "c", secret="s",
                                     vary="size"),
     ["class", "--secret", "s", "--vary", "size", "{tmp}/r.csv", "{tmp}/c"]),
    (lambda tmp: sheetnet.grade(tmp, [], ecf_credit=2),
     ["grade", "--ecf-credit", "2", "{tmp}", "{tmp}/a.xlsx"]),
])
def test_errors_carry_the_clis_one_line_message(tmp_path: Path, call, args: list[str]) -> None:
    with pytest.raises(sheetnet.SheetnetError) as caught:
        call(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and message
    assert message == cli_error(*(a.format(tmp=tmp_path) for a in args))
    assert not list(tmp_path.glob("*.xlsx")) and not list(tmp_path.glob("*.pdf"))


def test_spec_replace_errors_are_sheetnet_errors() -> None:
    with pytest.raises(sheetnet.SheetnetError, match=r"training\.learning_rate must be a positive number"):
        sheetnet.template().replace(learning_rate=-1.0)


def test_the_public_surface() -> None:
    for name in sheetnet.__all__:
        assert getattr(sheetnet, name) is not None
        assert name in dir(sheetnet)
    for name in ("template", "load_spec", "train", "build", "check", "pdf", "exercise", "make_class",
                 "grade"):
        assert getattr(sheetnet, name).__doc__, name
    assert sheetnet.check.__module__ == "sheetnet.api"  # not shadowed by a subpackage
    with pytest.raises(AttributeError):
        sheetnet.no_such_name  # noqa: B018
    assert sheetnet.__version__ == importlib.metadata.version("sheetnet")


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_importing_the_package_or_its_errors_loads_no_heavy_library() -> None:
    code = ("import sys, sheetnet, sheetnet.errors; sheetnet.__version__; sheetnet.SheetnetError;"
            " print(sorted(m for m in ('pandas', 'formulas', 'xlsxwriter', 'openpyxl', 'numpy')"
            " if m in sys.modules))")
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_python_dash_m_and_version() -> None:
    result = run_python("-m", "sheetnet", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sheetnet {sheetnet.__version__}\n"
    usage = run_python("-m", "sheetnet", "templates", "-h")
    assert usage.returncode == 0 and "Usage: sheetnet templates" in usage.stdout


def command_names() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands]


@pytest.mark.parametrize("command", [[], *([name] for name in command_names())])
def test_dash_h_is_help_on_every_command(command: list[str]) -> None:
    short, long = runner.invoke(app, [*command, "-h"]), runner.invoke(app, [*command, "--help"])
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout and "Usage:" in short.stdout


@pytest.mark.libreoffice
@needs_libreoffice
def test_build_with_a_pdf_writes_both(tmp_path: Path) -> None:
    stages: set[str] = set()
    sheetnet.build(sheetnet.template().replace(iterations=5), tmp_path / "a.xlsx", pdf=tmp_path / "a.pdf",
                   paper="letter", progress=lambda d, t, w: stages.add(w))
    assert (tmp_path / "a.xlsx").is_file()
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    assert "printing to PDF in LibreOffice" in stages


def test_grade_returns_the_gradebook_the_cli_writes(tmp_path: Path) -> None:
    """A class of two, one blank file and one with the key's first answer typed in."""
    from sheetnet.classroom import exercise
    from sheetnet.classroom.grading import Class

    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    spec = sheetnet.template("seed-004-2-2-2")
    folder = sheetnet.make_class(spec, roster, tmp_path / "c", secret="x", ask="forward")
    klass = Class.open(folder)
    assert [s.id for s in klass.students] == ["s1", "s2"]
    key = (folder / "key" / "answers.csv").read_text(encoding="utf-8").splitlines()
    first = key[1].split(",")  # id, iteration, quantity, label, answer of s1's first question
    assert first[0] == "s1"
    book = openpyxl.load_workbook(folder / "students" / "s1.xlsx")
    ws = book["Exercise"]
    row = next(r for r in range(exercise.FIRST_ROW, ws.max_row + 1)
               if ws.cell(r, exercise.ID).value == first[2])
    ws.cell(row, exercise.ANSWER).value = float(first[4])
    book.save(tmp_path / "s1.xlsx")
    grades = sheetnet.grade(folder, [tmp_path / "s1.xlsx", folder / "students" / "s2.xlsx"],
                            gradebook=tmp_path / "book.csv")
    assert grades.summary[0] == "2 of 2 students graded"
    header, ann, bo = grades.rows
    assert header[:5] == ["id", "name", "score", "max", "percent"]
    n = len(header) - 7  # the questions
    assert ann[:5] == ["s1", "Ann", "1", str(n), f"{100 / n:.1f}"]
    assert bo[:3] == ["s2", "Bo", "0"]
    assert (tmp_path / "book.csv").read_text(encoding="utf-8").splitlines()[1].startswith("s1,Ann,1,")
    assert grades.warnings == []
