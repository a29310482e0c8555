"""Networks of [[network.layers]]: the spec, its one-line errors, the column ids, the templates."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from sheetnet.classroom import exercise
from sheetnet.errors import SheetnetError
from sheetnet.model import ids, layer_ids, reference
from sheetnet.model.spec import load_template, parse_spec, to_table, validate
from tests.conftest import LAYERED_TEMPLATES

CNN: dict[str, Any] = {
    "network": {"input_shape": [1, 4, 4], "loss": "cross_entropy", "layers": [
        {"kind": "conv2d", "channels": 2, "kernel": 3, "activation": "relu"},
        {"kind": "maxpool2d", "size": 2},
        {"kind": "flatten"},
        {"kind": "dense", "size": 2, "activation": "softmax"}]},
    "training": {"learning_rate": 0.1, "iterations": 3},
    "init": {"layers": [
        {"weight": [[[[0.1, 0.2, 0.3], [0.0, -0.1, 0.2], [0.3, 0.1, 0.0]]],
                    [[[-0.2, 0.1, 0.0], [0.2, 0.3, -0.1], [0.0, 0.1, 0.2]]]], "bias": [0.0, 0.1]},
        {"weight": [[0.5, -0.5], [-0.3, 0.4]], "bias": [0.0, 0.0]}]},
    "data": {"inputs": [np.arange(16.0).reshape(1, 4, 4).tolist(), np.eye(4).reshape(1, 4, 4).tolist()],
             "targets": [[1, 0], [0, 1]]},
}


def changed(path: str, value: Any, base: dict[str, Any] = CNN) -> dict[str, Any]:
    """base with one value replaced, path like "network.layers.1.kind" (list positions from 0)."""
    table = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = table
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return table


def error_of(table: dict[str, Any]) -> str:
    with pytest.raises(SheetnetError) as info:
        parse_spec(table, source="net.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("net.toml: ")
    return message.removeprefix("net.toml: ")


def test_the_issues_network_loads_with_its_shapes() -> None:
    spec = parse_spec(CNN)
    assert spec.layered and spec.input_shape == (1, 4, 4)
    assert [(layer.kind, layer.in_shape, layer.out_shape) for layer in spec.layers] == [
        ("conv2d", (1, 4, 4), (2, 2, 2)), ("maxpool2d", (2, 2, 2), (2, 1, 1)),
        ("flatten", (2, 1, 1), (2,)), ("dense", (2,), (2,))]
    assert spec.sizes == (16, 2) and spec.activations == ("softmax",)
    assert spec.inputs[0] == tuple(float(x) for x in range(16))  # C order
    assert spec.layers[0].array("weight").shape == (2, 1, 3, 3)
    assert spec.layers[0].array("weight")[1, 0, 1, 2] == -0.1
    assert validate(spec) == spec and parse_spec(to_table(spec)) == spec


@pytest.mark.parametrize(("path", "value", "message"), [
    ("network.layers.2", None,
     "layer 3 (dense) expects a vector [inputs], layer 2 gives [2, 1, 1]; put a flatten layer before it"),
    ("init.layers.1.weight", [[0.1] * 8, [0.2] * 8],
     "layer 4 (dense) expects 8 inputs (init.layers[2].weight is [2][8]), layer 3 gives [2]"),
    ("network.layers.1.kind", "maxpool3d",
     "layer 2: unknown kind 'maxpool3d'; expected one of: conv2d, maxpool2d, avgpool2d, flatten, dense,"
     " rnn, attention, layernorm, meanpool"),
    ("init.layers.0.weight", [[[[0.1, 0.2], [0.3, 0.4]]]] * 2,
     "init.layers[1] (layer 1, conv2d).weight must be [2][1][3][3] (torch's shape), got [2][1][2][2]"),
    ("init.layers.0.bias", [0.1],
     "init.layers[1] (layer 1, conv2d).bias must be [2] (torch's shape), got [1]"),
    ("network.layers.0.kernel", 5,
     "layer 1 (conv2d) expects [channels, height, width] with height and width ≥ 5 (kernel 5),"
     " network.input_shape gives [1, 4, 4]"),
    ("network.layers.1.size", 3,
     "layer 2 (maxpool2d) expects [channels, height, width] with height and width divisible by 3"
     " (size 3), layer 1 gives [2, 2, 2]"),
    ("network.layers.1.activation", "relu",
     "layer 2 (maxpool2d) has no field 'activation'; a maxpool2d layer takes: kind, size"),
    ("network.layers.0", {"kind": "rnn", "size": 2},
     "layer 1 (rnn) expects a sequence [steps, features], network.input_shape gives [1, 4, 4]"),
    ("network.layers.0.channels", None, "layer 1 (conv2d): channels is missing"),
    ("network.layers.1.kind", None,
     "layer 2: kind is missing; give one of: conv2d, maxpool2d, avgpool2d, flatten, dense, rnn,"
     " attention, layernorm, meanpool"),
    ("network.layers.0.activation", "softmax",
     "layer 1 (conv2d): softmax is only allowed on the last (dense) layer"),
    ("network.layers.3", {"kind": "flatten"},
     "layer 4 (flatten): the last layer must be dense (the output the loss reads); add a dense layer"
     " at the end"),
    ("network.input_shape", [1, 4, 4, 1],
     "network.input_shape must list 1 to 3 positive integers: [features], [steps, features] or"
     " [channels, height, width], got [1, 4, 4, 1]"),
    ("data.inputs.1", [[[0.0] * 3] * 4],
     "data.inputs[2] must have network.input_shape [1, 4, 4], got [1, 4, 3]"),
    ("init.layers.1", None,
     "init.layers has 1 table but 2 of the layers have parameters (layer 1 conv2d, layer 4 dense);"
     " give one table each, in order"),
    ("init.layers.1.gain", [1.0, 1.0],
     "init.layers[2] (layer 4, dense) has no parameter 'gain'; a dense layer takes: weight, bias"),
    ("network.sizes", [16, 2],
     "network.sizes with network.layers: give either sizes/activations (a dense network) or"
     " input_shape and [[network.layers]], not both"),
    ("network.bias", "shared",
     "network.bias and network.train_bias apply to sizes/activations networks; a network of layers"
     " has a trainable bias per unit: remove them"),
    ("data", {"csv": "flowers.csv", "input_columns": ["a"], "target_columns": ["b"]},
     "data.csv works for dense networks (network.sizes) only; give a network of layers its samples"
     " inline in data.inputs, each of network.input_shape"),
    ("init", {"weights": [[[1.0]]]},
     "init.weights is for sizes/activations networks; a network of layers takes one [[init.layers]]"
     " table per layer with parameters, or init.seed"),
])
def test_a_bad_network_of_layers_is_one_line_naming_the_layer(path: str, value: Any,
                                                              message: str) -> None:
    assert error_of(changed(path, value)) == message


def test_the_sequence_kinds_check_their_shapes() -> None:
    table = changed("network.layers", [{"kind": "attention", "dim": 2}, {"kind": "layernorm"},
                                       {"kind": "meanpool"}, {"kind": "meanpool"},
                                       {"kind": "dense", "size": 2}])
    table = changed("network.input_shape", [3, 2], table)
    table["network"]["loss"] = "half_sse"
    assert error_of(table) == ("layer 4 (meanpool) expects a sequence [steps, features], layer 3"
                               " gives [2]")
    table["network"]["layers"][3] = {"kind": "dense", "size": 3, "activation": "tanh"}
    table["data"] = {"inputs": [[[1, 2], [3, 4], [5, 6]]], "targets": [[0.5, 0.5]]}
    table["init"] = {"layers": [{"wq": [[1, 0], [0, 1]], "wk": [[1, 0], [0, 1]], "wv": [[1, 0]]},
                                {"gain": [1, 1], "bias": [0, 0]},
                                {"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, 0]},
                                {"weight": [[1, 0, 0], [0, 1, 0]], "bias": [0, 0]}]}
    assert error_of(table) == ("init.layers[1] (layer 1, attention).wv must be [2][2] (torch's"
                               " shape), got [1][2]")
    table["init"] = {"seed": 3}
    spec = parse_spec(table)
    assert [layer.out_shape for layer in spec.layers] == [(3, 2), (3, 2), (2,), (3,), (2,)]
    assert spec.layers[1].array("gain").tolist() == [1.0, 1.0]  # torch's start: γ = 1, β = 0


def test_a_spec_error_in_a_file_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "net.toml"
    path.write_text('[network]\ninput_shape = [1, 4, 4]\nloss = "cross_entropy"\n'
                    '[[network.layers]]\nkind = "conv2d"\nchannels = 2\nkernel = 3\n'
                    '[[network.layers]]\nkind = "dense"\nsize = 2\nactivation = "softmax"\n'
                    '[training]\nlearning_rate = 0.1\n[init]\nseed = 1\n'
                    '[data]\ninputs = [[[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]]\n'
                    'targets = [[1, 0]]\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "sheetnet", "train", "-c", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"sheetnet: error: {path}: layer 2 (dense) expects a vector [inputs], layer 1 gives"
        " [2, 2, 2]; put a flatten layer before it"]


# (build writes a network of layers: tests/test_layered_workbook.py; the classroom kit's numbers:
# tests/test_class_layers.py). The commands take a network of layers from the command line too.
@pytest.mark.parametrize(("command", "template", "written"), [
    (["exercise", "out.xlsx"], "cnn-stripes", "out.xlsx"),
    (["class", "roster.csv", "room", "--secret", "s"], "rnn-sequence", "room/students/1.xlsx")])
def test_the_workbook_commands_take_a_network_of_layers(tmp_path: Path, command: list[str], template: str,
                                                        written: str) -> None:
    (tmp_path / "roster.csv").write_text("name,id\nAnn,1\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "sheetnet", *command, "-t", template, "-q"],
                            capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(tmp_path / written)
    ws = book["Exercise"]  # its id row names iteration 1's quantities, the first a layer-1 sum
    asked = [q for r in range(exercise.FIRST_ROW, ws.max_row + 1) if (q := ws.cell(r, exercise.ID).value)]
    assert asked[0] == ("z1[1,1,1]@1" if template == "cnn-stripes" else "z1[1,1]@1")


# --- ids --------------------------------------------------------------------------------------


def test_the_ids_of_the_issues_network() -> None:
    spec = parse_spec(CNN)
    assert ids.params(spec)[:3] == ["K1[1,1,1,1]", "K1[1,1,1,2]", "K1[1,1,1,3]"]
    assert ids.params(spec)[18:] == ["b1[1]", "b1[2]", "W4[1,1]", "W4[1,2]", "W4[2,1]", "W4[2,2]",
                                     "b4[1]", "b4[2]"]
    forward = ids.forward(spec)
    assert forward[:2] == ["z1[1,1,1]@1", "z1[1,1,2]@1"]
    assert forward[16:20] == ["m2[1,1,1]@1", "m2[2,1,1]@1", "a2[1,1,1]@1", "a2[2,1,1]@1"]
    assert forward[20:24] == ["z4[1]@1", "z4[2]@1", "a4[1]@1", "a4[2]@1"]
    assert len(forward) == 2 * 24
    assert ids.losses(spec) == ["loss@1", "loss@2", "correct@1", "correct@2", "loss", "accuracy"]
    backward = ids.backward(spec)
    assert backward[:4] == ["delta4[1]@1", "delta4[2]@1", "da2[1,1,1]@1", "da2[2,1,1]@1"]
    assert backward[4:12] == [f"da1[{c},{r},{s}]@1" for c in (1, 2) for r in (1, 2) for s in (1, 2)]
    assert backward[12] == "delta1[1,1,1]@1" and len(backward) == 2 * 20
    assert ids.gradients(spec)[0] == "dK1[1,1,1,1]" and ids.gradients(spec)[-1] == "db4[2]"
    assert layer_ids.input_ids(spec, 3, 1) == ["a2[1,1,1]@2", "a2[2,1,1]@2"]  # through the flatten
    assert layer_ids.grad_output_ids(spec, 2, 0) == ["da2[1,1,1]@1", "da2[2,1,1]@1"]
    assert layer_ids.input_ids(spec, 0, 0)[:2] == ["x[1]@1", "x[2]@1"]


def test_a_four_index_id_reads_back_and_a_dense_one_is_unchanged() -> None:
    qid = ids.parse("K1[2,1,3,3]@4")
    assert (qid.kind, qid.layer, qid.index, qid.sample) == ("K", 0, (1, 0, 2, 2), 3)
    assert str(qid) == "K1[2,1,3,3]@4"
    assert ids.parse("z1[1,2,2]") == ids.Qid("z", 0, 0, 1, more=(1,))
    assert ids.parse("W2[3,1]") == ids.Qid("W", layer=1, neuron=2, input=0)
    assert ids.parse("mu3@2") == ids.Qid("mu", layer=2, sample=1)
    assert ids.gradient_of("Wx2[1,2]") == "dWx2[1,2]"


@pytest.mark.parametrize("name", LAYERED_TEMPLATES)
@pytest.mark.parametrize("mode", ["batch", "sgd"])
def test_every_layered_id_reads_back_and_is_a_column_of_the_run(name: str, mode: str) -> None:
    spec = load_template(name).replace(mode=mode, batch_size=0 if mode == "batch" else 1,
                                       iterations=2, optimizer="adam")
    columns = ids.all_ids(spec)
    assert len(set(columns)) == len(columns)
    for qid in columns:
        assert str(ids.parse(qid.partition(":")[2] or qid)) == (qid.partition(":")[2] or qid)
    frame = reference.train(spec)
    assert list(frame.columns) == columns
    assert np.isfinite(frame.iloc[0].to_numpy()).all()


# --- the templates ----------------------------------------------------------------------------


def test_cnn_stripes_learns() -> None:
    spec = load_template("cnn-stripes")
    frame = reference.train(spec)
    assert len(frame.columns) == 239
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0] / 50
    assert frame["accuracy"].iloc[-1] == 1.0 and frame["accuracy"].iloc[0] == 0.5


def test_rnn_sequence_learns_the_first_number_through_four_steps() -> None:
    spec = load_template("rnn-sequence")
    assert spec.layers[0].in_shape == (4, 1)
    frame = reference.train(spec)
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0] / 50
    assert frame["accuracy"].iloc[-1] == 1.0
    # BPTT reaches the first step: its δ is not zero, and smaller than the last step's.
    first = np.abs(frame.loc[0, [f"delta1[1,{j}]@{k}" for j in (1, 2) for k in range(1, 5)]]).max()
    last = np.abs(frame.loc[0, [f"delta1[4,{j}]@{k}" for j in (1, 2) for k in range(1, 5)]]).max()
    assert 1e-4 < first < last


def test_attention_marker_learns_to_attend_to_the_marked_token() -> None:
    spec = load_template("attention-marker")
    frame = reference.train(spec)
    assert len(frame.columns) < 1000
    assert frame["accuracy"].iloc[-1] == 1.0
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0] / 1000
    marked = [int(np.argmax(np.array(x).reshape(3, 3)[:, 1])) + 1 for x in spec.inputs]
    end = spec.iterations

    def weight_on_marked(t: int) -> float:  # the smallest over every row of every sample
        return min(frame.loc[t, f"P1[{r},{marked[k]}]@{k + 1}"] for k in range(4) for r in (1, 2, 3))

    assert weight_on_marked(0) < 0.5 and weight_on_marked(end) > 0.95
