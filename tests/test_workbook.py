"""The generated workbook read back with openpyxl: live formulas, wired right, storing the reference."""

from __future__ import annotations

import math
import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec
from tests.conftest import build
from tests.test_spec import seeded_table

ID_ROW, FIRST_ROW = 3, 4
LR_CELL = "$B$4"


def spec_of(name: str, iterations: int) -> Spec:
    return load_template(name).replace(iterations=iterations)


def training_grid(ws: Worksheet, spec: Spec) -> list[list[Any]]:
    """Rows 0..iterations of the Training sheet, as many columns as there are ids."""
    width = len(ids.all_ids(spec))
    return [list(row) for row in ws.iter_rows(min_row=FIRST_ROW, max_row=FIRST_ROW + spec.iterations,
                                               max_col=width, values_only=True)]


def id_row(ws: Worksheet, spec: Spec) -> list[Any]:
    width = len(ids.all_ids(spec))
    return list(next(ws.iter_rows(min_row=ID_ROW, max_row=ID_ROW, max_col=width + 2, values_only=True)))


def letter_of(spec: Spec) -> dict[str, str]:
    return {qid: get_column_letter(n) for n, qid in enumerate(ids.all_ids(spec), start=1)}


def initial_value(spec: Spec, qid: str) -> float:
    """The spec's starting value of a parameter id (W2[1,2], b1[2], b1 ...)."""
    m = re.fullmatch(r"([Wb])(\d+)(?:\[(\d+)(?:,(\d+))?\])?", qid)
    assert m, qid
    kind, layer, j, i = m.group(1), int(m.group(2)) - 1, m.group(3), m.group(4)
    if kind == "W":
        return spec.weights[layer][int(j) - 1][int(i) - 1]
    return spec.biases[layer][int(j) - 1 if j else 0]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """build(name, iterations, lang): each workbook once per module (the tests only read them)."""
    folder = tmp_path_factory.mktemp("workbooks")
    done: dict[tuple[str, int, str], Path] = {}

    def get(name: str, iterations: int, lang: str = "en") -> Path:
        key = (name, iterations, lang)
        if key not in done:
            file_name = f"{name}-{iterations}-{lang}.xlsx"
            done[key] = build(folder, spec_of(name, iterations), file_name, lang=lang)
        return done[key]

    return get


CASES = [
    ("seed-004-2-2-2", 12),  # per-neuron trained biases
    ("seed-001-bp-demo", 12),  # a shared bias that is not trained
    ("seed-000-regression", 12),  # two samples, no bias, linear
    ("seed-001-linear-system", 12),  # two samples, sum of sse
    ("seed-003-single-update", 1),  # one iteration only
]


@pytest.mark.parametrize(("name", "iterations"), CASES)
def test_every_training_cell_is_a_formula(workbooks: Any, name: str, iterations: int) -> None:
    spec = spec_of(name, iterations)
    ws = openpyxl.load_workbook(workbooks(name, iterations))["Training"]
    header = id_row(ws, spec)
    assert header[: len(ids.all_ids(spec))] == ids.all_ids(spec)
    assert header[len(ids.all_ids(spec)):] == [None, None]  # nothing after the last id
    in_final = set(ids.params(spec) + ids.forward(spec) + ["loss"])
    for t, row in enumerate(training_grid(ws, spec)):
        assert row[0] == t  # the iteration number is the one plain value
        for qid, value in zip(ids.all_ids(spec)[1:], row[1:], strict=True):
            if t == spec.iterations and qid not in in_final:
                assert value is None, (t, qid)  # the final row has no backward pass
            else:
                assert isinstance(value, str) and value.startswith("="), (t, qid, value)
    # and nothing below the final row
    assert ws.cell(FIRST_ROW + spec.iterations + 1, 1).value is None
    assert ws.cell(FIRST_ROW + spec.iterations + 1, 2).value is None


@pytest.mark.parametrize(("name", "iterations"), CASES)
def test_parameters_read_the_network_sheet_then_step_downhill(
    workbooks: Any, name: str, iterations: int
) -> None:
    spec = spec_of(name, iterations)
    book = openpyxl.load_workbook(workbooks(name, iterations))
    network, ws = book["Network"], book["Training"]
    grid = training_grid(ws, spec)
    col = letter_of(spec)
    assert network[LR_CELL.replace("$", "")].value == spec.learning_rate
    trained = set(ids.gradients(spec))
    for qid in ids.params(spec):
        first = grid[0][ids.all_ids(spec).index(qid)]
        m = re.fullmatch(r"=Network!\$([A-Z]+)\$(\d+)", first)
        assert m, (qid, first)
        assert network[f"{m.group(1)}{m.group(2)}"].value == initial_value(spec, qid)
        for t in range(1, spec.iterations + 1):
            formula = grid[t][ids.all_ids(spec).index(qid)]
            if ids.gradient_of(qid) in trained:
                r = FIRST_ROW + t - 1  # the row above
                assert formula == f"={col[qid]}{r}-Network!{LR_CELL}*{col[ids.gradient_of(qid)]}{r}"
            else:  # a fixed bias reads its Network cell in every row
                assert formula == first


@pytest.mark.parametrize(("name", "iterations"), CASES)
def test_stored_values_equal_the_reference(workbooks: Any, name: str, iterations: int) -> None:
    spec = spec_of(name, iterations)
    frame = train(spec)
    ws = openpyxl.load_workbook(workbooks(name, iterations), data_only=True)["Training"]
    assert_grid_equals(training_grid(ws, spec), frame, spec)


def assert_grid_equals(grid: list[list[Any]], frame: pd.DataFrame, spec: Spec) -> None:
    assert len(grid) == len(frame) == spec.iterations + 1
    for t, row in enumerate(grid):
        for qid, value in zip(ids.all_ids(spec), row, strict=True):
            expected = frame.loc[t, qid]
            if math.isnan(expected):
                assert value is None, (t, qid)
            else:
                assert isinstance(value, int | float), (t, qid, value)
                assert value == pytest.approx(expected, rel=1e-15, abs=1e-300), (t, qid)


# --- the formulas compute the reference numbers -----------------------------------------------


@cache
def compiled(text: str) -> Any:
    return formulas.Parser().ast(text)[1].compile()


def recompute(text: str, training: Worksheet, network: Worksheet) -> float:
    """One formula evaluated by the `formulas` package from the stored values of the cells it reads."""
    func = compiled(text)
    args = []
    for name in func.inputs:
        sheet, _, cell = name.rpartition("!")
        if sheet:
            assert sheet == network.title.upper(), name
            args.append(network[cell].value)
        else:
            args.append(training[cell].value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = func(*args)
    return float(np.asarray(result).item())


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("name", "iterations"), CASES[:4])
def test_each_formula_recomputes_its_stored_value(
    workbooks: Any, name: str, iterations: int, lang: str
) -> None:
    spec = spec_of(name, iterations)
    path = workbooks(name, iterations, lang)
    book = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    network_sheet, training_sheet = {"en": ("Network", "Training"), "zh": ("网络", "训练")}[lang]
    texts = training_grid(book[training_sheet], spec)
    stored = training_grid(values[training_sheet], spec)
    for t in (0, 1, spec.iterations):
        for c, qid in enumerate(ids.all_ids(spec)[1:], start=1):
            if texts[t][c] is None:
                continue
            got = recompute(texts[t][c], values[training_sheet], values[network_sheet])
            assert got == pytest.approx(stored[t][c], rel=1e-12, abs=1e-15), (t, qid, texts[t][c])


# --- bigger and other-language workbooks ---------------------------------------------------


def test_wide_network_with_several_samples(tmp_path: Path) -> None:
    table = seeded_table(11, [4, 16, 16, 3])
    table["data"] = {
        "inputs": [[0.1, 0.2, 0.3, 0.4], [0.5, -0.1, 0.0, 0.9], [-0.3, 0.3, 0.7, 0.2], [1.0, 0.0, -1.0, 0.5]],
        "targets": [[0.1, 0.5, 0.9], [0.2, 0.2, 0.2], [0.9, 0.1, 0.5], [0.4, 0.6, 0.8]],
    }
    table["training"]["iterations"] = 6
    spec = parse_spec(table)
    path = build(tmp_path, spec, "wide.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    ws = book["Training"]
    assert id_row(ws, spec)[: len(ids.all_ids(spec))] == ids.all_ids(spec)
    assert len(ids.all_ids(spec)) == 1 + 403 + 4 * 70 + 1 + 4 * 35 + 403
    grid = training_grid(ws, spec)
    assert all(isinstance(v, str) and v.startswith("=") for v in grid[1][1:])
    values = openpyxl.load_workbook(path, data_only=True, read_only=True)
    assert_grid_equals(training_grid(values["Training"], spec), train(spec), spec)


def test_chinese_workbook(tmp_path: Path) -> None:
    spec = spec_of("seed-004-2-2-2", 5)
    path = build(tmp_path, spec, "zh.xlsx", lang="zh")
    book = openpyxl.load_workbook(path)
    assert {"网络", "训练"} <= set(book.sheetnames)
    assert "Network" not in book.sheetnames and "Training" not in book.sheetnames
    ws = book["训练"]
    assert id_row(ws, spec)[: len(ids.all_ids(spec))] == ids.all_ids(spec)
    grid = training_grid(ws, spec)
    col = letter_of(spec)
    assert grid[0][1].startswith("='网络'!$")
    assert grid[1][1] == f"=B4-'网络'!{LR_CELL}*{col['dW1[1,1]']}4"
    assert book["网络"]["B4"].value == spec.learning_rate
    values = openpyxl.load_workbook(path, data_only=True)
    assert_grid_equals(training_grid(values["训练"], spec), train(spec), spec)


def test_learning_rate_cell_is_labelled(workbooks: Any) -> None:
    network = openpyxl.load_workbook(workbooks("seed-004-2-2-2", 12))["Network"]
    label = network["A4"].value
    assert isinstance(label, str) and "Learning rate" in label
