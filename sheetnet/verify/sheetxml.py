"""Read a big sheet's cells straight from its XML, a block of rows at a time.

openpyxl builds an element and a dictionary for every cell it reads (about 15 µs a cell, a
third of a check's time); a Training sheet of 2.5 million cells is read here with one regular
expression pass over each block of rows instead, 5 to 10 times faster, and only the block in
hand is ever held as text. The pattern accepts exactly the plain cell forms that XlsxWriter,
openpyxl and most spreadsheet programs write: a cell with a reference, a style, a type, a
formula without attributes, a value, an inline string. Every cell tag of the sheet must match
it, or `read_cells` returns None and the caller reads the sheet with openpyxl (shared or array
formulas as Excel and LibreOffice save them, rich text, dates, a DOCTYPE or comment: anything
unusual). So no cell is ever skipped or half-read, and the values are those openpyxl would
give (tests/test_sheetxml.py compares the two on every template and on re-saved files).

Reading XML without an XML parser is safe here because nothing is expanded: a file that holds
`<!` anywhere (where entity declarations would live) is left to openpyxl, which parses through
defusedxml (see untrusted.py).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.verify.cells import ShapeTable, TrainingCells
from sheetnet.verify.stored import Stored, conditional_formats

BLOCK_BYTES = 1 << 22  # read 4 MiB of XML at a time, cut after the last complete row

# One cell in a plain form. Attribute order as XlsxWriter and openpyxl write it (r, s, t);
# anything else (other attributes, <f t="shared">, rich text) does not match and is counted
# as a cell the fast path cannot read.
_CELL = re.compile(
    r'<c r="(?P<col>[A-Z]{1,3})(?P<row>\d+)"(?: s="(?P<s>\d+)")?(?: t="(?P<t>[a-zA-Z]+)")?\s*'
    r"(?:/>|>"
    r"(?:<f>(?P<f>[^<]*)</f>|(?P<f0><f\s*/>))?"
    r"(?:<v>(?P<v>[^<]*)</v>|<v\s*/>)?"
    r'(?:<is><t(?: xml:space="preserve")?>(?P<is>[^<]*)</t></is>)?'
    r"</c>)"
)
_ANY_CELL = re.compile(r"<c[\s/>]")  # every cell start tag, plain or not
_PREFIXED_CELL = re.compile(r"<[A-Za-z_][\w.-]*:c[\s/>]")  # <x:c ...>: a namespace prefix
_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class Unreadable(Exception):
    """The sheet holds a cell in a form the fast path does not read."""


def _unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if m[3]:
            return _NAMED[m[3]]
        return chr(int(m[1]) if m[1] else int(m[2], 16))

    return _ENTITY.sub(one, text)


def _number(text: str) -> int | float:
    """A stored number as openpyxl gives it: an int unless it has a point or an exponent."""
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


class _Cells:
    """Turns matched cells into the values openpyxl would give (values_only)."""

    def __init__(self, shared_strings: list[str], data_only: bool, date_styles: set[int]):
        self.shared_strings = shared_strings
        self.data_only = data_only
        self.date_styles = date_styles

    def value(self, m: re.Match[str]) -> Any:
        if not self.data_only and (m["f"] is not None or m["f0"] is not None):
            return "=" + _unescape(m["f"] or "")
        kind = m["t"] or "n"
        if kind == "inlineStr":
            return None if m["is"] is None else _unescape(m["is"])
        value = m["v"] or None
        if value is None:
            return None
        if kind == "n":
            if m["s"] is not None and int(m["s"]) in self.date_styles:
                raise Unreadable("a date")
            return _number(value)
        if kind == "s":
            return self.shared_strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind in ("str", "e"):
            return _unescape(value)
        raise Unreadable(f"cell type {kind}")


def read_cells(source: IO[bytes], *, first_row: int, n_rows: int, n_columns: int,
               shared_strings: list[str], data_only: bool, date_styles: set[int]) -> np.ndarray | None:
    """Rows first_row .. first_row + n_rows − 1, columns 1 .. n_columns of the sheet XML in
    source, as an object array of values (formula text "=…" unless data_only, numbers, text,
    booleans, None for empty cells); None when a cell is in a form only openpyxl reads."""
    cells = _Cells(shared_strings, data_only, date_styles)
    contents = np.full((n_rows, n_columns), None, dtype=object)
    columns: dict[str, int] = {}
    try:
        for block, _ in _row_blocks(source):
            _read_block(block, cells, contents, columns, first_row, n_columns)
    except Unreadable:
        return None
    return contents


def _row_blocks(source: IO[bytes]) -> Iterator[tuple[str, bool]]:
    """The sheet XML in pieces of about BLOCK_BYTES that end where a row ends, each with whether
    it is the last (which also holds the rest of the file: the conditional formats)."""
    tail = ""
    while True:
        chunk = source.read(BLOCK_BYTES)
        text = tail + _decode(chunk, source)
        end = len(text) if not chunk else text.rfind("</row>") + len("</row>")
        if end < len("</row>"):  # no complete row yet: read on
            tail = text
            if not chunk:
                return
            continue
        block, tail = text[:end], text[end:]
        yield block, not chunk
        if not chunk:
            return


def _decode(chunk: bytes, source: IO[bytes]) -> str:
    """UTF-8 text of a chunk, completed by up to 3 more bytes where it cut a character."""
    for _ in range(4):
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.end != len(chunk) or exc.reason != "unexpected end of data":
                raise Unreadable("not UTF-8") from None
            more = source.read(1)
            if not more:
                raise Unreadable("not UTF-8") from None
            chunk += more
    raise Unreadable("not UTF-8")


def _read_block(block: str, cells: _Cells, contents: np.ndarray, columns: dict[str, int],
                first_row: int, n_columns: int) -> None:
    if "<!" in block or _PREFIXED_CELL.search(block):
        raise Unreadable("a DOCTYPE, comment, CDATA or prefixed cell")
    n_rows = contents.shape[0]
    matched = 0
    for m in _CELL.finditer(block):
        matched += 1
        t = int(m["row"]) - first_row
        if not 0 <= t < n_rows:
            continue
        letters = m["col"]
        c = columns.get(letters)
        if c is None:
            c = columns[letters] = column_index_from_string(letters) - 1
        if c < n_columns:
            contents[t, c] = cells.value(m)
    if matched != len(_ANY_CELL.findall(block)):
        raise Unreadable("a cell in another form")


# --- the Training sheet, compactly -------------------------------------------------------

# The same plain forms as _CELL, with groups that findall can return as one tuple a cell: the
# formula group keeps its tags, so that an empty formula (<f></f>, <f/>) differs from none.
_CELL_TUPLE = re.compile(
    r'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="([a-zA-Z]+)")?\s*'
    r"(?:/>|>"
    r"(<f>[^<]*</f>|<f\s*/>)?"
    r"(?:<v>([^<]*)</v>|<v\s*/>)?"
    r'(<is><t(?: xml:space="preserve")?>[^<]*</t></is>)?'
    r"</c>)"
)
_INLINE_TEXT = re.compile(r"<t[^>]*>([^<]*)</t>")
_XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def _escape(text: str) -> str:
    for plain, escaped in _XML_ESCAPES:
        text = text.replace(plain, escaped)
    return text


def read_training(source: IO[bytes], *, first_row: int, n_rows: int, n_columns: int, own_sheet: str,
                  shared_strings: list[str], date_styles: set[int]) -> tuple[TrainingCells, Stored] | None:
    """The Training sheet's cells compactly (cells.TrainingCells: formulas as shape ids), and
    the values stored for its formula cells with the sheet's conditional formats, in one pass
    over the XML; None when a cell is in a form only openpyxl reads.

    Each formula's text is compared whole with the text its column's last shape predicts for
    its row (in the file's own escaped form), and parsed only where it differs.
    """
    table = ShapeTable(n_rows, n_columns, first_row, own_sheet)
    stored = Stored(np.full((n_rows, n_columns), np.nan), np.zeros((n_rows, n_columns), dtype=bool))
    reader = _TrainingBlocks(table, stored, shared_strings, date_styles)
    try:
        for block, last in _row_blocks(source):
            reader.read(block)
            if last:
                stored.rules = conditional_formats(block)
    except Unreadable:
        return None
    return table.cells, stored


class _TrainingBlocks:
    def __init__(self, table: ShapeTable, stored: Stored, shared_strings: list[str], date_styles: set[int]):
        self.table, self.stored = table, stored
        self.values = _Cells(shared_strings, True, date_styles)
        n_columns = table.cells.ids.shape[1]
        self.columns: dict[str, int] = {}
        # Per column: the escaped template of its last shape and that shape's id and offsets.
        self.escaped: list[tuple[str, int, tuple[int, ...]] | None] = [None] * n_columns
        self.template: _RowTemplate | None = None  # the last row read cell by cell, as a template
        self.rows = _MatchedRows()

    def read(self, block: str) -> None:
        """One block of whole rows. A row that its predecessor's template (_RowTemplate) gives
        back exactly, values aside, is taken in bulk; any other row is read cell by cell, and
        a template is learnt from it for the rows that follow."""
        if "<!" in block or _PREFIXED_CELL.search(block):
            raise Unreadable("a DOCTYPE, comment, CDATA or prefixed cell")
        pieces = block.split("</row>")
        pending: list[str] = []  # rows (and the text around them) to read cell by cell, in order
        misses = 0
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            text = piece if last else piece + "</row>"
            if not last and misses < _MISSES_PER_BLOCK and self._matches(text):
                if pending:
                    self._cells("".join(pending))
                    pending = []
                misses = 0
                continue
            if last or misses >= _MISSES_PER_BLOCK:
                pending.append(text)
                continue
            if pending:
                self._cells("".join(pending))
                pending = []
            self._cells(text)
            self.template = _RowTemplate.learn(self, text)
            misses += 1
        if pending:
            self._cells("".join(pending))
        self._take()

    def _matches(self, text: str) -> bool:
        """Whether the template gives back this row (the one after the template's last), values
        aside; if so its values are kept for _take."""
        template = self.template
        if template is None:
            return False
        row = template.row + 1
        t = row - self.table.cells.first_row
        if not 0 <= t < self.table.cells.ids.shape[0] or not text.startswith("<row "):
            return False
        parts = _VALUE_TEXT.split(text)
        if "\x00".join(parts[0::2]) != template.text.format(*[row + d for d in template.offsets]):
            return False
        template.row = row
        self.rows.add(template, t, parts[1::2])
        return True

    def _take(self) -> None:
        """The matched rows' cells: shape ids, stored values of formulas, plain values (taken
        before any later row is read cell by cell, so that a cell read twice keeps the later)."""
        rows, self.rows = self.rows, _MatchedRows()
        for template, ts, values in rows.groups():
            t = np.array(ts)
            ids = self.table.cells.ids
            if template.formula_columns:
                ids[np.ix_(t, template.formula_columns)] = np.array(template.shape_ids, dtype=ids.dtype)
            slots = len(template.slots)
            at_t: list[int] = []
            at_c: list[int] = []
            texts: list[str] = []
            for k, (c, formula) in enumerate(template.slots):
                column = values[k::slots]  # slot k of every row
                if formula:
                    at_t += ts
                    at_c += [c] * len(ts)
                    texts += column
                    continue
                for i, text in zip(ts, column, strict=True):
                    if text:
                        self.table.value(i, c, _number(text))
            if "" in texts:  # an empty <v></v>: no stored value, as cell by cell
                kept = [k for k, text in enumerate(texts) if text]
                at_t, at_c, texts = [at_t[k] for k in kept], [at_c[k] for k in kept], [texts[k] for k in kept]
            self._numbers(at_t, at_c, texts)

    def _cells(self, block: str) -> None:
        """Cells read one by one: every cell tag must be in a plain form."""
        self._take()
        found = _CELL_TUPLE.findall(block)
        if len(found) != len(_ANY_CELL.findall(block)):
            raise Unreadable("a cell in another form")
        cells = self.table.cells
        ids, first_row = cells.ids, cells.first_row
        n_rows, n_columns = ids.shape
        columns, escaped = self.columns, self.escaped
        number_t: list[int] = []
        number_c: list[int] = []
        number_v: list[str] = []
        for letters, row_text, style, kind, formula, value, inline in found:
            row = int(row_text)
            t = row - first_row
            if not 0 <= t < n_rows:
                continue
            c = columns.get(letters)
            if c is None:
                c = columns[letters] = column_index_from_string(letters) - 1
            if c >= n_columns:
                continue
            if not formula:
                self._value(t, c, style, kind, value, inline)
                continue
            raw = formula[3:-4] if formula[2] == ">" else ""
            guess = escaped[c]
            if guess is not None and guess[0].format(*[row + d for d in guess[2]]) == raw:
                ids[t, c] = guess[1]
            else:
                self._new_shape(t, c, row, raw)
                ids = cells.ids  # wider when the shapes outgrew int16
            if value:
                if kind in ("", "n"):
                    number_t.append(t)
                    number_c.append(c)
                    number_v.append(value)
                else:
                    self.stored.present[t, c] = True
                    self.stored.other[t, c] = value == "1" if kind == "b" else _unescape(value)
        self._numbers(number_t, number_c, number_v)

    def _new_shape(self, t: int, c: int, row: int, raw: str) -> None:
        shape_id = self.table.formula(t, c, "=" + _unescape(raw))
        shape = self.table.cells.shapes[shape_id]
        template = _escape(shape.template[1:])
        if (t, c) not in self.table.cells.texts and template.format(*[row + d for d in shape.offsets]) == raw:
            self.escaped[c] = (template, shape_id, shape.offsets)
        else:  # this writer escapes differently: parse each cell of the column from now on
            self.escaped[c] = None

    def _value(self, t: int, c: int, style: str, kind: str, value: str, inline: str) -> None:
        if kind == "inlineStr":
            found = _INLINE_TEXT.search(inline) if inline else None
            self.table.value(t, c, None if found is None else _unescape(found[1]))
            return
        if not value:
            return
        if kind in ("", "n"):
            if style and int(style) in self.values.date_styles:
                raise Unreadable("a date")
            self.table.value(t, c, _number(value))
        elif kind == "s":
            self.table.value(t, c, self.values.shared_strings[int(value)])
        elif kind == "b":
            self.table.value(t, c, bool(int(value)))
        elif kind in ("str", "e"):
            self.table.value(t, c, _unescape(value))
        else:
            raise Unreadable(f"cell type {kind}")

    def _numbers(self, ts: list[int], cs: list[int], values: list[str]) -> None:
        """The stored numbers of a block's formula cells, converted by NumPy in one call."""
        if not ts:
            return
        t, c = np.array(ts), np.array(cs)
        self.stored.present[t, c] = True
        try:
            self.stored.numbers[t, c] = np.array(values, dtype=float)
        except ValueError:  # not a number after all: one by one, as stored.py types them
            for i, text in enumerate(values):
                try:
                    self.stored.numbers[t[i], c[i]] = float(text)
                except ValueError:
                    self.stored.other[int(t[i]), int(c[i])] = text


# --- whole rows at once ------------------------------------------------------------------

_VALUE_TEXT = re.compile(r"<v>([^<]*)</v>")  # a stored value: the template holds a NUL in its place
_ROW_NUMBER = re.compile(r'<row r="(\d+)"')
_MISSES_PER_BLOCK = 8  # rows in a row that the template does not give: read the block's rest by cell


class _RowTemplate:
    """A Training row's XML as a str.format template of its row number, with each stored value
    cut out (a NUL where it stood): learnt from a row read cell by cell, it predicts the next
    row's text exactly when that row holds the same cells, styles and formula shapes.

    Only rows of plain cells are learnt (formulas whose column's last shape gives them back,
    numbers without a date style, empty cells), so a row that the template gives back is one
    the cell-by-cell reading would have read into exactly the same shape ids and values.
    """

    def __init__(self, text: str, offsets: list[int], row: int, formula_columns: list[int],
                 shape_ids: list[int], slots: list[tuple[int, bool]]):
        self.text, self.offsets, self.row = text, offsets, row
        self.formula_columns, self.shape_ids = formula_columns, shape_ids
        self.slots = slots  # per stored value, in order: its column and whether a formula's

    @staticmethod
    def learn(reader: _TrainingBlocks, text: str) -> _RowTemplate | None:
        start = _ROW_NUMBER.match(text)
        if start is None or not text.endswith("</row>"):
            return None
        row = int(start[1])
        offsets = [0]
        out = [_braces(text[: start.start(1)]), "{0}"]
        at = start.end(1)
        formula_columns: list[int] = []
        shape_ids: list[int] = []
        slots: list[tuple[int, bool]] = []
        cells = list(_CELL.finditer(text, at))
        if not cells or len(cells) != _count(text):
            return None
        for m in cells:
            if int(m["row"]) != row or m["t"] not in (None, "n") or m["is"] is not None:
                return None
            c = reader.columns.get(m["col"])
            if c is None or c >= len(reader.escaped):
                return None
            out += [_braces(text[at : m.start("row")]), "{0}"]
            at = m.end("row")
            if m["f"] is not None or m["f0"] is not None:
                guess = reader.escaped[c]
                raw = m["f"] or ""
                if m["f0"] is not None or guess is None:
                    return None
                if guess[0].format(*[row + d for d in guess[2]]) != raw:
                    return None
                out += [_braces(text[at : m.start("f")]), _indexed(guess[0], guess[2], offsets)]
                at = m.end("f")
                formula_columns.append(c)
                shape_ids.append(guess[1])
            elif m["v"] is not None and m["s"] is not None and int(m["s"]) in reader.values.date_styles:
                return None
            if m["v"] is not None:  # <v>…</v> as a whole
                out += [_braces(text[at : m.start("v") - len("<v>")]), "\x00"]
                at = m.end("v") + len("</v>")
                slots.append((c, m["f"] is not None))
        out.append(_braces(text[at:]))
        return _RowTemplate("".join(out), offsets, row, formula_columns, shape_ids, slots)


class _MatchedRows:
    """The rows a block took by template: per template, their t and their values in order."""

    def __init__(self) -> None:
        self.by_template: dict[int, tuple[_RowTemplate, list[int], list[str]]] = {}

    def add(self, template: _RowTemplate, t: int, values: list[str]) -> None:
        entry = self.by_template.setdefault(id(template), (template, [], []))
        entry[1].append(t)
        entry[2].extend(values)

    def groups(self) -> list[tuple[_RowTemplate, list[int], list[str]]]:
        return list(self.by_template.values())


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _count(text: str) -> int:
    return len(_ANY_CELL.findall(text))


def _indexed(template: str, offsets: tuple[int, ...], row_offsets: list[int]) -> str:
    """A column's escaped formula template ("{}" a row, in order of its offsets) with its fields
    numbered by the row template's list of offsets (extended with any new one)."""
    out: list[str] = []
    fields = iter(offsets)
    for literal, field, _, _ in string.Formatter().parse(template):
        out.append(_braces(literal))
        if field is not None:
            offset = next(fields)
            if offset not in row_offsets:
                row_offsets.append(offset)
            out.append(f"{{{row_offsets.index(offset)}}}")
    return "".join(out)
