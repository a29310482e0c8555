"""The Exercise sheet (zh 练习): one row per asked quantity of iteration 1, an empty yellow cell for
each answer.

Three flavours of the same sheet:
- practice (`sheetnet exercise`): inside the full workbook, with a live ✓/✗ per answer against the
  Working sheet's value of that quantity, and a reveal switch that shows the expected values;
- student (`sheetnet class`, students/<id>.xlsx): beside the Guide and the Network sheet only, with
  nothing that holds or computes an answer;
- key (key/<id>.xlsx): the practice sheet with the expected values shown;
- answers: the student's three sheets with every answer typed in, for the printed key.
Its machine-readable id row holds `iter`, `id` and `answer` over their columns; grading reads it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from sheetnet.classroom.questions import GROUPS, Question, questions
from sheetnet.classroom.words import words as classroom_words
from sheetnet.model.spec import Spec
from sheetnet.progress import Progress
from sheetnet.sheets import styles, working
from sheetnet.sheets.context import BuildOptions, Context, ExtraSheet
from sheetnet.sheets.layout import address, sheet_prefix
from sheetnet.sheets.printing import export_pdf
from sheetnet.sheets.writer import build_workbook

TITLE_ROW, STUDENT_ROW, NOTE_ROW, PRACTICE_ROW, REVEAL_ROW = 1, 2, 3, 4, 5
HEADER_ROW, ID_ROW = 7, 8
FIRST_ROW = ID_ROW + 1
LABEL, EQUATION, ITER, ID, ANSWER, CHECK, EXPECTED = range(1, 8)
ID_WORDS = {ITER: "iter", ID: "id", ANSWER: "answer", CHECK: "check", EXPECTED: "expected"}
ABS_TOL = 5e-8  # an answer near zero is right within this, whatever its relative error
KEY = "sheet.exercise"
STUDENT_SHEETS = ("sheet.guide", "sheet.network", KEY)
_COLOUR = {
    "forward": "forward",
    "loss": "loss",
    "backward": "backward",
    "gradients": "gradient",
    "update": "update",
}


@dataclass(frozen=True)
class Setup:
    """What kind of Exercise sheet to write, and for whom."""

    mode: str = "practice"  # practice | student | key | answers (the student's sheets, answers typed in)
    ask: tuple[str, ...] = GROUPS
    student_id: str = ""
    student_name: str = ""
    sig_figs: int = 4

    @property
    def rel_tol(self) -> float:
        return 5 * 10.0**-self.sig_figs


def build_exercise(
    spec: Spec,
    path: Path,
    *,
    setup: Setup,
    lang: str = "en",
    paper: str = "a4",
    properties: tuple[tuple[str, str], ...] = (),
    in_memory: bool = False,
    progress: Progress | None = None,
    reference: pd.DataFrame | None = None,
) -> Path:
    """Write a practice, student or key workbook (atomically, as every build).

    reference: spec's NumPy run when the caller has it already (see build_workbook)."""
    student = setup.mode in ("student", "answers")  # the sheets a student gets
    name = classroom_words(lang)["sheet.exercise"]
    options = BuildOptions(
        lang=lang,
        paper=paper,
        extra_sheets=(ExtraSheet(KEY, name, _writer(setup)),),
        only_sheets=STUDENT_SHEETS if student else (),
        hide_answers=setup.mode == "student",
        custom_properties=properties,
        in_memory=in_memory,
    )
    return build_workbook(spec, path, options=options, progress=progress, reference=reference)


def _writer(setup: Setup) -> Callable[[Context, Worksheet], None]:
    def write(ctx: Context, ws: Worksheet) -> None:
        write_exercise_sheet(ctx, ws, setup)

    return write


def row_of_questions(spec: Spec, ask: tuple[str, ...]) -> list[tuple[int, Question | str]]:
    """(row, question) for every question and (row, group) for each group's heading."""
    result: list[tuple[int, Question | str]] = []
    row, group = FIRST_ROW, None
    for q in questions(spec, ask):
        if q.group != group:
            group = q.group
            result.append((row, group))
            row += 1
        result.append((row, q))
        row += 1
    return result


def working_cells(ctx: Context) -> dict[str, str]:
    """The Working sheet's value cell of each question key (`1:` for a parameter after the update)."""
    entries = working.items(ctx.spec)
    prefix = sheet_prefix(ctx.words["sheet.working"])
    cells = {}
    for entry, row in zip(entries, working.rows_of(entries), strict=True):
        if isinstance(entry, working.Line):
            t = 1 if entry.group == "update" else 0
            cells[f"{t}:{entry.qid}"] = prefix + address(row, working.VALUE, absolute=True)
    return cells


def write_exercise_sheet(ctx: Context, ws: Worksheet, setup: Setup) -> None:
    words = classroom_words(ctx.options.lang)
    fmt = _formats(ctx)
    live = setup.mode in ("practice", "key")
    rows = row_of_questions(ctx.spec, setup.ask)
    asked = [q for _, q in rows if isinstance(q, Question)]
    widest = max((len(q.equation) for q in asked), default=20)
    # A layered network's labels and ids are longer (argmax⁽²⁾[1,1,1]⁽¹⁾, dK1[1,1,2,3]).
    label = max((len(q.label) for q in asked), default=0)
    qid = max((len(q.qid) for q in asked), default=0)
    for col, width in {
        LABEL: min(26, max(15, label * 1.05 + 1)),
        EQUATION: min(60, max(20, widest * 0.9 + 2)),
        ITER: 5,
        ID: min(22, max(13, qid * 0.95 + 1)),
        ANSWER: 16,
        CHECK: 7 if live else 2,
        EXPECTED: 16 if live else 2,
    }.items():
        ws.set_column(col - 1, col - 1, width)
    network = words["sheet.network"]
    ws.write_string(TITLE_ROW - 1, 0, words["exercise.title"], fmt["title"])
    if setup.student_id:
        ws.write_string(
            STUDENT_ROW - 1,
            0,
            words["exercise.student"].format(id=setup.student_id, name=setup.student_name).strip(),
            fmt["bold"],
        )
    ws.set_row(NOTE_ROW - 1, 62)
    ws.merge_range(
        NOTE_ROW - 1,
        0,
        NOTE_ROW - 1,
        EXPECTED - 1,
        words["exercise.note"].format(network=network),
        fmt["note"],
    )
    reveal = address(REVEAL_ROW, EQUATION, absolute=True)
    yes = words["exercise.yes"]
    if live:
        ws.merge_range(
            PRACTICE_ROW - 1,
            0,
            PRACTICE_ROW - 1,
            EXPECTED - 1,
            words["exercise.practice"].format(network=network),
            fmt["note"],
        )
        ws.write_string(REVEAL_ROW - 1, 0, words["exercise.reveal"], fmt["bold"])
        shown = setup.mode == "key"
        ws.write_string(REVEAL_ROW - 1, EQUATION - 1, yes if shown else words["exercise.no"], fmt["switch"])
        ws.data_validation(
            REVEAL_ROW - 1,
            EQUATION - 1,
            REVEAL_ROW - 1,
            EQUATION - 1,
            {"validate": "list", "source": [words["exercise.no"], yes]},
        )
    heads = {
        LABEL: "exercise.quantity",
        EQUATION: "exercise.equation",
        ITER: "exercise.iter",
        ID: "exercise.id",
        ANSWER: "exercise.answer",
        CHECK: "exercise.check",
        EXPECTED: "exercise.expected",
    }
    last = EXPECTED if live else ANSWER
    if setup.mode == "answers":
        heads[ANSWER] = "exercise.expected"
    # constant_memory: each row is finished before the next one starts.
    for col in range(LABEL, last + 1):
        ws.write_string(HEADER_ROW - 1, col - 1, words[heads[col]], fmt["header"])
    for col in range(LABEL, last + 1):
        if col in ID_WORDS:
            ws.write_string(ID_ROW - 1, col - 1, ID_WORDS[col], fmt["ids"])
    expected_cells = working_cells(ctx) if live else {}
    values = ctx.reference
    for row, item in rows:
        r0 = row - 1
        if isinstance(item, str):
            ws.merge_range(r0, 0, r0, last - 1, words[f"group.{item}"], fmt[f"band.{item}"])
            continue
        ws.write_string(r0, LABEL - 1, item.label, fmt[f"label.{item.group}"])
        ws.write_string(r0, EQUATION - 1, item.equation, fmt["text"])
        ws.write_number(r0, ITER - 1, item.iter, fmt["ids"])
        ws.write_string(r0, ID - 1, item.qid, fmt["ids"])
        if setup.mode == "answers":  # the printed key: the expected value in the answer's place
            ws.write_number(r0, ANSWER - 1, float(values.loc[item.iter, item.qid]), fmt["answer"])
        else:
            ws.write_blank(r0, ANSWER - 1, None, fmt["answer"])
        if not live:
            continue
        cell = expected_cells[item.key]
        answer = address(row, ANSWER)
        rel = f"{setup.rel_tol:.0e}".replace("e-0", "E-").replace("e-", "E-")
        close = f"ABS({answer}-{cell})<=MAX({rel}*ABS({cell}),{ABS_TOL:.0E})"
        ws.write_formula(
            r0,
            CHECK - 1,
            f'=IF({answer}="","",IF(ISNUMBER({answer}),IF({close},"✓","✗"),"✗"))',
            fmt["check"],
            "",
        )
        expected = float(values.loc[item.iter, item.qid])
        ws.write_formula(
            r0,
            EXPECTED - 1,
            f'=IF({reveal}="{yes}",{cell},"")',
            fmt["expected"],
            expected if setup.mode == "key" else "",
        )
    ws.freeze_panes(ID_ROW, 0)
    ws.protect("", {"format_columns": True, "format_rows": True})  # the layout stays; answers are open


def _formats(ctx: Context) -> dict[str, object]:
    def add(**props: object) -> object:
        return ctx.book.add_format({"font_name": "Calibri", "font_size": 11, **props})

    colours = styles.GROUP_COLOURS
    result = {
        "title": add(bold=True, font_size=16),
        "bold": add(bold=True),
        "note": add(italic=True, font_color="#595959", text_wrap=True, valign="top"),
        "header": add(bold=True, bg_color="#D9D9D9", bottom=1),
        "ids": add(font_color="#7F7F7F", font_size=9),
        "text": add(),
        "answer": add(bg_color=styles.INPUT_FILL, border=1, border_color="#BF9000", locked=False),
        "switch": add(
            bg_color=styles.INPUT_FILL,
            border=1,
            border_color="#BF9000",
            locked=False,
            bold=True,
            align="center",
        ),
        "check": add(bold=True, align="center", font_size=13),
        "expected": add(italic=True, font_color="#375623"),
    }
    for group, colour in _COLOUR.items():
        result[f"band.{group}"] = add(bold=True, bg_color=colours[colour][0], font_size=12)
        result[f"label.{group}"] = add(bold=True, bg_color=colours[colour][1], align="right")
    return result


def write_handout(spec: Spec, pdf: Path, *, setup: Setup, lang: str = "en", paper: str = "a4") -> Path:
    """A handout to work on paper: the Guide, the Network sheet and the blank Exercise sheet, printed
    by LibreOffice (a few pages, not the whole workbook)."""
    blank = replace(setup, mode="student")
    return _print_student_sheets(spec, pdf, blank, "handout.xlsx", lang=lang, paper=paper)


def write_key_handout(
    spec: Spec, pdf: Path, *, setup: Setup, mark: str, lang: str = "en", paper: str = "a4"
) -> Path:
    """The student's handout with every answer filled in, `mark` (KEY) in the header of every page."""
    marked = spec.replace(
        title=f"{spec.title} — {mark}",
        translations=tuple((code, f"{t} — {mark}", d) for code, t, d in spec.translations),
    )
    answers = replace(setup, mode="answers")
    return _print_student_sheets(marked, pdf, answers, "key.xlsx", lang=lang, paper=paper)


def _print_student_sheets(spec: Spec, pdf: Path, setup: Setup, name: str, *, lang: str, paper: str) -> Path:
    """The student's three sheets as setup fills them, built under a temporary name and printed."""
    with tempfile.TemporaryDirectory(prefix="sheetnet-handout-") as tmp:
        workbook = build_exercise(spec, Path(tmp) / name, setup=setup, lang=lang, paper=paper, in_memory=True)
        return export_pdf(workbook, pdf)
