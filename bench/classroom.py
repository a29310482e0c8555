"""Benchmark: `sheetnet class` for a roster of 500 students, and `sheetnet grade` of their files.

    python bench/classroom.py              # 500 students on the default template
    python bench/classroom.py --students 50 --jobs 2

Prints the time to draw the variants, to write the class folder (two workbooks per student) in
worker processes (--jobs, default one per core) and in this process alone (--jobs 1), the ratio
of the two, the folder's size on disk, and the time to grade every student's file (answered, as a
student would, from the key). Beside each time: the CPU time it took in all processes and the
load average before and after (the machine may be shared). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import openpyxl

from sheetnet.classroom import exercise
from sheetnet.classroom.classfolder import ClassOptions, _pool, cores, draw_class, make_class
from sheetnet.classroom.grading import Class, Tolerance, grade_class
from sheetnet.classroom.roster import Student
from sheetnet.model.spec import DEFAULT_TEMPLATE, load_template


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--jobs", type=int, default=cores(), help="worker processes (default: cores)")
    parser.add_argument("--graded", type=int, default=50, help="how many submissions to grade")
    args = parser.parse_args()
    spec = load_template(args.template)
    students = [Student(f"s{n:04d}", f"Student {n}") for n in range(args.students)]
    options = ClassOptions(template=args.template)
    print(f"{args.students} students, template {args.template}, {cores()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Timer("draw the variants") as timer, _pool(len(students), args.jobs) as pool:
            draw_class(spec, students, "bench-secret", options, pool)
        print(timer)
        took = {}
        for jobs in dict.fromkeys((args.jobs, 1)):
            folder = root / f"class-jobs{jobs}"
            with Timer(f"sheetnet class --jobs {jobs}", len(students)) as timer:
                make_class(spec, students, folder, secret="bench-secret", options=options, jobs=jobs)
            print(timer)
            took[jobs] = timer.wall
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"  {size / 2**20:.1f} MiB on disk")
        if len(took) == 2:
            print(f"  --jobs {args.jobs} against --jobs 1: {took[1] / took[args.jobs]:.2f} times as fast")
        subs = _answered(folder, students[: args.graded])
        with Timer("sheetnet grade", len(subs), "a file") as timer:
            results, _ = grade_class(Class.open(folder), subs, Tolerance())
        print(timer)
        print(f"  all right: {all(m.verdict == 'right' for r in results if r.graded for m in r.marks)}")
        shutil.rmtree(folder)


class Timer:
    """Wall time, CPU time of this process and its finished children, and the load around them."""

    def __init__(self, what: str, count: int = 0, each: str = "a student") -> None:
        self.what, self.count, self.each = what, count, each

    def __enter__(self) -> Timer:
        self.load = os.getloadavg()[0]
        self.cpu = _cpu()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start
        self.cpu = _cpu() - self.cpu
        self.load = (self.load, os.getloadavg()[0])

    def __str__(self) -> str:
        each = f", {1000 * self.wall / self.count:.0f} ms {self.each}" if self.count else ""
        return (f"  {self.what + ':':30} {self.wall:6.1f} s{each}; CPU {self.cpu:.1f} s; "
                f"load average {self.load[0]:.1f} → {self.load[1]:.1f}")


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _answered(folder: Path, students: list[Student], factors: dict[str, float] | None = None) -> list[Path]:
    """Each student's file with the key's answers typed in (times the student's factor, if any)."""
    keys: dict[str, dict[str, float]] = {}
    with open(folder / "key" / "answers.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            keys.setdefault(row["id"], {})[f"{row['iteration']}:{row['quantity']}"] = float(row["answer"])
    (folder.parent / "subs").mkdir()
    paths = []
    for s in students:
        book = openpyxl.load_workbook(folder / "students" / f"{s.id}.xlsx")
        ws = book["Exercise"]
        for r in range(exercise.FIRST_ROW, ws.max_row + 1):
            t, qid = ws.cell(r, exercise.ITER).value, ws.cell(r, exercise.ID).value
            if qid:
                ws.cell(r, exercise.ANSWER).value = keys[s.id][f"{t}:{qid}"] * (factors or {}).get(s.id, 1.0)
        paths.append(folder.parent / "subs" / f"{s.id}.xlsx")
        book.save(paths[-1])
    return paths


if __name__ == "__main__":
    main()
