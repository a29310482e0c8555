"""HyperFormula (npm), a fifth independent engine, tried on our workbooks: every sheet's formulas
recalculated in HyperFormula and its Training sheet compared with the NumPy core on every row.

HyperFormula does not read .xlsx, so the cells are read with openpyxl and handed over as text.
Node and npm are optional: the test skips with the reason where either is missing or the package
cannot be installed. docs/check.md says what was found.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

import sheetnet
from sheetnet.model import ids
from sheetnet.model.spec import load_template
from sheetnet.sheets.layout import FIRST_DATA_ROW
from tests.conftest import build

SCRIPT = Path(__file__).parent / "js" / "hyperformula_recalc.js"
VERSION = "hyperformula@3"


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed (HyperFormula is tried only where they are)")
    folder = tmp_path_factory.mktemp("hyperformula")
    try:
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", VERSION], cwd=folder,
                       check=True, capture_output=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"npm could not install {VERSION}: {exc}")
    return folder / "node_modules"


def recalculate(path: Path, node_modules: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values as HyperFormula computes them from the file's formulas and inputs."""
    book = openpyxl.load_workbook(path)
    sheets = {ws.title: [[_as_typed(cell) for cell in row] for row in ws.iter_rows()]
              for ws in book.worksheets}
    result = subprocess.run(["node", str(SCRIPT)], input=json.dumps({"sheets": sheets}, default=str),
                            capture_output=True, text=True, check=True, timeout=600,
                            env={"NODE_PATH": str(node_modules), "PATH": shutil.os.environ["PATH"]})
    return json.loads(result.stdout)


def _as_typed(cell: Any) -> Any:
    """A cell as HyperFormula takes it: text behind an apostrophe, so that "2-2-2" or "=" stays
    text rather than becoming a date or a formula."""
    if cell.data_type == "s" and isinstance(cell.value, str):
        return "'" + cell.value
    return cell.value


@pytest.mark.parametrize("template", ["seed-004-2-2-2", "xor", "iris"])
def test_hyperformula_computes_the_training_sheet_as_numpy_does(
    tmp_path: Path, node_modules: Path, template: str
) -> None:
    spec = load_template(template).replace(iterations=30)
    path = build(tmp_path, spec)
    values = recalculate(path, node_modules)["Training"]
    frame = sheetnet.train(spec)
    qids = ids.all_ids(spec)
    rows = values[FIRST_DATA_ROW - 1:FIRST_DATA_ROW + spec.iterations]
    padded = [(row + [None] * len(qids))[:len(qids)] for row in rows]  # HyperFormula trims empty ends
    got = np.array([[float(v) if isinstance(v, int | float) else np.nan for v in row] for row in padded])
    want = frame[qids].to_numpy(dtype=float)
    # The final row holds the parameters only; compare where NumPy has a value.
    mask = np.isfinite(want)
    assert np.isfinite(got[mask]).all()
    np.testing.assert_allclose(got[mask], want[mask], rtol=1e-9, atol=1e-12)


def _same(stored: Any, computed: Any) -> bool:
    if isinstance(stored, int | float) and isinstance(computed, int | float):
        return bool(np.isclose(computed, stored, rtol=1e-9, atol=1e-12))
    return stored == computed


def test_hyperformula_computes_every_other_sheet_but_the_working_text(
    tmp_path: Path, node_modules: Path
) -> None:
    """Guide, Network, Charts, Summary, Decision map and Optimizers equal the values the build
    stored (NumPy's). The Working sheet's number-to-text formulas are the exception: HyperFormula
    3.5 cannot parse a number literal with an exponent (3E-8, 1E-300), which Excel, LibreOffice,
    Gnumeric and IronCalc read (docs/check.md)."""
    spec = load_template("xor").replace(iterations=20)
    path = build(tmp_path, spec, compare_optim=("sgd", "adam"), decision_map=6)
    computed = recalculate(path, node_modules)
    stored = openpyxl.load_workbook(path, data_only=True)
    for ws in stored.worksheets:
        rows = computed[ws.title]
        wrong = [cell.coordinate for row in ws.iter_rows() for cell in row if cell.value is not None
                 and not _same(cell.value, _at(rows, cell.row - 1, cell.column - 1))]
        if ws.title == "Working":
            assert wrong and all(c.startswith("E") for c in wrong)  # the text column, nothing else
            error = _at(rows, int(wrong[0][1:]) - 1, 4)
            assert error["error"] == "ERROR" and "Parsing error" in error["message"]
            assert "found --> 'E' <--" in error["message"]  # the exponent of 3E-8
        else:
            assert wrong == [], ws.title


def _at(rows: list[list[Any]], r: int, c: int) -> Any:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None
