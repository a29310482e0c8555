"""Write the workbook with XlsxWriter: live formulas that also store the NumPy core's values.

XlsxWriter rather than openpyxl because it can store each formula's value (so the file shows
numbers before any recalculation: Protected View, previews, pandas) and streams rows in
constant memory. The file still asks the spreadsheet program to recalculate on load.
"""

from __future__ import annotations

import dataclasses
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.worksheet import Worksheet

from sheetnet.atomic import atomic_path
from sheetnet.errors import SheetnetError, SheetnetWarning
from sheetnet.model.reference import warn_if_diverged
from sheetnet.model.spec import Spec
from sheetnet.progress import Progress, stage
from sheetnet.sheets import (
    charts,
    decision_map,
    guide,
    layer_maps,
    layered_guide,
    layered_network,
    limits,
    network,
    optimizers_sheet,
    printing,
    rates,
    settings,
    styles,
    summary,
    training,
    working,
)
from sheetnet.sheets.context import (
    BuildOptions,
    Context,
    FormulaWorksheet,
)
from sheetnet.sheets.i18n import strings
from sheetnet.sheets.layered_network import is_layered, network_layout
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.sheets.trajectory import Trajectory

# User text (title, description) is always text: write() must never turn "=1+1" into a formula,
# "http://x" into a hyperlink or "-2" into a number. Every formula goes through write_formula.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # A Training sheet past 2 GiB of XML (a million rows) needs ZIP64 records; zipfile
    # writes them only for such a part, so every smaller workbook stays byte for byte the same.
    "use_zip64": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def build_workbook(
    spec: Spec,
    path: Path,
    *,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    reference: pd.DataFrame | None = None,
) -> Path:
    """Write the workbook for spec to path, atomically (a temporary file renamed into place).

    When training diverges the file is still written (its rows turn red from the first row
    whose loss is not finite) and a reference.DivergedWarning names that iteration.
    progress (see sheetnet.progress) hears of the NumPy run, the Training rows and the zipping.
    reference: the NumPy run of spec when the caller already has it (a class writes two
    workbooks of each student's network and trains it once); None: trained here.
    """
    options = options or BuildOptions()
    path = Path(path)
    words = strings(options.lang)
    spec = spec.in_language(options.lang)
    printing.paper_code(options.paper)  # a bad paper size fails before anything is written
    limits.check_text({"title": spec.title, "description": spec.description})
    if not path.parent.is_dir():
        raise SheetnetError(f"the folder {path.parent} does not exist; create it or choose another")
    network = network_layout(spec)
    training = TrainingLayout(spec, network, words["sheet.network"])  # fails early if too big
    _check_other_sheets(spec, training, options)
    rows, columns = _kept(spec, options)
    if reference is None:
        with stage(progress, "training with NumPy"):  # its first block; the rest as rows are written
            run = Trajectory(_run_needed(spec, options), rows, columns)
    else:
        run = Trajectory(spec, rows, columns, frame=reference)
    with atomic_path(path) as tmp:
        settings = {**WORKBOOK_OPTIONS, "constant_memory": False, "in_memory": True} if options.in_memory \
            else WORKBOOK_OPTIONS
        book = xlsxwriter.Workbook(str(tmp), settings)
        ctx = Context(spec, options, words, network, training, run, book, styles.Formats(book),
                      progress=progress)
        _write(ctx)
        warn_if_diverged(spec, run.diverged_at())  # an error (a warnings filter) here leaves no file
        with stage(progress, "zipping the workbook"):
            _close(book)
        _warn_if_zip64(tmp, path)
        _warn_if_too_big_elsewhere(tmp, path, training)
    return path


def _size(n: int) -> str:
    """2.0 GiB, 5.2 GiB; 16 KiB where a test lowers zipfile's limit."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**10:.0f} KiB"


def _warn_if_too_big_elsewhere(written: Path, path: Path, training: TrainingLayout) -> None:
    """Warn where Google Sheets (10 million cells) or Excel for the web (100 MB) would refuse the
    file, by their documented limits (limits.py): Excel and LibreOffice open it."""
    cells = training.last_row * len(training.columns)  # the Training sheet's, a lower bound
    if cells > limits.GOOGLE_SHEETS_CELLS:
        warnings.warn(f"{path.name} holds {cells:,} Training cells, past the {limits.GOOGLE_SHEETS_CELLS:,} "
                      "Google Sheets imports; build fewer iterations for Google Sheets",
                      LargeWorkbookWarning, stacklevel=3)
    size = written.stat().st_size
    if size > limits.EXCEL_WEB_BYTES:
        warnings.warn(f"{path.name} is {size / 10**6:,.0f} MB, past the {limits.EXCEL_WEB_BYTES // 10**6} MB "
                      "Excel for the web opens; build fewer iterations for Excel in a browser",
                      LargeWorkbookWarning, stacklevel=3)


class LargeWorkbookWarning(SheetnetWarning):
    """A workbook too big for some program: a sheet past 2 GiB (ZIP64 records, which LibreOffice
    cannot read), past Google Sheets' cells or past Excel for the web's file size."""


def _warn_if_zip64(written: Path, path: Path) -> None:
    """Warn when a sheet needed ZIP64 records: Gnumeric and the check read them, LibreOffice does
    not (7.4 says "source file could not be loaded"; tests/test_zip64.py). Excel was never tried
    here; XlsxWriter's tracker reports Excel asking to repair Python-zipped parts past 2 GiB."""
    with zipfile.ZipFile(written) as archive:
        largest = max(info.file_size for info in archive.infolist())
    if largest * 1.05 > zipfile.ZIP64_LIMIT:  # zipfile's own test for writing a ZIP64 record
        warnings.warn(f"{path.name} holds a sheet of {_size(largest)}, past {_size(zipfile.ZIP64_LIMIT)}, "
                      "so it is zipped with ZIP64 records: Gnumeric and sheetnet check read it, LibreOffice "
                      "cannot, and Excel was not tried (it is reported to ask to repair such files); "
                      "build fewer iterations to open it anywhere", LargeWorkbookWarning, stacklevel=3)


# Sheets that read no iteration after the first: a workbook of only these (a student's exercise
# file) needs a one-iteration run, not the whole training. Extra sheets (the Exercise sheet) ask
# about iteration 1 only.
_FIRST_ITERATION_SHEETS = ("sheet.guide", "sheet.network")


def _kept(spec: Spec, options: BuildOptions) -> tuple[list[int], list[str]]:
    """The rows and whole columns of the run that sheets besides the Training sheet read: the
    Summary's rows, the last row (the decision map's parameters), the Charts' series."""
    rows = [spec.iterations]
    if not options.only_sheets or "sheet.summary" in options.only_sheets:
        rows += summary.summary_iterations(spec.iterations, options.summary_every)
    return rows, charts.series_columns(spec)


def _run_needed(spec: Spec, options: BuildOptions) -> Spec:
    """spec, or spec cut to one iteration when no sheet written reads a later one."""
    shown = set(options.only_sheets)
    first_only = set(_FIRST_ITERATION_SHEETS) | {e.key for e in options.extra_sheets}
    if shown and shown <= first_only and spec.iterations > 1:
        return dataclasses.replace(spec, iterations=1)  # rows 0 and 1 are the full run's
    return spec


def _check_other_sheets(spec: Spec, training: TrainingLayout, options: BuildOptions) -> None:
    """Limits of sheets besides the Training sheet's (which its layout checks), before writing."""
    working.check_formulas(spec, training)
    if options.decision_map:  # dense networks of one or two inputs only (its one-line error says why)
        decision_map.check_grid(spec, options.decision_map)
    if options.compare_lr:  # blocks past the last column: refused before NumPy trains anything
        rates.check_columns(spec, len(options.compare_lr))
    if options.compare_optim:
        names = optimizers_sheet.parse_optimizers(",".join(options.compare_optim))
        optimizers_sheet.check_columns(spec, names)


def _close(book: xlsxwriter.Workbook) -> None:
    """Zip the workbook; a failed write (a full disk) is an OSError, as atomic_path reports it."""
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # XlsxWriter wraps the OSError in this
        cause = exc.args[0] if exc.args else exc
        raise cause if isinstance(cause, OSError) else OSError(str(cause)) from None


SheetWriter = Callable[[Context, Worksheet], None]


def _sheet_writers(ctx: Context) -> list[tuple[str, SheetWriter]]:
    """(sheet name key in i18n, writer) in tab order; extra sheet modules are listed here."""
    if is_layered(ctx.spec):  # the sheets proven for layered networks so far
        layered = [("sheet.guide", layered_guide.write_layered_guide_sheet),
                   ("sheet.network", layered_network.write_layered_network_sheet),
                   ("sheet.training", training.write_training_sheet),
                   ("sheet.working", working.write_working_sheet),
                   ("sheet.charts", charts.write_charts_sheet),
                   ("sheet.summary", summary.write_summary_sheet)]
        if ctx.options.compare_lr:
            layered.append(("sheet.compare", rates.write_compare_sheet))
        if layer_maps.has_maps(ctx.spec):  # attention weights and conv feature maps at t
            layered.append(("sheet.layer_maps", layer_maps.write_maps_sheet))
        if ctx.options.compare_optim:
            layered.append(("sheet.compare_optim", optimizers_sheet.write_compare_optim_sheet))
        layered[2:2] = [(e.key, e.writer) for e in ctx.options.extra_sheets]  # after the Network sheet
        return [w for w in layered if not ctx.options.only_sheets or w[0] in ctx.options.only_sheets]
    writers: list[tuple[str, SheetWriter]] = [
        ("sheet.guide", guide.write_guide_sheet),  # first tab, and the one shown on opening
        ("sheet.network", network.write_network_sheet),
        ("sheet.training", training.write_training_sheet),
        ("sheet.working", working.write_working_sheet),
        ("sheet.charts", charts.write_charts_sheet),
        ("sheet.summary", summary.write_summary_sheet),
    ]
    if ctx.options.compare_lr:
        writers.append(("sheet.compare", rates.write_compare_sheet))
    if ctx.options.decision_map:  # two inputs: the decision map; one input: the fitted curve
        writers.append((f"sheet.{decision_map.kind(ctx.spec)}", decision_map.write_map_sheet))
    if ctx.options.compare_optim:
        writers.append(("sheet.compare_optim", optimizers_sheet.write_compare_optim_sheet))
    after_network = [w[0] for w in writers].index("sheet.network") + 1
    writers[after_network:after_network] = [(e.key, e.writer) for e in ctx.options.extra_sheets]
    if ctx.options.only_sheets:
        writers = [w for w in writers if w[0] in ctx.options.only_sheets]
    return writers


def _sheet_name(ctx: Context, key: str) -> str:
    extra = {e.key: e.name for e in ctx.options.extra_sheets}
    return extra.get(key) or ctx.words[key]


class _ChartlessWorksheet(FormulaWorksheet):
    """A sheet of a cells-only build (BuildOptions.cells_only): its charts are left out."""

    def insert_chart(self, *args: object, **kwargs: object) -> int:
        return 0


def _write(ctx: Context) -> None:
    spec = ctx.spec
    ctx.book.set_properties({"title": spec.title, "subject": "sheetnet", "comments": spec.description})
    ctx.book.set_custom_property("sheetnet", "1")
    for name, text in ctx.options.custom_properties:
        ctx.book.set_custom_property(name, text)
    # The grey settings as built: the check names one a student edited (verify/edits.py).
    for name, value in ({} if is_layered(spec) else settings.recorded(spec)).items():
        ctx.book.set_custom_property(name, value)
    writers = _sheet_writers(ctx)
    # Add every sheet first so each writer can refer to the others (charts, cross-sheet formulas).
    for key, _ in writers:
        kind = _ChartlessWorksheet if ctx.options.cells_only else FormulaWorksheet
        ctx.sheets[key] = ctx.book.add_worksheet(_sheet_name(ctx, key), worksheet_class=kind)
    for key, writer in writers:
        writer(ctx, ctx.sheets[key])
    printing.apply_page_setup(ctx)
