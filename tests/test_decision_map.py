"""The Decision map and the fitted curve: live forward passes at iteration t, against NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec
from sheetnet.sheets import decision_map as dm
from sheetnet.sheets import layout
from sheetnet.verify.report import Report
from tests.conftest import build, needs_libreoffice

runner = CliRunner()
N = 25


def grid(ws: openpyxl.worksheet.worksheet.Worksheet, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x₁ axis, x₂ axis, outputs[row of x₂, column of x₁]) as the sheet holds them."""
    x1 = np.array([ws.cell(dm.GRID_ROW, dm.AXIS_COL + 1 + c).value for c in range(n)], dtype=float)
    x2 = np.array([ws.cell(dm.GRID_ROW + 1 + r, dm.AXIS_COL).value for r in range(n)], dtype=float)
    out = np.array([[ws.cell(dm.GRID_ROW + 1 + r, dm.AXIS_COL + 1 + c).value for c in range(n)]
                    for r in range(n)], dtype=float)
    return x1, x2, out


def numpy_map(spec: Spec, t: int, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The network's output at the parameters of NumPy's row t, computed here from the frame."""
    params = dm.parameters_at(spec, train(spec), t)
    points = np.array([[a, b] for b in x2 for a in x1])
    return dm.outputs(spec, params, points).reshape(len(x2), len(x1))


def independent_output(spec: Spec, row: object, x: np.ndarray) -> float:
    """xor's 2-2-1 sigmoid net, from the definitions: σ(w·σ(W·x + b) + b)."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    w1 = np.array([[row["W1[1,1]"], row["W1[1,2]"]], [row["W1[2,1]"], row["W1[2,2]"]]])
    b1 = np.array([row["b1[1]"], row["b1[2]"]])
    h = sig(w1 @ x + b1)
    return float(sig(row["W2[1,1]"] * h[0] + row["W2[1,2]"] * h[1] + row["b2[1]"]))


def test_stored_map_is_numpy_forward_pass_at_the_last_row(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=300)
    ws = openpyxl.load_workbook(build(tmp_path, spec, decision_map=N), data_only=True)["Decision map"]
    x1, x2, out = grid(ws, N)
    assert x1[0] == pytest.approx(-0.1) and x1[-1] == pytest.approx(1.1) and len(x1) == N
    row = train(spec).loc[spec.iterations]
    for r, c in ((0, 0), (3, 17), (N - 1, N - 1)):
        assert out[r, c] == pytest.approx(independent_output(spec, row, np.array([x1[c], x2[r]])), rel=1e-12)
    assert ws.cell(dm.T_ROW, 2).value == spec.iterations


def test_the_formulas_read_row_t_with_index(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=50)
    ws = openpyxl.load_workbook(build(tmp_path, spec, decision_map=N))["Decision map"]
    assert ws.cell(dm.PARAM_ROW, 2).value == "=INDEX(Training!$B$4:$B$54,$B$4+1)"
    formula = ws.cell(dm.GRID_ROW + 1, dm.AXIS_COL + 1).value
    assert "C$12" in formula and "$B13" in formula and "$B$10" in formula  # x₁, x₂, w₃₁ at t


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("t", [0, 10, 120])
def test_libreoffice_map_at_iteration_t_equals_numpy(tmp_path: Path, t: int) -> None:
    spec = load_template("xor").replace(iterations=120, optimizer="adam", learning_rate=0.1)
    path = build(tmp_path, spec, decision_map=N)
    book = openpyxl.load_workbook(path)
    book["Decision map"].cell(dm.T_ROW, 2).value = t
    book.save(tmp_path / "edited.xlsx")
    ws = openpyxl.load_workbook(recalculate(tmp_path / "edited.xlsx", tmp_path / "re.xlsx"),
                                data_only=True)["Decision map"]
    x1, x2, out = grid(ws, N)
    assert out == pytest.approx(numpy_map(spec, t, x1, x2), rel=1e-12, abs=1e-15)


def regression(**changes: object) -> Spec:
    return parse_spec({
        "network": {"sizes": [1, 3, 1], "activations": ["tanh", "linear"], "loss": "half_sse"},
        "training": {"learning_rate": 0.1, "iterations": 60, "optimizer": "momentum"},
        "init": {"seed": 2},
        "data": {"inputs": [[-2.0], [-1.0], [0.0], [1.0], [2.5]],
                 "targets": [[4.0], [1.0], [0.0], [1.0], [6.0]], **changes},
    })


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("standardize", [False, True])
def test_fitted_curve_recomputes_to_numpy(tmp_path: Path, standardize: bool) -> None:
    spec = regression(standardize=standardize) if standardize else regression()
    path = build(tmp_path, spec, decision_map=40)
    book = openpyxl.load_workbook(path)
    assert "Fitted curve" in book.sheetnames
    ws = book["Fitted curve"]
    (chart,) = ws._charts
    assert len(chart.series) == 2  # the curve and the data points
    ws.cell(dm.T_ROW, 2).value = 30
    book.save(tmp_path / "edited.xlsx")
    ws = openpyxl.load_workbook(recalculate(tmp_path / "edited.xlsx", tmp_path / "re.xlsx"),
                                data_only=True)["Fitted curve"]
    xs = np.array([ws.cell(dm.GRID_ROW + 1 + r, dm.AXIS_COL).value for r in range(40)], dtype=float)
    ys = np.array([ws.cell(dm.GRID_ROW + 1 + r, dm.AXIS_COL + 1).value for r in range(40)], dtype=float)
    assert xs[0] == pytest.approx(-2.45) and xs[-1] == pytest.approx(2.95)  # raw units, 10% margin
    params = dm.parameters_at(spec, train(spec), 30)
    assert ys == pytest.approx(dm.outputs(spec, params, xs.reshape(-1, 1)), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(("template", "args", "message"), [
    ("seed-004-2-2-2", ["--decision-map", "30"],
     "--decision-map: a decision map is drawn for networks with two inputs and one output or a softmax "
     "output, a fitted curve for one input and one output; this network is 2-2-2"),
    ("iris", ["--decision-map", "30"], "this network is 4-4-3"),
    ("xor", ["--decision-map", "500"], "--decision-map: the grid must have 2 to 200 points a side"),
    ("xor", ["--decision-map", "1"], "got 1"),
])
def test_bad_decision_maps_are_one_line_errors(tmp_path: Path, template: str, args: list[str],
                                               message: str) -> None:
    out = tmp_path / "m.xlsx"
    result = runner.invoke(app, ["build", "--template", template, "--iters", "3", *args, str(out)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert not out.exists()


def test_a_deep_network_whose_map_formula_is_too_long_is_refused() -> None:
    spec = parse_spec({
        "network": {"sizes": [2, 6, 6, 6, 6, 1], "activations": ["sigmoid"] * 5, "loss": "half_sse"},
        "training": {"learning_rate": 0.1, "iterations": 2}, "init": {"seed": 1},
        "data": {"inputs": [[0.0, 1.0]], "targets": [[1.0]]},
    })
    with pytest.raises(SheetnetError, match=r"formula of .* characters, more than the 8,192"):
        dm.check_grid(spec, 30)


def test_chinese_sheet_name(tmp_path: Path) -> None:
    path = build(tmp_path, load_template("xor").replace(iterations=5), decision_map=N, lang="zh")
    assert "决策图" in openpyxl.load_workbook(path).sheetnames


# --- sheetnet check covers the map -------------------------------------------------------------


def _checked_at_t(tmp_path: Path, spec: Spec, t: int) -> tuple[Path, openpyxl.Workbook, Report]:
    """A workbook of spec with an N × N map whose t a student set to t, and its check."""
    from sheetnet.verify.run import run_check

    path = build(tmp_path, spec, decision_map=N)
    book = openpyxl.load_workbook(path)
    book["Decision map"].cell(dm.T_ROW, 2).value = t
    book.save(path)
    report = run_check(path)
    assert report.ok, report.summary()
    return path, book, report


def test_check_covers_the_map_at_an_edited_t(tmp_path: Path) -> None:
    spec = load_template("xor").replace(iterations=60, optimizer="momentum", learning_rate=0.5)
    _, _, report = _checked_at_t(tmp_path, spec, 17)
    # the grid, the four ends of the axes, the parameters at t, and the 2N axis points
    assert report.groups["map"].cells == N * N + 4 + len(ids.params(spec)) + 2 * N


def test_check_names_a_tampered_map_cell(tmp_path: Path) -> None:
    from sheetnet.verify.run import run_check

    path = build(tmp_path, load_template("xor").replace(iterations=20), decision_map=N)
    book = openpyxl.load_workbook(path)
    cell = book["Decision map"].cell(dm.GRID_ROW + 5, dm.AXIS_COL + 7)
    cell.value = cell.value.replace("+$J$10", "-$J$10")  # the output bias b₅ with the wrong sign
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.wrong == 1
    assert report.first_wrong is not None
    assert report.first_wrong.address == f"'Decision map'!{cell.coordinate}"


@needs_libreoffice
@pytest.mark.libreoffice
def test_libreoffice_check_covers_the_fitted_curve(tmp_path: Path) -> None:
    from sheetnet.verify.run import run_check

    spec = regression(standardize=True)
    report = run_check(build(tmp_path, spec, decision_map=30), engine="libreoffice")
    assert report.ok, report.summary()
    # the curve's 30 outputs, the two ends of x, the parameters at t and the 30 points of x
    cells = 30 + 2 + len(ids.params(spec)) + 30
    assert report.groups["map"].cells == cells
    assert run_check(build(tmp_path, regression(), "f.xlsx", decision_map=30)).groups["map"].cells == cells


# --- softmax classifiers: the predicted class and its probability -------------------------------


def three_classes(**training: object) -> Spec:
    """2-3-3 tanh-softmax, three clusters: the map shows three regions."""
    return parse_spec({
        "network": {"sizes": [2, 3, 3], "activations": ["tanh", "softmax"], "loss": "cross_entropy"},
        "training": {"learning_rate": 0.5, "iterations": 120, **training},
        "init": {"seed": 1},
        "data": {"inputs": [[0.0, 0.0], [0.2, 0.3], [1.0, 0.1], [0.8, 0.3], [0.4, 1.0], [0.6, 0.9]],
                 "targets": [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]},
    })


def independent_classes(spec: Spec, row: object, x1: np.ndarray,
                        x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z of each output [j, r, c], class + min(p, 0.99) [r, c]) from the definitions, by loops."""
    act = {"tanh": np.tanh, "linear": lambda v: v}[spec.activations[0]]
    k, hidden = spec.sizes[-1], spec.sizes[1]
    bias = spec.bias != "none"
    z = np.zeros((k, len(x2), len(x1)))
    for r, b in enumerate(x2):
        for c, a in enumerate(x1):
            h = [act(row[f"W1[{j},1]"] * a + row[f"W1[{j},2]"] * b + (row[f"b1[{j}]"] if bias else 0))
                 for j in range(1, hidden + 1)]
            for o in range(k):
                z[o, r, c] = sum(row[f"W2[{o + 1},{j + 1}]"] * h[j] for j in range(hidden)) + (
                    row[f"b2[{o + 1}]"] if bias else 0)
    p = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
    return z, np.argmax(z, axis=0) + 1 + np.minimum(0.99, p.max(axis=0))


def z_grids(ws: openpyxl.worksheet.worksheet.Worksheet, n: int, k: int) -> np.ndarray:
    return np.array([[[ws.cell(dm.z_grid_row(n, j) + 1 + r, dm.AXIS_COL + 1 + c).value for c in range(n)]
                      for r in range(n)] for j in range(k)], dtype=float)


def test_softmax_map_stores_numpy_class_and_probability(tmp_path: Path) -> None:
    spec = load_template("seed-000-classification")
    ws = openpyxl.load_workbook(build(tmp_path, spec, decision_map=N), data_only=True)["Decision map"]
    x1, x2, out = grid(ws, N)
    z, expected = independent_classes(spec, train(spec).loc[spec.iterations], x1, x2)
    assert z_grids(ws, N, 2) == pytest.approx(z, rel=1e-12, abs=1e-14)
    assert out == pytest.approx(expected, rel=1e-12)
    assert set(np.floor(out).ravel()) == {1, 2} and out.max() < 3  # both classes, 2.99 at most


def test_softmax_map_formulas_and_colours(tmp_path: Path) -> None:
    spec = three_classes()
    ws = openpyxl.load_workbook(build(tmp_path, spec, decision_map=N))["Decision map"]
    z = [layout.address(dm.z_grid_row(N, j) + 1, dm.AXIS_COL + 1) for j in range(3)]
    m = f"MAX({z[0]},{z[1]},{z[2]})"
    assert ws.cell(dm.GRID_ROW + 1, dm.AXIS_COL + 1).value == (
        f"=IF({z[0]}={m},1,IF({z[1]}={m},2,3))+MIN(0.99,1/(EXP({z[0]}-{m})+EXP({z[1]}-{m})+EXP({z[2]}-{m})))")
    assert "C$12" in ws.cell(dm.z_grid_row(N, 0) + 1, dm.AXIS_COL + 1).value  # z reads x₁ of the map
    rules = [rule for area in ws.conditional_formatting for rule in area.rules]
    bands = sorted((float(rule.formula[0]), float(rule.formula[1])) for rule in rules)
    assert all(rule.type == "cellIs" and rule.operator == "between" for rule in rules)
    assert len(rules) == 3 * len(dm.BANDS) and bands[0] == (1.0, 1.6) and bands[-1] == (3.9, 4.0)
    legend = [ws.cell(dm.T_ROW, dm.LEGEND_COL + 1 + dm.LEGEND_SPAN * j).value for j in range(3)]
    assert legend == ["1: class 1", "2: class 2", "3: class 3"]


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("t", [0, 40])
def test_libreoffice_softmax_map_at_iteration_t(tmp_path: Path, t: int) -> None:
    spec = three_classes(optimizer="adam", learning_rate=0.05)
    book = openpyxl.load_workbook(build(tmp_path, spec, decision_map=N))
    book["Decision map"].cell(dm.T_ROW, 2).value = t
    book.save(tmp_path / "edited.xlsx")
    ws = openpyxl.load_workbook(recalculate(tmp_path / "edited.xlsx", tmp_path / "re.xlsx"),
                                data_only=True)["Decision map"]
    x1, x2, out = grid(ws, N)
    z, expected = independent_classes(spec, train(spec).loc[t], x1, x2)
    assert z_grids(ws, N, 3) == pytest.approx(z, rel=1e-12, abs=1e-14)
    assert out == pytest.approx(expected, rel=1e-12)


def test_check_covers_the_softmax_map_and_names_a_tampered_class_cell(tmp_path: Path) -> None:
    from sheetnet.verify.run import run_check

    spec = three_classes()
    path, book, report = _checked_at_t(tmp_path, spec, 30)
    # the class cells and three z grids; the ranges, parameters at t and axis points
    assert report.groups["map"].cells == N * N * 4 + 4 + len(ids.params(spec)) + 2 * N
    cell = book["Decision map"].cell(dm.GRID_ROW + 4, dm.AXIS_COL + 9)
    cell.value = cell.value.replace("MIN(0.99,1/(", "MIN(0.99,0.5/(")  # half the probability, one cell
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.wrong == 1
    assert report.first_wrong is not None
    assert report.first_wrong.address == f"'Decision map'!{cell.coordinate}"


def test_check_names_a_tampered_z_cell(tmp_path: Path) -> None:
    from sheetnet.verify.run import run_check

    path = build(tmp_path, load_template("seed-000-classification"), decision_map=N)
    book = openpyxl.load_workbook(path)
    cell = book["Decision map"].cell(dm.z_grid_row(N, 1) + 3, dm.AXIS_COL + 2)
    cell.value = cell.value.replace("+", "-", 1)
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"'Decision map'!{cell.coordinate}"


def test_a_map_of_too_many_classes_is_refused() -> None:
    spec = parse_spec({
        "network": {"sizes": [2, 11], "activations": ["softmax"], "loss": "cross_entropy"},
        "training": {"learning_rate": 0.1, "iterations": 2}, "init": {"seed": 1},
        "data": {"inputs": [[0.0, 1.0]], "targets": [[1.0] + [0.0] * 10]},
    })
    with pytest.raises(SheetnetError, match="a colour for 10 classes at most; this network has 11"):
        dm.check_grid(spec, 30)
