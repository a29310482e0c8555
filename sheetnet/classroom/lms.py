"""Learning platforms: their roster exports in, their gradebook import format out.

From each platform's documentation (see docs/classroom.md for the links and the steps):
- Canvas: the gradebook export and import share the columns Student, ID, SIS User ID, SIS Login
  ID, Section, then one column per assignment (an existing one is headed `Name (id)`; a new name
  makes a new assignment). The export's second row, "Points Possible", is not a student.
- Moodle: the participants export has First name, Last name and Email address (and ID number or
  Username where the site shows them); the CSV grade import maps one identity column (username,
  ID number or email address) to the user and a column to the grade item.
- Blackboard: the Grade Center identifies a student by Username; its download has Last Name,
  First Name, Username, Student ID; a column headed `Title [Total Pts: N Score]` is a new grade
  column (an existing one carries `|id`); comma-delimited data quoted in every field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sheetnet.csvsafe import safe_rows

FORMATS = ("plain", "canvas", "moodle", "blackboard")


@dataclass(frozen=True)
class Platform:
    name: str
    marks: frozenset[str]  # the headers that tell its roster export apart
    keep: tuple[str, ...]  # identity columns kept for the gradebook, where the export has them
    ids: tuple[str, ...]  # the class id: the first of these columns that is filled
    names: Callable[[Mapping[str, str]], str]
    fallback: str  # where a plain roster's id goes in this platform's gradebook


def _first_last(first: str, last: str) -> Callable[[Mapping[str, str]], str]:
    return lambda row: " ".join(p for p in (row.get(first, "").strip(), row.get(last, "").strip()) if p)


PLATFORMS = {
    "canvas": Platform(
        "canvas", frozenset({"Student", "ID", "SIS User ID", "SIS Login ID"}),
        ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"), ("SIS Login ID", "ID"),
        lambda row: row.get("Student", "").strip(), "SIS User ID",
    ),
    "moodle": Platform(
        "moodle", frozenset({"First name", "Last name", "Email address"}),
        ("First name", "Last name", "Username", "ID number", "Email address"),
        ("Username", "ID number", "Email address"), _first_last("First name", "Last name"), "ID number",
    ),
    "blackboard": Platform(
        "blackboard", frozenset({"Last Name", "First Name", "Username"}),
        ("Last Name", "First Name", "Username", "Student ID"), ("Username",),
        _first_last("First Name", "Last Name"), "Username",
    ),
}


def detect(header: Sequence[str]) -> Platform | None:
    """The platform whose export has these headers (exact names, as the platforms write them)."""
    present = {h.strip() for h in header}
    return next((p for p in PLATFORMS.values() if p.marks <= present), None)


def is_student_row(platform: Platform, row: Mapping[str, str]) -> bool:
    """Canvas's export carries a "Points Possible" row (and a muted-assignment row) under its header."""
    student = row.get("Student", "").strip()
    return not (platform.name == "canvas" and (student == "Points Possible" or not row.get("ID", "").strip()))


@dataclass(frozen=True)
class Line:
    """One student of the gradebook: the identity columns the platform needs, and the score."""

    name: str
    sid: str
    lms: tuple[tuple[str, str], ...]
    score: str


def gradebook_rows(fmt: str, lines: Sequence[Line], assignment: str, points: int) -> list[list[str]]:
    """The import file's rows for Canvas, Moodle or Blackboard."""
    platform = PLATFORMS[fmt]
    columns = _columns(platform, lines)
    score_head = f"{assignment} [Total Pts: {points} Score]" if fmt == "blackboard" else assignment
    rows = [[*columns, score_head]]
    for line in lines:
        values = dict(line.lms) or _fallback(platform, line)
        rows.append([*(values.get(c, "") for c in columns), line.score])
    return rows


def _columns(platform: Platform, lines: Sequence[Line]) -> list[str]:
    if platform.name == "canvas":
        return list(platform.keep)  # Canvas's import wants all five, filled or not
    kept = {c for line in lines for c, _ in line.lms} or set(_fallback(platform, Line("", "", (), "")))
    return [c for c in platform.keep if c in kept]


def _fallback(platform: Platform, line: Line) -> dict[str, str]:
    """A class made from a plain roster: its id goes in the platform's identity column."""
    first, _, last = line.name.partition(" ")
    names = {
        "canvas": {"Student": line.name},
        "moodle": {"First name": first, "Last name": last},
        "blackboard": {"First Name": first, "Last Name": last},
    }[platform.name]
    return {**names, platform.fallback: line.sid}


def csv_text(fmt: str, rows: Sequence[Sequence[str]]) -> str:
    """CSV text, every field made safe; Blackboard's documented form quotes every field."""
    text = io.StringIO()
    quoting = csv.QUOTE_ALL if fmt == "blackboard" else csv.QUOTE_MINIMAL
    csv.writer(text, lineterminator="\n", quoting=quoting).writerows(safe_rows(rows))
    return text.getvalue()
