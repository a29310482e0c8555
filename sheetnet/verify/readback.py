"""Read a sheetnet workbook back: the network from its Network sheet, the Training formulas.

The Network sheet is the source of truth, so a workbook whose inputs a student edited is read
with those edited inputs.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from sheetnet.equations import graph
from sheetnet.errors import SheetnetError
from sheetnet.model import ids, optimizers
from sheetnet.model.spec import DEFAULT_LEAKY_SLOPE, Spec, parse_spec
from sheetnet.sheets import layout
from sheetnet.sheets.i18n import sheet_names
from sheetnet.sheets.layout import FIRST_DATA_ROW, ID_ROW, NetworkLayout
from sheetnet.sheets.settings import NAMES, SETTINGS, read_settings
from sheetnet.verify import cells, sheetxml
from sheetnet.verify.cells import TrainingCells
from sheetnet.verify.edits import explain_edits
from sheetnet.verify.layered_readback import is_layered_sheet, read_layered_spec, setting_cells
from sheetnet.verify.stored import Stored
from sheetnet.verify.untrusted import check_archive, check_big_part, check_claimed_cells, reading, why


@dataclass
class Workbook:
    """What the check needs from a sheetnet workbook: its network and Training formulas."""

    path: Path
    network_sheet: str
    training_sheet: str
    network: dict[tuple[int, int], Any]  # every Network cell value, by (row, col)
    spec: Spec
    columns: list[graph.Column]
    # Training data cells (formulas as shape ids, cells.py), rows t = 0..N; an object array
    # of formula texts and values is turned into that form.
    contents: TrainingCells
    # The Network sheet's formula texts (the standardisation of the inputs), by (row, col).
    network_formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    # The values stored for the Training formula cells, when read on the way (the fast reader).
    stored: Stored | None = None
    # The workbook's sheet names in order, and every non-empty cell (formula text or value) of
    # its other sheets (all but Guide, Network and Training), read in the same opening of the
    # file: the checks of the Summary, Charts, map and Exercise sheets take them from here.
    sheetnames: list[str] = field(default_factory=list)
    others: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    # The Guide's cells and the Training sheet's head (bands, labels, ids): the text the check
    # compares with a rebuild (constants.py), read in the same opening.
    heads: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.contents, np.ndarray):
            self.contents = cells.from_values(self.contents, FIRST_DATA_ROW, self.training_sheet.upper())


def read_workbook(path: Path, *, on_spec: Callable[[Spec], None] | None = None) -> Workbook:
    """Read the network back from the Network sheet and the Training sheet's formula texts.

    on_spec is called with the network as soon as it is known, before the long read of the
    Training sheet (the check starts its reference training then, in another process).
    """
    if path.is_dir():
        raise SheetnetError(f"{path} is a folder; give a workbook written by `sheetnet build`")
    if not path.is_file():
        raise SheetnetError(f"{path}: no such file; give a workbook written by `sheetnet build`")
    # A zip bomb is refused before openpyxl unpacks anything, a big Training sheet (Excel's
    # largest) only if the network and iterations on its Network sheet explain its size.
    unpacked = check_archive(path, big_sheet=True)
    with reading(path), open_workbook(path, data_only=True) as values, \
            open_workbook(path, data_only=False) as formulas:
        network_sheet = _find_sheet(path, values.sheetnames, "sheet.network")
        training_sheet = _find_sheet(path, values.sheetnames, "sheet.training")
        check_big_part(path, training_sheet)
        network = _sheet_values(values[network_sheet])
        explain_edits(path.name, network_sheet, _custom_properties(values), network, _setting_cells(network))
        network_texts = _formula_texts(formulas[network_sheet])
        if is_layered_sheet(network):  # a list of layers (conv2d, rnn, attention, …)
            spec = read_layered_spec(f"{path.name}, sheet {network_sheet}", path.stem, network)
        else:
            spec = _read_spec(path, network_sheet, network, network_texts)
        columns = graph.training_columns(spec)
        check_claimed_cells(path, (spec.iterations + 1) * len(columns), unpacked)
        _check_ids(path, formulas[training_sheet], training_sheet, spec)
        if on_spec is not None:
            on_spec(spec)
        contents, stored = _training_formulas(formulas[training_sheet], spec, len(columns))
        network_formulas = network_texts  # x̃, μ, σ and 1 − β
        others = _other_sheets(formulas, (network_sheet, training_sheet, *sheet_names("sheet.guide")))
        heads = _heads(formulas, training_sheet)
    return Workbook(path, network_sheet, training_sheet, network, spec, columns, contents, network_formulas,
                    stored, list(values.sheetnames), others, heads)


def _heads(book: Any, training_sheet: str) -> dict[str, dict[tuple[int, int], Any]]:
    """The Guide's cells and the Training sheet's rows above its data."""
    guides = [name for name in sheet_names("sheet.guide") if name in book.sheetnames]
    heads = {name: _sheet_values(book[name]) for name in guides}
    head: dict[tuple[int, int], Any] = {}
    rows = book[training_sheet].iter_rows(max_row=FIRST_DATA_ROW - 1, values_only=True)
    for r, row in enumerate(rows, start=1):
        head |= {(r, c): value for c, value in enumerate(row, start=1) if value is not None}
    heads[training_sheet] = head
    return heads


def _other_sheets(book: Any, left_out: tuple[str, ...]) -> dict[str, dict[tuple[int, int], Any]]:
    """Every non-empty cell of each sheet not left out, by sheet name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Gnumeric's files have no default style
        return {name: _sheet_values(book[name]) for name in book.sheetnames if name not in left_out}


def _custom_properties(book: Any) -> dict[str, str]:
    """The workbook's text custom properties (the grey settings as built), by name."""
    props = getattr(book, "custom_doc_props", None)
    return {p.name: str(p.value) for p in getattr(props, "props", [])}


def _formula_texts(ws: Any) -> dict[tuple[int, int], str]:
    """Every formula of a sheet by (row, col); text that merely starts with "=" is left out."""
    return {(cell.row, cell.column): cell.value for row in ws.iter_rows() for cell in row
            if getattr(cell, "data_type", None) == "f"}


@contextmanager
def open_workbook(path: Path, *, data_only: bool) -> Iterator[Any]:
    """openpyxl in read-only mode: it reads a sheet only when asked, row by row (fast)."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        raise SheetnetError(f"{path}: not an .xlsx workbook that can be read ({why(exc)})") from None
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


def sheet_values(ws: Any) -> dict[tuple[int, int], Any]:
    """Every non-empty cell's value, by (row, col)."""
    return _sheet_values(ws)


def _sheet_values(ws: Any) -> dict[tuple[int, int], Any]:
    cells = {}
    for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                cells[r, c] = value
    return cells


def _read_spec(path: Path, sheet: str, cells: dict[tuple[int, int], Any],
               texts: Mapping[tuple[int, int], str] | None = None) -> Spec:
    """Rebuild the Spec from the settings and inputs at the Network sheet's fixed cells."""
    where = f"{path.name}, sheet {sheet}"
    settings, n_samples = _settings(where, cells), _count_samples(cells)
    _check_inputs_present(where, settings["sizes"], n_samples, len(cells))
    table = _table(settings, cells, n_samples=n_samples, values=None)
    # The cells of the inputs depend only on the shape, so a placeholder spec places them
    # (standardised only after parsing: its placeholder columns are constant).
    placeholder = parse_spec(table, source=where)
    placed = NetworkLayout(dataclasses.replace(placeholder, standardize=settings["standardize"]))
    values = {key: _number(where, cells, at, key, texts or {}) for key, at in placed.typed_cells().items()}
    table = _table(settings, cells, n_samples=n_samples, values=values)
    if settings["standardize"]:
        table["data"]["standardize"] = True
    return parse_spec(table, name=path.stem, source=where)


def _check_inputs_present(where: str, sizes: list[int], n_samples: int, n_cells: int) -> None:
    """The sheet must hold a cell for every input the settings promise, before any is looked up.

    A hostile "100000-100000" in the sizes cell would otherwise ask for 10¹⁰ weights.
    """
    weights = sum(a * b for a, b in itertools.pairwise(sizes))
    needed = n_samples * (sizes[0] + sizes[-1]) + weights
    if needed > n_cells:
        raise SheetnetError(f"{where}: the settings describe a network with {needed:,} inputs and "
                            f"weights, but the sheet holds only {n_cells:,} cells; is this a workbook "
                            "written by `sheetnet build`?")


def _cell_name(at: tuple[int, int]) -> str:
    return layout.address(*at)


def _setting_cells(cells: dict[tuple[int, int], Any]) -> dict[str, tuple[int, int]]:
    return setting_cells(cells, NAMES)


def _settings(where: str, cells: dict[tuple[int, int], Any]) -> dict[str, Any]:
    positions = _setting_cells(cells)
    raw = {name: cells.get(pos) for name, pos in positions.items()}
    if "seed" not in raw:
        raw["seed"] = 0  # no seed row without shuffling (or in batch mode): never read then

    def fail(name: str, what: str) -> SheetnetError:
        return SheetnetError(f"{where}: cell {_cell_name(positions[name])} ({name}) must be {what},"
                             f" got {raw[name]!r}; is this a workbook written by `sheetnet build`?")

    batches = isinstance(raw.get("mode"), str) and raw["mode"].strip() != "batch"
    for setting in SETTINGS:
        if setting.read is not None and setting.name not in raw and (batches or not setting.batches_only):
            raise SheetnetError(f"{where}: it has no row for the setting {setting.name}; is this a "
                                "workbook written by `sheetnet build`?")
    return read_settings(raw, fail)


def _count_samples(cells: dict[tuple[int, int], Any]) -> int:
    """Samples are numbered 1, 2, ... in column A under the data table's header."""
    k = 0
    while cells.get((layout.DATA_HEADER_ROW + 1 + k, 1)) == k + 1:
        k += 1
    return max(k, 1)


def _number(where: str, cells: dict[tuple[int, int], Any], at: tuple[int, int], key: str,
            texts: Mapping[tuple[int, int], str]) -> float:
    value = cells.get(at)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value is None and at in texts:  # a script wrote a formula and no value (openpyxl does)
        raise SheetnetError(f"{where}: cell {_cell_name(at)} ({key}) holds the formula {texts[at]} "
                            "without a computed value; open and save the file in a spreadsheet "
                            "program, or type the number")
    hint = "; save it in a spreadsheet program first" if isinstance(value, str) and value[:1] == "=" else ""
    got = "an empty cell" if value is None else repr(value)
    raise SheetnetError(f"{where}: cell {_cell_name(at)} ({key}) must hold a number, got {got}{hint}")


def _table(
    settings: dict[str, Any], cells: dict[tuple[int, int], Any], *, n_samples: int,
    values: dict[str, float] | None,
) -> dict[str, Any]:
    """A spec table for parse_spec; with values=None every input is a placeholder 0 (or 1 for lr)."""
    sizes, bias = settings["sizes"], settings["bias"]

    def get(key: str, default: float = 0.0) -> float:
        if key == graph.LEAKY.key:  # a row only where leaky_relu is used
            return default if values is None else values.get(key, default)
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
        | {"leaky_slope": get(graph.LEAKY.key, DEFAULT_LEAKY_SLOPE)},
        "training": {"learning_rate": get("lr", 1.0), "iterations": settings["iterations"],
                     "reduction": settings["reduction"],
                     **{k: settings[k] for k in ("mode", "batch_size", "shuffle", "seed")
                        if k in settings},
                     **_optimizer_table(settings["optimizer"], get)},
        "init": {"weights": weights},
        "data": {"inputs": inputs, "targets": targets},
    }
    if bias in ("shared", "per-neuron") and len(sizes) > 1:
        table["init"]["biases"] = _bias_table(sizes, bias, get)
    return table


def _optimizer_table(name: str, get: Callable[[str, float], float]) -> dict[str, Any]:
    """The optimizer and the hyperparameters it reads, from their Network cells (λ only when not 0)."""
    entry = optimizers.OPTIMIZERS[name]
    table: dict[str, Any] = {"optimizer": name}
    for key in entry.fields:
        value = get(key, entry.default(key))
        if key != "weight_decay" or value:
            table[key] = value
    return table


def _bias_table(sizes: list[int], bias: str, get: Callable[[str], float]) -> list[Any]:
    if bias == "shared":
        return [get(graph.initial_key(ids.bias_of(bias, layer, 0)).key) for layer in range(len(sizes) - 1)]
    return [[get(graph.initial_key(ids.bias_of(bias, layer, j)).key) for j in range(sizes[layer + 1])]
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
    """The Training sheet's data cells as an object array: formula texts, numbers or None.

    Read straight from the sheet's XML (sheetxml.py) where every cell is in a plain form,
    else by openpyxl.
    """
    n_rows = spec.iterations + 1
    fast = _read_plain_xml(ws, FIRST_DATA_ROW, n_rows, n_columns)
    if fast is not None:
        return fast
    contents = np.full((n_rows, n_columns), None, dtype=object)
    rows = ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=FIRST_DATA_ROW + n_rows - 1,
                        max_col=n_columns, values_only=True)
    for t, row in enumerate(rows):
        if row:
            contents[t, : len(row)] = row[:n_columns]
    return contents


def _training_formulas(ws: Any, spec: Spec, n_columns: int) -> tuple[TrainingCells, Stored | None]:
    """The Training sheet's formulas compactly and their stored values, in one pass over the XML
    (sheetxml.read_training) where every cell is in a plain form; else read by openpyxl, and the
    stored values left to be read apart (None)."""
    n_rows = spec.iterations + 1
    own = ws.title.upper()
    try:
        shared_strings, open_source = ws._shared_strings, ws._get_source
        date_styles = set(ws.parent._date_formats) | set(ws.parent._timedelta_formats)
    except AttributeError:
        return cells.from_values(training_cells(ws, spec, n_columns), FIRST_DATA_ROW, own), None
    with open_source() as source:
        fast = sheetxml.read_training(source, first_row=FIRST_DATA_ROW, n_rows=n_rows, n_columns=n_columns,
                                      own_sheet=own, shared_strings=shared_strings, date_styles=date_styles)
    if fast is not None:
        return fast
    return cells.from_values(training_cells(ws, spec, n_columns), FIRST_DATA_ROW, own), None


def _read_plain_xml(ws: Any, first_row: int, n_rows: int, n_columns: int) -> np.ndarray | None:
    """The cells by sheetxml's one-pass reader; None where it cannot read them (then openpyxl).

    It reaches into openpyxl's read-only worksheet for the sheet's zip member, the shared
    strings and the styles that mark dates; a version of openpyxl without them is read the
    slow way.
    """
    try:
        book, shared_strings, open_source = ws.parent, ws._shared_strings, ws._get_source
        date_styles = set(book._date_formats) | set(book._timedelta_formats)
        data_only = bool(book.data_only)
    except AttributeError:
        return None
    with open_source() as source:
        return sheetxml.read_cells(source, first_row=first_row, n_rows=n_rows, n_columns=n_columns,
                                   shared_strings=shared_strings, data_only=data_only,
                                   date_styles=date_styles)
