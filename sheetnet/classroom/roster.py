"""The class roster: a CSV with a header, an `id` column (required) and a `name` column (optional),
or a roster exported from Canvas, Moodle or Blackboard, told apart by its headers (lms.py): then
the platform's identity columns are kept for its gradebook.

Every id becomes a file name (students/<id>.xlsx), so ids that are unsafe as file names on any
system are refused, as are duplicates.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sheetnet.classroom import lms
from sheetnet.errors import SheetnetError

# Names Windows reserves in every folder, with or without an extension.
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
MAX_ID = 64


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    platform: str = ""  # the learning platform whose roster export listed the student
    lms: tuple[tuple[str, str], ...] = ()  # that platform's identity columns, (header, value)


def read_roster(path: Path) -> list[Student]:
    """The students in roster order; one line on anything wrong."""
    try:
        text = _decode(Path(path).read_bytes())
    except FileNotFoundError:
        raise SheetnetError(f"{path}: no such roster; give a CSV file with an id column") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SheetnetError(f"{path}: the roster cannot be read ({exc}); save it as UTF-8 CSV") from None
    lines = text.splitlines()
    tabs = bool(lines) and "\t" in lines[0] and "," not in lines[0]  # Blackboard's tab-delimited download
    rows = list(csv.reader(lines, delimiter="\t" if tabs else ","))
    platform = lms.detect(rows[0]) if rows else None
    if platform is not None:
        return _platform_roster(path, platform, rows)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "id" not in header:
        shown = ", ".join(h for h in header if h) or "none"
        raise SheetnetError(
            f"{path}: the roster has no 'id' column (its columns: {shown}); the first "
            "line must name the columns, one of them id"
        )
    at_id, at_name = header.index("id"), header.index("name") if "name" in header else None
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        sid = row[at_id].strip() if at_id < len(row) else ""
        check_id(sid, f"{path}, line {line}")
        if sid in seen:
            raise SheetnetError(
                f"{path}: the id {sid!r} appears twice (lines {seen[sid]} and {line}); "
                "every student needs an id of their own"
            )
        seen[sid] = line
        name = row[at_name].strip() if at_name is not None and at_name < len(row) else ""
        students.append(Student(sid, name))
    if not students:
        raise SheetnetError(
            f"{path}: the roster lists no students; add one line per student under the header"
        )
    return students


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), or UTF-16 with its BOM (Blackboard's .xls download)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _platform_roster(path: Path, platform: lms.Platform, rows: list[list[str]]) -> list[Student]:
    header = [h.strip() for h in rows[0]]
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(rows[1:], start=2):
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        if not any(row.values()) or not lms.is_student_row(platform, row):
            continue
        sid = next((row[c] for c in platform.ids if row.get(c)), "")
        check_id(sid, f"{path}, line {line} ({platform.name} export, id from {' or '.join(platform.ids)})")
        if sid in seen:
            raise SheetnetError(f"{path}: the id {sid!r} appears twice (lines {seen[sid]} and {line}); "
                                "every student needs an id of their own")
        seen[sid] = line
        kept = tuple((c, row[c]) for c in platform.keep if c in row)
        students.append(Student(sid, platform.names(row), platform.name, kept))
    if not students:
        raise SheetnetError(f"{path}: the {platform.name} export lists no students; export the "
                            "course's students (with their identity columns)")
    return students


def check_id(sid: str, where: str) -> None:
    """Refuse an id that is not safe as a file name on Windows, macOS and Linux."""
    why = None
    if not sid:
        why = "it is empty"
    elif _UNSAFE.search(sid) or sid in (".", "..") or ".." in sid:
        why = "it holds a path separator, '..' or a character file names cannot hold"
    elif sid.split(".")[0].upper() in _RESERVED:
        why = "Windows reserves that name"
    elif sid.startswith(".") or sid.endswith((".", " ")):
        why = "it starts with a dot or ends with a dot or a space"
    elif len(sid) > MAX_ID:
        why = f"it is longer than {MAX_ID} characters"
    if why:
        raise SheetnetError(
            f"{where}: the id {sid!r} cannot be a file name ({why}); use letters, digits, '-' and '_'"
        )
