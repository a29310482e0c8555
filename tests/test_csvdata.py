"""Data from a CSV file: columns picked by name, one-hot classes, standardised inputs on the
Network sheet (μ, σ, x̃ as live formulas), and one-line errors for bad files and tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.equations import graph
from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.model.spec import load_spec, parse_spec, templates_dir
from sheetnet.model.standardize import standardized, statistics
from sheetnet.sheets import layout
from sheetnet.sheets.layout import NetworkLayout
from sheetnet.sheets.writer import build_workbook
from sheetnet.verify import datacheck
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from tests.conftest import needs_libreoffice
from tests.test_spec import to_toml
from tests.test_working import _expected, _lines

runner = CliRunner()
TESTS = Path(__file__).parent

# Three samples; a = 1, 2, 4 and b = 2, 5, 1 give by hand (population σ, ddof = 0):
#   μ_a = 7/3, σ_a² = ((−4/3)² + (−1/3)² + (5/3)²)/3 = 14/9;  μ_b = 8/3, σ_b² = 26/9.
SMALL_CSV = "a,b,y1,y2,kind\n1,2,0.1,0.9,cat\n2,5,0.4,0.6,dog\n4,1,0.9,0.2,cat\n"
MU = (7 / 3, 8 / 3)
SIGMA = (math.sqrt(14) / 3, math.sqrt(26) / 3)


def table(data: dict[str, Any], sizes: tuple[int, ...] = (2, 2, 2)) -> dict[str, Any]:
    return {
        "title": "csv test",
        "network": {"sizes": list(sizes), "activations": ["tanh"] * (len(sizes) - 2) + ["sigmoid"]},
        "training": {"learning_rate": 0.5, "iterations": 4},
        "init": {"seed": 3},
        "data": data,
    }


def numeric(**extra: Any) -> dict[str, Any]:
    return {"csv": "small.csv", "input_columns": ["a", "b"], "target_columns": ["y1", "y2"], **extra}


def labelled(**extra: Any) -> dict[str, Any]:
    return {"csv": "small.csv", "input_columns": ["a", "b"], "label_column": "kind", **extra}


def write_spec(folder: Path, data: dict[str, Any], csv_text: str = SMALL_CSV,
               sizes: tuple[int, ...] = (2, 2, 2), csv_name: str = "small.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / csv_name).write_text(csv_text, encoding="utf-8")
    path = folder / "net.toml"
    path.write_text(to_toml(table(data, sizes)), encoding="utf-8")
    return path


def network_rows(path: Path) -> dict[tuple[int, int], Any]:
    ws = openpyxl.load_workbook(path)["Network"]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


# --- reading the CSV ---------------------------------------------------------------------------


def test_input_and_target_columns_are_read_by_name(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, numeric()))
    assert spec.inputs == ((1.0, 2.0), (2.0, 5.0), (4.0, 1.0))
    assert spec.targets == ((0.1, 0.9), (0.4, 0.6), (0.9, 0.2))
    assert (spec.input_names, spec.target_names, spec.class_names) == (("a", "b"), ("y1", "y2"), ())
    assert not spec.standardize


def test_a_label_column_is_one_hot_with_sorted_class_names(tmp_path: Path) -> None:
    # Rows meet the classes as dog, cat, bird; the outputs follow sorted order bird, cat, dog.
    csv = "a,b,kind\n1,2,dog\n2,5,cat\n4,1,bird\n3,3,cat\n"
    spec = load_spec(write_spec(tmp_path, labelled(), csv, sizes=(2, 3)))
    assert spec.class_names == ("bird", "cat", "dog") == spec.target_names
    assert spec.targets == ((0, 0, 1), (0, 1, 0), (1, 0, 0), (0, 1, 0))


def test_numeric_class_names_sort_as_numbers(tmp_path: Path) -> None:
    csv = "a,b,kind\n1,2,10\n2,5,2\n4,1,2\n"
    spec = load_spec(write_spec(tmp_path, labelled(), csv, sizes=(2, 2)))
    assert spec.class_names == ("2", "10")
    assert spec.targets == ((0, 1), (1, 0), (1, 0))


def test_replace_keeps_the_csv_names(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, labelled(standardize=True)))
    changed = spec.replace(iterations=2)
    assert changed.iterations == 2 and changed.standardize
    assert (changed.input_names, changed.class_names) == (("a", "b"), ("cat", "dog"))


def test_a_relative_csv_path_is_relative_to_the_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nets = tmp_path / "project" / "nets"
    config = write_spec(nets, numeric(csv="../data/small.csv"), csv_name="unused.csv")
    (tmp_path / "project" / "data").mkdir()
    (tmp_path / "project" / "data" / "small.csv").write_text(SMALL_CSV, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # neither the TOML's folder nor the CSV's
    result = runner.invoke(app, ["build", "--config", str(config), "out.xlsx"])
    assert result.exit_code == 0, result.output
    assert read_workbook(elsewhere / "out.xlsx").spec.inputs == ((1.0, 2.0), (2.0, 5.0), (4.0, 1.0))
    # parse_spec without a base directory reads from the current directory instead.
    with pytest.raises(SheetnetError, match="no such file"):
        parse_spec(table(numeric(csv="../data/small.csv")))
    data = numeric(csv="../data/small.csv")
    assert parse_spec(table(data), base_dir=config.parent).inputs[2] == (4.0, 1.0)


# --- the Network sheet -------------------------------------------------------------------------


def test_headers_and_class_names_head_the_data_table(tmp_path: Path) -> None:
    path = build_workbook(load_spec(write_spec(tmp_path, labelled())), tmp_path / "out.xlsx")
    cells = network_rows(path)
    header = layout.DATA_HEADER_ROW
    assert [cells[header, c] for c in range(2, 6)] == ["a", "b", "cat", "dog"]
    assert [cells[header + 1 + k, 4] for k in range(3)] == [1, 0, 1]  # one-hot "cat" column
    # The Training sheet keeps the seed notation.
    training = openpyxl.load_workbook(path, read_only=True)["Training"]
    labels = next(training.iter_rows(min_row=layout.LABEL_ROW, max_row=layout.LABEL_ROW, values_only=True))
    assert "z₃ (sample 1)" in labels
    assert run_check(path).ok


@pytest.mark.parametrize("mark", ["=", "+", "-", "@"])
def test_headers_and_classes_that_look_like_formulas_stay_text(tmp_path: Path, mark: str) -> None:
    csv = (f"{mark}SUM(A1),{mark}b,kind\n1,2,{mark}cat\n2,5,{mark}dog\n4,1,{mark}cat\n")
    data = {"csv": "small.csv", "input_columns": [f"{mark}SUM(A1)", f"{mark}b"], "label_column": "kind",
            "standardize": True}
    spec = load_spec(write_spec(tmp_path, data, csv))
    assert spec.class_names == (f"{mark}cat", f"{mark}dog")
    path = build_workbook(spec, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path)["Network"]
    header = layout.DATA_HEADER_ROW
    cells = [ws.cell(header, c) for c in range(2, 6)]
    assert [c.value for c in cells] == [f"{mark}SUM(A1)", f"{mark}b", f"{mark}cat", f"{mark}dog"]
    assert [c.data_type for c in cells] == ["s"] * 4
    x_tilde = ws.cell(header, NetworkLayout(spec).first_standardized_col)
    assert (x_tilde.value, x_tilde.data_type) == (f"x̃ {mark}SUM(A1)", "s")
    report = run_check(path)
    assert report.ok, report.summary()


# --- standardisation -----------------------------------------------------------------------------


def test_numpy_standardises_with_the_hand_mean_and_population_sigma(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, numeric(standardize=True)))
    mu, sigma = statistics(spec.inputs)
    assert mu == pytest.approx(MU, rel=1e-15) and sigma == pytest.approx(SIGMA, rel=1e-15)
    x = standardized(spec.inputs)
    assert x[0] == pytest.approx([(1 - 7 / 3) / SIGMA[0], (2 - 8 / 3) / SIGMA[1]], rel=1e-14)
    # The reference core feeds x̃, not x: z₃ of sample 1 at t = 0 by hand.
    frame = train(spec)
    w, b = spec.weights[0][0], spec.biases[0][0]
    assert frame.loc[0, "z1[1]@1"] == pytest.approx(w[0] * x[0, 0] + w[1] * x[0, 1] + b, rel=1e-14)
    raw = train(spec.replace(standardize=False))
    assert raw.loc[0, "z1[1]@1"] == pytest.approx(w[0] * 1 + w[1] * 2 + b, rel=1e-14)


def test_inline_inputs_may_be_standardised_too(tmp_path: Path) -> None:
    # Two samples: μ is the midpoint and σ half the distance, so x̃ is −1 and +1 in each column.
    spec = parse_spec(table({"inputs": [[0, 10], [4, 30]], "targets": [[0, 1], [1, 0]], "standardize": True}),
                      name="out")
    assert standardized(spec.inputs).tolist() == [[-1.0, -1.0], [1.0, 1.0]]
    path = build_workbook(spec, tmp_path / "out.xlsx")
    assert read_workbook(path).spec == spec
    report = run_check(path)
    assert report.ok and report.groups["data"].cells == 2 + 2 + 4, report.summary()


def _standardised_workbook(tmp_path: Path) -> tuple[Path, NetworkLayout]:
    spec = load_spec(write_spec(tmp_path, numeric(standardize=True)))
    return build_workbook(spec, tmp_path / "out.xlsx"), NetworkLayout(spec)


def test_the_network_sheet_computes_mu_sigma_and_x_tilde_by_formulas(tmp_path: Path) -> None:
    path, net = _standardised_workbook(tmp_path)
    ws = openpyxl.load_workbook(path)["Network"]
    first = layout.DATA_HEADER_ROW + 1
    (mu_row, _), (sd_row, _) = net.mean_cells[0], net.std_cells[0]
    assert ws.cell(mu_row, 2).value == f"=AVERAGE(B${first}:B${first + 2})"
    assert ws.cell(sd_row, 3).value == f"=STDEVP(C${first}:C${first + 2})"
    x_row, x_col = net.input_cells[graph.input_key(1, 2).key]  # x̃ of b in sample 3
    assert (x_row, x_col) == (first + 2, net.first_standardized_col + 1)
    assert ws.cell(x_row, x_col).value == f"=(C{first + 2}-C${mu_row})/C${sd_row}"
    assert ws.cell(first + 2, 3).value == 1  # the raw value stays a typed input
    stored = openpyxl.load_workbook(path, data_only=True)["Network"]
    assert stored.cell(mu_row, 2).value == pytest.approx(MU[0], rel=1e-15)
    assert stored.cell(sd_row, 3).value == pytest.approx(SIGMA[1], rel=1e-15)
    # The Training sheet reads the x̃ cells.
    training = openpyxl.load_workbook(path)["Training"]
    z = training.cell(layout.FIRST_DATA_ROW, graph_column(path, "z1[1]@3")).value
    assert f"Network!${layout.column_letter(x_col)}${x_row}" in z
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.groups["data"].cells == 2 + 2 + 3 * 2


def graph_column(path: Path, qid: str) -> int:
    return [c.qid for c in read_workbook(path).columns].index(qid) + 1


def _edit_raw(path: Path, value: float) -> Path:
    """Sample 3's raw a: 4 → value, with openpyxl (which drops every stored formula result)."""
    book = openpyxl.load_workbook(path)
    book["Network"].cell(layout.DATA_HEADER_ROW + 3, 2).value = value
    book.save(path)
    return path


def test_an_edited_raw_value_flows_through_mu_and_every_row(tmp_path: Path) -> None:
    path, net = _standardised_workbook(tmp_path)
    _edit_raw(path, 7)
    book = read_workbook(path)
    assert book.spec.inputs[2] == (7.0, 1.0)
    expected = datacheck.expected_cells(book)
    datacheck.reference_cells(book, expected)
    got, notes = datacheck.recompute(book, expected)  # the formulas engine, from the formula texts
    assert not notes
    sigma = math.sqrt(((1 - 10 / 3) ** 2 + (2 - 10 / 3) ** 2 + (7 - 10 / 3) ** 2) / 3)  # √(62/9)
    assert got[net.mean_cells[0]] == pytest.approx(10 / 3, rel=1e-15)
    assert got[net.std_cells[0]] == pytest.approx(sigma, rel=1e-15)
    x_cell = net.input_cells[graph.input_key(0, 0).key]
    assert got[x_cell] == pytest.approx((1 - 10 / 3) / sigma, rel=1e-14)
    report = run_check(path)
    assert report.ok, report.summary()


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_recomputes_the_standardisation_after_an_edit(tmp_path: Path) -> None:
    path, net = _standardised_workbook(tmp_path)
    report = run_check(path, engine="libreoffice")
    assert report.ok, report.summary()
    _edit_raw(path, 7)
    out = recalculate(path, tmp_path / "recalculated.xlsx")
    ws = openpyxl.load_workbook(out, data_only=True)["Network"]
    sigma = math.sqrt(62) / 3
    assert ws.cell(*net.mean_cells[0]).value == pytest.approx(10 / 3, rel=1e-12)
    assert ws.cell(*net.std_cells[0]).value == pytest.approx(sigma, rel=1e-12)
    x_cells = [net.input_cells[graph.input_key(0, k).key] for k in range(3)]
    assert [ws.cell(*c).value for c in x_cells] == pytest.approx(
        [(v - 10 / 3) / sigma for v in (1, 2, 7)], rel=1e-12)
    report = run_check(path, engine="libreoffice")
    assert report.ok, report.summary()
    assert report.groups["data"].cells == 10


def test_a_wrong_standardisation_formula_is_the_first_wrong_cell(tmp_path: Path) -> None:
    path, net = _standardised_workbook(tmp_path)
    book = openpyxl.load_workbook(path)
    row, col = net.std_cells[1]
    book["Network"].cell(row, col).value = book["Network"].cell(row, col).value.replace("STDEVP", "STDEV")
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.wrong == 1
    assert report.first_wrong is not None
    assert report.first_wrong.address == f"Network!{layout.address(row, col)}"
    assert report.first_wrong.expected == pytest.approx(SIGMA[1], rel=1e-15)
    assert report.first_wrong.got == pytest.approx(math.sqrt(13 / 3), rel=1e-12)  # the sample σ


def test_a_typed_value_in_place_of_an_x_tilde_formula_is_named(tmp_path: Path) -> None:
    path, net = _standardised_workbook(tmp_path)
    row, col = net.input_cells[graph.input_key(0, 1).key]
    book = openpyxl.load_workbook(path)
    book["Network"].cell(row, col).value = 0.25
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.wrong == 1
    assert report.first_wrong is not None and report.first_wrong.got == 0.25
    assert report.first_wrong.note == "the cell holds no formula"
    assert report.first_wrong.expected == pytest.approx((2 - 7 / 3) / SIGMA[0], rel=1e-14)


def test_the_working_sheet_calculates_with_x_tilde(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, numeric(standardize=True)))
    path = build_workbook(spec, tmp_path / "out.xlsx")
    lines = _lines(path)
    assert {s: line.value for s, line in lines.items()} == _expected(spec, train(spec))
    x = standardized(spec.inputs)
    w = spec.weights[0][0]
    # x̃₁ of sample 1 = (1 − 7/3)/(√14/3) = −4/√14 = −1.0690450
    assert x[0, 0] == pytest.approx(-4 / math.sqrt(14), rel=1e-15)
    assert lines["z₃⁽¹⁾"].numbers.startswith(f"{w[0]:g}×(-1.069045) + ")
    formulas = _lines(path, data_only=False)
    x_row, x_col = NetworkLayout(spec).input_cells[graph.input_key(0, 0).key]
    assert f"${layout.column_letter(x_col)}${x_row}" in formulas["z₃⁽¹⁾"].value


# --- iris ------------------------------------------------------------------------------------------


def test_the_shipped_iris_is_fishers_150_flowers() -> None:
    frame = pd.read_csv(templates_dir() / "data" / "iris.csv")
    assert list(frame.columns) == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert frame["species"].value_counts().to_dict() == {"setosa": 50, "versicolor": 50, "virginica": 50}
    assert frame.iloc[:, :4].mean().round(3).tolist() == [5.843, 3.057, 3.758, 1.199]
    readme = (templates_dir() / "data" / "README.md").read_text(encoding="utf-8")
    assert "Fisher" in readme and "CC BY 4.0" in readme and "UCI Machine Learning Repository" in readme


def test_iris_with_a_label_column_and_standardisation_builds_and_checks(tmp_path: Path) -> None:
    spec = load_spec(TESTS / "data" / "iris-tiny.toml")
    assert spec.class_names == ("setosa", "versicolor", "virginica") and spec.n_samples == 150
    assert np.asarray(spec.targets).sum(axis=0).tolist() == [50, 50, 50]
    x = standardized(spec.inputs)
    assert np.abs(x.mean(axis=0)).max() < 1e-14 and x.std(axis=0) == pytest.approx([1] * 4, rel=1e-14)
    path = build_workbook(spec, tmp_path / "iris.xlsx")
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.groups["data"].cells == 4 + 4 + 150 * 4


def test_train_accepts_a_csv_spec(tmp_path: Path) -> None:
    config = write_spec(tmp_path, labelled(standardize=True))
    result = runner.invoke(app, ["train", "--config", str(config), "--csv", str(tmp_path / "run.csv")])
    assert result.exit_code == 0, result.output
    saved = pd.read_csv(tmp_path / "run.csv")
    assert saved["loss"].tolist() == pytest.approx(train(load_spec(config))["loss"].tolist(), rel=1e-12)


# --- bad input ---------------------------------------------------------------------------------------

BAD = [
    ("missing file", numeric(csv="nowhere.csv"), SMALL_CSV, ["nowhere.csv", "no such file"]),
    ("missing input column", numeric(input_columns=["a", "c"]), SMALL_CSV,
     ["no column 'c'", "a, b, y1, y2, kind"]),
    ("missing label column", labelled(label_column="class"), SMALL_CSV, ["no column 'class'", "kind"]),
    ("not a number", numeric(), SMALL_CSV.replace("2,5,", "2,five,"),
     ["data row 2", "line 3", "'b'", "five"]),
    ("empty value", numeric(), SMALL_CSV.replace("4,1,", "4,,"), ["data row 3", "'b'", "empty"]),
    ("empty file", numeric(), "", ["empty"]),
    ("header only", numeric(), "a,b,y1,y2\n", ["no data rows"]),
    ("label and targets", labelled(target_columns=["y1"]), SMALL_CSV, ["target_columns", "label_column"]),
    ("inline and csv", numeric(inputs=[[1, 2]]), SMALL_CSV, ["inline", "csv", "not both"]),
    ("columns without csv", {"inputs": [[1, 2]], "targets": [[0, 1]], "input_columns": ["a"]}, SMALL_CSV,
     ["data.input_columns needs data.csv"]),
    ("constant column", numeric(standardize=True), "a,b,y1,y2\n1,3,0,1\n2,3,1,0\n", ["'b'", "σ = 0"]),
    ("too few inputs", numeric(input_columns=["a"]), SMALL_CSV, ["network.sizes", "input_columns", "1"]),
    ("too many classes", labelled(), "a,b,kind\n1,2,x\n2,3,y\n3,1,z\n", ["3 classes", "x, y, z"]),
    ("a column twice", numeric(), "a,a,y1,y2\n1,2,0,1\n", ["more than one column named 'a'"]),
]


@pytest.mark.parametrize(("data", "csv_text", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_csv_input_is_one_line_exit_2_and_no_file(
    tmp_path: Path, data: dict[str, Any], csv_text: str, words: list[str]
) -> None:
    config = write_spec(tmp_path, data, csv_text)
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["build", "--config", str(config), str(out)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error: "), result.stderr
    assert "net.toml: " in lines[0]
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.toml", "small.csv"]
