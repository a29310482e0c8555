"""The check of the Optimizers sheet (`--compare-optim`): each block against NumPy trained with
that block's optimizer and its hyperparameters as edited in the file, and the overview.

A block is the Training sheet's columns for the spec trained by one optimizer, printed by the
same formula printer, shifted right and reading η and the optimizer's hyperparameters from the
block's own yellow cells (1 − β a formula of the block's β). As for the Learning-rates sheet
(ratescheck.py): with the formulas engine every formula's text must be the printer's for that
block, row and column, and its typed cells NumPy's; with a whole-chain engine every cell is
checked locally on the engine's own values of the block, and its drift from NumPy is reported.
The 1 − β cells and the overview (η and the final loss of each block) are checked cell by cell.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.equations import updates
from sheetnet.errors import SheetnetError
from sheetnet.model import ids, optimizers
from sheetnet.model.reference import train_array
from sheetnet.model.spec import Spec
from sheetnet.sheets import optimizers_sheet as sheet_layout
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.verify.bound import U
from sheetnet.verify.cellformula import Lookup
from sheetnet.verify.ratescheck import block_local, block_texts
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report
from sheetnet.verify.sheetcells import Cells, Found, judge_found, value_cell

GROUP = "optim overview"




def check_optimizers(book: Workbook, sheet: str, cells: Cells, report: Report,
                     engine: Cells | None = None, leaf_rel: float = 0.0) -> None:
    """Add one report group per optimizer block, and the overview's and the 1 − β cells."""
    names = _names(cells)
    try:
        placed = sheet_layout.placements(book.spec, network_layout(book.spec), book.network_sheet, names)
    except SheetnetError:
        return
    found: list[Found] = []
    here = _lookup(cells)
    for n, (spec, _, training, hyper) in enumerate(placed):
        edited = {key: as_float(cells.get(_at(address))) for key, address in hyper.items()}
        own = _edited(spec, edited)
        values = _train(own, training)
        group = f"{spec.optimizer} block"
        if engine is None:
            block_texts(book, sheet, training, cells, values, group, report)
        else:
            network = _block_network(book, own, edited, hyper, engine)
            block_book = dataclasses.replace(book, spec=own, columns=training.columns, network=network)
            block_local(block_book, sheet, training, engine, values, group, report, leaf_rel)
        found += _complements(spec, hyper, edited, cells, engine, here, leaf_rel)
        row, last = sheet_layout.OVERVIEW_ROW + 1 + n, book.spec.iterations
        loss_at = (training.row_of(last), training.col_of["loss"])
        final = float(values[last, [c.qid for c in training.columns].index("loss")])
        if engine is not None:
            final = as_float(engine.get(loss_at))  # the block's own cells are checked locally
        here = _with(here, loss_at, final)
        found += [value_cell((row, 2), edited["lr"], cells, engine, here),
                  value_cell((row, 3), final, cells, engine, here)]
    judge_found(sheet, GROUP, found, report)


def _names(cells: Cells) -> tuple[str, ...]:
    """The optimizers of the overview's first column, in order (typed text, not formulas)."""
    names, row = [], sheet_layout.OVERVIEW_ROW + 1
    while cells.get((row, 1)) in optimizers.OPTIMIZERS:
        names.append(str(cells[row, 1]))
        row += 1
    return tuple(names)


def _at(address: str) -> tuple[int, int]:
    """$C$24 → (24, 3)."""
    _, letters, row = address.split("$")
    return int(row), column_index_from_string(letters)


def _edited(spec: Spec, edited: dict[str, float]) -> Spec | None:
    """The block's spec with η and the hyperparameters as typed in its cells (None: not a spec)."""
    changes = {("learning_rate" if key == "lr" else key): value for key, value in edited.items()
               if key not in updates.COMPLEMENTS.values()}
    try:
        return spec.replace(**changes)
    except (SheetnetError, ValueError, TypeError):
        return None


def _train(spec: Spec | None, training: TrainingLayout) -> np.ndarray:
    """NumPy's run of the block (NaN throughout when its cells hold no valid hyperparameters)."""
    shape = (training.spec.iterations + 1, len(training.columns))
    if spec is None:
        return np.full(shape, np.nan)
    try:
        with np.errstate(all="ignore"):  # a large rate may diverge: inf and NaN are expected
            column_of = {qid: c for c, qid in enumerate(ids.all_ids(spec))}
            return train_array(spec)[:, [column_of[c.qid] for c in training.columns]]
    except (SheetnetError, ValueError):
        return np.full(shape, np.nan)


def _block_network(book: Workbook, spec: Spec | None, edited: dict[str, float], hyper: dict[str, str],
                   engine: Cells) -> dict[tuple[int, int], Any]:
    """The Network values a block's formulas read, at the cells NetworkLayout gives its spec:
    its hyperparameters from its own cells (1 − β as the engine computed it), the rest from the
    Network sheet."""
    own = network_layout(spec if spec is not None else book.spec)
    main = network_layout(book.spec).input_cells
    network = dict(book.network)
    for key, cell in own.input_cells.items():
        if key in hyper:
            computed = key in updates.COMPLEMENTS.values()
            network[cell] = engine.get(_at(hyper[key])) if computed else edited[key]
        elif key in main:
            network[cell] = book.network.get(main[key])
    return network


def _complements(spec: Spec, hyper: dict[str, str], edited: dict[str, float], cells: Cells,
                 engine: Cells | None, here: Lookup, leaf_rel: float) -> list[Found]:
    """Each 1 − β cell of the block: one minus the block's β as typed."""
    found = []
    for field, key in updates.COMPLEMENTS.items():
        if key in hyper:
            want = 1 - edited[field]
            bound = U * (1 + abs(edited[field])) + leaf_rel * abs(want)
            found.append(value_cell(_at(hyper[key]), want, cells, engine, here, bound))
    return found


def _lookup(cells: Cells) -> Lookup:
    """A reference on this sheet reads its content (a typed hyperparameter)."""
    def lookup(sheet: str, letters: str, row: int) -> Any:
        return cells.get((row, column_index_from_string(letters))) if sheet == "" else None

    return lookup


def _with(lookup: Lookup, at: tuple[int, int], value: float) -> Lookup:
    """The lookup with one cell of this sheet reading value (a block's final loss)."""
    def inner(sheet: str, letters: str, row: int) -> Any:
        if sheet == "" and (row, column_index_from_string(letters)) == at:
            return value
        return lookup(sheet, letters, row)

    return inner
