"""CSV text that no spreadsheet program evaluates (OWASP's rule against CSV injection).

A field that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets when the CSV is opened; a single quote in front makes it text.
A field that is a number (a negative one too) stays as it is: it is a number, not a formula.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from sheetnet.atomic import atomic_path

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_field(value: object) -> str:
    """The field's text, with a quote in front when a spreadsheet would evaluate it."""
    text = "" if value is None else str(value)
    if text.startswith(TRIGGERS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and text.strip() == text


def safe_rows(rows: Iterable[Sequence[object]]) -> list[list[str]]:
    return [[safe_field(v) for v in row] for row in rows]


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(safe_rows(rows))
    return text.getvalue()


def write_safe_csv(path: Path, rows: Iterable[Sequence[object]]) -> None:
    """Write rows as UTF-8 CSV, every field made safe, atomically."""
    text = csv_text(rows)
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
