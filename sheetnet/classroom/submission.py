"""Read a student's submitted workbook as untrusted: its identity, its answers, its Network numbers.

The file is refused as `check` refuses (a zip bomb, a broken file, a foreign workbook) before
openpyxl unpacks it. Nothing is taken from values the file caches: answers are read as typed
(a number, a formula's text, a text), and a formula is evaluated here by the `formulas` package.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import formulas

from sheetnet.classroom.classfolder import STUDENT_PROPERTY, VARIANT_PROPERTY
from sheetnet.errors import SheetnetError
from sheetnet.sheets.i18n import sheet_names
from sheetnet.verify.readback import open_workbook, sheet_values
from sheetnet.verify.untrusted import BROKEN_FILE_ERRORS, check_archive, reading, why
from sheetnet.verify.vectorised import light_functions

_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
MAX_DEPTH = 20  # formula answers that refer to other answers, at most this deep


@dataclass(frozen=True)
class Answer:
    """What a student typed: `value` is None when blank or not a number (then `text` says what)."""

    value: float | None
    text: str = ""

    @property
    def blank(self) -> bool:
        return self.value is None and not self.text


@dataclass
class Submission:
    path: Path
    student: str  # the identity the file carries ("" when it carries none)
    variant: str
    answers: dict[str, Answer] = field(default_factory=dict)  # by question key, "0:z1[1]"
    network: dict[tuple[int, int], Any] = field(default_factory=dict)


def read_submission(path: Path) -> Submission:
    """One submission; a SheetnetError (one line) when the file is refused."""
    path = Path(path)
    if not path.is_file():
        raise SheetnetError(f"{path}: no such file")
    check_archive(path)
    properties = custom_properties(path)
    with reading(path), open_workbook(path, data_only=False) as book:
        exercise = _find(path, book.sheetnames, "sheet.exercise")
        network = _find(path, book.sheetnames, "sheet.network")
        cells = sheet_values(book[exercise])
        answers = _answers(path, cells)
        network_cells = sheet_values(book[network])
    return Submission(
        path,
        properties.get(STUDENT_PROPERTY, ""),
        properties.get(VARIANT_PROPERTY, ""),
        answers,
        network_cells,
    )


def custom_properties(path: Path) -> dict[str, str]:
    """The document's custom properties (docProps/custom.xml), parsed with defusedxml."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "docProps/custom.xml" not in archive.namelist():
                return {}
            root = SafeET.fromstring(archive.read("docProps/custom.xml"))
    except BROKEN_FILE_ERRORS as exc:
        raise SheetnetError(f"{path}: not an .xlsx workbook that can be read ({why(exc)})") from None
    result = {}
    for prop in root:
        name = prop.get("name")
        if name and len(prop):
            result[name] = (prop[0].text or "").strip()
    return result


def _find(path: Path, present: list[str], key: str) -> str:
    for name in sheet_names(key):
        if name in present:
            return name
    wanted = " or ".join(sheet_names(key))
    raise SheetnetError(f"{path}: not a sheetnet exercise (it has no sheet named {wanted})")


def _answers(path: Path, cells: Mapping[tuple[int, int], Any]) -> dict[str, Answer]:
    """Answers by question key, found through the id row (`iter`, `id`, `answer`)."""
    columns: dict[str, int] = {}
    id_row = None
    for (r, c), value in sorted(cells.items()):
        if value in ("iter", "id", "answer"):
            if id_row not in (None, r):
                continue
            id_row, columns[value] = r, c
    if id_row is None or len(columns) < 3:
        raise SheetnetError(
            f"{path}: its exercise sheet has no id row (iter, id, answer); is this a "
            "file written by `sheetnet class`?"
        )
    last = max((r for r, _ in cells), default=id_row)
    answers = {}
    for r in range(id_row + 1, last + 1):
        t, qid = cells.get((r, columns["iter"])), cells.get((r, columns["id"]))
        if not isinstance(qid, str) or not isinstance(t, int | float):
            continue
        answers[f"{int(t)}:{qid}"] = parse_answer(cells.get((r, columns["answer"])), cells)
    return answers


def parse_answer(raw: Any, cells: Mapping[tuple[int, int], Any] | None = None, depth: int = 0) -> Answer:
    """A typed number, a formula (evaluated) or a text with a decimal point or comma."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Answer(None)
    if isinstance(raw, bool):
        return Answer(None, str(raw))
    if isinstance(raw, int | float):
        return Answer(float(raw)) if math.isfinite(raw) else Answer(None, str(raw))
    text = str(raw).strip()
    if text.startswith("=") and len(text) > 1:
        value = evaluate_formula(text, cells or {}, depth)
        return Answer(value) if value is not None else Answer(None, text)
    number = text.replace(" ", "").replace("\u2212", "-")
    if _DECIMAL_COMMA.match(number):
        number = number.replace(",", ".")
    try:
        value = float(number)
    except ValueError:
        return Answer(None, text)
    return Answer(value) if math.isfinite(value) else Answer(None, text)


def evaluate_formula(text: str, cells: Mapping[tuple[int, int], Any], depth: int = 0) -> float | None:
    """A formula's value with the `formulas` package; references read this sheet's cells."""
    if depth > MAX_DEPTH:
        return None
    try:
        with light_functions():  # the package's own functions, without importing SciPy
            function = formulas.Parser().ast(text)[1].compile()
        args = []
        for name in function.inputs:
            m = _CELL.match(name.split("!")[-1].upper())
            if not m:
                return None
            ref = _column_number(m.group(1)), int(m.group(2))
            referred = parse_answer(cells.get((ref[1], ref[0])), cells, depth + 1)
            if referred.value is None:
                return None
            args.append(referred.value)
        result = function(*args)
        value = float(result.item() if hasattr(result, "item") else result)
    except Exception:  # whatever `formulas` raises, the answer is just not a number
        return None
    return value if math.isfinite(value) else None


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
