"""`sheetnet grade`: every answer against the student's own key, with error carried forward.

An answer is `right` when it agrees with the key (recomputed from the class's recorded variant,
never from the file); else `ecf` when it agrees with the value its expression tree gives on the
student's own earlier answers; else `wrong` (named when a classic slip explains it, mistakes.py);
`blank` when empty. An earlier answer that is wrong and trivial (0, 1, or equal to an input of the
network) carries nothing forward: the key's value stands in for it.

A file belongs to the student its identity names, unless its Network numbers say otherwise or it
carries no identity (identify.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sheetnet.classroom import classfolder, mistakes
from sheetnet.classroom.exercise import ABS_TOL
from sheetnet.classroom.identify import NumberIndex, identify, typed_values
from sheetnet.classroom.questions import Question, constants, evaluate_on, key_values, questions
from sheetnet.classroom.roster import Student
from sheetnet.classroom.submission import Answer, Submission, read_submission
from sheetnet.classroom.variants import fingerprint
from sheetnet.errors import SheetnetError
from sheetnet.model.spec import Spec, load_spec
from sheetnet.progress import Progress, report
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import address

VERDICTS = ("right", "ecf", "wrong", "blank")


@dataclass(frozen=True)
class Tolerance:
    """Right within `sig_figs` significant figures (relative error ≤ 5·10⁻ⁿ), or ABS_TOL near zero:
    the same rule as the practice sheet's live ✓."""

    sig_figs: int = 4

    @property
    def rel(self) -> float:
        return 5 * 10.0**-self.sig_figs

    def close(self, got: float, expected: float) -> bool:
        if not (math.isfinite(got) and math.isfinite(expected)):
            return False
        return abs(got - expected) <= max(self.rel * abs(expected), ABS_TOL)


@dataclass(frozen=True)
class Mark:
    question: Question
    verdict: str
    answer: Answer
    expected: float
    own: float  # the value recomputed from the student's earlier answers
    mistake: str | None = None


@dataclass
class Result:
    """One roster student's (or a stranger's) line of the gradebook."""

    student: Student
    marks: list[Mark] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    counted: Path | None = None  # the file graded
    graded: bool = False
    stranger: bool = False  # a file of no student of the roster

    def score(self, ecf_credit: float) -> float:
        return sum(
            1.0 if m.verdict == "right" else ecf_credit if m.verdict == "ecf" else 0.0 for m in self.marks
        )


@dataclass
class Class:
    """A class folder as grading needs it."""

    folder: Path
    record: dict
    students: list[Student]
    template: Spec
    ask: tuple[str, ...]
    lang: str
    _specs: dict[str, Spec] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path) -> Class:
        record = classfolder.read_record(folder) or {}  # read_record refuses a folder that is no class
        students = [
            Student(s["id"], s.get("name", ""), s.get("platform", ""),
                    tuple(tuple(pair) for pair in s.get("lms", [])))
            for s in record.get("students", [])
        ]
        template = load_spec(Path(folder) / "template.toml")
        return cls(Path(folder), record, students, template, tuple(record["ask"]), record.get("lang", "en"))

    def variant_of(self, sid: str) -> str:
        return next(s["variant"] for s in self.record["students"] if s["id"] == sid)

    def spec_of(self, sid: str) -> Spec:
        """The student's recorded network (key/<id>.toml), read once."""
        if sid not in self._specs:
            self._specs[sid] = classfolder.student_spec(self.folder, sid)
        return self._specs[sid]

    def index(self) -> NumberIndex:
        return NumberIndex(self.template, {s.id: self.spec_of(s.id) for s in self.students})


def grade_answers(
    spec: Spec, qs: Sequence[Question], answers: Mapping[str, Answer], tol: Tolerance
) -> list[Mark]:
    """Mark every question of one student."""
    key = key_values(spec)
    consts = constants(spec)
    inputs = set(consts.values())
    own = dict(key)  # the student's own values, where they may carry forward
    trivial: list[tuple[Question, float]] = []
    for q in qs:
        a = answers.get(q.key, Answer(None))
        if a.value is None or q.iter != 0:
            continue
        if tol.close(a.value, key[q.key]) or not (a.value in (0.0, 1.0) or a.value in inputs):
            own[q.key] = a.value
        else:
            trivial.append((q, a.value))
    # Then, in order, the trivial ones the rest explains (a max-pool's arg-max reads the
    # window's maximum, a later question).
    for q, value in trivial:
        if _explained(spec, q, value, own, key, consts, tol):
            own[q.key] = value
    row0 = {k[2:]: v for k, v in own.items() if k.startswith("0:")}
    marks = []
    for q in qs:
        a = answers.get(q.key, Answer(None))
        expected = key[q.key]
        recomputed = evaluate_on(spec, q.expr, row0, consts)
        if a.blank:
            marks.append(Mark(q, "blank", a, expected, recomputed))
        elif a.value is None:
            marks.append(Mark(q, "wrong", a, expected, recomputed, "not_a_number"))
        elif tol.close(a.value, expected):
            marks.append(Mark(q, "right", a, expected, recomputed))
        elif tol.close(a.value, recomputed):
            marks.append(Mark(q, "ecf", a, expected, recomputed))
        else:
            slip = mistakes.name_mistake(spec, q, a.value, own, key, consts, tol.close)
            marks.append(Mark(q, "wrong", a, expected, recomputed, slip))
    return marks


def _explained(spec: Spec, q: Question, answer: float, own: Mapping[str, float], key: Mapping[str, float],
               consts: Mapping[str, float], tol: Tolerance) -> bool:
    """Whether a trivial answer (0, 1, an input) is what the student's own earlier answers give,
    or what a named slip gives: then it is no guess, and carries forward (an rnn's δ[t] is 0
    without BPTT's recurrent term, and so are the δs before it)."""
    row0 = {k[2:]: v for k, v in own.items() if k.startswith("0:")}
    if tol.close(answer, evaluate_on(spec, q.expr, row0, consts)):
        return True
    return mistakes.name_mistake(spec, q, answer, own, key, consts, tol.close) not in (None, "sign")


def changed_cells(spec: Spec, network: Mapping[tuple[int, int], object]) -> list[str]:
    """The Network cells (A1 names) whose typed number differs from the recorded variant's."""
    layout = network_layout(spec)
    expected = typed_values(spec)
    changed = []
    for key, (row, col) in sorted(layout.typed_cells().items(), key=lambda kv: kv[1]):
        got = network.get((row, col))
        want = expected.get(key)
        if want is None:
            continue
        if (
            not isinstance(got, int | float)
            or isinstance(got, bool)
            or not math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)
        ):
            changed.append(address(row, col))
    return changed


def grade_class(
    klass: Class, files: Sequence[Path], tol: Tolerance, warn: Callable[[str], None] = print,
    progress: Progress | None = None,
) -> tuple[list[Result], list[Question]]:
    """Read every submission, match it to a student, and grade the newest per student."""
    qs = questions(klass.template, klass.ask)
    roster = {s.id: s for s in klass.students}
    by_student: dict[str, list[Submission]] = {}
    identified: dict[Path, list[str]] = {}  # what identifying a file by its numbers found
    index = klass.index()
    for n, path in enumerate(files):
        report(progress, n, len(files), "reading the students' files")
        try:
            sub = read_submission(path)
        except SheetnetError as exc:
            warn(f"sheetnet: warning: not graded: {exc}")
            continue
        sid, said = identify(sub.path, sub.student, sub.network, roster, index)
        identified[sub.path] = said
        by_student.setdefault(sid, []).append(sub)
    report(progress, len(files), len(files), "reading the students' files")
    results = {s.id: Result(s) for s in klass.students}
    strangers: list[Result] = []
    for sid, subs in by_student.items():
        subs.sort(key=lambda s: (s.path.stat().st_mtime, str(s.path)))
        if sid not in roster:
            stranger = Result(Student(sid or "?"), files=[s.path for s in subs], stranger=True)
            stranger.flags.append("not in the class" if sid else "no student identity in the file")
            strangers.append(stranger)
            continue
        result = results[sid]
        result.files = [s.path for s in subs]
        # The newest counts, but not a copy handed in under another student's name while the
        # student's own file is there too.
        own = [s for s in subs if named_for_other(s.path, roster[sid], roster) is None] or subs
        newest = own[-1]
        result.counted = newest.path
        if len(subs) > 1:
            result.flags.append(
                "submitted twice: " + ", ".join(s.path.name for s in subs) + f" ({newest.path.name} counts)"
            )
        for sub in subs:
            result.flags += identified[sub.path]
        spec = klass.spec_of(sid)
        # A file identified by its numbers carries no identity of this student to compare.
        claimed = newest.variant if not identified[newest.path] else klass.variant_of(sid)
        if claimed != klass.variant_of(sid) or fingerprint(spec) != klass.variant_of(sid):
            result.flags.append("identity does not match the roster's record of this student")
        changed = changed_cells(spec, newest.network)
        if changed:
            result.flags.append(
                "Network numbers changed: " + " ".join(changed) + " (graded on the recorded numbers)"
            )
        result.marks = grade_answers(spec, qs, newest.answers, tol)
        result.graded = True
    _flag_swapped(results, roster)
    for result in results.values():
        if not result.graded:
            result.flags.insert(0, "missing")
    return [results[s.id] for s in klass.students] + strangers, qs


def _flag_swapped(results: Mapping[str, Result], roster: Mapping[str, Student]) -> None:
    """A file named after one student that carries another's identity: one student's file submitted
    as another's (learning platforms put the submitter's id or name in the file name)."""
    for sid, result in results.items():
        for path in result.files:
            other = named_for_other(path, roster[sid], roster)
            if other is not None:
                result.flags.append(f"{path.name} carries {sid}'s identity but is named for {other.id}")
                results[other.id].flags.append(f"{path.name}, named for {other.id}, is {sid}'s file")


def named_for_other(path: Path, student: Student, roster: Mapping[str, Student]) -> Student | None:
    """The roster student, other than `student`, whose id or name the file name holds (and not
    `student`'s own)."""
    if sid_in_name(student.id, path.name) or sid_in_name(student.name, path.name):
        return None
    for other in roster.values():
        if other.id != student.id and (
            sid_in_name(other.id, path.name) or sid_in_name(other.name, path.name)
        ):
            return other
    return None


def sid_in_name(word: str, name: str) -> bool:
    if not word:
        return False
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", name, re.IGNORECASE) is not None
