"""What every sheet writer shares: the build options, the Context it is handed, and the helpers
for writing formula cells and their stored values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import labels
from sheetnet.model import ids
from sheetnet.model.spec import Spec
from sheetnet.progress import Progress
from sheetnet.sheets import limits, styles
from sheetnet.sheets.layout import NetworkLayout, TrainingLayout

if TYPE_CHECKING:
    from sheetnet.sheets.trajectory import Trajectory  # the build's run: the check has no pandas


@dataclass(frozen=True)
class BuildOptions:
    """What to put in the workbook beyond the Network and Training sheets."""

    lang: str = "en"
    paper: str = "a4"  # a4 | letter
    compare_lr: tuple[float, ...] = ()  # learning rates for the side-by-side sheet
    compare_optim: tuple[str, ...] = ()  # optimizers for the side-by-side sheet
    decision_map: int = 0  # points per side of the decision map (or fitted curve); 0: none
    summary_every: int | None = None  # every k-th iteration on a summary sheet
    # Sheets of higher layers (the classroom's Exercise sheet), placed after the Network sheet.
    extra_sheets: tuple[ExtraSheet, ...] = ()
    only_sheets: tuple[str, ...] = ()  # sheet keys to write, in tab order; empty: every sheet
    # A graded exercise: no text that gives an answer away (the Guide's worked numbers).
    hide_answers: bool = False
    custom_properties: tuple[tuple[str, str], ...] = ()  # (name, text) document properties
    # Build in memory rather than through XlsxWriter's temporary files: for many small workbooks
    # at once (a class), where creating and deleting those files costs more than the writing.
    in_memory: bool = False
    # Cells only: the Training sheet's head (bands, labels, ids) without its rows, and no charts.
    # What the check's rebuild of the text around the formulas compares (verify/constants.py),
    # without the cost per iteration or the charts' cached series.
    cells_only: bool = False


@dataclass(frozen=True)
class ExtraSheet:
    """A sheet written by a module above the sheets layer: its key, its name and its writer."""

    key: str
    name: str
    writer: Callable[[Context, Worksheet], None]


@dataclass
class Context:
    """Everything a sheet writer needs; each extra sheet module takes one of these."""

    spec: Spec
    options: BuildOptions
    words: dict[str, str]
    network: NetworkLayout
    training: TrainingLayout
    reference: Trajectory  # the NumPy run: the Training sheet streams it, others read kept rows
    book: xlsxwriter.Workbook
    fmt: styles.Formats
    sheets: dict[str, Worksheet] = field(default_factory=dict)
    progress: Progress | None = None  # told of long loops (sheetnet.progress)


# --- Training sheet ------------------------------------------------------------------------


class FormulaWorksheet(Worksheet):
    """A worksheet that can skip XlsxWriter's rewriting of formulas that need none.

    write_formula runs some 30 regular expressions over every formula to give newer Excel
    functions their `_xlfn.` prefix: three quarters of the build time for the Training sheet's
    hundreds of thousands of cells. write_plain_formula is write_formula without that step, for
    text that plain_formula vetted. It overrides XlsxWriter's private _prepare_formula (sheets
    are added with add_worksheet(name, FormulaWorksheet), as in XlsxWriter's inheritance
    example): if a later version stops calling that method, formulas stay right, only slower.
    """

    _skip_prepare = False

    def plain_formula(self, formula: str) -> str:
        """The formula without its "=", checked to need no rewriting by XlsxWriter."""
        prepared = self._rewritten(formula, False)
        if prepared != formula.removeprefix("="):
            raise ValueError(f"{formula} needs XlsxWriter's rewriting; write it with write_formula")
        return prepared

    def write_plain_formula(
        self, row: int, col: int, formula: str, cell_format: Format | None, value: float | str
    ) -> int:
        """write_formula (row and col from 0) for text that plain_formula returned."""
        self._skip_prepare = True
        try:
            return self.write_formula(row, col, formula, cell_format, value)
        finally:
            self._skip_prepare = False

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # Every formula passes here: a last guard for sheets whose formulas the layout's check
        # before writing does not print (Working, Summary, Charts).
        limits.check_formula_length(len(formula) + (not formula.startswith("=")),
                                    f"a formula on the {self.name} sheet")
        if self._skip_prepare:
            return formula
        return self._rewritten(formula, expand_future_functions)

    def _rewritten(self, formula: str, expand_future_functions: bool) -> str:
        """XlsxWriter's rewriting of formula, remembered: it depends on the text and the future
        functions flag alone, and a class writes the same Working, Summary and Exercise formulas
        for every student (their numbers live on the Network sheet), so most calls are repeats."""
        key = (formula, expand_future_functions or self.use_future_functions)
        prepared = _REWRITTEN.get(key)
        if prepared is None:
            prepared = super()._prepare_formula(formula, expand_future_functions)
            if len(_REWRITTEN) >= _REWRITTEN_MAX:  # a long-lived process building many shapes
                _REWRITTEN.clear()
            _REWRITTEN[key] = prepared
        return prepared


# (formula text, future functions expanded) → XlsxWriter's rewriting of it; see _rewritten.
_REWRITTEN: dict[tuple[str, bool], str] = {}
_REWRITTEN_MAX = 100_000


def mark_divergence(ws: Worksheet, training: TrainingLayout, fmt: styles.Formats) -> None:
    """Red where training diverged: the first row whose loss is an error, and every error cell.

    Conditional formats, so the colours follow the live values when a student edits η.
    """
    first_row, first_col, last_row, last_col = training.data_area()
    area = (first_row - 1, first_col - 1, last_row - 1, last_col - 1)  # XlsxWriter counts from 0
    # Added first, so it takes priority over the lighter fill of single error cells.
    ws.conditional_format(*area, {"type": "formula", "criteria": training.diverged_row_rule(),
                                  "format": fmt.diverged_row})
    ws.conditional_format(*area, {"type": "formula", "criteria": training.error_cell_rule(),
                                  "format": fmt.error_cell})


def stored_value(value: float) -> float | str:
    # A diverging run overflows in the spreadsheet too; store the error it will show.
    return float(value) if math.isfinite(value) else "#NUM!"


def column_label(spec: Spec, qid: str, words: dict[str, str]) -> str:
    if qid == "iter":
        return words["label.iter"]
    if qid == "loss":
        return words["label.loss"]
    if qid == "accuracy":
        return words["label.accuracy"]
    if qid in ("bc1", "bc2"):  # Adam's bias corrections
        return words[f"label.{qid}"]
    if ":" in qid:  # an optimizer column: m₃₁, Δw₃₁
        return labels.label(spec, qid)
    if qid == "epoch":
        return words["label.epoch"]
    try:
        parts = ids.parse(qid)
    except ValueError:  # a layered network's id with three or four indices: K1[1,1,2,2]
        return labels.label(spec, qid, labels.sample_word(spec, words), words["label.part"])
    slot = None if parts.sample is None else parts.sample + 1
    if parts.kind in ("loss", "correct"):  # a sample's loss, and whether it is right (classification)
        word = words["label.loss" if parts.kind == "loss" else "label.correct"]
        return word + " (" + labels.sample_word(spec, words).format(k=slot) + ")"
    if parts.kind == "sample":
        if slot is None:
            return words["label.sample_no"]
        return words["label.sample_no_slot"].format(k=labels.sup(f"({slot})"))
    return labels.label(spec, qid, labels.sample_word(spec, words), words["label.part"])
