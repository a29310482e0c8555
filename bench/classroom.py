"""Benchmark: `sheetnet class` for a roster of 500 students, and `sheetnet grade` of their files.

    python bench/classroom.py              # 500 students on the default template
    python bench/classroom.py --students 50

Prints the time to draw the variants, to write the class folder (two workbooks per student, in
worker processes, one per core), its size on disk, and the time to grade every student's file
(answered, as a student would, from the key). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

import openpyxl

from sheetnet.classroom import exercise
from sheetnet.classroom.classfolder import ClassOptions, _pool, draw_class, make_class
from sheetnet.classroom.grading import Class, Tolerance, grade_class
from sheetnet.classroom.roster import Student
from sheetnet.model.spec import DEFAULT_TEMPLATE, load_template


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--graded", type=int, default=50, help="how many submissions to grade")
    args = parser.parse_args()
    spec = load_template(args.template)
    students = [Student(f"s{n:04d}", f"Student {n}") for n in range(args.students)]
    options = ClassOptions(template=args.template)
    print(f"{args.students} students, template {args.template}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        with _pool(len(students)) as pool:
            draw_class(spec, students, "bench-secret", options, pool)
        print(f"  draw the variants:        {time.perf_counter() - start:6.1f} s")
        start = time.perf_counter()
        make_class(spec, students, root / "class1", secret="bench-secret", options=options)
        took = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (root / "class1").rglob("*") if p.is_file())
        print(f"  sheetnet class (all):     {took:6.1f} s  ({1000 * took / len(students):.0f} ms a student, "
              f"{size / 2**20:.1f} MiB on disk)")
        subs = _answered(root, students[: args.graded])
        start = time.perf_counter()
        results, _ = grade_class(Class.open(root / "class1"), subs, Tolerance())
        took = time.perf_counter() - start
        print(f"  sheetnet grade:           {took:6.1f} s for {len(subs)} files "
              f"({1000 * took / len(subs):.0f} ms a file); all right: "
              f"{all(m.verdict == 'right' for r in results if r.graded for m in r.marks)}")
        shutil.rmtree(root / "class1")


def _answered(root: Path, students: list[Student]) -> list[Path]:
    """Each student's file with the key's answers typed in."""
    keys: dict[str, dict[str, float]] = {}
    with open(root / "class1" / "key" / "answers.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            keys.setdefault(row["id"], {})[f"{row['iteration']}:{row['quantity']}"] = float(row["answer"])
    (root / "subs").mkdir()
    paths = []
    for s in students:
        book = openpyxl.load_workbook(root / "class1" / "students" / f"{s.id}.xlsx")
        ws = book["Exercise"]
        for r in range(exercise.FIRST_ROW, ws.max_row + 1):
            t, qid = ws.cell(r, exercise.ITER).value, ws.cell(r, exercise.ID).value
            if qid:
                ws.cell(r, exercise.ANSWER).value = keys[s.id][f"{t}:{qid}"]
        paths.append(root / "subs" / f"{s.id}.xlsx")
        book.save(paths[-1])
    return paths


if __name__ == "__main__":
    main()
