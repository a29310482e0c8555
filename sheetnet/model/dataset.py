"""Training data from a CSV file: `[data] csv = "file.csv"` with named input and target columns.

Targets come either from numeric `target_columns` or from one `label_column` of class names,
one-hot encoded: one output per class, classes in sorted order (numerically when every class
name is a number), so the order does not depend on the order of the rows. The CSV is read with
pandas, every cell as text, so each number is parsed here and a bad one is named by its row
and column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sheetnet.errors import SheetnetError

Matrix = tuple[tuple[float, ...], ...]
CSV_FIELDS = ("csv", "input_columns", "target_columns", "label_column")


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
    header, rows = _read_table(path)
    for field, wanted in (("input_columns", inputs_wanted), ("label_column" if label else "target_columns",
                                                            targets_wanted)):
        for name in wanted:
            if name not in header:
                raise SheetnetError(f"data.{field}: {path.name} has no column {name!r};"
                                    f" its columns are: {', '.join(header)}")
    inputs = _numbers(path, header, rows, inputs_wanted)
    if label is not None:
        class_names, targets = _one_hot(path, rows[header.index(label)], label)
        return CsvData(inputs, targets, tuple(inputs_wanted), class_names, class_names)
    targets = _numbers(path, header, rows, targets_wanted)
    return CsvData(inputs, targets, tuple(inputs_wanted), tuple(targets_wanted), ())


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


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the columns (as lists of stripped text) of the CSV at path."""
    if path.is_dir():
        raise SheetnetError(f"data.csv: {path} is a folder; give the path of a CSV file")
    if not path.is_file():
        raise SheetnetError(f"data.csv: {path}: no such file (a relative path is relative to the TOML file)")
    try:
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise SheetnetError(f"data.csv: {path} is empty; it needs a header row and data rows") from None
    except UnicodeDecodeError:
        raise SheetnetError(f"data.csv: {path} is not UTF-8 text; save it as UTF-8 CSV") from None
    except (OSError, pd.errors.ParserError, ValueError) as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SheetnetError(f"data.csv: {path} is not a readable CSV ({why})") from None
    header = [_text(v) for v in frame.iloc[0]]
    if len(frame) < 2:
        raise SheetnetError(f"data.csv: {path} has a header row but no data rows")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise SheetnetError(f"data.csv: {path} has more than one column named {twice[0]!r}; rename one")
    columns = [[_text(v) for v in frame.iloc[1:, c]] for c in range(frame.shape[1])]
    return header, columns


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def _numbers(path: Path, header: list[str], columns: list[list[str]], wanted: list[str]) -> Matrix:
    picked = []
    for name in wanted:
        values = []
        for k, text in enumerate(columns[header.index(name)], start=1):
            values.append(_number(path, text, k, name))
        picked.append(values)
    return tuple(zip(*picked, strict=True))


def _number(path: Path, text: str, k: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        what = "is empty" if text == "" else f"holds {text!r}, not a finite number"
        raise SheetnetError(f"data.csv: {path.name}, data row {k} (line {k + 1}), column {column!r} {what}")
    return value


def _one_hot(path: Path, values: list[str], label: str) -> tuple[tuple[str, ...], Matrix]:
    """Class names (sorted) and one row per sample with 1 for its class, 0 for the others."""
    for k, text in enumerate(values, start=1):
        if text == "":
            raise SheetnetError(f"data.csv: {path.name}, data row {k} (line {k + 1}), column {label!r}"
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
