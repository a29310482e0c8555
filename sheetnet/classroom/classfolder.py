"""`sheetnet class`: a class folder with a workbook per student, their keys and a record.

    class1/
      class.toml          what was made (template, options, students, a hash of the secret)
      template.toml       the spec the variants were drawn from
      students/<id>.xlsx  the student's file: Guide, Network, Exercise, nothing that gives an answer
      key/<id>.xlsx       the student's complete workbook with the expected values shown
      key/<id>.toml       the student's network: `sheetnet build --config` rebuilds the key
      key/answers.csv     id, iteration, quantity, label, answer

The folder is written under a temporary name beside its target and renamed into place when
complete, so a failure leaves nothing half-written and an earlier class as it was.

The students are drawn and written in worker processes, one per core (`jobs`); each student's
files depend on that student alone, so the folder is the same whatever the number of workers.
"""

from __future__ import annotations

import csv
import functools
import multiprocessing
import os
import shutil
import signal
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.classroom import variants
from sheetnet.classroom.exercise import Setup, build_exercise, write_key_handout
from sheetnet.classroom.questions import GROUPS, key_values, questions
from sheetnet.classroom.roster import Student, check_id
from sheetnet.classroom.tomlout import dumps
from sheetnet.classroom.words import words as classroom_words
from sheetnet.csvsafe import safe_rows
from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_spec, to_table
from sheetnet.progress import Progress, report
from sheetnet.sheets.printing import export_pdf

RECORD = "class.toml"
KIND = "sheetnet class"
STUDENT_PROPERTY, VARIANT_PROPERTY = "sheetnet-student", "sheetnet-variant"
PER_WORKER = 8  # a worker process pays for itself from about this many students


@dataclass(frozen=True)
class ClassOptions:
    """How a class is made; class.toml records all of it but the secret."""

    template: str
    vary: tuple[str, ...] = variants.DEFAULT_VARY
    decimals: int = 2
    ask: tuple[str, ...] = GROUPS
    lang: str = "en"
    sig_figs: int = 4
    paper: str = "a4"
    pdf: bool = False  # also students/<id>.pdf: the student's file printed (needs LibreOffice)


def make_class(
    template: Spec,
    students: Sequence[Student],
    folder: Path,
    *,
    secret: str | None,
    options: ClassOptions,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> list[variants.Variant]:
    """Write the class folder; returns each student's variant, in roster order.

    jobs: at most this many worker processes (None: one per core; 1: all in this process).
    """
    if jobs is not None and jobs < 1:
        raise SheetnetError(f"--jobs must be 1 or more (1: no worker processes), got {jobs}")
    if not secret:
        raise SheetnetError(
            "a class needs a secret (--secret TEXT): the students' numbers are drawn "
            "from it; keep it to rebuild the same class"
        )
    folder = Path(folder)
    _check_target(folder, variants.secret_hash(secret))
    if not 0 <= options.decimals <= 6:
        raise SheetnetError(f"--decimals must be between 0 and 6, got {options.decimals}")
    work = Path(tempfile.mkdtemp(prefix=".sheetnet-", dir=folder.parent))
    try:
        with _pool(len(students), jobs) as pool:
            drawn = draw_class(template, students, secret, options, pool)
            _write_class(work, template, students, drawn, secret, options, progress, pool)
        _replace_folder(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return drawn


def cores() -> int:
    """The cores this process may run on: the default number of worker processes."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


@contextmanager
def _pool(n_students: int, jobs: int | None = None) -> Iterator[Executor | None]:
    """Up to `jobs` worker processes (None: one per core), as many as the class is big enough
    to be worth (None: everything in this process)."""
    workers = min(jobs or cores(), n_students // PER_WORKER)
    if workers < 2:
        yield None
        return
    context = (
        multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    )
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_ctrl_c)
    try:
        yield pool
    except BaseException:
        # Ctrl-C or an error: the students not yet started are dropped, not written and thrown
        # away; the ones under way finish before the caller removes the unfinished folder.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _ignore_ctrl_c() -> None:
    """In a worker: Ctrl-C reaches the whole process group; this process lets the parent, which
    stops handing out students, decide (a worker interrupted mid-file would only add noise)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def draw_class(
    template: Spec,
    students: Sequence[Student],
    secret: str,
    options: ClassOptions,
    pool: Executor | None = None,
) -> list[variants.Variant]:
    """Every student's variant, distinct, in roster order (a later student never moves an earlier one).

    Each student's first draw that meets the constraints depends on nothing else, so those are
    drawn in parallel; a student whose numbers an earlier student already has then draws on, in
    roster order, exactly as drawing one after the other would.
    """
    draw = functools.partial(_first_variant, template, secret, options)
    ids = [s.id for s in students]
    firsts = list(pool.map(draw, ids, chunksize=16) if pool else map(draw, ids))
    taken: set[str] = set()
    drawn = []
    for v in firsts:
        if v.fingerprint in taken:
            v = variants.make_variant(
                template,
                secret,
                v.student,
                vary=options.vary,
                decimals=options.decimals,
                asked=options.ask,
                taken=taken,
                start=v.draw + 1,
            )
        taken.add(v.fingerprint)
        drawn.append(v)
    return drawn


def _first_variant(template: Spec, secret: str, options: ClassOptions, sid: str) -> variants.Variant:
    return variants.make_variant(
        template, secret, sid, vary=options.vary, decimals=options.decimals, asked=options.ask
    )


def with_identity(spec: Spec, student: Student) -> Spec:
    """The variant titled with the student's id and name (the title heads every sheet and page)."""
    who = f"{student.id} {student.name}".strip()
    translations = tuple((lang, f"{title} — {who}", text) for lang, title, text in spec.translations)
    return spec.replace(title=f"{spec.title} — {who}", translations=translations)


def _write_class(
    work: Path,
    template: Spec,
    students: Sequence[Student],
    drawn: list[variants.Variant],
    secret: str,
    options: ClassOptions,
    progress: Progress | None,
    pool: Executor | None,
) -> None:
    (work / "students").mkdir()
    (work / "key").mkdir()
    (work / "template.toml").write_text(dumps(to_table(template)), encoding="utf-8")
    write = functools.partial(_write_student, work, options)
    pairs = list(zip(students, drawn, strict=True))
    answers = []
    # Two students a task: little to pickle, and Ctrl-C waits for no more than two a worker.
    for n, rows in enumerate(pool.map(write, pairs, chunksize=2) if pool else map(write, pairs)):
        answers += rows
        report(progress, n + 1, len(pairs), "student files and keys")
    with open(work / "key" / "answers.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerows(safe_rows([["id", "iteration", "quantity", "label", "answer"], *answers]))
    if options.pdf:  # one LibreOffice at a time (engines/libreoffice.py serialises them anyway)
        mark = classroom_words(options.lang)["key.mark"]
        for n, (student, variant) in enumerate(pairs):
            report(progress, n, len(pairs), "printing handouts in LibreOffice")
            export_pdf(work / "students" / f"{student.id}.xlsx", work / "students" / f"{student.id}.pdf")
            setup = Setup(
                mode="answers",
                ask=options.ask,
                student_id=student.id,
                student_name=student.name,
                sig_figs=options.sig_figs,
            )
            write_key_handout(
                with_identity(variant.spec, student),
                work / "key" / f"{student.id}.pdf",
                setup=setup,
                mark=mark,
                lang=options.lang,
                paper=options.paper,
            )
        report(progress, len(pairs), len(pairs), "printing handouts in LibreOffice")
    record = _record(students, drawn, secret, options)
    (work / RECORD).write_text(dumps(record), encoding="utf-8")


def _write_student(work: Path, options: ClassOptions, job: tuple[Student, variants.Variant]) -> list[list]:
    """students/<id>.xlsx, key/<id>.xlsx and key/<id>.toml; returns the student's rows of answers.csv."""
    student, variant = job
    spec = with_identity(variant.spec, student)
    identity = ((STUDENT_PROPERTY, student.id), (VARIANT_PROPERTY, variant.fingerprint))
    common = {
        "ask": options.ask,
        "student_id": student.id,
        "student_name": student.name,
        "sig_figs": options.sig_figs,
    }
    # One NumPy run of the whole training serves the key, the student's file (which reads its
    # first iteration only) and answers.csv (three runs before: a sixth of a student's time).
    with np.errstate(all="ignore"):  # a diverging run overflows: NaN there, as build_workbook's
        run = train(variant.spec)
    build = functools.partial(
        build_exercise,
        lang=options.lang,
        paper=options.paper,
        properties=identity,
        in_memory=True,
        reference=run,
    )
    build(spec, work / "students" / f"{student.id}.xlsx", setup=Setup(mode="student", **common))
    build(spec, work / "key" / f"{student.id}.xlsx", setup=Setup(mode="key", **common))
    (work / "key" / f"{student.id}.toml").write_text(dumps(to_table(spec)), encoding="utf-8")
    keys = key_values(variant.spec, run)
    # The questions of the spec the workbooks were built from (the title is no part of them):
    # worked out already for the Exercise sheets, not once more.
    asked = questions(spec.in_language(options.lang), options.ask)
    return [[student.id, q.iter, q.qid, q.label, repr(keys[q.key])] for q in asked]


def _record(
    students: Sequence[Student], drawn: list[variants.Variant], secret: str, options: ClassOptions
) -> dict[str, Any]:
    return {
        "kind": KIND,
        "template": options.template,
        "vary": list(options.vary),
        "decimals": options.decimals,
        "ask": list(options.ask),
        "lang": options.lang,
        "sig_figs": options.sig_figs,
        "tolerance": f"relative error ≤ {5 * 10.0**-options.sig_figs:g}, or absolute ≤ 5e-08",
        "secret_hash": variants.secret_hash(secret),
        "students": [
            {"id": s.id, "name": s.name, "variant": v.fingerprint, "draw": v.draw, **_platform(s)}
            for s, v in zip(students, drawn, strict=True)
        ],
    }


def _platform(student: Student) -> dict[str, Any]:
    """The learning platform's identity columns, kept for its gradebook (none for a plain roster)."""
    if not student.platform:
        return {}
    return {"platform": student.platform, "lms": [list(pair) for pair in student.lms]}


def _check_target(folder: Path, secret_hash: str) -> None:
    if not folder.parent.is_dir():
        raise SheetnetError(f"the folder {folder.parent} does not exist; create it or choose another")
    if not folder.exists():
        return
    record = read_record(folder, missing_ok=True)
    if record is None:
        raise SheetnetError(
            f"{folder} exists and is not a sheetnet class (no {RECORD}); refusing to "
            "overwrite it: choose a new folder"
        )
    if record.get("secret_hash") != secret_hash:
        raise SheetnetError(
            f"{folder} is a class made with another secret; rebuilding it would give every "
            "student new numbers: use the class's secret, or a new folder"
        )


def read_record(folder: Path, *, missing_ok: bool = False) -> dict[str, Any] | None:
    """class.toml of a class folder; None (missing_ok) or an error when the folder is none."""
    path = Path(folder) / RECORD
    try:
        record = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        record = None
    if record is None or record.get("kind") != KIND:
        if missing_ok:
            return None
        raise SheetnetError(
            f"{folder}: not a sheetnet class folder (no readable {RECORD}); give the "
            "folder `sheetnet class` wrote"
        )
    return record


def student_spec(folder: Path, sid: str) -> Spec:
    """A student's network, rebuilt from key/<id>.toml (the class's recorded variant)."""
    check_id(sid, f"{folder}")
    path = Path(folder) / "key" / f"{sid}.toml"
    if not path.is_file():
        raise SheetnetError(f"{path}: missing; rebuild the class with `sheetnet class` and its secret")
    return load_spec(path)


def _replace_folder(work: Path, folder: Path) -> None:
    """Rename the finished folder into place; an earlier class is removed only after that."""
    os.chmod(work, 0o777 & ~_umask())
    if not folder.exists():
        os.replace(work, folder)
        return
    old = Path(tempfile.mkdtemp(prefix=".sheetnet-old-", dir=folder.parent))
    os.replace(folder, old / folder.name)
    os.replace(work, folder)
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
