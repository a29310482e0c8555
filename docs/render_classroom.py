"""Regenerate the README's classroom pictures: a student's Exercise sheet with some answers typed,
and the feedback sheet `sheetnet grade` writes for it, as LibreOffice prints them.

Run from the top of the repository: `python docs/render_classroom.py` (needs LibreOffice and
poppler's pdftoppm). Writes docs/img/class-exercise.png and docs/img/class-feedback.png.
"""

from __future__ import annotations

import csv
import math
import subprocess
import tempfile
from pathlib import Path

import openpyxl

from sheetnet.classroom import exercise
from sheetnet.classroom.classfolder import ClassOptions, make_class, student_spec
from sheetnet.classroom.gradebook import write_feedback
from sheetnet.classroom.grading import Class, Tolerance, grade_class
from sheetnet.classroom.roster import Student
from sheetnet.engines.libreoffice import to_pdf
from sheetnet.model.spec import DEFAULT_TEMPLATE, load_template

OUT = Path(__file__).parent / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "class1"
        make_class(load_template(DEFAULT_TEMPLATE), [Student("s07", "Ada Lovelace")], folder,
                   secret="autumn-2026", options=ClassOptions(template=DEFAULT_TEMPLATE))
        typed = _typed(folder, root / "s07-answers.xlsx")
        _picture(typed, "class-exercise", page=3, root=root, crop=("-r", "90", "-W", "720", "-H", "560"))
        results, _ = grade_class(Class.open(folder), [typed], Tolerance())
        feedback = root / "feedback.xlsx"
        write_feedback(feedback, results[0], student_spec(folder, "s07"), "en", Tolerance(), 1.0)
        _picture(feedback, "class-feedback", page=1, root=root, crop=("-r", "150", "-W", "1560", "-H", "420"))


def _typed(folder: Path, out: Path) -> Path:
    """The student's file with the forward pass, the loss and δ₅ typed, one of them a slip on z₃
    that a₃ carries forward, and the loss without its ½."""
    with open(folder / "key" / "answers.csv", encoding="utf-8") as f:
        keys = {f"{r['iteration']}:{r['quantity']}": float(r["answer"]) for r in csv.DictReader(f)}
    book = openpyxl.load_workbook(folder / "students" / "s07.xlsx")
    ws = book["Exercise"]
    z3 = round(keys["0:z1[1]"] + 0.1, 4)
    answers = {"0:z1[1]": z3, "0:a1[1]": round(1 / (1 + math.exp(-z3)), 6), "0:z1[2]": keys["0:z1[2]"],
               "0:a1[2]": f"{keys['0:a1[2]']:.6f}".replace(".", ","), "0:loss": round(2 * keys["0:loss"], 7)}
    for r in range(exercise.FIRST_ROW, ws.max_row + 1):
        key = f"{ws.cell(r, exercise.ITER).value}:{ws.cell(r, exercise.ID).value}"
        if key in answers:
            ws.cell(r, exercise.ANSWER).value = answers[key]
    book.save(out)
    return out


def _picture(xlsx: Path, name: str, *, page: int, root: Path, crop: tuple[str, ...]) -> None:
    """Page `page` of the workbook as LibreOffice prints it, the top-left corner (crop) only."""
    pdf = to_pdf(xlsx, root / f"{name}.pdf")
    subprocess.run(["pdftoppm", "-png", *crop, "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(OUT / name)], check=True)
    print(f"{OUT / name}.png")


if __name__ == "__main__":
    main()
