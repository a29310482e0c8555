"""Every template recomputed by headless LibreOffice agrees with the NumPy core, and the
recomputation is real: a workbook whose stored values are stale gets them replaced."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sheetnet.engines.libreoffice import recalculate
from sheetnet.model.reference import train
from sheetnet.model.spec import load_template
from sheetnet.verify.run import run_check
from tests.conftest import TEMPLATES, build, needs_libreoffice

pytestmark = [pytest.mark.libreoffice, needs_libreoffice]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_recomputed_by_libreoffice_matches_numpy(tmp_path: Path, name: str) -> None:
    report = run_check(build(tmp_path, name), engine="libreoffice")
    assert report.ok, report.summary()
    assert report.cells > 0


def _set_stored_number(xlsx: Path, sheet_xml: str, cell: str, value: float, out: Path) -> None:
    """Copy xlsx to out with one cell's stored number replaced, leaving every formula's stored
    value as it was (as an edit saved by a program that does not recalculate would)."""
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == sheet_xml:
                text, n = re.subn(rf'(<c r="{cell}"[^>]*><v>)[^<]*(</v>)', rf"\g<1>{value}\g<2>",
                                  data.decode())
                assert n == 1, f"cell {cell} not found in {sheet_xml}"
                data = text.encode()
            dst.writestr(item, data)


def test_stale_stored_values_are_recomputed(tmp_path: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(iterations=20)
    original = build(tmp_path, spec)
    wb = openpyxl.load_workbook(original)
    network_index = wb.sheetnames.index("Network") + 1  # sheetN.xml follows the tab order
    stale = tmp_path / "stale.xlsx"
    # The learning rate cell B4: 0.5 → 2.0; every Training value still stores the 0.5 run.
    _set_stored_number(original, f"xl/worksheets/sheet{network_index}.xml", "B4", 2.0, stale)

    after = recalculate(stale, tmp_path / "after.xlsx")
    values = openpyxl.load_workbook(after, data_only=True)["Training"]
    expected = train(spec.replace(learning_rate=2.0))
    before = train(spec)
    col = [c.value for c in values[3]].index("loss") + 1
    got = values.cell(row=4 + 20, column=col).value
    assert got == pytest.approx(expected["loss"].iloc[-1], rel=1e-12)
    assert got != pytest.approx(before["loss"].iloc[-1], rel=1e-3)  # not the stale stored value
    assert run_check(stale, engine="libreoffice").ok
