"""The Maps sheet of a layered network: live heat maps of iteration t (a yellow cell), each cell
an INDEX into its Training column at row t: the attention weights P of every attention layer
and the feature maps a of every conv2d layer, for the row's first sample.

Placed by map_cells (the check reads the same placement: verify/layermapcheck.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from sheetnet.equations import layer_names
from sheetnet.model.spec import Spec
from sheetnet.sheets import at_iteration, layout
from sheetnet.sheets.context import Context, stored_value
from sheetnet.sheets.layout import TrainingLayout

T_CELL = (3, 2)  # the iteration t: row 3, column B
FIRST_MAP_ROW = 5


@dataclass(frozen=True)
class MapCell:
    row: int  # from 1
    col: int
    qid: str  # the Training column it reads at row t


@dataclass(frozen=True)
class Map:
    """One heat map: its heading row, words key and numbers, and its cells."""

    title_row: int
    words: str
    layer: int
    channel: int
    cells: tuple[MapCell, ...]
    rows: int
    cols: int


def has_maps(spec: Spec) -> bool:
    return spec.layered and any(layer.kind in ("attention", "conv2d") for layer in spec.layers)


def maps(spec: Spec) -> list[Map]:
    """Every map in order down the sheet."""
    result, row = [], FIRST_MAP_ROW
    for n, layer in enumerate(spec.layers):
        grids: list[tuple[str, int, int, int, str]] = []  # (words, channel, rows, cols, id prefix)
        if layer.kind == "attention":
            steps = layer.in_shape[0]
            grids.append(("maps.attention", 0, steps, steps, "P"))
        elif layer.kind == "conv2d":
            c, h, w = layer.out_shape
            grids += [("maps.feature", ch, h, w, "a") for ch in range(c)]
        for words, channel, n_rows, n_cols, prefix in grids:
            cells = tuple(
                MapCell(row + 2 + r, 2 + s, layer_names.quantity(
                    spec, prefix, n, (r, s) if prefix == "P" else (channel, r, s), 0))
                for r in range(n_rows) for s in range(n_cols))
            result.append(Map(row, words, n, channel, cells, n_rows, n_cols))
            row += n_rows + 3
    return result


def formula(training: TrainingLayout, training_sheet: str, qid: str) -> str:
    """=INDEX(Training!$K$4:$K$104,$B$3+1): the column's value at row t."""
    t = layout.address(*T_CELL, absolute=True)
    return "=" + at_iteration.index_formula(training, training_sheet, qid, t)


def write_maps_sheet(ctx: Context, ws: Worksheet) -> None:
    spec, fmt, words = ctx.spec, ctx.fmt, ctx.words
    t = spec.iterations
    ws.set_column(0, 0, 16)
    # Wide enough for a value with seven decimals (-0.1234567), which a narrower cell shows as ###.
    ws.set_column(1, max((m.cols for m in maps(spec)), default=1), 11)
    ws.write(0, 0, words["maps.title"], fmt.title)
    ws.write(1, 0, words["maps.note"], fmt.note)
    ws.write(T_CELL[0] - 1, 0, words["maps.t"], fmt.label)
    at_iteration.write_choice(ws, T_CELL[0] - 1, T_CELL[1] - 1, t, spec.iterations, fmt.input, lowest=0)
    sheet = words["sheet.training"]
    for m in maps(spec):
        ws.write(m.title_row - 1, 0, words[m.words].format(l=m.layer + 1, c=m.channel + 1), fmt.heading)
        for s in range(m.cols):
            ws.write(m.title_row, 1 + s, s + 1, fmt.header)
        values = ctx.reference.rows([t], [c.qid for c in m.cells])[0]
        for n, (cell, value) in enumerate(zip(m.cells, values, strict=True)):
            if n % m.cols == 0:  # constant_memory writes rows in order: the row's label first
                ws.write(cell.row - 1, 0, n // m.cols + 1, fmt.header)
            ws.write_formula(cell.row - 1, cell.col - 1, formula(ctx.training, sheet, cell.qid),
                             fmt.data["forward"], stored_value(value))
        first, last = m.cells[0], m.cells[-1]
        scale = at_iteration.ATTENTION_SCALE if m.words == "maps.attention" else at_iteration.FEATURE_SCALE
        ws.conditional_format(first.row - 1, first.col - 1, last.row - 1, last.col - 1, scale)
