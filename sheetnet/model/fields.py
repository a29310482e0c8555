"""Every field of the spec's TOML, declared once: its JSON type, default, choices, one line of doc.

spec.py takes from here which fields exist (any other is a typo worth reporting), their choices
and their defaults; `sheetnet schema` turns the same declaration into sheetnet.schema.json, the
JSON Schema (Draft 4) that a TOML editor reads from a template's `#:schema` line to complete and
check fields as a teacher types. The rules that tie fields together (weights against sizes,
softmax only with cross_entropy, batch_size dividing the samples, ...) stay hand-written in
spec.py: their one-line errors say more than a schema validator could.

Adding a field is one entry in DECLARED (and reading it in spec.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sheetnet.model import layers, ops, optimizers

# The choices of activations and losses are the registries' keys (ops.py): one is added there.
ACTIVATIONS = (*ops.ACTIVATIONS, *ops.LAYER_ACTIVATIONS)
BIAS_MODES = ("none", "shared", "per-neuron")
LOSSES = tuple(ops.LOSSES)
CLASSIFICATION_LOSSES = tuple(name for name, loss in ops.LOSSES.items() if loss.classifies)
DEFAULT_LEAKY_SLOPE = 0.01
REDUCTIONS = ("mean", "sum")
MODES = ("batch", "sgd", "minibatch")

SCHEMA_URI = "http://json-schema.org/draft-04/schema#"


@dataclass(frozen=True)
class Field:
    """One key of the TOML: `path` is "table.key" ("key" at the top); a table is a Field too."""

    path: str
    json: dict[str, Any]  # the JSON Schema (Draft 4) of the value
    doc: str
    default: Any = None  # None: no default (see required)
    required: bool = False

    @property
    def table(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def choices(self) -> tuple[str, ...]:
        """The values allowed by an enum (of the value, or of each item of a list)."""
        return tuple(self.json.get("enum") or self.json.get("items", {}).get("enum", ()))


def _choice(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
TABLE: dict[str, Any] = {"type": "object"}
NUMBER: dict[str, Any] = {"type": "number"}
NUMBERS: dict[str, Any] = {"type": "array", "items": NUMBER}
MATRIX: dict[str, Any] = {"type": "array", "items": NUMBERS}
NAMES: dict[str, Any] = {"type": "array", "items": STRING, "minItems": 1, "uniqueItems": True}
# One row per sample; a single sample may be written as a flat list.
SAMPLES: dict[str, Any] = {"anyOf": [{**MATRIX, "minItems": 1}, {**NUMBERS, "minItems": 1}]}


def _integer(minimum: int | None = None) -> dict[str, Any]:
    return {"type": "integer"} if minimum is None else {"type": "integer", "minimum": minimum}


# One [[network.layers]] table (model/layers.py checks which fields each kind takes).
LAYER_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "kind": (_choice(layers.KINDS), "What the layer computes (docs/spec.md has each kind's equations)."),
    "size": (_integer(1), "dense, rnn: the units; maxpool2d, avgpool2d: the window's side (stride = size)."),
    "channels": (_integer(1), "conv2d: the output channels (kernels)."),
    "kernel": (_integer(1), "conv2d: the kernel's side k (stride 1, no padding)."),
    "activation": (_choice(ACTIVATIONS), "conv2d, dense (default linear), rnn (default tanh)."),
    "dim": (_integer(1), "attention: the width of Q, K and V."),
    "causal": (BOOLEAN, "attention: step t attends only to steps up to t (default false)."),
}
# Any depth of nested lists of numbers: a parameter in torch's shape.
NESTED: dict[str, Any] = {"type": "array", "items": {"anyOf": [NUMBER, {"type": "array"}]}}
INIT_LAYER_FIELDS: dict[str, str] = {
    "weight": "conv2d [out_channels][in_channels][k][k]; dense [out][in].",
    "bias": "conv2d, dense, rnn: [out]; layernorm: β [features].",
    "weight_ih": "rnn: [size][features].",
    "weight_hh": "rnn: [size][size].",
    "wq": "attention: [dim][features].",
    "wk": "attention: [dim][features].",
    "wv": "attention: [dim][features].",
    "gain": "layernorm: γ [features].",
}


def _table_of(members: dict[str, tuple[dict[str, Any], str]], *required: str) -> dict[str, Any]:
    """The JSON Schema of a table in an array of tables ([[network.layers]], [[init.layers]])."""
    table: dict[str, Any] = {
        "type": "object", "additionalProperties": False,
        "properties": {k: {"description": doc, **json} for k, (json, doc) in members.items()}}
    if required:
        table["required"] = list(required)
    return table


LAYER = _table_of(LAYER_FIELDS, "kind")
INIT_LAYER = _table_of({k: (NESTED, doc) for k, doc in INIT_LAYER_FIELDS.items()})
# A layered network's sample is nested lists of network.input_shape.
INPUT_SAMPLES = {"anyOf": [*SAMPLES["anyOf"], {"type": "array", "items": {"type": "array"}, "minItems": 1}]}


DECLARED: tuple[Field, ...] = (
    Field("title", STRING, "The network's title, shown in the workbook (default: the file's name)."),
    Field("description", STRING, "Where the example comes from and what to try; shown on the Guide.",
          default=""),
    Field("zh", TABLE, "The title and description in Chinese, shown with --lang zh."),
    Field("zh.title", STRING, "The title in Chinese."),
    Field("zh.description", STRING, "The description in Chinese.", default=""),
    Field("network", TABLE, "The layers, activations, biases and loss.", required=True),
    Field("network.sizes", {"type": "array", "items": _integer(1), "minItems": 2},
          "Neurons per layer: input, hidden…, output, e.g. [2, 2, 2] (or input_shape and layers)."),
    Field("network.activations", {"type": "array", "items": _choice(ACTIVATIONS), "minItems": 1},
          "One per layer after the input; softmax only on the output layer (with sizes)."),
    Field("network.input_shape", {"type": "array", "items": _integer(1), "minItems": 1, "maxItems": 3},
          "Instead of sizes: one sample's shape, [features], [steps, features] or [channels, height,"
          " width]; goes with [[network.layers]]."),
    Field("network.layers", {"type": "array", "items": LAYER, "minItems": 1},
          "Instead of sizes/activations: the layers in order (conv2d, maxpool2d, avgpool2d, flatten,"
          " dense, rnn, attention, layernorm, meanpool); the last is dense."),
    Field("network.bias", _choice(BIAS_MODES),
          "none, shared (one number per layer) or per-neuron.", default="per-neuron"),
    Field("network.train_bias", BOOLEAN, "false: the biases stay fixed (as in seed 001).", default=True),
    Field("network.loss", _choice(LOSSES),
          "half_sse = ½Σ(y−t)², sse, mse, cross_entropy (softmax output), binary_cross_entropy"
          " (sigmoid output).", default="half_sse"),
    Field("network.leaky_slope", {**NUMBER, "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
          "leaky_relu(z) = z for z > 0, slope·z otherwise; 0 ≤ slope < 1.", default=DEFAULT_LEAKY_SLOPE),
    Field("training", TABLE, "The learning rate, the iterations and the batches.", required=True),
    Field("training.learning_rate", {**NUMBER, "minimum": 0, "exclusiveMinimum": True},
          "η, a positive number.", required=True),
    Field("training.iterations", _integer(1), "Updates, one Training row each.", default=100),
    Field("training.reduction", _choice(REDUCTIONS),
          "Several samples: the loss (and gradient) averaged or summed.", default="mean"),
    Field("training.mode", _choice(MODES),
          "Samples per update: batch (all), sgd (one) or minibatch (batch_size).", default="batch"),
    Field("training.batch_size", _integer(1),
          "Samples per update in minibatch mode; must divide the number of samples."),
    Field("training.shuffle", BOOLEAN, "sgd/minibatch: a fresh permutation of the samples every epoch.",
          default=False),
    Field("training.seed", _integer(0), "The seed of the shuffle (only with shuffle = true).", default=0),
    Field("training.optimizer", _choice(optimizers.NAMES),
          "How each update uses the gradient, as torch.optim computes it.", default="sgd"),
    Field("training.momentum", {**NUMBER, "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
          "momentum, nesterov (default 0.9); rmsprop (default 0)."),
    Field("training.beta1", {**NUMBER, "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
          "adam, adamw: the decay of m.", default=0.9),
    Field("training.beta2", {**NUMBER, "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
          "adam, adamw: the decay of v.", default=0.999),
    Field("training.eps", {**NUMBER, "minimum": 0, "exclusiveMinimum": True},
          "rmsprop, adam, adamw (default 1e-8); adagrad (default 1e-10)."),
    Field("training.alpha", {**NUMBER, "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
          "rmsprop: the smoothing of the squared gradient.", default=0.99),
    Field("training.weight_decay", {**NUMBER, "minimum": 0},
          "Every optimizer: g + λ·θ (L2); adamw decays θ directly.", default=0.0),
    Field("init", TABLE, "The initial weights and biases, or a seed to draw them."),
    Field("init.weights", {"type": "array", "items": MATRIX, "minItems": 1},
          "One matrix per layer, [to][from]: z = W·a + b."),
    Field("init.biases", {"type": "array", "items": {"anyOf": [NUMBER, NUMBERS]}, "minItems": 1},
          "Per layer: a list (per-neuron) or one number (shared)."),
    Field("init.layers", {"type": "array", "items": INIT_LAYER, "minItems": 1},
          "With network.layers: one table per layer that has parameters, in layer order, in torch's"
          " shapes."),
    Field("init.seed", _integer(0),
          "Instead of weights/biases: uniform in ±1/√fan_in, 4 decimals, biases 0."),
    Field("data", TABLE, "The samples: inline inputs and targets, or a CSV file.", required=True),
    Field("data.inputs", INPUT_SAMPLES,
          "One row of input values per sample; with network.layers, nested lists of input_shape."),
    Field("data.targets", SAMPLES, "One row of target values per sample."),
    Field("data.csv", STRING, "A CSV file (header row, one sample per row), relative to this file."),
    Field("data.input_columns", NAMES, "The CSV columns that are the inputs."),
    Field("data.target_columns", NAMES, "The CSV columns that are the targets (numbers)."),
    Field("data.label_column", STRING, "A CSV column of class names, one-hot encoded in sorted order."),
    Field("data.standardize", BOOLEAN, "Feed x̃ = (x − μ)/σ per input column, live on the Network sheet.",
          default=False),
    Field("data.decimal", {"enum": [".", ","]},
          'The CSV\'s decimal separator (default "."): "," for numbers written 5,1 (European Excel).'),
)

_BY_PATH = {f.path: f for f in DECLARED}


def field(path: str) -> Field:
    return _BY_PATH[path]


def default(path: str) -> Any:
    """The default of a field, as the parser applies it."""
    return _BY_PATH[path].default


def table_keys() -> dict[str, tuple[str, ...]]:
    """Every key each table may hold ("" is the top level), in declaration order."""
    tables: dict[str, tuple[str, ...]] = {"": ()}
    for f in DECLARED:
        tables[f.table] = (*tables.get(f.table, ()), f.key)
        if f.json is TABLE:
            tables.setdefault(f.path, ())
    return tables


def json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 4) of a spec file, generated from DECLARED."""
    schema: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "title": "sheetnet network spec",
        "description": "A small neural network, its data and how to train it (docs/spec.md).",
        **_object(""),
    }
    return schema


def _object(table: str) -> dict[str, Any]:
    members = [f for f in DECLARED if f.table == table]
    required = [f.key for f in members if f.required]
    result: dict[str, Any] = {
        "type": "object",
        "properties": {f.key: _property(f) for f in members},
        "additionalProperties": False,
    }
    if required:
        result["required"] = required
    return result


def _property(f: Field) -> dict[str, Any]:
    body = _object(f.path) if f.json is TABLE else dict(f.json)
    body = {"description": f.doc, **body}
    if f.default is not None:
        body["default"] = f.default
    return body
