"""The Python API: what the `sheetnet` command does, as functions for notebooks and scripts.

    import sheetnet
    spec = sheetnet.template("seed-004-2-2-2").replace(iterations=500)
    run = sheetnet.train(spec)                  # a DataFrame, columns named by the Training ids
    sheetnet.build(spec, "out.xlsx", lang="zh", compare_lr=[0.1, 0.5])
    report = sheetnet.check("out.xlsx")         # report.ok, report.groups, report.first_wrong

Bad input raises SheetnetError with the one-line message the command prints after
"sheetnet: error: ". A run that diverges is not an error: it issues a DivergedWarning.
Long functions take `progress=`, a callback progress(done, total, what) (sheetnet.progress).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sheetnet.classroom.lms import FORMATS as GRADEBOOK_FORMATS  # noqa: F401 (plain, canvas, moodle, blackboard: for the console)
from sheetnet.errors import SheetnetError
from sheetnet.model import spec as spec_module
from sheetnet.model.reference import DivergedWarning, diverged_at, warn_if_diverged
from sheetnet.model.reference import train as train_reference
from sheetnet.model.spec import DEFAULT_TEMPLATE, Spec
from sheetnet.progress import Progress, stage
from sheetnet.verify.report import Report

if TYPE_CHECKING:
    import pandas as pd  # imported where a frame is made: `check` does without it

    from sheetnet.classroom.grading import Result

__all__ = [
    "DEFAULT_TEMPLATE",
    "DivergedWarning",
    "Grades",
    "Report",
    "SheetnetError",
    "Spec",
    "build",
    "check",
    "check_class_secret",
    "exercise",
    "grade",
    "has_libreoffice",
    "load_spec",
    "make_class",
    "parse_spec",
    "pdf",
    "spec_table",
    "template",
    "templates",
    "train",
]

PathArg = str | PathLike[str]


def templates() -> list[str]:
    """The names of the network templates, sorted (`sheetnet templates` lists them with titles)."""
    return spec_module.template_names()


def template(name: str = DEFAULT_TEMPLATE) -> Spec:
    """The spec of a template by name, e.g. "seed-004-2-2-2" (the default) or "iris".

    Raises:
        SheetnetError: no template has that name.
    """
    return spec_module.load_template(name)


def load_spec(path: PathArg) -> Spec:
    """Read and validate a network spec TOML file (docs/spec.md describes its fields).

    A relative data.csv path in the file is relative to the file's folder.

    Raises:
        SheetnetError: the file is missing, not TOML, or a field is wrong (the message names it).
    """
    return spec_module.load_spec(Path(path))


def parse_spec(table: dict[str, Any], *, name: str = "spec", base_dir: PathArg | None = None) -> Spec:
    """A spec from a TOML table already parsed (a form's fields, tomllib's result), validated as
    load_spec validates a file; a relative data.csv path starts from base_dir.

    Raises:
        SheetnetError: a field is wrong (the message names it).
    """
    return spec_module.parse_spec(table, name=name, source=name,
                                  base_dir=Path(base_dir) if base_dir is not None else None)


def spec_table(spec: Spec) -> dict[str, Any]:
    """The TOML table of a spec, as parse_spec reads it back (the console fills its form from it)."""
    return spec_module.to_table(spec)


def train(spec: Spec) -> pd.DataFrame:
    """Train with the NumPy reference core alone: one row per iteration, as on the Training sheet.

    Row t (the index) holds the parameters after t updates, the forward pass and loss they give,
    and the deltas and gradients that make row t+1. The columns are the Training sheet's ids
    (docs/training-sheet.md). A run that overflows warns (DivergedWarning) and holds NaN from
    the first iteration whose loss is not finite, where the workbook shows #NUM!.
    """
    with np.errstate(all="ignore"):  # overflow is reported once, as a DivergedWarning
        frame = train_reference(spec)
    warn_if_diverged(spec, diverged_at(frame))
    return frame


def build(
    spec: Spec,
    path: PathArg,
    *,
    lang: str = "en",
    paper: str = "a4",
    compare_lr: Sequence[float] = (),
    summary_every: int | None = None,
    pdf: PathArg | None = None,
    progress: Progress | None = None,
    compare_optim: Sequence[str] = (),
    decision_map: int = 0,
) -> Path:
    """Write the training workbook for spec: one row per iteration, every number a live formula.

    Args:
        spec: the network (template(), load_spec() or Spec(...)).
        path: the .xlsx file to write; written to a temporary name and renamed into place.
        lang: "en" or "zh", the language of every label, sheet name and guide text.
        paper: "a4" or "letter", for printing.
        compare_lr: learning rates for an extra sheet that trains the same network with each.
        summary_every: the Summary sheet shows every k-th iteration (besides 0, 1, 2, 5, 10, …).
        pdf: also print a handout to this PDF through headless LibreOffice: Guide, Network,
            Working, Charts, Summary and the Training sheet's first page (pdf(all_sheets=True)
            prints every sheet).
        progress: progress(done, total, what), called now and then (sheetnet.progress).
        compare_optim: optimizers for an extra sheet that trains the same network with each.
        decision_map: points a side of a live decision map (two inputs) or fitted curve; 0: none.

    Returns:
        The path of the workbook.

    Raises:
        SheetnetError: bad options, a missing folder, a network too big for a sheet, or no
            LibreOffice for the PDF; nothing is written then.
    """
    from sheetnet.sheets.context import BuildOptions
    from sheetnet.sheets.printing import check_pdf_path, ensure_libreoffice
    from sheetnet.sheets.rates import check_rates
    from sheetnet.sheets.summary import check_every
    from sheetnet.sheets.writer import build_workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SheetnetError(f"{path}: the output must be an .xlsx file")
    check_every(summary_every)
    rates = check_rates(tuple(compare_lr)) if compare_lr else ()
    if pdf is not None:  # before the workbook, so a missing LibreOffice writes nothing
        check_pdf_path(Path(pdf))
        ensure_libreoffice()
    options = BuildOptions(lang=lang, summary_every=summary_every, compare_lr=rates, paper=paper,
                           compare_optim=tuple(compare_optim), decision_map=decision_map)
    build_workbook(spec, path, options=options, progress=progress)
    if pdf is not None:
        _export_pdf(path, Path(pdf), progress, handout=True)
    return path


def pdf(
    workbook: PathArg, output: PathArg, *, all_sheets: bool = False, progress: Progress | None = None
) -> Path:
    """Print a workbook written by build() to a PDF (needs LibreOffice).

    By default the handout: the Guide, Network, Working (or Exercise), Charts and Summary sheets
    and only the first page of the Training sheet, a few pages however many iterations there are.
    all_sheets=True prints every sheet in full (a hundred pages and more for 1,000 iterations).

    Raises:
        SheetnetError: the workbook is missing or not an .xlsx archive, the output is not a
            .pdf in an existing folder, or LibreOffice is missing or fails.
    """
    from sheetnet.sheets.printing import check_pdf_path, ensure_libreoffice
    from sheetnet.verify.untrusted import check_archive

    workbook, output = Path(workbook), Path(output)
    if workbook.is_dir():
        raise SheetnetError(f"{workbook} is a folder; give a workbook written by `sheetnet build`")
    if not workbook.is_file():
        raise SheetnetError(f"{workbook}: no such workbook")
    check_archive(workbook)  # LibreOffice would print an empty or foreign file without complaint
    check_pdf_path(output)
    ensure_libreoffice()
    return _export_pdf(workbook, output, progress, handout=not all_sheets)


def has_libreoffice() -> bool:
    """Whether pdf() and build(pdf=...) can run here (LibreOffice found, as $SHEETNET_SOFFICE or
    soffice on the PATH)."""
    from sheetnet.engines.libreoffice import find_soffice

    return find_soffice() is not None


def _export_pdf(workbook: Path, output: Path, progress: Progress | None, *, handout: bool) -> Path:
    from sheetnet.sheets.printing import export_pdf

    with stage(progress, "printing to PDF in LibreOffice"):
        return export_pdf(workbook, output, handout=handout)


def check(
    path: PathArg, *, engine: str = "formulas", rtol: float = 1e-9, strict: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Recompute a workbook's formulas and compare every cell with the NumPy core.

    The network is read back from the workbook's own Network sheet, so edited inputs are
    checked as edited.

    Args:
        path: a workbook written by build().
        engine: "formulas" (each cell from its own formula text, in Python), "libreoffice",
            "gnumeric" or "ironcalc" (the program recalculates the whole file; each cell is
            checked locally).
        rtol: the least relative tolerance of every cell, beside its rounding bound (docs/check.md).
        strict: stale stored values fail the check too.
        progress: progress(done, total, what), called now and then (sheetnet.progress).

    Returns:
        A Report: .ok, .cells, .wrong, .groups (per column group: cells, max_abs, max_rel,
        seconds), .first_wrong (address, id, iteration, formula, expected, got) and .summary().

    Raises:
        SheetnetError: not a sheetnet workbook, unreadable or refused as unsafe, a bad engine
            or rtol, or LibreOffice missing or failing.
    """
    from sheetnet.sheets.i18n import sheet_names
    from sheetnet.verify.run import SheetCheck, run_check

    if not (isinstance(rtol, int | float) and math.isfinite(rtol) and rtol >= 0):
        raise SheetnetError(f"--rtol must be a non-negative number, got {rtol}")
    exercise_sheet = SheetCheck(tuple(sheet_names("sheet.exercise")), _check_exercise, "sheet.exercise")
    return run_check(Path(path), engine=engine, rtol=rtol, strict=strict, progress=progress,
                     sheet_checks=(exercise_sheet,))


def _check_exercise(*args: Any) -> None:
    """The Exercise sheet's check, imported only for a workbook that has one (it loads the
    classroom's writer)."""
    from sheetnet.classroom.exercisecheck import check_exercise

    check_exercise(*args)


# --- the classroom: practice workbooks, a class with a file per student, grading -------------


def exercise(
    spec: Spec,
    path: PathArg,
    *,
    ask: str | Sequence[str] | None = None,
    sig_figs: int = 4,
    lang: str = "en",
    paper: str = "a4",
    pdf: PathArg | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write a practice workbook: the full workbook plus an Exercise sheet that checks each answer.

    Args:
        spec: the network.
        path: the .xlsx file to write (atomically).
        ask: the quantity groups to ask, e.g. ["forward", "loss"] or "forward,loss"; None: all
            (forward, loss, backward, gradients, update).
        sig_figs: significant figures an answer needs (1 to 12).
        lang, paper: as for build().
        pdf: also print the blank handout (Guide, Network, Exercise) to this PDF (LibreOffice).
        progress: progress(done, total, what), as for build().

    Returns:
        The path of the workbook.

    Raises:
        SheetnetError: a bad name, group or sig_figs, or no LibreOffice for the PDF; nothing is
            written then.
    """
    from sheetnet.classroom.exercise import Setup, build_exercise, write_handout
    from sheetnet.sheets.printing import check_pdf_path, ensure_libreoffice

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SheetnetError(f"{path}: the output must be an .xlsx file")
    setup = Setup(ask=_groups(ask), sig_figs=_check_sig_figs(sig_figs))
    if pdf is not None:  # before the workbook, so a missing LibreOffice writes nothing
        check_pdf_path(Path(pdf))
        ensure_libreoffice()
    build_exercise(spec, path, setup=setup, lang=lang, paper=paper, progress=progress)
    if pdf is not None:
        with stage(progress, "printing to PDF in LibreOffice"):
            write_handout(spec, Path(pdf), setup=setup, lang=lang, paper=paper)
    return path


def make_class(
    spec: Spec,
    roster: PathArg,
    folder: PathArg,
    *,
    secret: str,
    vary: str | Sequence[str] | None = None,
    decimals: int = 2,
    ask: str | Sequence[str] | None = None,
    lang: str = "en",
    sig_figs: int = 4,
    paper: str = "a4",
    pdf: bool = False,
    template_name: str | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Path:
    """Write a class folder: a workbook with its own numbers for every student, and their keys.

    Args:
        spec: the network every student's variant is drawn around.
        roster: a CSV file with a header, an id column and maybe a name column.
        folder: the class folder to write (students/, key/, class.toml); replaced only when it
            holds a class of the same secret.
        secret: the numbers are drawn from it; the same secret rebuilds the same class.
        vary: what varies: inputs, targets, weights, biases, lr; None: all but lr.
        decimals: decimals of the drawn numbers (0 to 6).
        ask, sig_figs, lang, paper: as for exercise().
        pdf: also print students/<id>.pdf and key/<id>.pdf (LibreOffice).
        template_name: recorded in class.toml; default spec.name.
        progress: progress(done, total, what): the students' files, then the PDFs.
        jobs: at most this many worker processes write the students' files (None: one per
            core; 1: none, all in this process). The folder is the same whatever the number.

    Returns:
        The class folder.

    Raises:
        SheetnetError: no secret, a bad roster, option or folder, or no LibreOffice for pdf.
    """
    from sheetnet.classroom.classfolder import ClassOptions
    from sheetnet.classroom.classfolder import make_class as write_class
    from sheetnet.classroom.roster import read_roster
    from sheetnet.classroom.variants import DEFAULT_VARY, VARY
    from sheetnet.sheets.i18n import strings
    from sheetnet.sheets.printing import ensure_libreoffice

    strings(lang)  # an unknown language fails before anything is drawn
    options = ClassOptions(
        template=template_name or spec.name,
        vary=_groups(vary, VARY, "--vary") if vary is not None else DEFAULT_VARY,
        decimals=decimals, ask=_groups(ask), lang=lang, sig_figs=_check_sig_figs(sig_figs),
        paper=paper, pdf=pdf,
    )
    if not secret:
        raise SheetnetError("a class needs a secret (--secret TEXT): the students' numbers are drawn "
                            "from it; keep it to rebuild the same class")
    students = read_roster(Path(roster))
    if pdf:
        ensure_libreoffice()
    write_class(spec, students, Path(folder), secret=secret, options=options, progress=progress, jobs=jobs)
    return Path(folder)


def check_class_secret(folder: PathArg, secret: str) -> None:
    """Make sure a class folder was made with this secret (class.toml keeps only its hash).

    Raises:
        SheetnetError: the folder is no class, or was made with another secret.
    """
    from sheetnet.classroom.classfolder import read_record
    from sheetnet.classroom.variants import secret_hash

    record = read_record(Path(folder)) or {}
    if not secret or record.get("secret_hash") != secret_hash(secret):
        raise SheetnetError("the secret does not match this class (class.toml records another); give the "
                            "secret the class was made with")


@dataclass(frozen=True)
class Grades:
    """What grade() found: per-student results, the gradebook's rows and the class summary."""

    results: list[Result]  # one per student of the roster, then files of no student of the class
    rows: list[list[str]]  # the gradebook CSV: header, then id, name, score, max, percent, verdicts…
    summary: list[str]  # "n of m students graded", then how many got each question right
    warnings: list[str]  # files not graded, one line each
    changes: list[str] = field(default_factory=list)  # since the previous gradebook, one a student
    items: list[str] = field(default_factory=list)  # the item analysis as a table (with report)


def grade(
    folder: PathArg,
    submissions: Sequence[PathArg],
    *,
    gradebook: PathArg | None = None,
    feedback: PathArg | None = None,
    ecf_credit: float = 1.0,
    sig_figs: int = 4,
    progress: Progress | None = None,
    fmt: str = "plain",
    assignment: str = "Exercise",
    previous: PathArg | None = None,
    report: PathArg | None = None,
    copies: bool = True,
) -> Grades:
    """Grade the students' files against each student's own key, with error carried forward.

    Args:
        folder: the class folder make_class() wrote.
        submissions: the students' .xlsx files (the newest per student counts).
        gradebook: also write the gradebook to this CSV file (atomically).
        feedback: also write one feedback workbook per graded student into this folder.
        ecf_credit: credit (0 to 1) for an answer right from the student's own earlier answers.
        sig_figs: significant figures an answer needs.
        progress: progress(done, total, what): reading the files, then the feedback workbooks.
        fmt: the gradebook's format: plain (every verdict), or canvas, moodle or blackboard (the
            platform's import file: its identity columns and one score column).
        assignment: the score column's name in a platform's format (Canvas: `Name (id)` updates
            an existing assignment).
        previous: an earlier plain gradebook: Grades.changes says, per student, what changed.
        report: also write the class report workbook (item analysis) to this .xlsx file;
            Grades.items holds the same figures as a short table.
        copies: flag students whose answers are another student's numbers, and pairs who share
            wrong values no slip explains.

    Raises:
        SheetnetError: not a class folder, or a bad option.
    """
    from sheetnet.classroom.classfolder import student_spec
    from sheetnet.classroom.copying import flag_copies
    from sheetnet.classroom.gradebook import (
        gradebook_rows,
        platform_rows,
        summary,
        write_feedback,
        write_gradebook,
    )
    from sheetnet.classroom.grading import Class, Tolerance, grade_class
    from sheetnet.classroom.lms import FORMATS
    from sheetnet.classroom.regrade import changes, read_previous
    from sheetnet.classroom.report import item_analysis, table, write_report
    from sheetnet.progress import report as tell  # `report` is the option here

    if not 0 <= ecf_credit <= 1:
        raise SheetnetError(f"--ecf-credit must be between 0 and 1, got {ecf_credit:g}")
    feedback = Path(feedback) if feedback is not None else None
    if feedback is not None and (not feedback.parent.is_dir() or feedback.is_file()):
        raise SheetnetError(f"--feedback {feedback}: give a folder (it is created inside an existing one)")
    klass = Class.open(Path(folder))
    tol = Tolerance(_check_sig_figs(sig_figs))
    warned: list[str] = []
    files = [Path(p) for p in submissions]
    if fmt not in FORMATS:
        raise SheetnetError(f"--format {fmt}: unknown; use one of {', '.join(FORMATS)}")
    if not assignment.strip():
        raise SheetnetError("--assignment: give the assignment's name as the platform shows it")
    if report is not None and Path(report).suffix.lower() != ".xlsx":
        raise SheetnetError(f"--report {report}: the report is a workbook; give a name ending in .xlsx")
    before = read_previous(Path(previous)) if previous is not None else None  # before any write
    results, qs = grade_class(klass, files, tol, warn=warned.append, progress=progress)
    if copies:
        flag_copies(results, tol)
    rows = gradebook_rows(results, qs, ecf_credit)
    if gradebook is not None:
        written = rows if fmt == "plain" else platform_rows(fmt, results, qs, ecf_credit, assignment)
        write_gradebook(Path(gradebook), written, fmt)
    if feedback is not None:
        feedback.mkdir(exist_ok=True)
        graded = [r for r in results if r.graded]
        for n, result in enumerate(graded):
            write_feedback(feedback / f"{result.student.id}.xlsx", result,
                           student_spec(klass.folder, result.student.id), klass.lang, tol, ecf_credit)
            tell(progress, n + 1, len(graded), "feedback workbooks")
    changed = changes(before, rows) if before is not None else []
    items: list[str] = []
    if report is not None:
        write_report(Path(report), results, qs, ecf_credit, klass.lang)
        items = table(item_analysis(results, qs, ecf_credit))
    return Grades(results, rows, summary(results, qs), warned, changed, items)


def _groups(
    words: str | Sequence[str] | None, allowed: Sequence[str] = (), option: str = "--ask"
) -> tuple[str, ...]:
    from sheetnet.classroom.questions import GROUPS, parse_groups

    text = words if words is None or isinstance(words, str) else ",".join(words)
    return parse_groups(text, allowed or GROUPS, option)


def _check_sig_figs(n: int) -> int:
    if not 1 <= n <= 12:
        raise SheetnetError(f"--sig-figs must be between 1 and 12, got {n}")
    return n
