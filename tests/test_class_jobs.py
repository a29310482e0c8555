"""`sheetnet class` in worker processes (--jobs): the same folder whatever the number of workers
and the same files as each student's workbooks built alone; errors and Ctrl-C as in one process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sheetnet import memo
from sheetnet.classroom import classfolder
from sheetnet.classroom.classfolder import ClassOptions, make_class, with_identity
from sheetnet.classroom.exercise import Setup, build_exercise
from sheetnet.classroom.roster import Student
from sheetnet.cli import app
from sheetnet.model.spec import load_template
from sheetnet.sheets import context
from tests.conftest import ctrl_c_as_at_a_terminal

TEMPLATE = "seed-004-2-2-2"
STUDENTS = [Student(f"s{n}", f"Name {n}") for n in range(1, 6)] + [Student("s6", "王小明")]
# XlsxWriter stamps each file with the time it was written (docProps/core.xml); nothing else differs.
STAMP = re.compile(rb"<dcterms:(created|modified) [^>]*>[^<]*<")
HEARD: dict[int, list[tuple[int, int, str]]] = {}  # the progress each class reported, by jobs


def parts(path: Path) -> dict[str, bytes]:
    """A file's contents: an xlsx by its unzipped parts, timestamps masked; anything else whole."""
    if path.suffix != ".xlsx":
        return {"": path.read_bytes()}
    with zipfile.ZipFile(path) as z:
        return {name: STAMP.sub(b"<stamp<", z.read(name)) for name in z.namelist()}


def contents(folder: Path) -> dict[str, dict[str, bytes]]:
    return {str(p.relative_to(folder)): parts(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The same class written by one process and by two worker processes."""
    root = tmp_path_factory.mktemp("jobs")
    spec, options = load_template(TEMPLATE), ClassOptions(template=TEMPLATE, lang="zh")
    made = {}
    pools = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(classfolder, "PER_WORKER", 2)  # workers for a class of six
        mp.setattr(classfolder, "ProcessPoolExecutor", CountedPool)
        for jobs in (1, 2):
            made[jobs], heard = root / f"jobs{jobs}", HEARD.setdefault(jobs, [])
            make_class(spec, STUDENTS, made[jobs], secret="autumn", options=options, jobs=jobs,
                       progress=lambda *report, heard=heard: heard.append(report))
    assert pools == [2]  # jobs=1 wrote in this process, jobs=2 in two workers
    return made


def test_the_folder_is_the_same_whatever_the_number_of_workers(classes: dict[int, Path]) -> None:
    one, two = contents(classes[1]), contents(classes[2])
    assert len(one) == 3 + 3 * len(STUDENTS)  # class.toml, template.toml, answers.csv; 3 files each
    assert one.keys() == two.keys()
    for name in one:
        assert one[name] == two[name], name


def test_progress_counts_the_students_in_roster_order_in_workers_too(classes: dict[int, Path]) -> None:
    n = len(STUDENTS)
    for jobs in (1, 2):
        assert [h for h in HEARD[jobs] if h[2] == "student files and keys"] == [
            (done, n, "student files and keys") for done in range(1, n + 1)
        ]


def test_each_students_files_equal_their_workbooks_built_alone(
    classes: dict[int, Path], tmp_path: Path
) -> None:
    """A worker builds many students one after another, sharing what their networks have in
    common and one NumPy run a student; a workbook built alone, with nothing remembered and its
    own training, must come out the same."""
    options = ClassOptions(template=TEMPLATE, lang="zh")
    spec = load_template(TEMPLATE)
    drawn = classfolder.draw_class(spec, STUDENTS, "autumn", options)
    for student, variant in zip(STUDENTS, drawn, strict=True):
        for mode, folder in (("student", "students"), ("key", "key")):
            _forget_everything()
            alone = build_exercise(
                with_identity(variant.spec, student),
                tmp_path / f"{mode}-{student.id}.xlsx",
                setup=Setup(mode=mode, student_id=student.id, student_name=student.name),
                lang="zh",
                in_memory=True,  # as a class writes them (shared strings, not inline ones)
                properties=(
                    (classfolder.STUDENT_PROPERTY, student.id),
                    (classfolder.VARIANT_PROPERTY, variant.fingerprint),
                ),
            )
            assert parts(alone) == parts(classes[2] / folder / f"{student.id}.xlsx"), (mode, student)


def _forget_everything() -> None:
    memo.forget()
    context._REWRITTEN.clear()


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\ns1\n", encoding="utf-8")
    command = ["class", str(roster), str(tmp_path / "c"), "--secret", "s", "--jobs", "0"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert result.output == "sheetnet: error: --jobs must be 1 or more (1: no worker processes), got 0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_in_a_worker_is_the_same_one_line(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last student's name makes a title too long for a cell: found while writing their files,
    in a worker when there are workers, and told the same way."""
    monkeypatch.setattr(classfolder, "PER_WORKER", 2)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{n},N{n}\n" for n in range(5)) + "s9," + "X" * 40_000 + "\n",
                      encoding="utf-8")
    result = CliRunner().invoke(
        app, ["class", str(roster), str(tmp_path / "c"), "--secret", "s", "--jobs", str(jobs), "-q"]
    )
    assert result.exit_code == 2
    assert result.output == (
        "sheetnet: error: the title is 40,061 characters long, more than the 32,767 a spreadsheet "
        "cell holds; shorten it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]  # no class, no leftovers


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="Ctrl-C to a process group needs POSIX")
def test_ctrl_c_stops_the_workers_and_leaves_no_class(tmp_path: Path) -> None:
    """Ctrl-C reaches the command and its workers (one process group, as from a terminal): exit
    130 within seconds, not after the rest of the class; no class folder and no temporary folder."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{n}\n" for n in range(200)) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "sheetnet", "class", str(roster), str(tmp_path / "c"),
               "--secret", "s", "--jobs", "2", "-q"]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ctrl_c_as_at_a_terminal)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".sheetnet-*/students/*.xlsx")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the class was written before Ctrl-C"
    os.killpg(process.pid, signal.SIGINT)
    most = 0  # student files seen at once in the unfinished folder, until it is removed
    while process.poll() is None and time.monotonic() < deadline:
        most = max(most, len(list(tmp_path.glob(".sheetnet-*/students/*.xlsx"))))
        time.sleep(0.02)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.startswith("sheetnet: interrupted;") and err.count("\n") == 1
    assert most < 50  # the students under way were finished, the other 150 or so never started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]
