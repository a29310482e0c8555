"""Item analysis: which step the class finds hard, and whether a question tells strong students
from weak ones.

Per question the share of graded students whose answer was right, right from their earlier answers
(ecf), wrong or blank, and a discrimination index: the share that got it (right or ecf) in the
upper third of the class by score minus that share in the lower third (from −1 to 1; near 0 or
below, the question does not tell them apart). Per named slip, how many students made it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from sheetnet.atomic import atomic_path
from sheetnet.classroom.grading import VERDICTS, Result
from sheetnet.classroom.questions import Question
from sheetnet.classroom.words import words as classroom_words

GOT = ("right", "ecf")


@dataclass(frozen=True)
class Item:
    question: Question
    shares: dict[str, float]  # verdict → share of the graded students
    discrimination: float | None  # None with fewer than three graded students


def item_analysis(results: Sequence[Result], qs: Sequence[Question], ecf_credit: float) -> list[Item]:
    graded = [r for r in results if r.graded and not r.stranger]
    ordered = sorted(graded, key=lambda r: r.score(ecf_credit))  # stable: ties keep roster order
    third = len(ordered) // 3
    items = []
    for n, q in enumerate(qs):
        counts = Counter(r.marks[n].verdict for r in graded)
        shares = {v: counts[v] / len(graded) if graded else 0.0 for v in VERDICTS}
        index = None
        if third:
            upper, lower = ordered[-third:], ordered[:third]
            index = (sum(r.marks[n].verdict in GOT for r in upper)
                     - sum(r.marks[n].verdict in GOT for r in lower)) / third
        items.append(Item(q, shares, index))
    return items


def slip_counts(results: Sequence[Result]) -> Counter[str]:
    """How many students made each named slip (a student counts once per slip)."""
    return Counter(
        slip for r in results if r.graded and not r.stranger
        for slip in {m.mistake for m in r.marks if m.mistake and m.mistake != "not_a_number"}
    )


def histogram(results: Sequence[Result], n_questions: int, ecf_credit: float) -> list[int]:
    """Students by whole score 0 … n_questions (a score with ECF credit rounds down)."""
    bins = [0] * (n_questions + 1)
    for r in results:
        if r.graded and not r.stranger:
            bins[math.floor(r.score(ecf_credit) + 1e-9)] += 1
    return bins


def table(items: Sequence[Item]) -> list[str]:
    """The terminal's short table: one line a question, shares in per cent."""
    width = max((len(i.question.key) for i in items), default=8)
    head = f"  {'question':<{width}}  {'':<10} right   ecf  wrong  blank  discrimination"
    lines = [head]
    for item in items:
        q, s = item.question, item.shares
        index = f"{item.discrimination:+.2f}" if item.discrimination is not None else "-"
        lines.append(
            f"  {q.key:<{width}}  {q.label:<10} {100 * s['right']:4.0f}% {100 * s['ecf']:4.0f}% "
            f"{100 * s['wrong']:5.0f}% {100 * s['blank']:5.0f}%  {index:>14}"
        )
    return lines


def write_report(path: Path, results: Sequence[Result], qs: Sequence[Question], ecf_credit: float,
                 lang: str) -> None:
    """The class report workbook: Scores (with a histogram chart), Questions, Slips, Flags."""
    w = classroom_words(lang)
    items = item_analysis(results, qs, ecf_credit)
    roster = [r for r in results if not r.stranger]
    with atomic_path(Path(path)) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        fmt = {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "head": book.add_format({"bold": True, "bg_color": "#D9D9D9", "bottom": 1, "text_wrap": True}),
            "share": book.add_format({"num_format": "0%"}),
            "index": book.add_format({"num_format": "+0.00;-0.00;0.00"}),
        }
        graded = sum(r.graded for r in roster)
        title = w["report.title"].format(graded=graded, students=len(roster))
        _scores(book, w, fmt, title, histogram(results, len(qs), ecf_credit))
        _questions(book, w, fmt, items)
        _slips(book, w, fmt, slip_counts(results))
        _flags(book, w, fmt, results)
        book.close()


def _scores(book: xlsxwriter.Workbook, w: dict[str, str], fmt: dict, title: str, bins: list[int]) -> None:
    ws = book.add_worksheet(w["sheet.scores"])
    ws.set_column(0, 1, 14)
    ws.write_string(0, 0, title, fmt["title"])
    ws.write_string(2, 0, w["report.score"], fmt["head"])
    ws.write_string(2, 1, w["report.students"], fmt["head"])
    for n, count in enumerate(bins):
        ws.write_number(3 + n, 0, n)
        ws.write_number(3 + n, 1, count)
    chart = book.add_chart({"type": "column"})
    last = 3 + len(bins) - 1
    chart.add_series({
        "name": w["report.students"],
        "categories": [ws.name, 3, 0, last, 0],
        "values": [ws.name, 3, 1, last, 1],
        "gap": 20,
    })
    chart.set_title({"name": w["report.histogram"]})
    chart.set_x_axis({"name": w["report.score"]})
    chart.set_y_axis({"name": w["report.students"], "major_gridlines": {"visible": True}})
    chart.set_legend({"none": True})
    ws.insert_chart(2, 3, chart, {"x_scale": 1.4, "y_scale": 1.2})


def _questions(book: xlsxwriter.Workbook, w: dict[str, str], fmt: dict, items: Sequence[Item]) -> None:
    ws = book.add_worksheet(w["sheet.questions"])
    heads = [w["exercise.quantity"], w["exercise.id"], w["verdict.right"], w["report.ecf"],
             w["verdict.wrong"], w["verdict.blank"], w["report.discrimination"]]
    for col, (head, width) in enumerate(zip(heads, (12, 14, 10, 16, 10, 10, 22), strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, head, fmt["head"])
    for row, item in enumerate(items, start=1):
        ws.write_string(row, 0, item.question.label)
        ws.write_string(row, 1, item.question.key)
        for col, verdict in enumerate(VERDICTS, start=2):
            ws.write_number(row, col, item.shares[verdict], fmt["share"])
        if item.discrimination is not None:
            ws.write_number(row, 6, item.discrimination, fmt["index"])
    ws.freeze_panes(1, 0)


def _slips(book: xlsxwriter.Workbook, w: dict[str, str], fmt: dict, counts: Counter[str]) -> None:
    ws = book.add_worksheet(w["sheet.slips"])
    ws.set_column(0, 0, 60)
    ws.set_column(1, 1, 12)
    ws.write_string(0, 0, w["report.slip"], fmt["head"])
    ws.write_string(0, 1, w["report.students"], fmt["head"])
    for row, (slip, count) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), start=1):
        ws.write_string(row, 0, w[f"mistake.{slip}"])
        ws.write_number(row, 1, count)


def _flags(book: xlsxwriter.Workbook, w: dict[str, str], fmt: dict, results: Sequence[Result]) -> None:
    """Every flag, as text: ids, names and file names come from students and rosters."""
    ws = book.add_worksheet(w["sheet.flags"])
    for col, (head, width) in enumerate(zip((w["exercise.id"], w["report.name"], w["report.flags"]),
                                            (14, 24, 100), strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, head, fmt["head"])
    flagged = [r for r in results if r.flags]
    for row, r in enumerate(flagged, start=1):
        ws.write_string(row, 0, r.student.id)
        ws.write_string(row, 1, r.student.name)
        ws.write_string(row, 2, "; ".join(r.flags))
