"""The grades: a CSV gradebook in roster order, the per-question summary, feedback workbooks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

from sheetnet.atomic import atomic_path
from sheetnet.classroom import lms
from sheetnet.classroom.grading import VERDICTS, Mark, Result, Tolerance
from sheetnet.classroom.questions import Question, constants, key_values
from sheetnet.classroom.words import words as classroom_words
from sheetnet.csvsafe import write_safe_csv
from sheetnet.equations import textprint
from sheetnet.expr.formula import Cell, Const
from sheetnet.model import ids
from sheetnet.model.spec import Spec


def gradebook_rows(results: Sequence[Result], qs: Sequence[Question], ecf_credit: float) -> list[list[str]]:
    """Header and one row per result: id, name, score, max, percent, <iter>:<id>…, flags, file."""
    rows = [["id", "name", "score", "max", "percent", *(q.key for q in qs), "flags", "file"]]
    for r in results:
        if r.graded:
            score = r.score(ecf_credit)
            numbers = [f"{score:g}", str(len(qs)), f"{100 * score / len(qs):.1f}" if qs else ""]
            verdicts = [m.verdict for m in r.marks]
        else:
            numbers, verdicts = ["", str(len(qs)), ""], [""] * len(qs)
        newest = r.counted.name if r.counted else (r.files[-1].name if r.files else "")
        rows.append([r.student.id, r.student.name, *numbers, *verdicts, "; ".join(r.flags), newest])
    return rows


def write_gradebook(path: Path, rows: list[list[str]], fmt: str = "plain") -> None:
    """The rows as CSV, every text a student or roster controls made safe (csvsafe)."""
    if fmt == "plain":
        write_safe_csv(path, rows)
        return
    text = lms.csv_text(fmt, rows)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def platform_rows(
    fmt: str, results: Sequence[Result], qs: Sequence[Question], ecf_credit: float, assignment: str
) -> list[list[str]]:
    """The gradebook in a learning platform's import format: the roster's students, their score."""
    lines = [
        lms.Line(r.student.name, r.student.id, r.student.lms, f"{r.score(ecf_credit):g}" if r.graded else "")
        for r in results
        if not r.stranger
    ]
    return lms.gradebook_rows(fmt, lines, assignment.strip(), len(qs))


def summary(results: Sequence[Result], qs: Sequence[Question]) -> list[str]:
    """How many got each question right: which step the class finds hard."""
    graded = [r for r in results if r.graded]
    lines = [f"{len(graded)} of {sum(1 for r in results if r.student.id)} students graded"]
    width = max((len(q.key) for q in qs), default=8)
    for n, q in enumerate(qs):
        counts = Counter(r.marks[n].verdict for r in graded)
        lines.append(f"  {q.key:<{width}}  {q.label:<10} " + "  ".join(f"{v} {counts[v]}" for v in VERDICTS))
    return lines


def write_feedback(
    path: Path, result: Result, spec: Spec, lang: str, tol: Tolerance, ecf_credit: float
) -> None:
    """One workbook: each question with the answer, the expected value, the verdict, the slip, and
    the Working line with the key's numbers."""
    w = classroom_words(lang)
    how = _working_lines(spec, result.marks)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        bold = book.add_format({"bold": True})
        title = book.add_format({"bold": True, "font_size": 16})
        head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "bottom": 1})
        colours = {"right": "#C6EFCE", "ecf": "#DDEBF7", "wrong": "#FFC7CE", "blank": "#F2F2F2"}
        verdict_fmt = {v: book.add_format({"bg_color": c}) for v, c in colours.items()}
        ws = book.add_worksheet(w["sheet.feedback"])
        for col, width in enumerate((12, 34, 62, 18, 14, 26, 44)):
            ws.set_column(col, col, width)
        ws.write_string(
            0, 0, w["feedback.title"].format(id=result.student.id, name=result.student.name).strip(), title
        )
        score = result.score(ecf_credit)
        n = len(result.marks)
        tolerance = (
            w["tolerance"] if tol.sig_figs == 4 else w["tolerance.n"].format(n=tol.sig_figs, rel=tol.rel)
        )
        ws.write_string(
            1,
            0,
            w["feedback.score"].format(score=score, max=n, percent=100 * score / max(n, 1), tol=tolerance),
            bold,
        )
        if result.flags:
            ws.write_string(2, 0, w["feedback.flags"].format(flags="; ".join(result.flags)))
        heads = (
            "exercise.quantity",
            "exercise.equation",
            "feedback.how",
            "exercise.expected",
            "feedback.your_answer",
            "feedback.verdict",
            "feedback.mistake",
        )
        for col, key in enumerate(heads):
            ws.write_string(4, col, w[key], head)
        for r, mark in enumerate(result.marks, start=5):
            q = mark.question
            ws.write_string(r, 0, q.label, bold)
            ws.write_string(r, 1, q.equation)
            ws.write_string(r, 2, how.get(q.key, ""))
            ws.write_number(r, 3, mark.expected)
            if mark.answer.value is not None:
                ws.write_number(r, 4, mark.answer.value)
            else:
                ws.write_string(r, 4, mark.answer.text)
            ws.write_string(r, 5, w[f"verdict.{mark.verdict}"], verdict_fmt[mark.verdict])
            if mark.mistake:
                ws.write_string(r, 6, w[f"mistake.{mark.mistake}"].format(text=mark.answer.text))
        ws.freeze_panes(5, 0)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        book.close()


def _working_lines(spec: Spec, marks: Sequence[Mark]) -> dict[str, str]:
    """The Working sheet's line with the numbers (the key's), e.g. σ(0.505) = 0.6236336."""
    key = key_values(spec)
    consts = constants(spec)
    params = set(ids.params(spec))

    def value(node: Cell | Const) -> float:
        if isinstance(node, Const):
            return consts[node.key]
        if node.qid in params:
            return consts[f"init:{node.qid}"]
        return key[f"0:{node.qid}"]

    lines = {}
    for m in marks:
        text = textprint.text_value(m.question.expr, value)
        if text is not None:
            lines[m.question.key] = f"{text} = {textprint.format_number(m.expected)}"
    return lines
