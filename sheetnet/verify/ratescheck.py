"""The check of the Learning-rates sheet: each block against NumPy trained with that block's rate.

Every block is the Training sheet's columns printed again by the same formula printer, shifted
right and reading the block's own (editable) rate cell. The rate is read as edited in the file.
With the formulas engine each cell's formula text must be the text the printer makes for that
block, row and column (the Training sheet's check proves that printer's formulas right, cell by
cell), and the block's typed cells must equal NumPy's; with a whole-chain engine every cell
the engine computed is checked locally (local.py) on that engine's own values of the block,
with that block's rate, and its drift from NumPy trained with the rate is reported.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.model.reference import train_array
from sheetnet.sheets import layout, rates
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import TrainingLayout
from sheetnet.verify.cellformula import Lookup
from sheetnet.verify.local import intended_training
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.report import Report, WrongCell, drift, judge
from sheetnet.verify.sheetcells import Found, judge_found, label_cell, value_cell, words_of

Cells = dict[tuple[int, int], Any]


def check_rates(book: Workbook, sheet: str, cells: Cells, report: Report,
                engine: Cells | None = None, leaf_rel: float = 0.0) -> None:
    """Add one report group per block of the Learning-rates sheet."""
    spec, qids = book.spec, ids.all_ids(book.spec)
    width = len(qids) + 1
    starts = [c for (r, c), v in cells.items() if r == rates.ID_ROW and v == "iter" and (c - 1) % width == 0]
    n_blocks = len(starts)
    net = network_layout(spec)
    finals: list[tuple[float, np.ndarray, TrainingLayout]] = []
    for n in range(n_blocks):
        offset = n * width
        rate_at = (rates.RATE_ROW, offset + 2)
        rate = as_float(cells.get(rate_at))
        try:
            with np.errstate(all="ignore"):
                values = train_array(spec.replace(learning_rate=rate))  # columns: qids, in order
        except (SheetnetError, ValueError):
            values = np.full((spec.iterations + 1, len(qids)), np.nan)  # a rate that is no rate
        placed = TrainingLayout(spec, net, book.network_sheet, col_offset=offset,
                                first_data_row=rates.FIRST_DATA_ROW,
                                overrides={"lr": layout.address(*rate_at, absolute=True)})
        group = f"block {n + 1} (η={rate:g})"
        if engine is None:
            block_texts(book, sheet, placed, cells, values, group, report)
        else:
            lr_cell = network_layout(book.spec).input_cells["lr"]
            block_book = dataclasses.replace(book, network={**book.network, lr_cell: rate})
            block_local(block_book, sheet, placed, engine, values, group, report, leaf_rel)
        finals.append((rate, values, placed))
    _overview(book, sheet, cells, engine, finals, report)


def block_texts(book: Workbook, sheet: str, placed: TrainingLayout, cells: Cells, values: np.ndarray,
           group: str, report: Report) -> None:
    want, got, where, texts = [], [], [], []
    for c, column in enumerate(placed.columns):
        n = values.shape[0] if column.in_final_row else values.shape[0] - 1
        printed: dict[int, str] = {}  # a column's formula printed once (a layered block's are long)
        for t in range(n):
            at = (placed.row_of(t), placed.col_of[column.qid])
            held = cells.get(at)
            expr = column.formula_for(t)
            if expr is None:
                ok = as_float(held) == values[t, c]
            else:
                if id(expr) not in printed:
                    printed[id(expr)] = placed.template(expr)
                ok = held == printed[id(expr)].format(r=at[0], p=at[0] - 1)
            want.append(values[t, c])
            got.append(values[t, c] if ok else np.nan)
            where.append(at)
            texts.append(held if isinstance(held, str) else None)
    verdict = judge(np.array(want), np.array(got), 0.0, report.rtol)
    _add(book, sheet, group, verdict, where, texts, np.array(want), cells, report,
         "its formula is not the one this block's row and rate call for", placed.first_data_row)


def block_local(block_book: Workbook, sheet: str, placed: TrainingLayout, engine: Cells, values: np.ndarray,
                group: str, report: Report, leaf_rel: float) -> None:
    """Every cell of a block as the engine computed it, against the intended expression on the
    engine's own values of the block (block_book: the block's spec, columns and Network values,
    its own hyperparameters included), and the block's drift from NumPy (values)."""
    rows, cols = values.shape
    got = np.array([[as_float(engine.get((placed.row_of(t), placed.col_of[q.qid]))) for q in placed.columns]
                    for t in range(rows)])
    intended, bound = intended_training(block_book, got, block_book.network, leaf_rel)
    assert intended is not None
    fixed = [c for c, column in enumerate(placed.columns) if column.formula is None]
    intended[:, fixed] = values[:, fixed]
    keep = np.ones_like(got, dtype=bool)
    for c, column in enumerate(placed.columns):
        if not column.in_final_row:
            keep[-1, c] = False
    with np.errstate(all="ignore"):
        verdict = judge(intended[keep], got[keep], (bound + leaf_rel * np.abs(got))[keep], report.rtol)
    where = [(placed.row_of(t), placed.col_of[q.qid]) for t in range(rows)
             for c, q in enumerate(placed.columns) if keep[t, c]]
    _add(block_book, sheet, group, verdict, where, [None] * len(where), intended[keep], engine, report, "",
         placed.first_data_row)
    report.groups[group].drift = max(drift(values[:, c], got[:, c]) for c in range(cols))


def _add(book: Workbook, sheet: str, group: str, verdict: Any, where: list[tuple[int, int]],
         texts: list[str | None], want: np.ndarray, cells: Cells, report: Report, note: str,
         first_row: int) -> None:
    report.group(group, sheet).add(verdict)
    report.count(verdict)
    report.covered.add(sheet, where)
    if verdict.bad.any() and report.first_wrong is None:
        i = int(np.argmax(verdict.bad))
        t = where[i][0] - first_row  # the block's row t is iteration t
        report.first_wrong = WrongCell(layout.sheet_prefix(sheet) + layout.address(*where[i]), group, t,
                                       texts[i], float(want[i]), cells.get(where[i]), note)


# --- the overview: per rate its legend text, its rate and its final loss --------------------


def _overview(book: Workbook, sheet: str, cells: Cells, engine: Cells | None,
              finals: list[tuple[float, np.ndarray, TrainingLayout]], report: Report) -> None:
    """Each overview row against its block: the legend names the rate, the rate cell shows it,
    the final-loss cell shows the block's last loss (NumPy's; a whole-chain engine's own)."""
    series = words_of(sheet, "sheet.compare")["compare.series"]
    last = book.spec.iterations
    found: list[Found] = []
    here = _here(finals, cells)
    for n, (rate, values, placed) in enumerate(finals):
        row = rates.OVERVIEW_ROW + 1 + n
        loss_at = (placed.row_of(last), placed.col_of["loss"])
        final = float(values[last, [c.qid for c in placed.columns].index("loss")])
        if engine is not None:
            final = as_float(engine.get(loss_at))  # the block's own cells are checked locally
        found += [label_cell((row, 1), series, rate, cells, engine, here),
                  value_cell((row, 2), rate, cells, engine, here),
                  value_cell((row, 3), final, cells, engine, here)]
    judge_found(sheet, "rate overview", found, report)


def _here(finals: list[tuple[float, np.ndarray, TrainingLayout]], cells: Cells) -> Lookup:
    """A reference on this sheet: a block's cell reads NumPy's value, any other cell its content."""
    columns = [{placed.col_of[c.qid]: k for k, c in enumerate(placed.columns)} for _, _, placed in finals]

    def lookup(sheet: str, letters: str, row: int) -> Any:
        if sheet != "":
            return None
        col = column_index_from_string(letters)
        for (_, values, placed), of_block in zip(finals, columns, strict=True):
            t = row - placed.first_data_row
            if col in of_block and 0 <= t < values.shape[0]:
                return float(values[t, of_block[col]])
        return cells.get((row, col))

    return lookup
