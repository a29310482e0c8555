"""The check of the sheets beside Training: the Summary's references, the Charts sheet's epoch
means and the conditional formats that paint divergence red.

Each formula cell is judged like a Training cell: with the formulas engine it is evaluated
here on the reference values of the Training cells it reads (a Summary cell is one reference,
an epoch mean one AVERAGEIF) and compared with what it should show, NumPy's value at the right
iteration; with a whole-chain engine, the value the engine computed is compared with what the
cell should show given that engine's own Training values.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from openpyxl.utils import column_index_from_string

from sheetnet.equations import graph
from sheetnet.equations import outputs as network_outputs
from sheetnet.model import ids
from sheetnet.sheets import charts, layout, summary
from sheetnet.sheets.i18n import STRINGS, sheet_names
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, TrainingLayout
from sheetnet.verify.bound import U
from sheetnet.verify.guidecheck import check_guide
from sheetnet.verify.layermapcheck import check_maps
from sheetnet.verify.optimcheck import check_optimizers
from sheetnet.verify.ratescheck import check_rates
from sheetnet.verify.readback import Workbook
from sheetnet.verify.recompute import as_float
from sheetnet.verify.referencerun import ReferenceRun
from sheetnet.verify.report import Report, WrongCell
from sheetnet.verify.sheetcells import Cells, Found, judge_found
from sheetnet.verify.workingcheck import check_working

_REFERENCE = re.compile(
    r"=(?:'(?P<qsheet>(?:[^']|'')+)'!|(?P<sheet>[^'!=]+)!)?\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)")
_AVERAGEIF = re.compile(r"=AVERAGEIF\((?P<range>[^,()]+),(?P<criterion>[^,()]+),(?P<source>[^,()]+)\)")
_RANGE = re.compile(
    r"(?:'(?:[^']|'')+'!|[^'!,]+!)?\$?(?P<col>[A-Z]{1,3})\$?(?P<first>\d+):\$?[A-Z]{1,3}\$?(?P<last>\d+)")


def present_sheets(names: list[str]) -> dict[str, str]:
    """Of the sheets named, the Summary, Charts, Learning-rates, Optimizers, Working, Maps and Guide sheets:
    key → name."""
    keys = ("sheet.summary", "sheet.charts", "sheet.compare", "sheet.compare_optim", "sheet.working",
            "sheet.layer_maps", "sheet.guide")
    return {key: name for key in keys for name in sheet_names(key) if name in names}


def check_sheets(
    book: Workbook, training: np.ndarray, report: Report, engine_cells: dict[str, Cells] | None = None,
    leaf_rel: float = 0.0, frame: ReferenceRun | None = None,
) -> None:
    """Check the Summary and Charts formulas; training holds the Training values they read
    (NumPy's, or the engine's own), engine_cells what a whole-chain engine computed for them."""
    names = present_sheets(book.sheetnames)
    formulas = {key: book.others[name] for key, name in names.items() if name in book.others}
    if "sheet.summary" in formulas:
        _summary(book, training, names["sheet.summary"], formulas["sheet.summary"],
                 (engine_cells or {}).get("sheet.summary"), report)
    if "sheet.charts" in formulas:
        _charts(book, training, names["sheet.charts"], formulas["sheet.charts"],
                (engine_cells or {}).get("sheet.charts"), report, leaf_rel)
    if "sheet.working" in formulas and frame is not None:
        check_working(book, names["sheet.working"], formulas["sheet.working"], frame, report,
                      (engine_cells or {}).get("sheet.working"), leaf_rel)
    if "sheet.layer_maps" in formulas:  # a layered network's heat maps at iteration t
        check_maps(book, training, report, (engine_cells or {}).get("sheet.layer_maps"))
    if book.spec.layered:  # the Guide's drawings of its layers, at the Guide's own t
        check_guide(book, training, report, (engine_cells or {}).get("sheet.guide"))
    if "sheet.compare" in formulas:
        check_rates(book, names["sheet.compare"], formulas["sheet.compare"], report,
                    (engine_cells or {}).get("sheet.compare"), leaf_rel)
    if "sheet.compare_optim" in formulas:
        check_optimizers(book, names["sheet.compare_optim"], formulas["sheet.compare_optim"], report,
                         (engine_cells or {}).get("sheet.compare_optim"), leaf_rel)


# --- the Summary: each cell a reference to its Training cell at the row's iteration ---------


def every(cells: Cells) -> int | None:
    """The k of "every k-th iteration", from the note the Summary writes in any language."""
    note = cells.get((summary.NOTE_ROW, 1))
    for words in STRINGS.values():
        pattern = (re.escape(words["summary.rows"]).replace(re.escape("{kth}"), r"(\d+)(?:st|nd|rd|th)")
                   .replace(re.escape("{k}"), r"(\d+)"))  # English writes the ordinal (2nd, 21st)
        if isinstance(note, str) and (m := re.fullmatch(pattern, note)):
            return int(m[1])
    return None


def _summary(book: Workbook, training: np.ndarray, sheet: str, cells: Cells, engine: Cells | None,
             report: Report) -> None:
    col_of = {qid: c for c, qid in enumerate(ids.all_ids(book.spec))}
    qids = [cells.get((summary.ID_ROW, c)) for c in range(1, 1 + max(c for _, c in cells))]
    iterations = summary.summary_iterations(book.spec.iterations, every(cells))
    layout_ = _training_layout(book)
    prefix = layout.sheet_prefix(book.training_sheet)
    found: list[Found] = []
    built: dict[tuple[int, int], str] = {}
    for n, t in enumerate(iterations):
        for c, qid in enumerate(qids, start=1):
            if qid not in col_of:
                continue
            at = (summary.FIRST_DATA_ROW + n, c)
            built[at] = "=" + prefix + layout_.cell(qid, t)
            text = cells.get(at)
            got = as_float(engine.get(at)) if engine is not None else _resolve(book, training, text)
            found.append((at, float(training[t, col_of[qid]]), got, text if _is_text(text) else None, 0.0))
    if book.spec.mode == "batch":  # each output's target under its column
        column = {qid: c for c, qid in enumerate(qids, start=1)}
        where = [((summary.TARGET_ROW, column[_output(book, j, k)]), j, k)
                 for k in range(book.spec.n_samples) for j in range(network_outputs.count(book.spec))]
        found += _targets(book, training, cells, engine, where)
        built |= {at: _target_formula(layout_, j, k) for at, j, k in where}
    judge_found(sheet, "summary", found, report, built=built)


def _training_layout(book: Workbook) -> TrainingLayout:
    return TrainingLayout(book.spec, network_layout(book.spec), book.network_sheet)


def _target_formula(training: TrainingLayout, j: int, k: int) -> str:
    """The reference the build writes for target j of sample k (sheets/summary.py, charts.py)."""
    return "=" + training.constant_address(graph.target_key(j, k).key)


def _output(book: Workbook, j: int, k: int) -> str:
    return network_outputs.output_id(book.spec, j, k)


def _targets(book: Workbook, training: np.ndarray, cells: Cells, engine: Cells | None,
             where: list[tuple[tuple[int, int], int, int]]) -> list[Found]:
    """Cells that show target j of sample k (a reference to its Network cell): the target NumPy
    trained on, against the value of the cell's reference (or the engine's value)."""
    found: list[Found] = []
    for at, j, k in where:
        text = cells.get(at)
        got = as_float(engine.get(at)) if engine is not None else _resolve(book, training, text)
        found.append((at, float(book.spec.targets[k][j]), got, text if _is_text(text) else None, 0.0))
    return found


def _resolve(book: Workbook, training: np.ndarray, text: Any) -> float:
    """The value of a one-reference formula (=Training!K104, =Network!$B$5); NaN otherwise."""
    m = _REFERENCE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return np.nan
    sheet = (m["qsheet"] or "").replace("''", "'") or m["sheet"]
    row, col = int(m["row"]), column_index_from_string(m["col"])
    if sheet == book.training_sheet:
        t = row - FIRST_DATA_ROW
        inside = 0 <= t < training.shape[0] and 1 <= col <= training.shape[1]
        return float(training[t, col - 1]) if inside else np.nan
    if sheet == book.network_sheet:
        return as_float(book.network.get((row, col), 0.0))
    return np.nan


# --- the Charts sheet: per-epoch means, =AVERAGEIF(epoch column, e, loss column) ------------


def _chart_targets(book: Workbook, training: np.ndarray, sheet: str, cells: Cells, engine: Cells | None,
                   report: Report) -> None:
    """The target table (batch mode): t = 0 and t = N, each a reference to Training's t cell,
    and each target a reference to its Network cell."""
    spec = book.spec
    first = charts.first_table_row(spec) + 3  # 1-based row of t = 0
    keys = charts.target_keys(spec)
    if not keys:
        return
    found: list[Found] = []
    for n, t in enumerate((0, spec.iterations)):
        at = (first + n, 1)
        text = cells.get(at)
        got = as_float(engine.get(at)) if engine is not None else _resolve(book, training, text)
        found.append((at, float(t), got, text if _is_text(text) else None, 0.0))
        found += _targets(book, training, cells, engine,
                          [((first + n, 2 + c), j, k) for c, (j, k) in enumerate(keys)])
    _judge(book, sheet, "targets", found, report)


def _charts(book: Workbook, training: np.ndarray, sheet: str, cells: Cells, engine: Cells | None,
            report: Report, leaf_rel: float) -> None:
    spec = book.spec
    if spec.mode == "batch":
        _chart_targets(book, training, sheet, cells, engine, report)
        return
    col_of = {qid: c for c, qid in enumerate(ids.all_ids(spec))}
    epoch, t_col = training[:, col_of["epoch"]], training[:, col_of["iter"]]
    per_epoch = spec.n_samples // spec.slots
    epochs = [e for e in np.unique(epoch) if np.count_nonzero(epoch == e) == per_epoch]
    means = [q for q in ("loss", ids.ACCURACY) if q in col_of]
    rows = sorted({r for (r, _), v in cells.items() if isinstance(v, str) and v.startswith("=AVERAGEIF(")})
    found: list[Found] = []
    first = rows[0] if rows else None
    if first is None:
        if epochs:
            _missing(book, sheet, "epoch means", "the Charts sheet has no AVERAGEIF epoch means", report)
        return
    for n, e in enumerate(epochs):
        r = first + n
        mask = epoch == e
        found.append(((r, 1), float(e), as_float(cells.get((r, 1))), None, 0.0))  # typed: the epoch
        found.append(((r, 2), float(t_col[mask].max()), as_float(cells.get((r, 2))), None, 0.0))
        for c, qid in enumerate(means, start=3):
            text = cells.get((r, c))
            terms = training[mask, col_of[qid]]
            want = float(terms.mean())
            # A mean of n terms: up to n units of roundoff of Σ|term| / n, in any order of summing.
            bound = (len(terms) + 1) * U * float(np.abs(terms).mean()) + leaf_rel * abs(want)
            got = _averageif(book, training, cells, text) if engine is None else as_float(engine.get((r, c)))
            found.append(((r, c), want, got, text if _is_text(text) else None, bound))
    _judge(book, sheet, "epochs", found, report)


def _averageif(book: Workbook, training: np.ndarray, cells: Cells, text: Any) -> float:
    m = _AVERAGEIF.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return np.nan
    where, source = _RANGE.fullmatch(m["range"]), _RANGE.fullmatch(m["source"])
    criterion = _REFERENCE.fullmatch("=" + m["criterion"])
    if where is None or source is None or criterion is None or criterion["sheet"] or criterion["qsheet"]:
        return np.nan
    e = as_float(cells.get((int(criterion["row"]), column_index_from_string(criterion["col"]))))
    rows = slice(int(where["first"]) - FIRST_DATA_ROW, int(where["last"]) - FIRST_DATA_ROW + 1)
    if (where["first"], where["last"]) != (source["first"], source["last"]):
        return np.nan
    key = training[rows, column_index_from_string(where["col"]) - 1]
    values = training[rows, column_index_from_string(source["col"]) - 1]
    chosen = values[key == e]
    return float(chosen.mean()) if chosen.size else np.nan


# --- the conditional formats that paint divergence ------------------------------------------


def check_rules(book: Workbook, rules: list[tuple[str, list[str]]], report: Report) -> None:
    """The Training sheet's two red rules are present, over the whole data area."""
    training = TrainingLayout(book.spec, network_layout(book.spec), book.network_sheet)
    first_row, first_col, last_row, last_col = training.data_area()
    area = f"{layout.address(first_row, first_col)}:{layout.address(last_row, last_col)}"
    wanted = [training.diverged_row_rule()[1:], training.error_cell_rule()[1:]]
    present = {f for sqref, formulas in rules if sqref == area for f in formulas}
    group = report.group("red rows", book.training_sheet)
    group.cells += len(wanted)
    report.cells += len(wanted)
    missing = [w for w in wanted if w not in present]
    if missing:
        report.wrong += len(missing)
        if report.first_wrong is None:
            note = f"the conditional format ={missing[0]} that paints divergence is missing"
            report.first_wrong = WrongCell(layout.sheet_prefix(book.training_sheet) + area, "red rows", 0,
                                           None, np.nan, None, note)


# --- shared ---------------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _missing(book: Workbook, sheet: str, group: str, note: str, report: Report) -> None:
    report.group(group, sheet).cells += 1
    report.cells += 1
    report.wrong += 1
    if report.first_wrong is None:
        report.first_wrong = WrongCell(sheet, group, 0, None, np.nan, None, note)


def _judge(book: Workbook, sheet: str, group: str, found: list[Found], report: Report) -> None:
    judge_found(sheet, group, found, report)
