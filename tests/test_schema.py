"""The spec's JSON Schema: generated from the one declaration of the fields, committed as
sheetnet.schema.json, named by every template's #:schema line, and in agreement with the parser."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.errors import SheetnetError
from sheetnet.model import fields
from sheetnet.model.spec import FIELDS, load_template, parse_spec, template_names, templates_dir, to_table
from tests.test_spec import default_table

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "sheetnet.schema.json"
SCHEMA_LINE = "#:schema ../sheetnet.schema.json"


def generated() -> str:
    return json.dumps(fields.json_schema(), indent=2, ensure_ascii=False) + "\n"


def validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_the_committed_schema_is_a_fresh_generation() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated(), (
        "the field declaration changed: run `sheetnet schema > sheetnet.schema.json`")
    assert CliRunner().invoke(app, ["schema"]).stdout == generated()


def test_it_is_a_valid_draft_4_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)


@pytest.mark.parametrize("name", template_names())
def test_every_template_names_the_schema_and_validates(name: str) -> None:
    path = templates_dir() / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    assert (path.parent / SCHEMA_LINE.split()[1]).resolve() == SCHEMA_FILE.resolve()
    validator().validate(tomllib.loads(text))
    validator().validate(to_table(load_template(name)))  # what the code writes back validates too


def test_an_installed_wheel_keeps_the_relative_path() -> None:
    """The wheel puts the templates in sheetnet/templates, so the schema goes to sheetnet/."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["templates"] == "sheetnet/templates"
    assert include["sheetnet.schema.json"] == "sheetnet/sheetnet.schema.json"


def test_the_parser_knows_exactly_the_declared_fields() -> None:
    assert fields.table_keys() == FIELDS
    schema = fields.json_schema()
    for table, keys in FIELDS.items():
        node = schema if not table else schema["properties"][table]
        assert tuple(node["properties"]) == keys
        assert node["additionalProperties"] is False


def test_declared_defaults_are_what_the_parser_applies() -> None:
    """Drop every field that has a default from a real spec: the parser must fill in that default."""
    table = default_table()
    attribute = {"network.bias": "bias", "network.train_bias": "train_bias", "network.loss": "loss",
                 "network.leaky_slope": "leaky_slope", "training.iterations": "iterations",
                 "training.reduction": "reduction", "training.mode": "mode", "training.shuffle": "shuffle",
                 "training.seed": "seed", "data.standardize": "standardize", "description": "description",
                 "training.optimizer": "optimizer", "training.beta1": "beta1", "training.beta2": "beta2",
                 "training.alpha": "alpha", "training.weight_decay": "weight_decay"}
    with_default = [f for f in fields.DECLARED if f.default is not None and not f.path.startswith("zh.")]
    assert sorted(f.path for f in with_default) == sorted(attribute)
    for f in with_default:
        holder = table[f.table] if f.table else table
        holder.pop(f.key, None)
    spec = parse_spec(table)
    for f in with_default:
        assert getattr(spec, attribute[f.path]) == f.default, f.path


def test_declared_choices_are_the_parsers() -> None:
    assert fields.field("network.activations").choices == fields.ACTIVATIONS
    assert fields.field("network.loss").choices == fields.LOSSES
    assert fields.field("training.mode").choices == fields.MODES
    assert set(fields.CLASSIFICATION_LOSSES) <= set(fields.LOSSES)


def _spoil(table: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    holder = table
    for key in parents:
        holder = holder[key]
    holder[last] = value
    return table


@pytest.mark.parametrize(("path", "value"), [
    ("titel", "x"),
    ("network.size", [2, 2]),
    ("network.activations", ["sigmoid", "swish"]),
    ("network.bias", "some"),
    ("network.sizes", [2]),
    ("network.leaky_slope", 1.0),
    ("training.learning_rate", 0),
    ("training.iterations", 0),
    ("training.iterations", 2.5),
    ("training.mode", "online"),
    ("init.seed", -1),
])
def test_the_schema_and_the_parser_both_refuse(path: str, value: Any) -> None:
    table = _spoil(default_table(), path, value)
    if path == "init.seed":
        table["init"] = {"seed": value}
    assert list(validator().iter_errors(table)), f"the schema accepts {path} = {value!r}"
    with pytest.raises(SheetnetError) as caught:
        parse_spec(table)
    assert "\n" not in str(caught.value)


def test_a_negative_init_seed_is_a_one_line_error_not_a_traceback() -> None:
    table = default_table()
    table["init"] = {"seed": -3}
    with pytest.raises(SheetnetError, match=r"init\.seed must be a non-negative integer, got -3"):
        parse_spec(table)
