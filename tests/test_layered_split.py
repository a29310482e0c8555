"""Long sums of a network of layers split into partial-sum columns (issue 20: "a long sum is split
across helper columns rather than written as plain text"): a conv on a 1×24×24 input and a dense
layer over its 484 flattened outputs build within Excel's limits, every part is a Training column
with NumPy reference values, the formulas engine and LibreOffice recompute every row to the
reference, and a tampered part fails the check by its address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from sheetnet import api
from sheetnet.equations import layer_names
from sheetnet.equations.layers import layered_columns
from sheetnet.expr.formula import Num
from sheetnet.model import ids, layer_ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec
from sheetnet.sheets import layout
from sheetnet.verify.run import run_check
from tests.conftest import needs_libreoffice
from tests.test_excel_limits import assert_within_excels_limits
from tests.test_layered_workbook import layered_spec

ITERATIONS = 3

CASES: dict[str, tuple[list[int], list[dict[str, Any]], str, dict[str, Any]]] = {
    # A 22×22 feature map: the kernel's gradient sums 484 products, the dense layer 484 inputs.
    "conv 1x24x24": ([1, 24, 24], [
        {"kind": "conv2d", "channels": 1, "kernel": 3, "activation": "relu"}, {"kind": "flatten"},
        {"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy", {"samples": 1}),
    # A 6×6 kernel over 2 channels: z sums 72 products; sgd reads each x through INDEX.
    "wide kernel, sgd": ([2, 7, 7], [
        {"kind": "conv2d", "channels": 1, "kernel": 6, "activation": "tanh"}, {"kind": "flatten"},
        {"kind": "dense", "size": 1}], "mse", {"samples": 3, "mode": "sgd", "shuffle": True, "seed": 2}),
    # z sums 62 features' and 4 units' products: part 2 holds the units', absent at the first
    # step (h₀ = 0).
    "rnn, 62 features": ([3, 62], [{"kind": "rnn", "size": 4},
                                   {"kind": "dense", "size": 2, "activation": "softmax"}],
                         "cross_entropy", {"samples": 2}),
    # Q, K and V each sum 70 features' products.
    "attention over 70 features": ([3, 70], [{"kind": "attention", "dim": 2}, {"kind": "meanpool"},
                                             {"kind": "dense", "size": 1, "activation": "sigmoid"}],
                                   "binary_cross_entropy", {"samples": 2}),
    # 70 samples a row, the mean: every gradient sums 70 terms, then divides by 70; adam's state.
    "batch of 70, adam": ([3], [{"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy",
                          {"samples": 70, "optimizer": "adam", "learning_rate": 0.05}),
}


def case_spec(name: str) -> Spec:
    input_shape, layers, loss, options = CASES[name]
    return layered_spec(input_shape, layers, loss, iterations=ITERATIONS, **options)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Spec, Path]]:
    folder = tmp_path_factory.mktemp("split")
    result = {}
    for name in CASES:
        spec = case_spec(name)
        path = folder / (name.replace(" ", "-").replace(",", "") + ".xlsx")
        api.build(spec, path)
        result[name] = (spec, path)
    return result


def parts_of(spec: Spec) -> list[str]:
    return [q for q in ids.all_ids(spec) if layer_ids.PART in q]


def test_a_sum_is_split_into_runs_of_at_most_64_terms() -> None:
    assert layer_ids.split(64) == []  # one formula: nothing changes up to MAX_TERMS
    assert layer_ids.split(65) == [range(0, 33), range(33, 65)]
    runs = layer_ids.split(484)
    assert [len(r) for r in runs] == [61] * 7 + [57]
    assert [i for r in runs for i in r] == list(range(484))  # every term once, in order
    assert layer_ids.part_id("z1[2,3,4]", 0) == "z1[2,3,4]#1"
    assert layer_ids.part_id("z4[1]@2", 2) == "z4[1]#3@2"  # the slot stays last
    parsed = ids.parse("z1[2,3,4]#1@2")
    assert (parsed.kind, parsed.index, parsed.part, parsed.sample) == ("z", (1, 2, 3), 0, 1)
    assert str(parsed) == "z1[2,3,4]#1@2"


def test_the_parts_are_columns_of_their_own_just_before_their_group() -> None:
    spec = case_spec("conv 1x24x24")
    order = ids.all_ids(spec)
    parts = parts_of(spec)
    # dense z3[j] over 484 inputs: 8 parts; the kernel's 9 gradients and the bias's: 8 parts each.
    assert [q for q in parts if q.startswith("z3[1]")] == [f"z3[1]#{p}" for p in range(1, 9)]
    assert len(parts) == 2 * 8 + 10 * 8
    assert order.index("z3[2]#8") + 1 == order.index("z3[1]")
    assert order.index("db1[1]#8") + 1 == order.index(ids.gradients(spec)[0])
    assert layer_names.label(spec, "z3[1]#2") == "z⁽³⁾[1] part 2 of 8"
    assert layer_names.label(spec, "dK1[1,1,3,3]#8") == "∂L/∂K⁽¹⁾[1,1,3,3] part 8 of 8"
    two = layered_spec([70], [{"kind": "dense", "size": 2, "activation": "softmax"}], "cross_entropy",
                       samples=2)  # two samples a row: each has its parts, the slot last
    assert [q for q in parts_of(two) if q.startswith("z1[1]")] == ["z1[1]#1@1", "z1[1]#2@1", "z1[1]#1@2",
                                                                   "z1[1]#2@2"]
    assert layer_names.label(two, "z1[1]#1@2", "sample {k}") == "z⁽¹⁾[1] part 1 of 2 (sample 2)"
    wide = case_spec("wide kernel, sgd")  # sgd: one sample a row, no @k
    assert [q for q in parts_of(wide) if q.startswith("z1[1,1,1]")] == ["z1[1,1,1]#1", "z1[1,1,1]#2"]


def test_an_rnn_part_of_absent_terms_is_zero_at_the_first_step() -> None:
    """30 features and 40 units: part 2 of z holds only the units' products, none at t = 1."""
    layers = [{"kind": "rnn", "size": 40}, {"kind": "dense", "size": 2, "activation": "softmax"}]
    spec = layered_spec([3, 30], layers, "cross_entropy", samples=2, iterations=ITERATIONS)
    columns = {c.qid: c for c in layered_columns(spec)}
    assert [q for q in parts_of(spec) if q.startswith("z1[1,1]#")] == ["z1[1,1]#1@1", "z1[1,1]#2@1",
                                                                       "z1[1,1]#1@2", "z1[1,1]#2@2"]
    assert columns["z1[1,1]#2@1"].formula == Num(0)  # h₀ = 0: none of Wh's products at t = 1
    assert columns["z1[2,1]#2@1"].formula != Num(0)
    frame = train(spec)
    assert (frame["z1[1,1]#2@1"] == 0).all() and (frame["z1[2,1]#2@1"] != 0).all()


def test_the_templates_have_no_parts() -> None:
    for name in ("cnn-stripes", "rnn-sequence", "attention-marker"):
        assert parts_of(api.template(name)) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reference_parts_add_up_to_its_own_quantities(name: str) -> None:
    """Each part is computed by the NumPy reference from its own terms: they add up to its z
    (bias apart) and, times 1/B for the mean, to its gradient."""
    spec = case_spec(name)
    frame = train(spec)
    wholes: dict[str, list[str]] = {}
    for qid in parts_of(spec):
        wholes.setdefault(str(ids.parse(qid).replace(part=None)), []).append(qid)
    assert wholes
    r = 1 / spec.slots if spec.reduction == "mean" else 1.0
    rows = frame.iloc[:ITERATIONS]
    for whole, parts in wholes.items():
        total = rows[parts].sum(axis=1).to_numpy()
        parsed = ids.parse(whole)
        if parsed.kind == "z":  # the bias of its channel or unit is added in the quantity's cell
            unit = parsed.index[-1:] if spec.layers[parsed.layer or 0].kind == "rnn" else parsed.index[:1]
            bias = rows[layer_names.parameter(spec, parsed.layer or 0, "bias", unit)].to_numpy()
            np.testing.assert_allclose(total + bias, rows[whole].to_numpy(), rtol=1e-12, atol=1e-14)
        elif parsed.kind in ("Q", "K", "V"):
            np.testing.assert_allclose(total, rows[whole].to_numpy(), rtol=1e-12, atol=1e-14)
        else:
            np.testing.assert_allclose(r * total, rows[whole].to_numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_split_network_builds_within_excels_limits_and_checks(
        built: dict[str, tuple[Spec, Path]], name: str) -> None:
    spec, path = built[name]
    assert parts_of(spec)
    assert assert_within_excels_limits(path) > 0
    book = openpyxl.load_workbook(path, read_only=True)
    ws = book["Training"]
    header = next(ws.iter_rows(min_row=layout.ID_ROW, max_row=layout.ID_ROW, values_only=True))
    assert list(header[: len(ids.all_ids(spec))]) == ids.all_ids(spec)
    book.close()
    widths = openpyxl.load_workbook(path)["Training"].column_dimensions
    part = layout.column_letter(ids.all_ids(spec).index(parts_of(spec)[0]) + 1)
    assert widths[part].width > 2 * widths["B"].width - 5  # room for "… part 1 of 8 (sample 1)"
    report = run_check(path)
    assert report.ok, report.summary()
    assert report.wrong == 0 and report.cells >= ITERATIONS * (len(ids.all_ids(spec)) - 1)


@pytest.mark.libreoffice
@needs_libreoffice
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_split_network_recomputes_in_libreoffice(built: dict[str, tuple[Spec, Path]], name: str) -> None:
    spec, path = built[name]
    report = run_check(path, engine="libreoffice")
    assert report.ok, report.summary()
    assert report.cells >= ITERATIONS * (len(ids.all_ids(spec)) - 1)


def test_a_tampered_part_fails_the_check_and_is_named(tmp_path: Path) -> None:
    spec = case_spec("wide kernel, sgd")
    path = tmp_path / "tampered.xlsx"
    api.build(spec, path)
    qid = "z1[1,2,2]#2"
    assert qid in parts_of(spec)
    address = layout.address(layout.FIRST_DATA_ROW + 2, ids.all_ids(spec).index(qid) + 1)
    book = openpyxl.load_workbook(path)
    formula = book["Training"][address].value
    assert isinstance(formula, str) and formula.startswith("=") and formula.count("*") == 36
    book["Training"][address] = formula + "*1.001"
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Training!{address}" and report.first_wrong.qid == qid
    assert report.wrong == 1
