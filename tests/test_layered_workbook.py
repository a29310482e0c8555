"""Layered workbooks, end to end: for every layer kind a small network is built, its formulas are
recomputed (formulas, LibreOffice, Gnumeric) and every row equals the NumPy reference; a tampered
cell fails the check and is named."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sheetnet import api
from sheetnet.equations import layer_names
from sheetnet.errors import SheetnetError
from sheetnet.model import ids
from sheetnet.model import layers as model_layers
from sheetnet.model.fields import ACTIVATIONS
from sheetnet.model.spec import Spec, parse_spec
from sheetnet.sheets import layout
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from tests.conftest import needs_gnumeric, needs_libreoffice

ITERATIONS = 6


def _tensor(rnd: random.Random, shape: tuple[int, ...], scale: float = 0.6) -> Any:
    if not shape:
        return round(rnd.uniform(-scale, scale), 3)
    return [_tensor(rnd, shape[1:], scale) for _ in range(shape[0])]


def layered_spec(input_shape: list[int], layers: list[dict[str, Any]], loss: str, *, samples: int = 3,
                 seed: int = 1, **training: Any) -> Spec:
    """A spec in the issue's TOML format, with random initial parameters and data."""
    rnd = random.Random(seed)
    probe = model_layers.parse_layers(layers, tuple(input_shape), ACTIVATIONS)
    init: dict[int, dict[str, Any]] = {}
    for n, layer in enumerate(probe):
        for name, shape in model_layers.param_shapes(layer).items():
            init.setdefault(n, {})[name] = _tensor(rnd, shape)
    n_out = probe[-1].out_shape[0]
    inputs = [_tensor(rnd, tuple(input_shape), 1.0) for _ in range(samples)]
    if loss == "cross_entropy":
        targets = [[float(j == k % n_out) for j in range(n_out)] for k in range(samples)]
    elif loss == "binary_cross_entropy":
        targets = [[float((k + j) % 2) for j in range(n_out)] for k in range(samples)]
    else:
        targets = [[round(rnd.uniform(-1, 1), 3) for _ in range(n_out)] for _ in range(samples)]
    return parse_spec(_table(input_shape, layers, loss, [init[n] for n in sorted(init)], inputs,
                             targets, training), name="layered")


def _table(input_shape: list[int], layers: list[dict[str, Any]], loss: str, init: list[Any],
           inputs: list[Any], targets: list[Any], training: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = {
        "title": "layered test",
        "network": {"input_shape": input_shape, "loss": loss, "layers": layers},
        "training": {"learning_rate": 0.1, "iterations": ITERATIONS, **training},
    }
    table["init"] = {"layers": init}
    table["data"] = {"inputs": inputs, "targets": targets}
    return table


CASES: dict[str, tuple[list[int], list[dict[str, Any]], str, dict[str, Any]]] = {
    "conv2d+maxpool2d": ([1, 4, 4], [
        {"kind": "conv2d", "channels": 2, "kernel": 3, "activation": "relu"},
        {"kind": "maxpool2d", "size": 2}, {"kind": "flatten"},
        {"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy", {}),
    "conv2d+avgpool2d": ([2, 5, 5], [
        {"kind": "conv2d", "channels": 1, "kernel": 2, "activation": "tanh"},
        {"kind": "avgpool2d", "size": 2}, {"kind": "flatten"},
        {"kind": "dense", "size": 1}], "mse", {}),
    "rnn": ([4, 2], [{"kind": "rnn", "size": 3},
                     {"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy", {}),
    "rnn, shuffled sgd, momentum": ([4, 2], [
        {"kind": "rnn", "size": 2, "activation": "relu"}, {"kind": "dense", "size": 1}], "half_sse",
        {"mode": "sgd", "shuffle": True, "seed": 3, "optimizer": "momentum", "momentum": 0.9}),
    "attention+layernorm+meanpool": ([3, 2], [
        {"kind": "attention", "dim": 2}, {"kind": "layernorm"}, {"kind": "meanpool"},
        {"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy", {}),
    "causal attention, adam": ([3, 2], [
        {"kind": "attention", "dim": 2, "causal": True}, {"kind": "meanpool"},
        {"kind": "dense", "size": 1, "activation": "sigmoid"}], "binary_cross_entropy",
        {"optimizer": "adam", "learning_rate": 0.05}),
}


def case_spec(name: str) -> Spec:
    input_shape, layers, loss, training = CASES[name]
    return layered_spec(input_shape, layers, loss, **training)


def build(tmp_path: Path, spec: Spec, name: str = "layered") -> Path:
    path = tmp_path / f"{name}.xlsx"
    api.build(spec, path)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_kind_recomputes_to_the_reference(tmp_path: Path, case: str) -> None:
    spec = case_spec(case)
    path = build(tmp_path, spec)
    assert read_workbook(path).spec == spec  # the Network sheet gives back the very network
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.wrong == 0 and report.cells >= ITERATIONS * (len(ids.all_ids(spec)) - 1)


@pytest.mark.libreoffice
@needs_libreoffice
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_kind_recomputes_in_libreoffice(tmp_path: Path, case: str) -> None:
    report = run_check(build(tmp_path, case_spec(case)), engine="libreoffice")
    assert report.ok, report.summary()


@needs_gnumeric
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_kind_recomputes_in_gnumeric(tmp_path: Path, case: str) -> None:
    report = run_check(build(tmp_path, case_spec(case)), engine="gnumeric")
    assert report.ok, report.summary()


def _address(spec: Spec, qid: str, t: int) -> str:
    return layout.address(layout.FIRST_DATA_ROW + t, ids.all_ids(spec).index(qid) + 1)


def test_a_tampered_cell_fails_and_is_named(tmp_path: Path) -> None:
    spec = case_spec("conv2d+maxpool2d")
    path = build(tmp_path, spec)
    qid = next(q for q in ids.all_ids(spec) if q.startswith("dK") or q.startswith("dW"))
    address = _address(spec, qid, 3)
    book = openpyxl.load_workbook(path)
    formula = book["Training"][address].value
    assert isinstance(formula, str) and formula.startswith("=")
    book["Training"][address] = formula + "*1.001"
    book.save(path)
    report = run_check(path)
    assert not report.ok
    assert report.first_wrong is not None
    assert report.first_wrong.address == f"Training!{address}" and report.first_wrong.qid == qid
    assert report.wrong == 1  # every cell is evaluated on the reference's inputs: only this one


def test_an_edited_initial_kernel_is_checked_against_itself(tmp_path: Path) -> None:
    spec = case_spec("conv2d+maxpool2d")
    path = build(tmp_path, spec)
    key = f"init:{layer_names.parameter(spec, 0, 'weight', (1, 0, 2, 1))}"
    row, col = read_workbook(path).spec and _network_cell(spec, key)
    book = openpyxl.load_workbook(path)
    book["Network"][layout.address(row, col)] = 0.25
    book.save(path)
    read = read_workbook(path).spec
    assert layer_names.initial_values(read, 0, "weight")[1, 0, 2, 1] == 0.25
    assert run_check(path).ok


def _network_cell(spec: Spec, key: str) -> tuple[int, int]:
    from sheetnet.sheets.layered_network import LayeredNetworkLayout

    return LayeredNetworkLayout(spec).input_cells[key]


def layered_templates() -> list[str]:
    return [name for name in api.templates() if api.template(name).layered]


def test_the_layered_templates_exist() -> None:
    assert "cnn-stripes" in layered_templates()


@needs_libreoffice
@needs_gnumeric
@pytest.mark.parametrize("name", layered_templates())
def test_a_layered_template_passes_every_engine_at_its_default_iterations(tmp_path: Path, name: str) -> None:
    spec = api.template(name)
    path = build(tmp_path, spec, name)
    for engine in ("formulas", "libreoffice", "gnumeric"):
        report = run_check(path, engine=engine)
        assert report.ok, report.summary()
        assert report.cells >= spec.iterations * (len(ids.all_ids(spec)) - 1)
    frame = api.train(spec)
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0] / 2  # it learns


def test_a_decision_map_of_a_layered_network_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SheetnetError, match=r"^--decision-map: a decision map is drawn for a dense network "
                       r".* reads 8 numbers a sample \(input_shape \[4, 2\]\), one axis each, too many"):
        api.build(case_spec("rnn"), tmp_path / "x.xlsx", decision_map=20)
    two = layered_spec([2], [{"kind": "dense", "size": 1}], "half_sse")  # two inputs, yet layers
    with pytest.raises(SheetnetError, match=r"a map's cells write out the forward pass of sizes and "
                       r"activations only; give it as network.sizes and network.activations for a map$"):
        api.build(two, tmp_path / "x.xlsx", decision_map=20)
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_names_a_tampered_layered_cell(tmp_path: Path) -> None:
    """LibreOffice computes every later cell from the tampered one; the local check still names
    this cell alone (a δ of the RNN's backpropagation through time)."""
    spec = case_spec("rnn")
    path = build(tmp_path, spec)
    qid = next(q for q in ids.all_ids(spec) if q.startswith("delta1["))
    address = _address(spec, qid, 2)
    book = openpyxl.load_workbook(path)
    book["Training"][address] = "=0"
    book.save(path)
    report = run_check(path, engine="libreoffice")
    assert not report.ok and report.wrong == 1, report.summary()
    assert report.first_wrong is not None and report.first_wrong.address == f"Training!{address}"


def test_the_maps_sheet_reads_row_t_of_the_training_sheet(tmp_path: Path) -> None:
    """P of the attention layer at the typed t: each map cell is an INDEX into its column; a new t
    moves every map to that row, and a tampered map cell fails the check by its address."""
    spec = case_spec("attention+layernorm+meanpool")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    maps = book["Maps"]
    assert maps["B3"].value == ITERATIONS
    assert maps["B7"].value == f"=INDEX(Training!{_column_range(spec, 'P1[1,1]@1')},$B$3+1)"
    maps["B3"] = 2
    book.save(path)
    frame = api.train(spec)
    values = openpyxl.load_workbook(path)["Maps"]
    assert values["B3"].value == 2
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.groups["maps"].cells == 9  # P is 3 × 3
    # Rows of P sum to 1 at every t: the map shows a probability distribution.
    assert sum(frame[f"P1[2,{u}]@1"].iloc[2] for u in (1, 2, 3)) == pytest.approx(1.0)
    book = openpyxl.load_workbook(path)
    book["Maps"]["C8"] = "=0.5"
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == "Maps!C8"


def _column_range(spec: Spec, qid: str) -> str:
    col = layout.column_letter(ids.all_ids(spec).index(qid) + 1)
    return f"${col}${layout.FIRST_DATA_ROW}:${col}${layout.FIRST_DATA_ROW + spec.iterations}"


def test_a_formula_past_excels_length_is_a_one_line_error(tmp_path: Path) -> None:
    """A layernorm over 400 features: its variance is one formula of 400 squares, past 8,192
    characters (sums of products, a kernel's gradient over a 22×22 map, are split into parts:
    tests/test_layered_split.py)."""
    spec = layered_spec([400], [{"kind": "layernorm"}, {"kind": "dense", "size": 1}], "mse", samples=1)
    with pytest.raises(SheetnetError, match=r"var1 would be [\d,]+ characters long.*fewer features"):
        api.build(spec, tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_a_hostile_layers_cell_is_a_one_line_error(tmp_path: Path) -> None:
    """A Layers cell edited to promise a huge network is refused before anything is placed."""
    spec = case_spec("rnn")
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    ws = book["Network"]
    row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Layers")
    ws.cell(row, 2).value = '[{"kind": "rnn", "size": 100000}, {"kind": "dense", "size": 2}]'
    book.save(path)
    with pytest.raises(SheetnetError, match=r"describe a network with [\d,]+ inputs and parameters, "
                                            r"but the sheet holds only"):
        read_workbook(path)
    ws.cell(row, 2).value = "[{not json"
    book.save(path)
    with pytest.raises(SheetnetError, match=r"\(layers\) must be the JSON list written by sheetnet"):
        read_workbook(path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_guide_explains_every_layer_forward_and_backward(tmp_path: Path, lang: str) -> None:
    from sheetnet.sheets.i18n import STRINGS

    spec = case_spec("attention+layernorm+meanpool")
    path = tmp_path / "guide.xlsx"
    api.build(spec, path, lang=lang)
    book = openpyxl.load_workbook(path)
    words = STRINGS[lang]
    assert book.sheetnames[0] == words["sheet.guide"] and book.active.title == words["sheet.guide"]
    texts = {c.value for row in book.worksheets[0].iter_rows() for c in row if isinstance(c.value, str)}
    for layer in spec.layers:
        assert words[f"guide.layer.{layer.kind}"] in texts and words[f"guide.back.{layer.kind}"] in texts
    assert words["guide.layer_row"].format(l=1, kind="attention", shape="[3, 2]") in texts
    assert words["guide.sheet.layer_maps"] in texts  # its attention layer has a Maps sheet
