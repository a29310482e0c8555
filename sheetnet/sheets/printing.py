"""Page setup for every sheet, and the PDF export through headless LibreOffice.

A teacher prints the workbook as a handout: each sheet fitted to the page width (landscape where
it is wide), the Training header rows and iteration column repeated on every page, the paper size
set explicitly (A4 or Letter, never the printer's guess), the title in the page header and
"Page n of m" in the footer.

Fitting to 1 page wide would print the Training sheet of even the 2-2-2 network (37 columns) at
under 30%, 3-point digits. So a sheet is fitted to 1 page wide when that keeps a scale of at least
MIN_SCALE, and otherwise to the fewest pages wide that do; the repeated iteration column then
labels every page, and pages run across before down so one block of rows is printed together.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import unescape as xml_unescape

from xlsxwriter.worksheet import Worksheet

from sheetnet.atomic import atomic_path, check_target
from sheetnet.engines.libreoffice import LibreOfficeError, find_soffice, to_pdf
from sheetnet.errors import SheetnetError
from sheetnet.sheets import i18n, layout

if TYPE_CHECKING:
    from sheetnet.sheets.context import Context

PAPERS = {"a4": 9, "letter": 1}  # XlsxWriter's (and Excel's) paper codes
PAPER_INCHES = {9: (8.27, 11.69), 1: (8.5, 11.0)}  # portrait width, height
SIDE_MARGIN = 0.5  # inches, left and right
PIXELS_PER_INCH = 96  # Excel's column pixels at 100%
MIN_SCALE = 0.5  # below this a printed digit is smaller than about 5.5 points
# Wider sheets print landscape. A4 portrait holds about 700 pixels of columns at 100%, so a sheet
# up to this wide stays portrait at a scale of 80% or more (the Guide is about 800 pixels).
PORTRAIT_PIXELS = 880
HEADER_LIMIT = 255  # Excel's limit on the header string, codes included

# Rows and columns repeated on every printed page, by sheet key: ((first row, last row) from 0,
# (first col, last col) from 0). Other sheet modules with header bands can add theirs here.
PRINT_TITLES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "sheet.training": ((layout.BAND_ROW - 1, layout.ID_ROW - 1), (0, 0)),
}


def paper_code(paper: str) -> int:
    """9 for "a4", 1 for "letter"; anything else is the user's mistake."""
    try:
        return PAPERS[paper.lower()]
    except KeyError:
        raise SheetnetError(f"unknown paper size {paper!r}; expected one of: {', '.join(PAPERS)}") from None


def apply_page_setup(ctx: Context) -> None:
    """Set up every sheet of the workbook for printing (call after the sheets are written)."""
    code = paper_code(ctx.options.paper)
    header = page_header(ctx.spec.title)
    footer = "&C" + ctx.words["print.page"]
    for key, ws in ctx.sheets.items():
        setup_sheet(ws, code, header, footer, PRINT_TITLES.get(key))


def setup_sheet(
    ws: Worksheet, code: int, header: str, footer: str,
    titles: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> None:
    ws.set_paper(code)
    if sheet_width(ws) > PORTRAIT_PIXELS:
        ws.set_landscape()  # never set_portrait: a sheet module may have chosen landscape itself
    wide = pages_wide(sheet_width(ws), printable_pixels(code, landscape=ws.orientation == 0))
    ws.fit_to_pages(wide, 0)  # as many pages tall as it takes
    if wide > 1:
        ws.print_across()
    ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.75, bottom=0.75)
    ws.set_header(header, margin=0.3)
    ws.set_footer(footer, margin=0.3)
    if titles is not None:
        (first_row, last_row), (first_col, last_col) = titles
        ws.repeat_rows(first_row, last_row)
        ws.repeat_columns(first_col, last_col)


def printable_pixels(code: int, *, landscape: bool) -> float:
    """Width between the side margins, in column pixels at 100%."""
    width, height = PAPER_INCHES[code]
    return ((height if landscape else width) - 2 * SIDE_MARGIN) * PIXELS_PER_INCH


def pages_wide(width: float, printable: float) -> int:
    """1 if the sheet fits the page width at MIN_SCALE or more, else the fewest pages that do."""
    return max(1, math.ceil(width * MIN_SCALE / printable - 1e-9))


def page_header(title: str) -> str:
    """The spec's title on the left and the sheet's name (&A) on the right; & is doubled."""
    right = "&R&A"
    room = HEADER_LIMIT - len("&L") - len(right)
    text = title.replace("&", "&&")
    if len(text) > room:
        text = text[: room - 1].rstrip("&") + "…"
    return f"&L{text}{right}"


def sheet_width(ws: Worksheet) -> int:
    """Width in pixels of the columns in use (hidden ones count 0)."""
    last = ws.dim_colmax
    if last is None:
        return 0
    # _size_col is how XlsxWriter itself places charts; the way col_info stores widths has
    # changed between versions (characters, then pixels), the pixel size it returns has not.
    return sum(ws._size_col(col) for col in range(last + 1))


def check_pdf_path(pdf: Path) -> None:
    pdf = Path(pdf)
    if pdf.suffix.lower() != ".pdf":
        raise SheetnetError(f"{pdf}: the PDF output must be a .pdf file")
    check_target(pdf)  # a missing or write-protected folder, a read-only file: before any work


def export_pdf(workbook: Path, pdf: Path, *, handout: bool = False) -> Path:
    """Write the PDF of an .xlsx through headless LibreOffice, atomically: no partial PDF is left.

    With handout=True only the handout is printed (see handout_copy), not every sheet."""
    workbook, pdf = Path(workbook), Path(pdf)
    if not workbook.is_file():
        raise SheetnetError(f"{workbook}: no such workbook")
    check_pdf_path(pdf)
    try:
        with atomic_path(pdf) as tmp, tempfile.TemporaryDirectory(prefix="sheetnet-handout-") as folder:
            source = handout_copy(workbook, Path(folder) / workbook.name) if handout else workbook
            to_pdf(source, tmp)
    except LibreOfficeError as exc:
        raise SheetnetError(str(exc)) from None
    return pdf


def ensure_libreoffice() -> None:
    """Fail before writing anything when a PDF is asked for and LibreOffice cannot be found."""
    if find_soffice() is None:
        where = os.environ.get("SHEETNET_SOFFICE")
        what = f"not found at SHEETNET_SOFFICE={where}" if where else "is not installed"
        raise SheetnetError(f"cannot write the PDF: LibreOffice {what}; install it (Debian: "
                            "apt-get install libreoffice-calc) or leave out the PDF")


# The handout (`build --pdf`, `sheetnet pdf`): these sheets in full, the Training sheet's first
# page only, nothing else (the learning-rate comparison runs as long as Training). 1,000
# iterations print in a handful of pages instead of a hundred and more; `sheetnet pdf --all`
# prints every sheet.
HANDOUT_SHEETS = ("sheet.guide", "sheet.network", "sheet.exercise", "sheet.working",
                  "sheet.charts", "sheet.summary")
HANDOUT_FIRST_PAGE = "sheet.training"
FIRST_PAGE_ITERATIONS = 25  # iterations on the Training sheet's first page: 28 rows fit landscape A4 at 100%
_SHEET = re.compile(r'<sheet name="([^"]*)" sheetId="\d+"( state="\w+")? r:id="(rId\d+)"/>')
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"/>')


def handout_copy(workbook: Path, copy: Path) -> Path:
    """Copy the .xlsx with only the handout's sheets visible and Training's print area cut to its
    first page: LibreOffice does not print hidden sheets, and prints only a sheet's print area.

    Sheets are known by their names in any language (the workbook keeps no keys)."""
    names = _sheet_names()
    with zipfile.ZipFile(workbook) as src:
        book = src.read("xl/workbook.xml").decode("utf-8")
        targets = _targets(src.read("xl/_rels/workbook.xml.rels").decode("utf-8"))
        sheets = _SHEET.findall(book)
        first_page = ""
        for index, (name, _state, rid) in enumerate(sheets):
            key = names.get(xml_unescape(name))
            if key == HANDOUT_FIRST_PAGE:
                first_page = _first_page_area(name, index, src.read(targets[rid]))
        book = _SHEET.sub(lambda m: _hide_unless(m, names), book)
        book = _with_print_area(book, first_page)
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = book.encode("utf-8") if item.filename == "xl/workbook.xml" else src.read(item)
                dst.writestr(item, data)
    return copy


def _sheet_names() -> dict[str, str]:
    """Sheet name (every language) -> sheet key, for the handout's sheets and Training."""
    keys = (*HANDOUT_SHEETS, HANDOUT_FIRST_PAGE)
    return {name: key for key in keys for name in i18n.sheet_names(key)}


def _targets(rels: str) -> dict[str, str]:
    """Relationship id -> member of the archive (XlsxWriter writes Id before Target)."""
    found = re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels)
    return {rid: "xl/" + target.removeprefix("/xl/") for rid, target in found}


def _hide_unless(match: re.Match[str], names: dict[str, str]) -> str:
    name, state, rid = match.groups()
    key = names.get(xml_unescape(name))
    if key in HANDOUT_SHEETS or key == HANDOUT_FIRST_PAGE or state:
        return match.group(0)
    return match.group(0).replace(f' r:id="{rid}"', f' state="hidden" r:id="{rid}"')


def _first_page_area(name: str, index: int, sheet_xml: bytes) -> str:
    """The Training sheet's print area: its header rows and the first iterations, every column."""
    found = _DIMENSION.search(sheet_xml)
    if found is None:
        return ""
    last_col = found.group(1).decode("ascii")
    last_row = layout.ID_ROW + FIRST_PAGE_ITERATIONS
    quoted = "'" + name.replace("'", "''") + "'"
    return (f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">'
            f"{quoted}!$A$1:${last_col}${last_row}</definedName>")


def _with_print_area(book: str, area: str) -> str:
    if not area:
        return book
    if "<definedNames>" in book:
        return book.replace("<definedNames>", "<definedNames>" + area, 1)
    return book.replace("</sheets>", "</sheets><definedNames>" + area + "</definedNames>", 1)
