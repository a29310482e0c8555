"""Read a sheetnet workbook back: the network from its Network sheet, the Training formulas.

The Network sheet is the source of truth, so a workbook whose inputs a student edited is read
with those edited inputs.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from sheetnet import graph, ids, layout
from sheetnet.errors import SheetnetError
from sheetnet.i18n import sheet_names
from sheetnet.layout import FIRST_DATA_ROW, ID_ROW, NetworkLayout
from sheetnet.spec import Spec, parse_spec


@dataclass
class Workbook:
    """What the check needs from a sheetnet workbook: its network and Training formulas."""

    path: Path
    network_sheet: str
    training_sheet: str
    network: dict[tuple[int, int], Any]  # every Network cell value, by (row, col)
    spec: Spec
    columns: list[graph.Column]
    contents: np.ndarray  # Training data cells (formula text or value), rows t = 0..N


def read_workbook(path: Path) -> Workbook:
    """Read the network back from the Network sheet and the Training sheet's formula texts."""
    if not path.is_file():
        raise SheetnetError(f"{path}: no such file; give a workbook written by `sheetnet build`")
    with open_workbook(path, data_only=True) as values, open_workbook(path, data_only=False) as formulas:
        network_sheet = _find_sheet(path, values.sheetnames, "sheet.network")
        training_sheet = _find_sheet(path, values.sheetnames, "sheet.training")
        network = _sheet_values(values[network_sheet])
        spec = _read_spec(path, network_sheet, network)
        columns = graph.training_columns(spec)
        _check_ids(path, formulas[training_sheet], training_sheet, spec)
        contents = training_cells(formulas[training_sheet], spec, len(columns))
    return Workbook(path, network_sheet, training_sheet, network, spec, columns, contents)


@contextmanager
def open_workbook(path: Path, *, data_only: bool) -> Iterator[Any]:
    """openpyxl in read-only mode: it reads a sheet only when asked, row by row (fast)."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SheetnetError(f"{path}: not an .xlsx workbook that can be read ({why})") from None
    try:
        yield book
    finally:
        book.close()


def _find_sheet(path: Path, present: list[str], key: str) -> str:
    for name in sheet_names(key):
        if name in present:
            return name
    wanted = " or ".join(sheet_names(key))
    raise SheetnetError(f"{path}: not a sheetnet workbook (it has no sheet named {wanted})")


def _sheet_values(ws: Any) -> dict[tuple[int, int], Any]:
    cells = {}
    for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                cells[r, c] = value
    return cells


def _read_spec(path: Path, sheet: str, cells: dict[tuple[int, int], Any]) -> Spec:
    """Rebuild the Spec from the settings and inputs at the Network sheet's fixed cells."""
    where = f"{path.name}, sheet {sheet}"
    settings, n_samples = _settings(where, cells), _count_samples(cells)
    table = _table(settings, cells, n_samples=n_samples, values=None)
    # The cells of the inputs depend only on the shape, so a placeholder spec places them.
    placed = NetworkLayout(parse_spec(table, source=where))
    values = {key: _number(where, cells, at, key) for key, at in placed.input_cells.items()}
    table = _table(settings, cells, n_samples=n_samples, values=values)
    return parse_spec(table, name=path.stem, source=where)


def _setting_cells() -> dict[str, tuple[int, int]]:
    # The settings sit at the same cells for every network; any spec gives them.
    placeholder = {
        "network": {"sizes": [1, 1], "activations": ["linear"], "bias": "none"},
        "training": {"learning_rate": 1.0},
        "init": {"weights": [[[0.0]]]},
        "data": {"inputs": [[0.0]], "targets": [[0.0]]},
    }
    return NetworkLayout(parse_spec(placeholder)).setting_cells


def _cell_name(at: tuple[int, int]) -> str:
    return layout.address(*at)


def _settings(where: str, cells: dict[tuple[int, int], Any]) -> dict[str, Any]:
    positions = _setting_cells()
    raw = {name: cells.get(pos) for name, pos in positions.items()}

    def fail(name: str, what: str) -> SheetnetError:
        return SheetnetError(f"{where}: cell {_cell_name(positions[name])} ({name}) must be {what},"
                             f" got {raw[name]!r}; is this a workbook written by `sheetnet build`?")

    try:
        sizes = [int(n) for n in str(raw["sizes"]).split("-")]
    except ValueError:
        raise fail("sizes", 'layer sizes like "2-2-2"') from None
    if not isinstance(raw["activations"], str):
        raise fail("activations", 'activations like "sigmoid, sigmoid"')
    train_bias = raw["train_bias"]
    if isinstance(train_bias, str) and train_bias.strip().lower() in ("true", "false"):
        train_bias = train_bias.strip().lower() == "true"
    if not isinstance(train_bias, bool):
        raise fail("train_bias", '"true" or "false"')
    iterations = raw["iterations"]
    if isinstance(iterations, float) and iterations.is_integer():
        iterations = int(iterations)
    if not isinstance(iterations, int) or isinstance(iterations, bool):
        raise fail("iterations", "a whole number")
    for name in ("bias", "loss", "reduction"):
        if not isinstance(raw[name], str):
            raise fail(name, "a word")
    return {
        "sizes": sizes,
        "activations": [a.strip() for a in raw["activations"].split(",")],
        "bias": raw["bias"].strip(),
        "train_bias": train_bias,
        "loss": raw["loss"].strip(),
        "reduction": raw["reduction"].strip(),
        "iterations": iterations,
    }


def _count_samples(cells: dict[tuple[int, int], Any]) -> int:
    """Samples are numbered 1, 2, ... in column A under the data table's header."""
    k = 0
    while cells.get((layout.DATA_HEADER_ROW + 1 + k, 1)) == k + 1:
        k += 1
    return max(k, 1)


def _number(where: str, cells: dict[tuple[int, int], Any], at: tuple[int, int], key: str) -> float:
    value = cells.get(at)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    hint = "; save it in a spreadsheet program first" if isinstance(value, str) and value[:1] == "=" else ""
    raise SheetnetError(f"{where}: cell {_cell_name(at)} ({key}) must hold a number, got {value!r}{hint}")


def _table(
    settings: dict[str, Any], cells: dict[tuple[int, int], Any], *, n_samples: int,
    values: dict[str, float] | None,
) -> dict[str, Any]:
    """A spec table for parse_spec; with values=None every input is a placeholder 0 (or 1 for lr)."""
    sizes, bias = settings["sizes"], settings["bias"]

    def get(key: str, default: float = 0.0) -> float:
        return default if values is None else values[key]

    n_in, n_out = sizes[0], sizes[-1]
    inputs = [[get(graph.input_key(i, k).key) for i in range(n_in)] for k in range(n_samples)]
    # Placeholder targets are one-hot rows, valid for every loss (cross_entropy asks for them).
    targets = [[get(graph.target_key(j, k).key, float(j == 0)) for j in range(n_out)]
               for k in range(n_samples)]
    weights = [
        [[get(graph.initial_key(ids.weight(layer, j, i)).key) for i in range(sizes[layer])]
         for j in range(sizes[layer + 1])]
        for layer in range(len(sizes) - 1)
    ]
    table: dict[str, Any] = {
        "title": str(cells.get((layout.TITLE_ROW, 1), "")),
        "description": str(cells.get((layout.DESCRIPTION_ROW, 1), "")),
        "network": {k: settings[k] for k in ("sizes", "activations", "bias", "train_bias", "loss")}
        | {"leaky_slope": get(graph.LEAKY.key, 0.01)},
        "training": {"learning_rate": get("lr", 1.0), "iterations": settings["iterations"],
                     "reduction": settings["reduction"]},
        "init": {"weights": weights},
        "data": {"inputs": inputs, "targets": targets},
    }
    if bias in ("shared", "per-neuron") and len(sizes) > 1:
        table["init"]["biases"] = _bias_table(sizes, bias, get)
    return table


def _bias_table(sizes: list[int], bias: str, get: Callable[[str], float]) -> list[Any]:
    if bias == "shared":
        return [get(graph.initial_key(f"b{layer + 1}").key) for layer in range(len(sizes) - 1)]
    return [[get(graph.initial_key(f"b{layer + 1}[{j + 1}]").key) for j in range(sizes[layer + 1])]
            for layer in range(len(sizes) - 1)]


def _check_ids(path: Path, ws: Any, sheet: str, spec: Spec) -> None:
    """The id row names every column; it must match the network the Network sheet describes."""
    expected = ids.all_ids(spec)
    row = next(ws.iter_rows(min_row=ID_ROW, max_row=ID_ROW, values_only=True), ())
    found = list(row)
    while found and found[-1] is None:
        found.pop()
    if found == expected:
        return
    for c, (want, have) in enumerate(zip([*expected, None], [*found, None], strict=False), start=1):
        if want != have:
            raise SheetnetError(
                f"{path}: not a sheetnet workbook for the network on its Network sheet: cell "
                f"{sheet}!{layout.address(ID_ROW, c)} holds {have!r}, expected the column id {want!r}")


def training_cells(ws: Any, spec: Spec, n_columns: int) -> np.ndarray:
    """The Training sheet's data cells as an object array: formula texts, numbers or None."""
    n_rows = spec.iterations + 1
    contents = np.full((n_rows, n_columns), None, dtype=object)
    rows = ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=FIRST_DATA_ROW + n_rows - 1,
                        max_col=n_columns, values_only=True)
    for t, row in enumerate(rows):
        if row:
            contents[t, : len(row)] = row[:n_columns]
    return contents
