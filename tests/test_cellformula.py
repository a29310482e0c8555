"""One formula cell evaluated from its text (verify/cellformula.py): formulas that differ only in
the cells they read, a range or a number share one compiled function, and give what the
formulas package gives for the text as written."""

from __future__ import annotations

import math

import numpy as np
import pytest

formulas = pytest.importorskip("formulas")
from sheetnet.verify import cellformula  # noqa: E402

CELLS = {("", "A", 1): 0.25, ("", "B", 1): 1.5, ("NETWORK", "B", 30): 2.0, ("NETWORK", "B", 31): -1.0,
         ("NETWORK", "B", 32): 0.5, ("NETWORK", "C", 30): 7.0, ("NETWORK", "C", 31): 3.0,
         ("NETWORK", "C", 32): 4.0, ("TRAINING", "D", 4): 10.0, ("TRAINING", "D", 5): 11.0}


def lookup(sheet: str, column: str, row: int) -> object:
    return CELLS.get((sheet, column, row))


def package_value(text: str) -> float:
    """The package's own value of the text, each input looked up by its name."""
    function = formulas.Parser().ast(text)[1].compile()
    args = []
    for name in function.inputs:
        if ":" in name:
            first, _, last = name.partition(":")
            sheet, col, r1 = cellformula.input_cell(first)
            _, _, r2 = cellformula.input_cell(last)
            args.append(np.array([[lookup(sheet, col, r)] for r in range(r1, r2 + 1)], dtype=object))
        else:
            args.append(lookup(*cellformula.input_cell(name)))
    return float(np.asarray(function(*args), dtype=object).ravel()[0])


def test_axis_points_share_one_compiled_function() -> None:
    texts = [f"=A1+{k}*(B1-A1)/24" for k in range(25)]
    before = cellformula._compiled.cache_info().misses
    got = [cellformula.evaluate(text, lookup) for text in texts]
    assert cellformula._compiled.cache_info().misses - before <= 1
    assert got == [package_value(text) for text in texts]
    assert got[24] == 1.5 and got[12] == pytest.approx(0.875, rel=1e-15)


@pytest.mark.parametrize("text", [
    "=MIN(Network!$B$30:$B$32)-0.1*(MAX(Network!$B$30:$B$32)-MIN(Network!$B$30:$B$32))",
    "=MAX(Network!$C$30:$C$32)+0.1*(MAX(Network!$C$30:$C$32)-MIN(Network!$C$30:$C$32))",
    "=INDEX(Training!$D$4:$D$5,A1*4+1)",
    "=ROUND(B1*1E+2,1)/4%",
    "=IF(A1>0.3,1,2.5)+LEN(\"1.5\")",
])
def test_numbers_and_ranges_as_placeholders_give_the_package_s_values(text: str) -> None:
    assert cellformula.evaluate(text, lookup) == package_value(text)


def test_the_shape_keeps_what_each_placeholder_stands_for() -> None:
    shape = cellformula._shape("=INDEX(Training!$D$5:$D$4,B1+1)*2.5+\"3\"")
    assert shape.text == '=INDEX(SHEETNETAREA0!A1:A2,SHEETNETREF0!A1+SHEETNETNUM0!A1)*SHEETNETNUM1!A1+"3"'
    assert shape.ranges == [("TRAINING", 4, 4, 4, 5)] and shape.refs == [("", "B", 1)]
    assert shape.constants == [1, 2.5] and isinstance(shape.constants[0], int)
    assert math.isnan(cellformula.evaluate("=1/0", lookup))
