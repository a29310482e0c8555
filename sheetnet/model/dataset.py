"""Training data from a CSV file: `[data] csv = "file.csv"` with named input and target columns.

Targets come either from numeric `target_columns` or from one `label_column` of class names,
one-hot encoded: one output per class, classes in sorted order (numerically when every class
name is a number), so the order does not depend on the order of the rows. The CSV is read with
Python's csv module, every cell as text, so each number is parsed here and a bad one is named
by its row, its line in the file (blank lines count) and its column. The separator is found
from the header row (comma, semicolon as European Excel writes, or tab); `decimal = ","`
reads decimal commas.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetnet.errors import SheetnetError

Matrix = tuple[tuple[float, ...], ...]
CSV_FIELDS = ("csv", "input_columns", "target_columns", "label_column", "decimal")


@dataclass(frozen=True)
class CsvData:
    inputs: Matrix
    targets: Matrix
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]  # the target columns, or the class names of a label column
    class_names: tuple[str, ...]  # empty unless the targets are a one-hot label column


def uses_csv(table: dict[str, Any]) -> bool:
    return any(key in table for key in CSV_FIELDS)


def read_csv_data(table: dict[str, Any], base_dir: Path | None) -> CsvData:
    """The [data] table's CSV, columns picked and checked; base_dir resolves a relative path."""
    _check_combination(table)
    inputs_wanted = _names(table, "input_columns")
    label = table.get("label_column")
    if label is not None and (not isinstance(label, str) or not label):
        raise SheetnetError(f"data.label_column must be a column name, got {label!r}")
    targets_wanted = [label] if label is not None else _names(table, "target_columns")
    for name in targets_wanted:
        if name in inputs_wanted:
            raise SheetnetError(f"data: column {name!r} is both an input and a target; use it as one")
    path = _csv_path(table["csv"], base_dir)
    decimal = _decimal(table)
    found = _read_table(path, decimal)
    header = found.header
    for field, wanted in (("input_columns", inputs_wanted), ("label_column" if label else "target_columns",
                                                            targets_wanted)):
        for name in wanted:
            if name not in header:
                raise SheetnetError(f"data.{field}: {path.name} has no column {name!r};"
                                    f" its columns are: {', '.join(header)}{_mixed_hint(header)}")
    inputs = _numbers(path, found, inputs_wanted, decimal)
    if label is not None:
        column = found.columns[header.index(label)]
        class_names, targets = _one_hot(path, column, found.lines, label)
        return CsvData(inputs, targets, tuple(inputs_wanted), class_names, class_names)
    targets = _numbers(path, found, targets_wanted, decimal)
    return CsvData(inputs, targets, tuple(inputs_wanted), tuple(targets_wanted), ())


def _decimal(table: dict[str, Any]) -> str:
    decimal = table.get("decimal", ".")
    if decimal not in (".", ","):
        raise SheetnetError(f'data.decimal must be "." or ",", got {decimal!r}')
    return decimal


def _mixed_hint(header: list[str]) -> str:
    """A column name holding another separator: the file mixes separators, or quotes one."""
    for mark, name in ((";", "a semicolon"), ("	", "a tab")):
        if any(mark in h for h in header):
            return f" (a column name holds {name}: are some lines separated by {_SHOWN[mark]}?)"
    return ""


def _check_combination(table: dict[str, Any]) -> None:
    if "csv" not in table:
        given = next(key for key in CSV_FIELDS if key in table)
        raise SheetnetError(f"data.{given} needs data.csv, the file to read the columns from")
    if "inputs" in table or "targets" in table:
        raise SheetnetError("data: give the samples either inline (inputs, targets) or as csv, not both")
    if "label_column" in table and "target_columns" in table:
        raise SheetnetError("data: give either target_columns (numbers) or label_column (class names),"
                            " not both")
    if "input_columns" not in table:
        raise SheetnetError("data.input_columns is missing: list the CSV columns that are the inputs")
    if "label_column" not in table and "target_columns" not in table:
        raise SheetnetError("data.csv needs target_columns (a list of column names) or label_column")


def _names(table: dict[str, Any], key: str) -> list[str]:
    value = table[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise SheetnetError(f'data.{key} must be a list of column names, e.g. ["x1", "x2"], got {value!r}')
    if len(set(value)) != len(value):
        raise SheetnetError(f"data.{key} names a column twice: {value!r}")
    return value


def _csv_path(value: Any, base_dir: Path | None) -> Path:
    if not isinstance(value, str) or not value:
        raise SheetnetError(f"data.csv must be the path of a CSV file, got {value!r}")
    path = Path(value)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path  # relative to the TOML file, not to where sheetnet runs
    return path


SEPARATORS = (",", ";", "\t")  # Excel writes ";" where the decimal separator is a comma
_SHOWN = {",": "commas", ";": "semicolons", "\t": "tabs"}


@dataclass(frozen=True)
class Table:
    """A CSV file's header and columns (stripped text), and each data row's line in the file."""

    header: list[str]
    columns: list[list[str]]
    lines: list[int]  # blank lines count, as an editor numbers them


def _read_table(path: Path, decimal: str = ".") -> Table:
    """The header and the columns of the CSV at path; the separator is found from the header."""
    if path.is_dir():
        raise SheetnetError(f"data.csv: {path} is a folder; give the path of a CSV file")
    if not path.is_file():
        raise SheetnetError(f"data.csv: {path}: no such file (a relative path is relative to the TOML file)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SheetnetError(f"data.csv: {path} is not UTF-8 text; save it as UTF-8 CSV") from None
    except OSError as exc:
        raise SheetnetError(f"data.csv: {path} is not a readable CSV ({exc.strerror})") from None
    separator, records = _records(path, text.splitlines(), decimal)
    if not records:
        raise SheetnetError(f"data.csv: {path} is empty; it needs a header row and data rows")
    header = records[0][1]
    if len(records) < 2:
        raise SheetnetError(f"data.csv: {path} has a header row but no data rows")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise SheetnetError(f"data.csv: {path} has more than one column named {twice[0]!r}; rename one")
    for line, fields in records[1:]:
        if len(fields) != len(header):
            raise SheetnetError(
                f"data.csv: {path.name}, line {line} has {len(fields)} fields but the header has "
                f"{len(header)} (separated by {_SHOWN[separator]}); check that line's separators")
    columns = [[fields[c] for _, fields in records[1:]] for c in range(len(header))]
    return Table(header, columns, [line for line, _ in records[1:]])


def _records(path: Path, lines: list[str], decimal: str) -> tuple[str, list[tuple[int, list[str]]]]:
    """The separator, and (line number, stripped fields) of every record that is not blank."""
    header = next((line for line in lines if line.strip()), None)
    if header is None:
        return ",", []
    separator = _separator(header, decimal)
    reader = csv.reader(lines, delimiter=separator)
    records = []
    try:
        while True:
            start = reader.line_num + 1
            fields = next(reader, None)
            if fields is None:
                break
            if any(f.strip() for f in fields):  # a blank line is skipped, but counted
                records.append((start, [f.strip() for f in fields]))
    except csv.Error as exc:
        why = f"line {reader.line_num}: {exc}"
        raise SheetnetError(f"data.csv: {path} is not a readable CSV ({why})") from None
    return separator, records


def _separator(header: str, decimal: str) -> str:
    """The separator that splits the header row into the most columns (a comma first on a tie).

    With decimal commas the comma is no separator: such files use semicolons or tabs.
    """
    candidates = [s for s in SEPARATORS if not (s == "," and decimal == ",")]
    return max(candidates, key=lambda s: len(next(csv.reader([header], delimiter=s))))


def _numbers(path: Path, table: Table, wanted: list[str], decimal: str) -> Matrix:
    picked = []
    for name in wanted:
        column = table.columns[table.header.index(name)]
        picked.append([_number(path, text, k, table.lines[k - 1], name, decimal)
                       for k, text in enumerate(column, start=1)])
    return tuple(zip(*picked, strict=True))


def _number(path: Path, text: str, k: int, line: int, column: str, decimal: str) -> float:
    try:
        value = float(text.replace(",", ".") if decimal == "," else text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        what = "is empty" if text == "" else f"holds {text!r}, not a finite number"
        hint = ('; for decimal commas set decimal = "," in [data]'
                if decimal != "," and re.fullmatch(r"[-+]?\d*,\d+", text) else "")
        raise SheetnetError(f"data.csv: {path.name}, data row {k} (line {line}), column {column!r} "
                            f"{what}{hint}")
    return value


def _one_hot(path: Path, values: list[str], lines: list[int], label: str) -> tuple[tuple[str, ...], Matrix]:
    """Class names (sorted) and one row per sample with 1 for its class, 0 for the others."""
    for k, text in enumerate(values, start=1):
        if text == "":
            raise SheetnetError(f"data.csv: {path.name}, data row {k} (line {lines[k - 1]}), column {label!r}"
                                " is empty; every sample needs a class")
    classes = sorted(set(values), key=_class_order)
    if len(classes) < 2:
        raise SheetnetError(f"data.label_column {label!r} holds only one class ({classes[0]!r});"
                            " a classifier needs at least two")
    rows = tuple(tuple(1.0 if v == c else 0.0 for c in classes) for v in values)
    return tuple(classes), rows


def _class_order(name: str) -> tuple[int, float, str]:
    """Numbers in numeric order (2 before 10), before names in text order."""
    try:
        number = float(name)
    except ValueError:
        return (1, 0.0, name)
    return (0, number, name) if math.isfinite(number) else (1, 0.0, name)
