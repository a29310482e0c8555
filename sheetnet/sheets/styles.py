"""Cell formats: one fill colour per column group, one number format per kind of quantity."""

from __future__ import annotations

from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.format import Format

# (band fill, pale fill for the data cells) per group; used the same way on every sheet.
GROUP_COLOURS = {
    "iter": ("#D9D9D9", "#F2F2F2"),
    "param": ("#9DC3E6", "#DDEBF7"),
    "forward": ("#A9D08E", "#E2EFDA"),
    "loss": ("#F4B084", "#FCE4D6"),
    "backward": ("#B4A7D6", "#E4DFEC"),
    "gradient": ("#FFD966", "#FFF2CC"),
    "optimizer": ("#8FD3C8", "#E2F5F2"),
    "update": ("#9DC3E6", "#DDEBF7"),
}
NUMBER_FORMATS = {
    "iter": "0",
    "param": "0.0000000",
    "forward": "0.0000000",
    "loss": "0.000000E+00",
    "backward": "0.000000E+00",
    "gradient": "0.000000E+00",
    "optimizer": "0.000000E+00",
    "update": "0.0000000",
}
ACCURACY_FORMAT = "0.0%"  # the accuracy column: a share of samples, 75.0%
INPUT_FILL = "#FFFF99"
# Points one line of wrapped 11-point text takes. A line with Chinese is drawn in a CJK font
# (Noto Sans CJK, SimSun, …), some 1.3 times as tall as Calibri's.
LINE_POINTS, CJK_LINE_POINTS = 15, 20
# Conditional formats where training diverged: the first row whose loss is an error, then
# every cell that shows an error (#NUM!) after it.
DIVERGED_ROW_FILL, ERROR_CELL_FILL, ERROR_FONT = "#FF7C80", "#FFC7CE", "#9C0006"


class Formats:
    """The workbook's formats, created once (XlsxWriter formats belong to one workbook)."""

    def __init__(self, book: Workbook) -> None:
        def add(**props: Any) -> Format:
            return book.add_format({"font_name": "Calibri", "font_size": 11, **props})

        self.title = add(bold=True, font_size=16)
        self.heading = add(bold=True, font_size=12)
        self.wrap = add(text_wrap=True, valign="top")
        self.note = add(italic=True, font_color="#7F6000")
        self.label = add(bold=True)
        self.header = add(bold=True, bg_color="#D9D9D9", border=1, align="center")
        self.input = add(bg_color=INPUT_FILL, border=1, border_color="#BF9000", locked=False)
        self.fixed = add(font_color="#595959", align="left")
        self.computed = add(bg_color="#F2F2F2", num_format="0.0000000", border=1, border_color="#BFBFBF")
        self.id_cell = add(font_name="Consolas", font_size=9, font_color="#595959",
                           bottom=1, align="center")
        self.band = {
            g: add(bold=True, bg_color=band, align="center", valign="vcenter", border=1,
                   text_wrap=True)
            for g, (band, _) in GROUP_COLOURS.items()
        }
        self.label_cell = {
            g: add(bold=True, bg_color=pale, align="center", border=1)
            for g, (_, pale) in GROUP_COLOURS.items()
        }
        # Conditional formats change only colours and weight, so they carry no font name or size.
        self.diverged_row = book.add_format({"bg_color": DIVERGED_ROW_FILL, "font_color": ERROR_FONT,
                                             "bold": True})
        self.error_cell = book.add_format({"bg_color": ERROR_CELL_FILL, "font_color": ERROR_FONT})
        self.data = {
            g: add(bg_color=pale, num_format=NUMBER_FORMATS[g])
            for g, (_, pale) in GROUP_COLOURS.items()
        }
        self.accuracy = add(bg_color=GROUP_COLOURS["loss"][1], num_format=ACCURACY_FORMAT)

    def data_format(self, qid: str, group: str) -> Format:
        """The format of a Training data cell: its group's, a percentage for the accuracy."""
        return self.accuracy if qid == "accuracy" else self.data[group]


def is_wide(ch: str) -> bool:
    """A CJK character (or full-width punctuation): as wide as two Latin ones, and taller."""
    return ord(ch) >= 0x2E80


def text_width(line: str) -> int:
    """A line's width in Latin characters: CJK characters count twice."""
    return sum(2 if is_wide(ch) else 1 for ch in line)


def text_height(text: str, width: int, *, min_lines: int = 1) -> float:
    """Points that text, wrapped at about `width` Latin characters, takes in a cell."""
    lines = text.strip().splitlines() or [""]
    points = sum((1 + text_width(line) // width) * line_points(line) for line in lines)
    return max(points, min_lines * LINE_POINTS)


def line_points(line: str) -> int:
    return CJK_LINE_POINTS if any(map(is_wide, line)) else LINE_POINTS
