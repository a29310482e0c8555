"""The whole workbook checked: every constant cell of every sheet against a rebuild.

Formulas and their values are checked cell by cell elsewhere; the text around them (labels, ids,
the Working sheet's symbolic equations, the Guide's words, the settings' names) is checked here.
The check rebuilds, in a temporary folder, the workbook that the file's own Network sheet and
sheets describe (the same network, language, summary spacing, learning rates, optimizers and
map size), and every cell the build writes as a constant must hold the same value in the file.
Yellow cells are a student's to edit and are not compared; a cell the file has and the build
does not write (a student's note) is not a difference. Sheets of higher layers (the Exercise
sheet) are not rebuilt here.

The rebuild runs in a forked process while the check recomputes the formulas.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.model import ids
from sheetnet.sheets import layout, network, rates, styles
from sheetnet.sheets import optimizers_sheet as optim_layout
from sheetnet.sheets.context import BuildOptions, ExtraSheet
from sheetnet.sheets.i18n import LANGUAGES, STRINGS, sheet_names
from sheetnet.verify import mapcheck, othersheets
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report, WrongCell, shorten

Cells = dict[tuple[int, int], Any]
GROUP = "text"


def options_of(book: Workbook, extra: tuple[tuple[str, str], ...] = ()) -> BuildOptions:
    """The build options the file's sheets show: its language and what each optional sheet holds;
    extra: (key, name) of each sheet of a higher layer the file has (written empty here, so
    that the Guide lists it as the build did)."""
    lang = next((code for code in LANGUAGES if STRINGS[code]["sheet.network"] == book.network_sheet), "en")
    words = STRINGS[lang]
    others = book.others
    summary = others.get(words["sheet.summary"])
    compare = others.get(words["sheet.compare"])
    optim = others.get(words["sheet.compare_optim"])
    map_name = mapcheck.map_sheet(book.sheetnames)
    return BuildOptions(
        lang=lang,
        summary_every=othersheets.every(summary) if summary else None,
        compare_lr=_rates(book, compare) if compare else (),
        compare_optim=_optimizers(optim) if optim else (),
        decision_map=mapcheck.grid_size(book, others[map_name]) if map_name in others else 0,
        extra_sheets=tuple(ExtraSheet(key, name, _blank) for key, name in extra),
    )


def _blank(ctx: Any, ws: Any) -> None:
    """A sheet of a higher layer stands empty in the rebuild: its own check judges its cells."""


def _rates(book: Workbook, cells: Cells) -> tuple[float, ...]:
    width = len(book.columns) + 1
    starts = sorted(c for (r, c), v in cells.items()
                    if r == rates.ID_ROW and v == "iter" and (c - 1) % width == 0)
    return tuple(as_float(cells.get((rates.RATE_ROW, c + 1))) for c in starts)


def _optimizers(cells: Cells) -> tuple[str, ...]:
    from sheetnet.model.optimizers import OPTIMIZERS

    names, row = [], optim_layout.OVERVIEW_ROW + 1
    while cells.get((row, 1)) in OPTIMIZERS:
        names.append(str(cells[row, 1]))
        row += 1
    return tuple(names)


def rebuilt_constants(book: Workbook, options: BuildOptions,
                      reference: np.ndarray | None = None) -> dict[str, Cells]:
    """Every constant cell the build writes for this workbook's network, by sheet name;
    reference: the check's NumPy run of it (columns as ids.all_ids), so as not to train again."""
    from dataclasses import replace

    from sheetnet.sheets.writer import build_workbook

    with tempfile.TemporaryDirectory(prefix="sheetnet-rebuild-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a diverging run warns at build; the check says so itself
        path = Path(tmp) / "rebuilt.xlsx"
        spec = book.spec.replace(name=_template_kind(book, options.lang), **_data_names(book))
        build_workbook(spec, path, options=replace(options, cells_only=True, in_memory=True),
                       reference=None if reference is None else _frame(book, reference))
        return _constants(path)


def _template_kind(book: Workbook, lang: str) -> str:
    """ "seed-" when the Guide compares iteration 0 with a tutorial's numbers (a seed template's
    Guide does; the file does not keep the template's name), else ""."""
    seed = STRINGS[lang]["guide.try.seed"].split("{")[0]
    guide = next((cells for name, cells in book.heads.items() if name in sheet_names("sheet.guide")), {})
    return "seed-" if any(isinstance(v, str) and v.startswith(seed) for v in guide.values()) else ""


def _frame(book: Workbook, reference: np.ndarray) -> Any:
    """The run as the build takes it: a DataFrame indexed by iteration (reference.train's form)."""
    import pandas as pd  # here, in the rebuild's process: the check itself imports no pandas

    columns = ids.all_ids(book.spec)
    frame = pd.DataFrame(reference[:, 1:], columns=columns[1:], copy=False)  # read, never written
    frame.insert(0, "iter", np.arange(reference.shape[0]))
    return frame.set_index("iter", drop=False)


def _data_names(book: Workbook) -> dict[str, tuple[str, ...]]:
    """The data table's headers when they are a CSV's column names: data, like the numbers under
    them, which the Network sheet keeps and the read-back spec does not."""
    spec = book.spec
    if spec.layered:  # a network of layers takes no CSV data
        return {}
    n_in, n_out = spec.sizes[0], spec.sizes[-1]
    heads = [book.network.get((layout.DATA_HEADER_ROW, 2 + c)) for c in range(n_in + n_out)]
    if heads == network.data_headers(spec) or not all(isinstance(h, str) for h in heads):
        return {}
    return {"input_names": tuple(heads[:n_in]), "target_names": tuple(heads[n_in:])}


def _constants(path: Path) -> dict[str, Cells]:
    """Every non-empty cell of each sheet that is neither a formula nor yellow (a student's)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)  # cells and their fills, not the charts
    yellow = styles.INPUT_FILL.lstrip("#").upper()
    found: dict[str, Cells] = {}
    for ws in book.worksheets:
        cells: Cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if getattr(cell, "value", None) is None or cell.data_type == "f":
                    continue
                if _fill(cell).upper().endswith(yellow):
                    continue
                cells[cell.row, cell.column] = cell.value
        found[ws.title] = cells
    book.close()
    return found


def _fill(cell: Any) -> str:
    colour = getattr(getattr(cell.fill, "fgColor", None), "rgb", None)
    return colour if isinstance(colour, str) else ""


def start_rebuild(book: Workbook, extra: tuple[tuple[str, str], ...] = (),
                  reference: np.ndarray | None = None) -> Callable[[], dict[str, Cells] | str]:
    """Start rebuilding in a forked process (which sees the reference run without a copy); the
    function returned waits for its constants (or the one-line reason the rebuild failed)."""
    options = options_of(book, extra)
    if "fork" not in multiprocessing.get_all_start_methods():
        return lambda: _rebuild_or_reason(book, options, reference)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_rebuild_into, args=(book, options, reference, send), daemon=True)
    process.start()
    send.close()

    def result() -> dict[str, Cells] | str:
        try:
            found = receive.recv()
        except EOFError:
            found = "the rebuild stopped without a result"
        process.join()
        return found

    return result


def _rebuild_into(book: Workbook, options: BuildOptions, reference: np.ndarray | None, send: Any) -> None:
    send.send(_rebuild_or_reason(book, options, reference))
    send.close()


def _rebuild_or_reason(book: Workbook, options: BuildOptions,
                       reference: np.ndarray | None = None) -> dict[str, Cells] | str:
    try:
        return rebuilt_constants(book, options, reference)
    except Exception as exc:  # the report says why; a rebuild never stops the check
        return f"could not rebuild the workbook to compare its text: {exc}"


def compare(book: Workbook, found: dict[str, Cells] | str, file_cells: dict[str, Cells],
            report: Report) -> None:
    """Judge every rebuilt constant against the file: one report group, "text", per sheet."""
    if isinstance(found, str):
        _fail(report, book.network_sheet, found)
        return
    for sheet, cells in found.items():
        if sheet not in file_cells:
            continue  # a sheet the file lacks is reported by the checks that need it
        held = file_cells[sheet]
        group = report.group(f"{GROUP} ({sheet})", sheet)
        group.cells += len(cells)
        report.cells += len(cells)
        report.covered.add(sheet, cells)
        alike = same_words if sheet in sheet_names("sheet.guide") else same
        wrong = [at for at, want in sorted(cells.items()) if not alike(want, held.get(at))]
        report.wrong += len(wrong)
        group.wrong += len(wrong)
        if wrong and report.first_wrong is None:
            at = wrong[0]
            address = layout.sheet_prefix(sheet) + layout.address(*at)
            note = f"the build writes {shorten(repr(cells[at]))} here"
            report.first_wrong = WrongCell(address, GROUP, 0, None, math.nan, held.get(at), note)


def same(want: Any, got: Any) -> bool:
    """A constant as the build wrote it and as the file holds it (re-saved by any program: a
    number may come back with 15 digits, a whole number as a float, text with \r\n)."""
    if want == "" and got is None:  # an empty text: other programs save no cell at all
        return True
    if isinstance(want, str):
        return isinstance(got, str) and got.replace("\r\n", "\n") == want
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, int | float) and isinstance(got, int | float):
        return bool(np.isclose(float(got), float(want), rtol=1e-14, atol=0.0))
    return want == got


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


def same_words(want: Any, got: Any) -> bool:
    """The Guide's sentences quote the learning rate, a weight and iteration 0's numbers, which
    follow a student's edits of the yellow cells: its words must be the build's, its numbers
    may differ."""
    if isinstance(want, str) and isinstance(got, str):
        return _NUMBER.sub("#", got.replace("\r\n", "\n")) == _NUMBER.sub("#", want)
    return same(want, got)


def _fail(report: Report, sheet: str, note: str) -> None:
    report.group(f"{GROUP} ({sheet})", sheet).cells += 1
    report.cells += 1
    report.wrong += 1
    if report.first_wrong is None:
        report.first_wrong = WrongCell(sheet, GROUP, 0, None, math.nan, None, note)
