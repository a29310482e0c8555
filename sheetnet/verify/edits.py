"""Grey settings a student edited: say which, instead of a wrong cell far away.

The build records each grey (not editable) setting of the Network sheet in a custom document
property. A student who types 500 over the iterations, or tanh over an activation, changes no
formula: the Training sheet still has its rows and formulas, and the check would only report a
distant wrong cell. Comparing the cells with the recorded settings names the edit instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sheetnet.errors import SheetnetError
from sheetnet.sheets import layout
from sheetnet.sheets.settings import PROPERTY_PREFIX, as_text


def explain_edits(where: str, sheet: str, properties: Mapping[str, str],
                  cells: Mapping[tuple[int, int], Any], positions: Mapping[str, tuple[int, int]]) -> None:
    """Raise a one-line error naming the first grey setting whose cell differs from the build."""
    for prop, built in properties.items():
        name = prop.removeprefix(PROPERTY_PREFIX)
        if not prop.startswith(PROPERTY_PREFIX) or name not in positions:
            continue
        at = positions[name]
        shown = as_text(cells.get(at))
        if shown == built:
            continue
        cell = f"{sheet}!{layout.address(*at)}"
        if name == "iterations":
            what = f"says {shown or 'nothing'} iterations but the Training sheet has {built} rows of them"
        else:
            what = f"({name}) says {shown!r} but the workbook was built with {built!r}"
        raise SheetnetError(f"{where}: {cell} {what}; settings in grey describe the workbook and "
                            "cannot be edited: build a new one with `sheetnet build`")
