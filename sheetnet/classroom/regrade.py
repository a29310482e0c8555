"""Regrading: what changed for whom since an earlier gradebook (after a new tolerance, ECF credit
or a corrected key). The earlier gradebook is read before the new one is written, so the two may be
the same file."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from sheetnet.csvsafe import TRIGGERS
from sheetnet.errors import SheetnetError

FIXED = ("id", "name", "score", "max", "percent")


def _unquote(text: str) -> str:
    """The text csvsafe quoted, as it was."""
    return text[1:] if text.startswith("'") and text[1:].startswith(TRIGGERS) else text


def read_previous(path: Path) -> dict[str, dict[str, str]]:
    """An earlier plain gradebook, by student id."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SheetnetError(f"--previous {path}: no such file; give the gradebook an earlier "
                            "grade wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SheetnetError(f"--previous {path}: cannot be read ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(rows[0][: len(FIXED)]) != FIXED:
        raise SheetnetError(
            f"--previous {path}: not a plain gradebook (its header must start with "
            f"{', '.join(FIXED)}); give the file `grade --gradebook` wrote without --format"
        )
    header = rows[0]
    return {
        _unquote(row[0]): {h: _unquote(v) for h, v in zip(header, row, strict=False)}
        for row in rows[1:]
        if row
    }


def changes(previous: Mapping[str, Mapping[str, str]], rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per student whose score or any question's verdict changed."""
    header = list(rows[0])
    questions = header[len(FIXED) : header.index("flags")]
    lines = []
    for row in rows[1:]:
        now = dict(zip(header, row, strict=True))
        sid = now["id"]
        before = previous.get(sid)
        if before is None:
            lines.append(f"  {sid}: new (score {now['score'] or '-'})")
            continue
        parts = []
        if before.get("score", "") != now["score"]:
            parts.append(f"score {before.get('score') or '-'} → {now['score'] or '-'}")
        parts += [
            f"{q} {before.get(q) or '-'} → {now[q] or '-'}" for q in questions if before.get(q, "") != now[q]
        ]
        if parts:
            lines.append(f"  {sid}: " + "; ".join(parts))
    gone = [sid for sid in previous if sid not in {row[0] for row in rows[1:]}]
    lines += [f"  {sid}: no longer graded" for sid in gone]
    return lines
