"""Open workbooks we did not write (a student's copy, a stranger's file) without being hurt by them.

An .xlsx is a zip of XML parts, so a hostile one can be a zip bomb (parts that unpack to
gigabytes) or carry XML entity tricks (billion laughs, external entities). The XML is parsed
safely by openpyxl itself: with `defusedxml` installed (a dependency) openpyxl parses every
part through it and refuses entity declarations. The zip is inspected here, from its central
directory only, before openpyxl unpacks anything. Python's zipfile never unpacks a part beyond
the size its directory entry declares (it stops there and fails the CRC check), so bounding
the declared sizes bounds the work. Any other damage (truncated, not a zip, missing parts)
becomes one SheetnetError line instead of a traceback.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree
from openpyxl.utils.exceptions import InvalidFileException

from sheetnet.errors import SheetnetError

# The biggest workbook worth checking whatever it claims to be. bench/wide.toml (2,000 iterations
# of a 4-16-16-3 net, 2.5 million formula cells) unpacks to 0.32 GB; 1 GiB leaves room for 3 such
# workbooks and refuses a bomb long before it could exhaust a laptop.
MAX_UNPACKED_BYTES = 1 << 30
# Beyond that, the Training sheet may be as big as the cells its Network sheet describes explain:
# sheetnet writes 90 to 130 bytes of XML a cell (a formula and its value), so a run of Excel's
# largest sheet (seed-004 at 1,048,570 iterations: 40 million cells, 3.7 GB) is checked, and a
# file claiming a small run cannot unpack to more than MAX_UNPACKED_BYTES and a bit. The check's
# memory grows with the cells too (about 45 bytes a cell), not with the bytes.
MAX_CELL_BYTES = 1_000
# Deflate cannot do better than about 1,030:1; sheetnet's parts compress at most about 30:1
# (the comments' VML drawing), plain data sheets about 4:1. A big part beyond 200:1 is a
# bomb made of repeated bytes, not a spreadsheet.
MAX_RATIO = 200
RATIO_FROM_BYTES = 1 << 20  # tiny parts may compress oddly; only parts over 1 MiB are judged
MIN_CELL_BYTES = 10  # <c r="A1"/> is 11 bytes: no cell of a sheet's XML is shorter
MAX_PARTS = 10_000  # sheetnet writes about 40; a directory of millions of entries is a trap

# What reading a damaged file can raise from zipfile, zlib, the XML parser (defusedxml's
# refusals are ValueErrors) and openpyxl: each means "this file cannot be read".
BROKEN_FILE_ERRORS = (
    OSError, EOFError, zipfile.BadZipFile, zlib.error, ParseError, InvalidFileException,
    KeyError, ValueError, TypeError, IndexError,
)


def check_archive(path: Path, *, big_sheet: bool = False) -> int:
    """Refuse, before anything is unpacked, a file that is no zip or would unpack absurdly.

    big_sheet: its largest part may pass MAX_UNPACKED_BYTES (the rest may not) when the
    caller checks it then with check_big_part and check_claimed_cells, before reading it.
    Returns the bytes it unpacks to.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
        raise SheetnetError(f"{path}: not an .xlsx workbook that can be read ({why(exc)})") from None
    if len(parts) > MAX_PARTS:
        raise SheetnetError(f"{path}: refused: its zip has {len(parts):,} parts, more than the "
                            f"{MAX_PARTS:,} a workbook needs; give a workbook written by `sheetnet build`")
    total = sum(part.file_size for part in parts)
    largest = max((part.file_size for part in parts), default=0)
    if total - (largest if big_sheet else 0) > MAX_UNPACKED_BYTES:
        raise SheetnetError(f"{path}: refused: it would unpack to {_size(total)}, more than the "
                            f"{_size(MAX_UNPACKED_BYTES)} limit for a workbook to check; check a shorter run "
                            "(fewer iterations with --iters)")
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise SheetnetError(f"{path}: refused: its part {part.filename} would unpack {ratio:,.0f} "
                                f"times larger than it is stored (limit {MAX_RATIO}); a zip bomb, "
                                "not a workbook")
    return total


def check_big_part(path: Path, training_sheet: str) -> None:
    """A workbook past MAX_UNPACKED_BYTES: refuse it, before any sheet is read, unless its largest
    part is the Training sheet's (the one part that check_claimed_cells may let grow)."""
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) <= MAX_UNPACKED_BYTES:
            return
        largest = max(parts, key=lambda part: part.file_size)
        if largest.filename != _sheet_part(archive, training_sheet):
            raise SheetnetError(f"{path}: refused: its part {largest.filename} would unpack to "
                                f"{_size(largest.file_size)}, more than the {_size(MAX_UNPACKED_BYTES)} "
                                f"limit for a workbook to check, and it is not the {training_sheet} sheet")


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The zip part of the sheet named title (xl/worksheets/sheet3.xml), from the workbook's
    list of sheets and its relationships (both small: check_archive bounded them)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    sheets = ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{main}sheet")
    rid = next((sheet.get(rel) for sheet in sheets if sheet.get("name") == title), None)
    links = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((link.get("Target", "") for link in links if link.get("Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


def check_claimed_cells(path: Path, cells: int, unpacked: int) -> None:
    """Refuse a Network sheet that claims more Training cells than the file could hold, and a
    file bigger than MAX_UNPACKED_BYTES that its claimed cells do not explain.

    The check allocates arrays for every cell the settings describe; a small file whose
    iterations cell says 1,000,000 must not make it allocate gigabytes. Each cell takes at
    least MIN_CELL_BYTES of unpacked XML, so a real workbook always passes (sheetnet's take
    about 130). Each may take MAX_CELL_BYTES beyond the limit for any workbook.
    """
    if cells * MIN_CELL_BYTES > unpacked:
        raise SheetnetError(f"{path}: its Network sheet describes {cells:,} Training cells, more than "
                            f"a file of {_size(unpacked)} unpacked can hold; is this a workbook written "
                            "by `sheetnet build`?")
    limit = MAX_UNPACKED_BYTES + cells * MAX_CELL_BYTES
    if unpacked > limit:
        raise SheetnetError(f"{path}: refused: it would unpack to {_size(unpacked)}, more than the "
                            f"{_size(limit)} limit for a workbook to check ({_size(MAX_UNPACKED_BYTES)} "
                            f"and {MAX_CELL_BYTES:,} bytes for each of the {cells:,} Training cells its "
                            "Network sheet describes)")


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn any error of reading a damaged workbook into a one-line SheetnetError."""
    try:
        yield
    except SheetnetError:
        raise
    except BROKEN_FILE_ERRORS as exc:
        raise SheetnetError(f"{path}: not an .xlsx workbook that can be read ({why(exc)})") from None


def why(exc: BaseException) -> str:
    """The root cause's type and first line: openpyxl wraps the parser's error in a ValueError."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    name = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__  # not just "error"
    return f"{name}: {first}" if first else name


def _size(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"
