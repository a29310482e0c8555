"""What a check loads: SciPy never (the `formulas` package's statistics module imports it, about
a second of a small check; verify/statfunctions.py holds the few statistical functions sheetnet
writes), pandas not without an Exercise sheet, and each workbook is opened by openpyxl at most
once per mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sheetnet.api import exercise
from sheetnet.model.spec import load_template
from tests.conftest import build
from tests.test_decision_map import regression

# Every kind of sheet the check reads: a decision map with the Optimizers, Learning-rates and
# Summary sheets, CSV data (AVERAGE, STDEVP, INDEX), a softmax map, a fitted curve of standardised
# data, an Exercise.
SHEETS = {
    "xor.xlsx": (load_template("xor"), {"decision_map": 5, "compare_lr": (0.1, 0.5),
                                        "compare_optim": ("sgd", "adam"), "summary_every": 5}),
    "iris.xlsx": (load_template("iris"), {}),
    "softmax.xlsx": (load_template("seed-000-classification"), {"decision_map": 4}),
    "curve.xlsx": (regression(standardize=True), {"decision_map": 5}),
    "map.xlsx": (load_template("xor"), {"decision_map": 5, "summary_every": 5}),
}
WITHOUT_PANDAS = ("xor.xlsx", "iris.xlsx", "softmax.xlsx", "curve.xlsx", "map.xlsx")

CHECK_ALL = """
import json, sys
from sheetnet.api import check
reports = {name: check(name) for name in sys.argv[1:]}
print(json.dumps({"ok": {n: r.ok for n, r in reports.items()},
                  "cells": {n: r.cells for n, r in reports.items()},
                  "scipy": sorted(m for m in sys.modules if m == "scipy" or m.startswith("scipy.")),
                  "pandas": "pandas" in sys.modules}))
"""


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("kinds")
    paths = [build(folder, spec.replace(iterations=20), name, **options)
             for name, (spec, options) in SHEETS.items()]
    paths.append(exercise(load_template("seed-004-2-2-2").replace(iterations=8), folder / "exercise.xlsx"))
    return paths


def test_a_check_of_every_sheet_kind_does_not_import_scipy(workbooks: list[Path]) -> None:
    out = subprocess.run([sys.executable, "-c", CHECK_ALL, *map(str, workbooks)], capture_output=True,
                         text=True, cwd=workbooks[0].parent, check=True)
    result = json.loads(out.stdout)
    assert all(result["ok"].values()), result["ok"]
    assert all(cells > 100 for cells in result["cells"].values()), result["cells"]
    assert result["scipy"] == []


def test_a_check_without_an_exercise_does_not_import_pandas(workbooks: list[Path]) -> None:
    """pandas is a fifth of the check's start-up: every run is trained as an array
    (reference.train_array) and read so (verify/referencerun.py), in the check's process and
    in the one that trains the reference. Only the Exercise sheet's check (the classroom)
    loads it."""
    plain = [str(p) for p in workbooks if p.name in WITHOUT_PANDAS]
    out = subprocess.run([sys.executable, "-c", "import sheetnet.cli\n" + CHECK_ALL, *plain],
                         capture_output=True, text=True, cwd=workbooks[0].parent, check=True)
    result = json.loads(out.stdout)
    assert all(result["ok"].values()), result["ok"]
    assert result["pandas"] is False
    # The process that trains the reference (forked from the check's) trains without it too.
    train = ("import sys; from sheetnet.model.spec import load_template; "
             "from sheetnet.verify.trajectory import trajectory; run = trajectory(load_template('iris')); "
             "print(run.shape[0], 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", train], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(load_template("iris").iterations + 1), "False"]


def test_a_check_opens_the_workbook_once_per_mode(workbooks: list[Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl parses the workbook's styles and every sheet's dimensions each time it opens the
    file: the Network values (data_only) and the formulas of the other sheets are read in one
    opening each, for every sheet kind (the map, Summary, Charts, Working, Learning-rates,
    Optimizers and Exercise sheets)."""
    import openpyxl

    from sheetnet.api import check

    opened: list[bool] = []
    load = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> object:
        opened.append(bool(kwargs.get("data_only")))
        return load(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    for path in workbooks:
        opened.clear()
        report = check(path)
        assert report.ok, report.summary()
        assert sorted(opened) == [False, True], (path.name, opened)
