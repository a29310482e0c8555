"""Cells that show a Training column at an iteration t typed in a yellow cell: the INDEX formula
that reads row t, the yellow cell itself, and the colour scales of the heat maps. Shared by the
Maps sheet (layer_maps.py) and the Guide's drawings of a layered network (layer_drawings.py)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet

from sheetnet.sheets import layout
from sheetnet.sheets.layout import TrainingLayout

# An attention matrix: pale (weight 0) to dark blue (weight 1); a feature map: white to red.
# The darkest blue stays light enough for the black value printed on it (the Maps sheet's PDF).
ATTENTION_SCALE = {"type": "3_color_scale", "min_color": "#F8F8FF", "mid_color": "#9EC5E8",
                   "max_color": "#4A90D9"}
# The Guide's P, whose numbers are read on the colours: a lighter blue at weight 1.
PROBABILITY_SCALE = {"type": "3_color_scale", "min_type": "num", "min_value": 0, "mid_type": "num",
                     "mid_value": 0.5, "max_type": "num", "max_value": 1, "min_color": "#FFFFFF",
                     "mid_color": "#C6DBEF", "max_color": "#6BAED6"}
FEATURE_SCALE = {"type": "2_color_scale", "min_color": "#FFFFFF", "max_color": "#C0504D"}


def index_formula(training: TrainingLayout, training_sheet: str, qid: str, t_address: str) -> str:
    """INDEX(Training!$K$4:$K$104,$B$3+1): the column's value at the row of iteration t (no "=")."""
    return f"INDEX({layout.sheet_prefix(training_sheet)}{training.column_range(qid)},{t_address}+1)"


def choose_formula(choice: str, options: list[str]) -> str:
    """CHOOSE($D$5,a,b,…): one of several expressions by a typed number (no "=")."""
    return options[0] if len(options) == 1 else f"CHOOSE({choice},{','.join(options)})"


def write_choice(ws: Worksheet, row: int, col: int, value: int, highest: int, cell_format: Any,
                 lowest: int = 1) -> None:
    """A yellow cell (0-based row and col) that takes a whole number from lowest to highest."""
    ws.write_number(row, col, value, cell_format)
    ws.data_validation(row, col, row, col, {"validate": "integer", "criteria": "between",
                                            "minimum": lowest, "maximum": highest})
