"""Excel's limits, in one place, and the checks that refuse a spec crossing them before writing.

Excel 2007 and later (https://support.microsoft.com/en-us/office/excel-specifications-and-limits):
a sheet has 1,048,576 rows and 16,384 columns, a formula at most 8,192 characters and 64 levels
of nested functions, a cell at most 32,767 characters of text, a row at most 409 points high.
A file crossing them is refused, repaired or silently cut by the spreadsheet program, so the
build refuses such a spec first and says how to stay inside (row heights are capped instead).
Rows and columns are checked by layout.check_fits; formulas and text here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Call, Expr, children, lowered

if TYPE_CHECKING:
    from sheetnet.equations.graph import Column

MAX_ROWS, MAX_COLS = 1_048_576, 16_384
MAX_FORMULA_CHARS = 8_192  # with the leading "=", as typed in the formula bar
MAX_NESTING = 64  # functions inside functions: IF(a<0,EXP(a),…) is 2 levels
MAX_ARGUMENTS = 255  # arguments of one function call: MAX(z₁, …, zₙ) of a softmax with n outputs
MAX_TEXT_CHARS = 32_767  # XlsxWriter cuts longer strings without an error
MAX_ROW_POINTS = 409  # a taller row makes Excel repair the file; long text scrolls instead
# Other programs' documented limits, warned about (the file is fine for Excel and LibreOffice):
# Google Sheets holds at most 10 million cells in a spreadsheet (Google's Sheets help, "Files you
# can store in Google Drive"); Excel for the web opens workbooks up to 100 MB (Microsoft's Excel
# for the web service description; older Excel Web App: 10 MB). Neither was run here.
GOOGLE_SHEETS_CELLS = 10_000_000
EXCEL_WEB_BYTES = 100 * 10**6

FORMULA_HINT = ('use mode = "minibatch" with a small batch_size (a row then adds a term per sample of its '
                'batch, not of the data set), fewer samples, or narrower layers')


def nesting(expr: Expr) -> int:
    """How deep function calls nest in expr as the sheet spells it: 0 for a sum of products,
    1 for EXP(z), 2 for σ(z) (IF(z<0,EXP(z)/…,…)), ..."""
    return _depth(lowered(expr, "excel"))


def arguments(expr: Expr) -> int:
    """The most arguments of any function call in expr as the sheet spells it."""
    widest, stack = 0, [lowered(expr, "excel")]
    while stack:  # a loop, not recursion: long sums nest deep
        node = stack.pop()
        if isinstance(node, Call):
            widest = max(widest, len(node.args))
        stack.extend(children(node))
    return widest


def _depth(expr: Expr) -> int:
    deepest = 0
    for child in children(expr):  # a loop: one stack frame a level (long sums nest deep)
        deepest = max(deepest, _depth(child))
    return deepest + (1 if isinstance(expr, Call) else 0)


def check_formulas(columns: Iterable[Column], template: Callable[[Expr], str], last_row: int,
                   what: str = "the formula of column {qid}") -> None:
    """Refuse columns whose formula is too long or nests too deep, at its longest (last) row.

    template(expr) is the formula text with {r} for the cell's row and {p} for the row above;
    `what` names the formula in the message.
    """
    row, above = str(last_row), str(last_row - 1)
    for column in columns:
        for expr in (column.formula, column.first):
            if expr is None:
                continue
            depth = nesting(expr)
            widest = arguments(expr)
            if widest > MAX_ARGUMENTS:
                raise SheetnetError(
                    f"{what.format(qid=column.qid)} calls a function with {widest} arguments, more "
                    f"than the {MAX_ARGUMENTS} a spreadsheet allows; use fewer outputs or samples per row")
            if depth > MAX_NESTING:
                raise SheetnetError(
                    f"{what.format(qid=column.qid)} nests functions {depth} levels deep, more "
                    f"than the {MAX_NESTING} a spreadsheet allows; use fewer layers or simpler activations")
            length = len(template(expr).replace("{r}", row).replace("{p}", above))
            check_formula_length(length, what.format(qid=column.qid))


def check_formula_length(length: int, what: str) -> None:
    if length > MAX_FORMULA_CHARS:
        raise SheetnetError(f"{what} would be {length:,} characters long, more than the "
                            f"{MAX_FORMULA_CHARS:,} a spreadsheet allows in a formula; {FORMULA_HINT}")


def row_height(points: float) -> float:
    """A row height Excel accepts: tall text rows (a long description) stop at the limit."""
    return min(points, MAX_ROW_POINTS)


def check_text(named: dict[str, str]) -> None:
    """Refuse user text (title, description) longer than a cell holds, rather than cut it."""
    for name, text in named.items():
        if len(text) > MAX_TEXT_CHARS:
            raise SheetnetError(f"the {name} is {len(text):,} characters long, more than the "
                                f"{MAX_TEXT_CHARS:,} a spreadsheet cell holds; shorten it")
