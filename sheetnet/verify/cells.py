"""The Training sheet's cells held compactly: each formula cell as the id of its shape.

Every row of a Training column holds the same formula up to a row shift, so a formula is
kept as the number of its shape (formula_shape: the text with its relative rows
written as offsets) in an int16 array, 2 bytes a cell instead of about 150 for the text (int32
past 32,767 shapes, which only a file edited cell by cell reaches). A
cell joins a shape only when the shape's template, filled in with the cell's own row,
gives back the cell's whole text exactly, so no text is lost: `text(t, c)` rebuilds it (a
cell the template cannot rebuild, such as a row number written "A05", keeps its own text).
Cells without a formula keep their value: numbers in a float column, anything else by cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NO_FORMULA = -1  # the shape id of a cell without a formula

# A cell reference, maybe sheet-qualified, maybe the start of a range; string literals are
# matched first so that text inside quotes is never taken for a reference. The look-arounds
# keep function names (LOG10) and numbers (1E5) out.
REFERENCE = re.compile(
    r'(?P<string>"(?:[^"]|"")*")'
    r"|(?<![\w.$'!:])"
    r"(?:(?:'(?P<qsheet>(?:[^']|'')+)'|(?P<sheet>[^\W\d][\w.]*))!)?"
    r"(?P<cabs>\$?)(?P<col>[A-Za-z]{1,3})(?P<rabs>\$?)(?P<row>\d+)"
    r"(?P<range>:\$?[A-Za-z]{1,3}\$?\d+)?"
    r"(?![\w(.!:])"
)


def sheet_key(match: re.Match[str]) -> str | None:
    """The sheet a reference names (upper case, unquoted), None for the formula's own sheet."""
    if match["qsheet"] is not None:
        return match["qsheet"].replace("''", "'").upper()
    return match["sheet"].upper() if match["sheet"] is not None else None


def formula_shape(text: str, row: int, own_sheet: str) -> tuple[str, str, list[int]]:
    """The formula with its relative row numbers on its own sheet written as offsets from row.

    Two cells of a column with the same shape compute the same function of the cells they read,
    so one compiled formula serves them all. Also returns a str.format template with those row
    numbers left out and their offsets: the text of the next row is predicted with it, which is
    much cheaper than parsing every formula.
    """
    shape, template, offsets, end = [], [], [], 0
    for m in REFERENCE.finditer(text):
        if m["string"] is not None or m["rabs"] or m["range"]:
            continue
        sheet = sheet_key(m)
        if sheet is not None and sheet != own_sheet:
            continue
        before = text[end : m.start("row")]
        offsets.append(int(m["row"]) - row)
        shape.append(f"{before}[{offsets[-1]}]")
        template.append(before.replace("{", "{{").replace("}", "}}") + "{}")
        end = m.end("row")
    rest = text[end:]
    return "".join(shape) + rest, "".join(template) + rest.replace("{", "{{").replace("}", "}}"), offsets


@dataclass(frozen=True)
class Shape:
    key: str  # formula_shape's shape: what one compiled function serves
    template: str  # str.format template of the text, row numbers left out
    offsets: tuple[int, ...]  # each left-out row number minus the cell's own row

    def text(self, row: int) -> str:
        return self.template.format(*[row + d for d in self.offsets])


@dataclass
class TrainingCells:
    """Rows t = 0..N and the Training columns; cells[t, c] gives what openpyxl would give."""

    first_row: int  # the sheet row of t = 0
    ids: np.ndarray  # int16 or int32 (rows, columns): the shape of each formula cell, NO_FORMULA else
    shapes: list[Shape] = field(default_factory=list)
    numbers: dict[int, np.ndarray] = field(default_factory=dict)  # column → values (NaN: none)
    others: dict[tuple[int, int], Any] = field(default_factory=dict)  # text, booleans, ints
    texts: dict[tuple[int, int], str] = field(default_factory=dict)  # formulas no shape rebuilds

    @property
    def shape(self) -> tuple[int, int]:
        return self.ids.shape  # type: ignore[return-value]

    def is_formula(self, c: int, n: int | None = None) -> np.ndarray:
        """Which of the first n rows of column c hold a formula."""
        return self.ids[:n, c] != NO_FORMULA

    def text(self, t: int, c: int) -> str:
        """The formula text of a formula cell, "=" included."""
        if (t, c) in self.texts:
            return self.texts[t, c]
        return self.shapes[self.ids[t, c]].text(self.first_row + t)

    def __getitem__(self, at: tuple[int, int]) -> Any:
        t, c = at
        if self.ids[t, c] != NO_FORMULA:
            return self.text(t, c)
        if (t, c) in self.others:
            return self.others[t, c]
        column = self.numbers.get(c)
        if column is None or np.isnan(column[t]):
            return None
        return float(column[t])

    def constants(self, c: int) -> np.ndarray | None:
        """Column c's numbers in the cells without a formula (NaN elsewhere); None if none."""
        return self.numbers.get(c)

    def groups(self, c: int) -> Iterator[tuple[Shape, np.ndarray]]:
        """Column c's formula cells by shape: (shape, its rows), in order of first row."""
        column = self.ids[:, c]
        ids, first = np.unique(column[column != NO_FORMULA], return_index=True)
        for shape_id in ids[np.argsort(first)]:
            yield self.shapes[shape_id], np.flatnonzero(column == shape_id)

    def to_array(self) -> np.ndarray:
        """Every cell as an object array (small sheets and tests only)."""
        out = np.full(self.shape, None, dtype=object)
        for t, c in np.ndindex(*self.shape):
            out[t, c] = self[t, c]
        return out


class ShapeTable:
    """Builds TrainingCells one cell at a time; remembers each column's last shape, which the
    next row of the column almost always repeats."""

    def __init__(self, n_rows: int, n_columns: int, first_row: int, own_sheet: str):
        self.cells = TrainingCells(first_row, np.full((n_rows, n_columns), NO_FORMULA, dtype=np.int16))
        self.own_sheet = own_sheet
        self.index: dict[str, int] = {}
        self.last: list[Shape | None] = [None] * n_columns

    def formula(self, t: int, c: int, text: str) -> int:
        """Record the formula text of cell (t, c); returns its shape id."""
        row = self.cells.first_row + t
        key, template, offsets = formula_shape(text, row, self.own_sheet)
        shape_id = self.index.get(key)
        if shape_id is None:
            shape_id = self.index[key] = len(self.cells.shapes)
            if shape_id > np.iinfo(self.cells.ids.dtype).max:  # so many shapes: wider ids
                self.cells.ids = self.cells.ids.astype(np.int32)
            self.cells.shapes.append(Shape(key, template, tuple(offsets)))
        shape = self.cells.shapes[shape_id]
        if shape.text(row) != text:
            self.cells.texts[t, c] = text
        self.cells.ids[t, c] = shape_id
        self.last[c] = shape
        return shape_id

    def value(self, t: int, c: int, value: Any) -> None:
        """Record a cell without a formula."""
        if value is None:
            return
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            self.number(t, c, float(value))  # the iteration numbers: a float column, not objects
        else:
            self.cells.others[t, c] = value

    def number(self, t: int, c: int, value: float) -> None:
        column = self.cells.numbers.get(c)
        if column is None:
            column = self.cells.numbers[c] = np.full(self.cells.ids.shape[0], np.nan)
        column[t] = value


def from_values(contents: np.ndarray, first_row: int, own_sheet: str) -> TrainingCells:
    """TrainingCells of an object array of cell values and formula texts (openpyxl's reading)."""
    n_rows, n_columns = contents.shape
    table = ShapeTable(n_rows, n_columns, first_row, own_sheet)
    for c in range(n_columns):
        for t in range(n_rows):
            value = contents[t, c]
            if isinstance(value, str) and value.startswith("="):
                last = table.last[c]
                if last is not None and (t, c) not in table.cells.texts and last.text(first_row + t) == value:
                    table.cells.ids[t, c] = table.index[last.key]
                else:
                    table.formula(t, c, value)
            else:
                table.value(t, c, value)
    return table.cells
