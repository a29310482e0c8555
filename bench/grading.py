"""Benchmark: `sheetnet grade` of a class's submissions with identity by the numbers and copy
detection, against grading as it was before both (measured in the same run, on the same files).

    python -m bench.grading                 # 500 students (from the project's folder)
    python -m bench.grading --students 100

Half the students answer from their key; the other half answer every question wrong by a factor
of their own (1.001 to 1.5), the worst case for copy detection (every answer is looked up among
the other students' keys and wrong values). "before" is grade_class with the numbers index and
copy detection taken out; "now" is api.grade's path: the numbers index, grading, copy flags.
Prints wall and CPU time (see bench/classroom.py's Timer) and the ratio. Never part of the tests.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from unittest import mock

from bench.classroom import Timer, _answered
from sheetnet.classroom import grading
from sheetnet.classroom.classfolder import ClassOptions, cores, make_class
from sheetnet.classroom.copying import flag_copies
from sheetnet.classroom.roster import Student
from sheetnet.model.spec import DEFAULT_TEMPLATE, load_template


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--jobs", type=int, default=cores())
    parser.add_argument("--repeat", type=int, default=1, help="grade this many times each, keep the best")
    args = parser.parse_args()
    spec = load_template(args.template)
    students = [Student(f"s{n:04d}", f"Student {n}") for n in range(args.students)]
    print(f"{args.students} submissions, template {args.template}, {cores()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        with Timer("sheetnet class", len(students)) as timer:
            make_class(spec, students, folder, secret="bench", options=ClassOptions(template=args.template),
                       jobs=args.jobs)
        print(timer)
        factors = {s.id: 1.001 + 0.5 * n / len(students) for n, s in enumerate(students) if n % 2}
        with Timer("the students' files", len(students)) as timer:
            subs = _answered(folder, students, factors)
        print(timer)
        before = min((_before(folder, subs) for _ in range(args.repeat)), key=lambda t: t.wall)
        print(before)
        now = min((_now(folder, subs) for _ in range(args.repeat)), key=lambda t: t.wall)
        print(now)
        print(f"  now / before: {now.wall / before.wall:.2f} (wall), {now.cpu / before.cpu:.2f} (CPU)")


def _before(folder: Path, subs: list[Path]) -> Timer:
    """Grading without the numbers index (each file's identity taken as it says) or copy flags."""
    with (
        mock.patch.object(grading.Class, "index", lambda self: None),
        mock.patch.object(grading, "identify", lambda path, claimed, network, roster, index: (claimed, [])),
        Timer("grade, before", len(subs), "a file") as timer,
    ):
        grading.grade_class(grading.Class.open(folder), subs, grading.Tolerance())
    return timer


def _now(folder: Path, subs: list[Path]) -> Timer:
    with Timer("grade, now (+ numbers, copies)", len(subs), "a file") as timer:
        results, _ = grading.grade_class(grading.Class.open(folder), subs, grading.Tolerance())
        flag_copies(results, grading.Tolerance())
    flagged = [f"{r.student.id}: {f}" for r in results for f in r.flags if "match" in f or "same wrong" in f]
    timer.what += f" [{len(flagged)} copy flags]"
    for line in flagged[:5]:
        print(f"    {line}")
    return timer


if __name__ == "__main__":
    main()
