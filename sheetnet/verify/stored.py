"""The values a workbook stores for its formula cells, read straight from the sheet's XML.

openpyxl gives either the formulas or the stored values of a sheet, at the cost of parsing it
twice; the stored values of the Training sheet are read here with one regular-expression pass
over the XML, row block by row block, so that memory stays small.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

_SHEET = re.compile(r'<sheet\b[^>]*?\bname="(?P<name>[^"]*)"[^>]*?\br:id="(?P<rid>[^"]*)"')
_SHEET_RID_FIRST = re.compile(r'<sheet\b[^>]*?\br:id="(?P<rid>[^"]*)"[^>]*?\bname="(?P<name>[^"]*)"')
_REL = re.compile(r'<Relationship\b[^>]*?\bId="(?P<id>[^"]*)"[^>]*?\bTarget="(?P<target>[^"]*)"')
_REL_TARGET_FIRST = re.compile(r'<Relationship\b[^>]*?\bTarget="(?P<target>[^"]*)"[^>]*?\bId="(?P<id>[^"]*)"')
# A formula cell and its stored value, as XlsxWriter, LibreOffice and Gnumeric write it; one
# pattern, so that the scan runs in the regular-expression engine, not in Python.
_FORMULA_CELL = re.compile(
    r'<c r="(?P<col>[A-Z]{1,3})(?P<row>\d+)"(?P<attrs>[^>]*)>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*'
    r"(?:<v>(?P<v>[^<]*)</v>)?")
_TYPE = re.compile(r'\bt="(?P<t>[^"]*)"')
_RULES = re.compile(
    r'<conditionalFormatting\b[^>]*?\bsqref="(?P<sqref>[^"]*)"[^>]*>(?P<body>.*?)</conditionalFormatting>',
    re.S)
_RULE_FORMULA = re.compile(r"<formula>(?P<f>[^<]*)</formula>")


def unescape(data: str, entities: dict[str, str] | None = None) -> str:
    """What xml.sax.saxutils.unescape does (&lt;, &gt;, the entities given, &amp; last), without
    importing it: it imports urllib.request, http and ssl, 30 ms of a check's start-up."""
    data = data.replace("&lt;", "<").replace("&gt;", ">")
    for entity, text in (entities or {}).items():
        data = data.replace(entity, text)
    return data.replace("&amp;", "&")


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    """The zip member that holds the sheet named `sheet`."""
    book = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    rid = {unescape(m["name"], {"&quot;": '"', "&apos;": "'"}): m["rid"]
           for pattern in (_SHEET, _SHEET_RID_FIRST) for m in pattern.finditer(book)}[sheet]
    targets = {m["id"]: m["target"] for pattern in (_REL, _REL_TARGET_FIRST) for m in pattern.finditer(rels)}
    target = targets[rid]
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)


@dataclass
class Stored:
    """The stored values of a sheet's formula cells: numbers, where one is stored at all, and the
    errors or texts stored instead of a number."""

    numbers: np.ndarray  # float, NaN where no number is stored
    present: np.ndarray  # bool: the cell holds a formula with a stored value
    other: dict[tuple[int, int], Any] = field(default_factory=dict)  # (t, c) → "#NUM!", text, bool
    rules: list[tuple[str, list[str]]] = field(default_factory=list)  # (area, rule formulas)

    def value(self, t: int, c: int) -> Any:
        return self.other.get((t, c), float(self.numbers[t, c]))


def stored_formula_values(path: Path, sheet: str, first_row: int, shape: tuple[int, int]) -> Stored:
    """Stored values of the formula cells of rows first_row… and columns 1… (cells without a
    formula count as absent), and the sheet's conditional formats, read on the way (they follow
    the cells in the XML)."""
    out = Stored(np.full(shape, np.nan), np.zeros(shape, dtype=bool))
    with zipfile.ZipFile(path) as archive, archive.open(sheet_part(archive, sheet)) as xml:
        rest = ""
        while chunk := xml.read(1 << 22).decode("utf-8", errors="replace"):
            text = rest + chunk
            cut = text.rfind("</row>") + len("</row>")
            if cut < len("</row>"):
                rest = text
                continue
            _fill(out, text[:cut], first_row)
            rest = text[cut:]
        _fill(out, rest, first_row)
        out.rules = conditional_formats(rest)
    return out


def conditional_formats(xml: str) -> list[tuple[str, list[str]]]:
    """The conditional formats in a piece of sheet XML: (area, rule formulas)."""
    return [(m["sqref"], [unescape(f["f"]) for f in _RULE_FORMULA.finditer(m["body"])])
            for m in _RULES.finditer(xml)]


def _fill(out: Stored, text: str, first_row: int) -> None:
    found = _FORMULA_CELL.findall(text)
    if not found:
        return
    n_rows, n_cols = out.numbers.shape
    cols, rows, attrs, values = zip(*found, strict=True)
    letters = {col: _column(col) - 1 for col in set(cols)}
    t = np.fromiter(map(int, rows), dtype=np.int64, count=len(rows)) - first_row
    c = np.fromiter((letters[col] for col in cols), dtype=np.int64, count=len(cols))
    typed = np.fromiter(("t=" in a for a in attrs), dtype=bool, count=len(attrs))
    given = np.fromiter(map(bool, values), dtype=bool, count=len(values))
    keep = (t >= 0) & (t < n_rows) & (c >= 0) & (c < n_cols) & given
    plain = keep & ~typed  # numbers, most cells: converted by NumPy in one call
    try:
        out.numbers[t[plain], c[plain]] = np.array(values, dtype=object)[plain].astype(float)
    except ValueError:  # not a number after all: one by one
        typed |= plain
        plain[:] = False
    out.present[t[keep], c[keep]] = True
    for i in np.flatnonzero(keep & typed):
        kind = _TYPE.search(attrs[i])
        value = _typed(values[i], kind["t"] if kind else "n")
        if isinstance(value, float):
            out.numbers[t[i], c[i]] = value
        else:
            out.other[int(t[i]), int(c[i])] = value


def _typed(text: str, kind: str) -> Any:
    if kind == "n":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "b":
        return text == "1"
    return unescape(text)  # e (an error such as #NUM!), str: the text itself


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
