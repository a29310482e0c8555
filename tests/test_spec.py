"""Loading and validating a spec: every kind of bad input gives one clear SheetnetError."""

from __future__ import annotations

import copy
import itertools
import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sheetnet.errors import SheetnetError
from sheetnet.model.spec import (
    Spec,
    load_spec,
    load_template,
    parse_spec,
    template_names,
    templates_dir,
    to_table,
)

# --- a TOML writer small enough for tests (tomllib only reads) ------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(table: dict[str, Any]) -> str:
    lines = [f"{key} = {_toml_value(v)}" for key, v in table.items() if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in sub.items()]
    return "\n".join(lines) + "\n"


def default_table() -> dict[str, Any]:
    """The default template (seed 004) as a parsed TOML table."""
    return tomllib.loads((templates_dir() / "seed-004-2-2-2.toml").read_text(encoding="utf-8"))


# --- the bad inputs: (name, how to spoil the default table, words the message must contain) ---

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(table: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            table = table[key]
        table[last] = value

    return mutate


def _sets(*changes: tuple[str, Any]) -> Mutation:
    def mutate(table: dict[str, Any]) -> None:
        for path, value in changes:
            _set(path, value)(table)

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(table: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            table = table[key]
        del table[last]

    return mutate


BAD_SPECS: list[tuple[str, Mutation, list[str]]] = [
    ("unknown top-level field", _set("titel", "x"), ["unknown field 'titel'", "title"]),
    ("unknown nested field", _set("network.size", [2, 2]), ["unknown field 'network.size'", "sizes"]),
    ("unknown training field", _set("training.lr", 0.5), ["unknown field 'training.lr'"]),
    ("unknown activation", _set("network.activations", ["sigmoid", "swish"]),
     ["network.activations", "'swish'", "sigmoid, tanh, relu, leaky_relu, softmax"]),
    ("unknown loss", _set("network.loss", "hinge"),
     ["network.loss", "'hinge'", "half_sse", "cross_entropy, binary_cross_entropy"]),
    ("softmax on a hidden layer", _sets(("network.activations", ["softmax", "softmax"]),
                                        ("network.loss", "cross_entropy")),
     ["network.activations", "softmax", "output layer"]),
    ("softmax without cross_entropy", _set("network.activations", ["sigmoid", "softmax"]),
     ["network.loss", "softmax", '"cross_entropy"']),
    ("cross_entropy without softmax", _set("network.loss", "cross_entropy"),
     ["network.loss", "cross_entropy", "softmax", '"sigmoid"']),
    ("binary_cross_entropy on a linear output", _sets(("network.activations", ["sigmoid", "linear"]),
                                                      ("network.loss", "binary_cross_entropy")),
     ["binary_cross_entropy", "sigmoid", '"linear"']),
    ("cross_entropy targets not one-hot", _sets(("network.activations", ["sigmoid", "softmax"]),
                                                ("network.loss", "cross_entropy")),
     ["data.targets[1]", "one-hot", "[0.5, 0.9]"]),
    ("cross_entropy second target not one-hot", _sets(
        ("network.activations", ["sigmoid", "softmax"]), ("network.loss", "cross_entropy"),
        ("data.inputs", [[0.1, 0.2], [0.3, 0.4]]), ("data.targets", [[0, 1], [1, 1]])),
     ["data.targets[2]", "one-hot"]),
    ("binary_cross_entropy target above 1", _sets(("network.loss", "binary_cross_entropy"),
                                                  ("data.targets", [[0.5, 1.5]])),
     ["data.targets[1]", "[0, 1]", "binary_cross_entropy"]),
    ("leaky slope 1", _set("network.leaky_slope", 1.0), ["network.leaky_slope", "less than 1"]),
    ("leaky slope negative", _set("network.leaky_slope", -0.1), ["network.leaky_slope", "at least 0"]),
    ("leaky slope not a number", _set("network.leaky_slope", "small"), ["network.leaky_slope", "number"]),
    ("unknown bias", _set("network.bias", "per-layer"), ["network.bias", "'per-layer'", "per-neuron"]),
    ("unknown reduction", _set("training.reduction", "max"), ["training.reduction", "'max'"]),
    ("activations count", _set("network.activations", ["sigmoid"]), ["network.activations", "2 entries"]),
    ("too few layers", _set("network.sizes", [2]), ["network.sizes"]),
    ("zero-sized layer", _set("network.sizes", [2, 0, 2]), ["network.sizes"]),
    ("weights: too many rows", _set("init.weights", [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]],
                                                     [[0.25, 0.3], [0.35, 0.4]]]),
     ["init.weights[1]", "2 rows"]),
    ("weights: too few columns", _set("init.weights", [[[0.1], [0.3]], [[0.25, 0.3], [0.35, 0.4]]]),
     ["init.weights[1][1]", "2 numbers"]),
    ("weights: too many columns", _set("init.weights", [[[0.1, 0.2], [0.3, 0.4]],
                                                        [[0.25, 0.3, 0.1], [0.35, 0.4]]]),
     ["init.weights[2][1]", "2 numbers"]),
    ("weights: one matrix missing", _set("init.weights", [[[0.1, 0.2], [0.3, 0.4]]]),
     ["init.weights", "2 matrices"]),
    ("weights: not a number", _set("init.weights", [[[0.1, "a"], [0.3, 0.4]], [[0.25, 0.3], [0.35, 0.4]]]),
     ["init.weights[1][1]"]),
    ("weights: nan", _set("init.weights", [[[0.1, math.nan], [0.3, 0.4]], [[0.25, 0.3], [0.35, 0.4]]]),
     ["init.weights[1][1]", "finite"]),
    ("biases: wrong length", _set("init.biases", [[0.5], [0.9, 0.9]]), ["init.biases[1]", "2 numbers"]),
    ("biases: one layer missing", _set("init.biases", [[0.5, 0.5]]), ["init.biases", "2 entries"]),
    ("biases: missing", _delete("init.biases"), ["init.biases is missing"]),
    ("biases: shared needs one number", _set("network.bias", "shared"), ["init.biases[1]", "one number"]),
    ("biases given with bias none", _set("network.bias", "none"), ["init.biases", "none"]),
    ("inputs: wrong width", _set("data.inputs", [[0.02]]), ["data.inputs[1]", "2 numbers"]),
    ("inputs: second sample wrong", _set("data.inputs", [[0.02, 0.04], [0.1, 0.2, 0.3]]),
     ["data.inputs[2]", "2 numbers"]),
    ("targets: wrong width", _set("data.targets", [[0.5, 0.9, 0.1]]), ["data.targets[1]", "2 numbers"]),
    ("inputs vs targets count", _set("data.inputs", [[0.02, 0.04], [0.1, 0.2]]),
     ["data.inputs has 2 samples", "data.targets has 1"]),
    ("zero learning rate", _set("training.learning_rate", 0.0), ["training.learning_rate", "positive"]),
    ("negative learning rate", _set("training.learning_rate", -0.5), ["training.learning_rate", "positive"]),
    ("learning rate not a number", _set("training.learning_rate", "fast"), ["training.learning_rate"]),
    ("learning rate infinite", _set("training.learning_rate", math.inf), ["training.learning_rate"]),
    ("zero iterations", _set("training.iterations", 0), ["training.iterations", "positive integer"]),
    ("negative iterations", _set("training.iterations", -5), ["training.iterations", "positive integer"]),
    ("fractional iterations", _set("training.iterations", 2.5), ["training.iterations", "integer"]),
    ("missing data table", _delete("data"), ["[data]", "missing"]),
    ("missing learning rate", _delete("training.learning_rate"), ["training.learning_rate is missing"]),
    ("seed and weights", _set("init.seed", 7), ["seed", "not both"]),
    ("train_bias not a boolean", _set("network.train_bias", "yes"), ["network.train_bias", "true or false"]),
]


def spoiled(mutate: Mutation) -> dict[str, Any]:
    table = copy.deepcopy(default_table())
    mutate(table)
    return table


@pytest.mark.parametrize(("mutate", "words"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_one_clear_error(mutate: Mutation, words: list[str]) -> None:
    with pytest.raises(SheetnetError) as info:
        parse_spec(spoiled(mutate), source="my.toml")
    message = str(info.value)
    assert message.startswith("my.toml: ")
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(("mutate", "words"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_file_names_the_file(tmp_path: Path, mutate: Mutation, words: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(spoiled(mutate)), encoding="utf-8")
    with pytest.raises(SheetnetError, match=r"bad\.toml: ") as info:
        load_spec(path)
    for word in words:
        assert word in str(info.value)


def test_malformed_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[network\nsizes = [2, 2]\n", encoding="utf-8")
    with pytest.raises(SheetnetError, match="not valid TOML") as info:
        load_spec(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SheetnetError, match="no such file"):
        load_spec(tmp_path / "nowhere.toml")


def test_unknown_template() -> None:
    with pytest.raises(SheetnetError, match="unknown template 'nope'") as info:
        load_template("nope")
    for name in template_names():
        assert name in str(info.value)


# --- good input --------------------------------------------------------------------------------


def test_toml_writer_round_trips_the_default() -> None:
    assert tomllib.loads(to_toml(default_table())) == default_table()


def test_default_template_fields() -> None:
    spec = load_template("seed-004-2-2-2")
    assert spec.name == "seed-004-2-2-2"
    assert spec.sizes == (2, 2, 2) and spec.n_layers == 2 and spec.n_samples == 1
    assert spec.activations == ("sigmoid", "sigmoid")
    assert spec.weights[0] == ((0.05, 0.10), (0.15, 0.20))  # [to][from]: w31, w32 / w41, w42
    assert spec.weights[1] == ((0.25, 0.30), (0.35, 0.40))
    assert spec.biases == ((0.5, 0.5), (0.9, 0.9))
    assert spec.inputs == ((0.02, 0.04),) and spec.targets == ((0.5, 0.9),)
    assert spec.learning_rate == 0.5 and spec.iterations == 100
    assert spec.trains_bias


def test_defaults_when_optional_fields_are_left_out() -> None:
    table = spoiled(_delete("network.bias"))
    for path in ("title", "network.train_bias", "network.loss", "training.iterations", "training.reduction"):
        _delete(path)(table)
    spec = parse_spec(table, name="x")
    assert (spec.bias, spec.train_bias, spec.loss) == ("per-neuron", True, "half_sse")
    assert (spec.iterations, spec.reduction) == (100, "mean")
    assert spec.title == "x"


def test_a_single_sample_may_be_a_flat_list() -> None:
    table = spoiled(_set("data.inputs", [0.02, 0.04]))
    _set("data.targets", [0.5, 0.9])(table)
    assert parse_spec(table) == parse_spec(default_table())


def test_integers_become_floats() -> None:
    spec = parse_spec(spoiled(_set("training.learning_rate", 1)))
    assert spec.learning_rate == 1.0 and isinstance(spec.learning_rate, float)


@pytest.mark.parametrize("name", ["seed-000-regression", "seed-001-bp-demo", "seed-003-single-update",
                                  "seed-004-2-2-2"])
def test_replace_revalidates_and_round_trips(name: str) -> None:
    spec = load_template(name)
    assert parse_spec(to_table(spec), name=spec.name) == spec
    changed = spec.replace(iterations=3, learning_rate=0.25)
    assert (changed.iterations, changed.learning_rate) == (3, 0.25)
    assert changed.weights == spec.weights and changed.biases == spec.biases
    with pytest.raises(SheetnetError, match="learning_rate"):
        spec.replace(learning_rate=-1.0)
    with pytest.raises(SheetnetError, match="iterations"):
        spec.replace(iterations=0)


def seeded_table(seed: int, sizes: list[int], bias: str = "per-neuron") -> dict[str, Any]:
    n_in, n_out = sizes[0], sizes[-1]
    return {
        "network": {"sizes": sizes, "activations": ["sigmoid"] * (len(sizes) - 1), "bias": bias},
        "training": {"learning_rate": 0.5, "iterations": 5},
        "init": {"seed": seed},
        "data": {"inputs": [[0.1 * (i + 1) for i in range(n_in)]],
                 "targets": [[0.5] * n_out]},
    }


def test_seeded_init_is_deterministic_and_scaled() -> None:
    sizes = [4, 16, 3]
    first = parse_spec(seeded_table(7, sizes))
    assert first == parse_spec(seeded_table(7, sizes))
    assert first.weights != parse_spec(seeded_table(8, sizes)).weights
    for layer, (n_from, n_to) in enumerate(itertools.pairwise(sizes)):
        w = np.array(first.weights[layer])
        assert w.shape == (n_to, n_from)
        assert np.abs(w).max() <= 1 / math.sqrt(n_from)
        np.testing.assert_array_equal(w, w.round(4))  # four decimals, copyable by hand
        assert len(np.unique(w)) > w.size // 2  # really random, not a constant
    assert first.biases == ((0.0,) * 16, (0.0,) * 3)
    assert parse_spec(seeded_table(7, sizes, "shared")).biases == ((0.0,), (0.0,))
    assert parse_spec(seeded_table(7, sizes, "none")).biases == ((), ())


def test_seeded_spec_survives_replace() -> None:
    spec: Spec = parse_spec(seeded_table(7, [2, 3, 1]))
    assert spec.replace(iterations=9).weights == spec.weights


def test_seed_must_be_an_integer() -> None:
    table = seeded_table(7, [2, 2])
    table["init"]["seed"] = "seven"
    with pytest.raises(SheetnetError, match=r"init\.seed"):
        parse_spec(table)
