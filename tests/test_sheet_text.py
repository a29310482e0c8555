"""How text and numbers fit their cells: the Network sheet's description row is tall enough for
its lines (Chinese lines are taller), and the Working sheet's value column shows the 7 significant
digits that the text beside it shows."""

from __future__ import annotations

import math
import random
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheetnet.engines.gnumeric import find_ssconvert
from sheetnet.equations.numbertext import number_text
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import layout, styles, working
from sheetnet.sheets.working import value_format
from tests.conftest import build, needs_gnumeric


def _short(template: str) -> Spec:
    return load_template(template).replace(iterations=2)


SEED_004_ZH_LINES = 7  # the Chinese description of seed 004: seven lines, none wider than a row


def test_text_height_counts_chinese_lines_taller_and_twice_as_wide() -> None:
    assert styles.text_width("ab中文") == 6
    assert styles.text_height("one\ntwo", 110) == 30
    assert styles.text_height("one\n中文", 110) == 15 + 20
    assert styles.text_height("中" * 60, 110) == 2 * 20  # 120 wide: wraps once
    assert styles.text_height("x" * 60, 110, min_lines=2) == 30


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_description_row_holds_every_line(tmp_path: Path, lang: str) -> None:
    ws = openpyxl.load_workbook(build(tmp_path, _short("seed-004-2-2-2"), lang=lang)).worksheets[1]
    text = ws.cell(layout.DESCRIPTION_ROW, 1).value
    lines = text.splitlines()
    assert len(lines) == SEED_004_ZH_LINES
    assert max(styles.text_width(line) for line in lines) < 110  # no line wraps
    chinese = [line for line in lines if any(map(styles.is_wide, line))]
    # Every Chinese line needs 20 points (drawn in a CJK font), a Latin line 15: the old 15 a line
    # (105 points for seven lines) let the Chinese text run over the note row below.
    expected = 20 * len(chinese) + 15 * (len(lines) - len(chinese))
    # XlsxWriter stores heights in whole pixels: 140 points is 140.25.
    assert ws.row_dimensions[layout.DESCRIPTION_ROW].height == pytest.approx(expected, abs=0.5)
    assert expected == (140 if lang == "zh" else 110)  # the English text quotes one Chinese title


def _shown(x: float, code: str) -> str:
    """What a spreadsheet shows for x in one of value_format's codes (fixed or scientific)."""
    if code.endswith("E+00"):
        return f"{x:.{len(code) - len('0.E+00')}E}"
    decimals = len(code.split(".")[1]) if "." in code else 0
    return f"{x:.{decimals}f}"


def _significant(shown: str) -> int:
    digits = re.sub(r"E.*", "", shown).lstrip("-").replace(".", "").lstrip("0")
    return len(digits)


@pytest.mark.parametrize(("x", "code", "shown"), [
    (0.6236336, "0.0000000", "0.6236336"),  # seed 004's a₃
    (-0.01063285, "0.00000000", "-0.01063285"),  # was -0.0106329 with seven decimals
    (12.345678, "0.00000", "12.34568"),
    (9.9999996, "0.00000", "10.00000"),  # rounds up a decade: still seven digits
    (0.00012345, "0.0000000000", "0.0001234500"),
    (9.99999996e-5, "0.000000E+00", "1.000000E-04"),  # as numbertext: scientific below 10⁻⁴
    (1.5e-9, "0.000000E+00", "1.500000E-09"),
    (123456.7, "0.0", "123456.7"),
    (2.5e7, "0.000000E+00", "2.500000E+07"),
])
def test_value_format_of_hand_picked_values(x: float, code: str, shown: str) -> None:
    assert value_format(x) == code
    assert _shown(x, code) == shown


def test_value_format_shows_what_the_text_shows() -> None:
    rng = random.Random(4)
    for _ in range(2000):
        x = rng.choice((-1, 1)) * 10 ** rng.uniform(-12, 12)
        shown = _shown(x, value_format(x))
        assert _significant(shown) == 7, (x, shown)
        assert float(shown) == pytest.approx(float(number_text(x)), rel=1e-12), (x, shown)


def test_working_value_cells_show_seven_significant_digits(tmp_path: Path) -> None:
    path = build(tmp_path, _short("xor"))
    formats = openpyxl.load_workbook(path)["Working"]
    values = openpyxl.load_workbook(path, data_only=True)["Working"]
    checked = set()
    for row in range(working.FIRST_ROW, formats.max_row + 1):
        value = values.cell(row, working.VALUE).value
        if not isinstance(value, float) or not math.isfinite(value):
            continue
        code = formats.cell(row, working.VALUE).number_format
        assert code == value_format(value)
        if value == 0:  # a zero bias: nothing to size the format by, seven decimals
            assert code == "0.0000000"
            continue
        assert _significant(_shown(value, code)) == 7
        checked.add(code)
    # xor's first iteration spans several decades: the formats differ, all of seven digits.
    assert {"0.0000000", "0.00000000", "0.000000000"} <= checked


@needs_gnumeric
def test_gnumeric_shows_the_value_as_the_text_beside_it(tmp_path: Path) -> None:
    """Recomputed and printed as shown by Gnumeric: each value cell, 7 significant digits, the
    same number as numbertext prints (the text column's digits)."""
    path = build(tmp_path, _short("xor"))
    csv_path = tmp_path / "working.csv"
    subprocess.run([find_ssconvert() or "ssconvert", "--recalc", "--export-type=Gnumeric_stf:stf_assistant",
                    "-O", "sheet=Working format=preserve separator=;", str(path), str(csv_path)],
                   check=True, capture_output=True, timeout=300)
    values = openpyxl.load_workbook(path, data_only=True)["Working"]
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    compared = 0
    for row in range(working.FIRST_ROW, values.max_row + 1):
        value = values.cell(row, working.VALUE).value
        if not isinstance(value, float) or value == 0:
            continue
        shown = rows[row - 1].split(";")[working.VALUE - 1].replace("\u2212", "-")
        assert _significant(shown) == 7, (row, shown)
        assert float(shown) == float(number_text(value)), (row, shown)
        compared += 1
    assert compared > 40
