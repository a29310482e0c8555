"""The network spec: a frozen dataclass loaded from TOML, validated field by field."""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sheetnet.errors import SheetnetError, counted
from sheetnet.model import fields, layers, ops, optimizers, standardize
from sheetnet.model.dataset import CsvData, read_csv_data, uses_csv
from sheetnet.model.fields import (  # the choices, declared with the fields
    ACTIVATIONS,
    BIAS_MODES,
    CLASSIFICATION_LOSSES,
    DEFAULT_LEAKY_SLOPE,
    LOSSES,
    MODES,
    REDUCTIONS,
)
from sheetnet.model.fields import default as _default
from sheetnet.model.layers import Layer
from sheetnet.model.standardize import check_spread

# Every field the TOML may hold, by table (declared with types, defaults and docs in fields.py);
# anything else is a typo worth reporting.
FIELDS: dict[str, tuple[str, ...]] = fields.table_keys()

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Spec:
    """A network, its data and how to train it.

    weights[l][j][i] is the weight into neuron j of layer l+1 from neuron i of layer l
    (both counted from 0 here, from 1 in column ids), so z = W·a + b.
    biases[l] holds one number per neuron ("per-neuron"), one number ("shared") or none ("none").
    """

    title: str
    description: str
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    bias: str
    train_bias: bool
    loss: str
    learning_rate: float
    iterations: int
    reduction: str
    weights: tuple[Matrix, ...]
    biases: tuple[tuple[float, ...], ...]
    inputs: Matrix
    targets: Matrix
    name: str = ""
    leaky_slope: float = DEFAULT_LEAKY_SLOPE  # leaky_relu(z) = z for z > 0, slope·z otherwise
    translations: tuple[tuple[str, str, str], ...] = ()  # (lang, title, description)
    # How many samples one update uses: all ("batch"), one ("sgd") or batch_size ("minibatch").
    # In sgd/minibatch mode the order of the samples is fixed by sheetnet.schedule.
    mode: str = "batch"
    batch_size: int = 0  # samples per update: 1 in sgd mode, 0 (unused) in batch mode
    shuffle: bool = False  # a fresh permutation of the samples every epoch (sgd/minibatch)
    seed: int = 0  # of that permutation
    standardize: bool = False  # the network sees x̃ = (x − μ)/σ per input column (standardize.py)
    # Column headers of a CSV data set (empty for inline data) and, when the targets are a
    # one-hot label column, its class names (sorted); shown on the Network sheet's data table.
    input_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    # How each update uses the gradient (model/optimizers.py); sgd is plain gradient descent.
    # Hyperparameters the optimizer does not read keep torch's defaults and appear nowhere.
    optimizer: str = "sgd"
    momentum: float = optimizers.DEFAULTS["momentum"]
    beta1: float = optimizers.DEFAULTS["beta1"]
    beta2: float = optimizers.DEFAULTS["beta2"]
    eps: float = optimizers.DEFAULTS["eps"]
    alpha: float = optimizers.DEFAULTS["alpha"]
    weight_decay: float = 0.0
    # A network given as a list of layers (model/layers.py): the shape of one sample and the
    # layers; both empty for a network given by sizes/activations. A layered spec keeps its
    # samples flattened in C order (torch's flatten order) in inputs, sizes = (inputs per
    # sample, outputs) and activations = (the output layer's,); weights and biases stay empty.
    input_shape: tuple[int, ...] = ()
    layers: tuple[Layer, ...] = ()

    @property
    def layered(self) -> bool:
        """Given as [[network.layers]] rather than sizes/activations."""
        return bool(self.layers)

    def in_language(self, lang: str) -> Spec:
        """This spec with its title and description in `lang`, where the file gives them."""
        for code, title, description in self.translations:
            if code == lang:
                return dataclasses.replace(self, title=title, description=description)
        return self

    @property
    def n_layers(self) -> int:
        """Layers after the input layer."""
        return len(self.sizes) - 1

    @property
    def n_samples(self) -> int:
        return len(self.inputs)

    @property
    def slots(self) -> int:
        """Samples computed in one Training row: all of them in batch mode, else one batch.

        Every loop over the samples of a row (ids, graph, reference) runs over the slots.
        """
        return {"batch": self.n_samples, "sgd": 1}.get(self.mode, self.batch_size)

    @property
    def trains_bias(self) -> bool:
        return self.bias != "none" and self.train_bias

    @property
    def classifies(self) -> bool:
        """A classification loss: the Training sheet gets per-sample losses and an accuracy."""
        return self.loss in CLASSIFICATION_LOSSES

    @property
    def settings(self) -> optimizers.Settings:
        """The learning rate and the optimizer's hyperparameters, as its update reads them."""
        return optimizers.Settings(self.learning_rate, self.momentum, self.beta1, self.beta2,
                                   self.eps, self.alpha, self.weight_decay)

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The hyperparameters the workbook shows live: those the optimizer reads, λ and RMSprop's
        μ only when not 0 (a 0 leaves their term out of the formulas)."""
        optional = {"weight_decay"} | ({"momentum"} if self.optimizer == "rmsprop" else set())
        used = optimizers.OPTIMIZERS[self.optimizer].fields
        return tuple(f for f in used if f not in optional or getattr(self, f))

    @property
    def has_optimizer_state(self) -> bool:
        """Whether the Training sheet gets an optimizer group (anything but plain θ − η·g)."""
        return self.optimizer != "sgd" or self.weight_decay != 0

    def replace(self, **changes: Any) -> Spec:
        """A copy with some fields changed (validated again)."""
        return validate(dataclasses.replace(self, **changes))


def load_spec(path: Path) -> Spec:
    """Read and validate a spec TOML file; a relative data.csv path is relative to its folder."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SheetnetError(f"{path}: no such file; give the path of a network TOML") from None
    except IsADirectoryError:
        raise SheetnetError(f"{path} is a folder; give the path of a network TOML") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SheetnetError(f"{path}: cannot read it ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SheetnetError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib parses nested arrays recursively
        raise SheetnetError(f"{path}: not valid TOML for a network (arrays or tables nested "
                            "thousands deep); a spec nests at most three deep") from None
    return parse_spec(data, name=Path(path).stem, source=str(path), base_dir=Path(path).parent)


def parse_spec(
    data: dict[str, Any], *, name: str = "", source: str = "spec", base_dir: Path | None = None
) -> Spec:
    """Build a Spec from a parsed TOML table, with a one-line error for the first bad field.

    base_dir is the folder a relative data.csv path starts from (the TOML file's folder;
    None: the current directory).
    """
    try:
        return _parse(data, name, base_dir)
    except SheetnetError as exc:
        raise SheetnetError(f"{source}: {exc}") from None


def _parse(data: dict[str, Any], name: str, base_dir: Path | None = None) -> Spec:
    _check_fields(data, "")
    network = _table(data, "network", required=True)
    training = _table(data, "training", required=True)
    init = _table(data, "init", required=False)
    samples = _table(data, "data", required=True)
    if "layers" in network or "input_shape" in network:
        return _parse_layered(data, name, network, training, init, samples)

    sizes = _int_list(network, "network.sizes", "sizes")
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise SheetnetError(
            "network.sizes must list at least two positive layer sizes, e.g. [2, 2, 2]"
        )
    n_layers = len(sizes) - 1
    activations = _get(network, "activations", list, "network.activations", None)
    if len(activations) != n_layers:
        raise SheetnetError(
            f"network.activations must have {n_layers} entries (one per layer after the input),"
            f" got {len(activations)}"
        )
    for act in activations:
        _choice(act, ACTIVATIONS, "network.activations")
    bias = _choice(network.get("bias", _default("network.bias")), BIAS_MODES, "network.bias")
    train_bias = _get(network, "train_bias", bool, "network.train_bias", _default("network.train_bias"))
    loss = _choice(network.get("loss", _default("network.loss")), LOSSES, "network.loss")
    _check_output_pairing(activations, loss, sizes[-1])
    leaky_slope = _leaky_slope(network)

    checked = _training(training)
    learning_rate, iterations, reduction = (checked[k] for k in ("learning_rate", "iterations", "reduction"))

    if uses_csv(samples):
        table = read_csv_data(samples, base_dir)
        _check_csv_widths(table, samples, sizes)
        inputs, targets = table.inputs, table.targets
        names = {"input_names": table.input_names, "target_names": table.target_names,
                 "class_names": table.class_names}
    else:
        (inputs, targets), names = _inline_data(samples, sizes), {}
    standardize = _get(samples, "standardize", bool, "data.standardize", _default("data.standardize"))
    if standardize:
        check_spread(inputs, names.get("input_names", ()))
    _check_targets(loss, targets)
    weights, biases = _initial_parameters(init, sizes, bias)
    mode, batch_size, shuffle, seed = _batches(training, len(inputs))
    optimizer = _optimizer(training)
    return Spec(
        translations=_translations(data),
        title=_get(data, "title", str, "title", name or "sheetnet network"),
        description=_get(data, "description", str, "description", ""),
        sizes=tuple(sizes),
        activations=tuple(activations),
        bias=bias,
        train_bias=train_bias,
        loss=loss,
        learning_rate=learning_rate,
        iterations=iterations,
        reduction=reduction,
        weights=weights,
        biases=biases,
        inputs=inputs,
        targets=targets,
        name=name,
        mode=mode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        standardize=standardize,
        **names,
        leaky_slope=leaky_slope,
        **optimizer,
    )


def _training(training: dict[str, Any]) -> dict[str, Any]:
    """learning_rate, iterations and reduction, checked."""
    learning_rate = _number(training, "learning_rate", "training.learning_rate")
    if not learning_rate > 0:
        raise SheetnetError(
            f"training.learning_rate must be a positive number, got {learning_rate}"
        )
    iterations = _get(training, "iterations", int, "training.iterations",
                      _default("training.iterations"))
    if isinstance(iterations, bool) or iterations < 1:
        raise SheetnetError(f"training.iterations must be a positive integer, got {iterations}")
    reduction = _choice(training.get("reduction", _default("training.reduction")), REDUCTIONS,
                        "training.reduction")
    return {"learning_rate": learning_rate, "iterations": iterations, "reduction": reduction}


def _parse_layered(data: dict[str, Any], name: str, network: dict[str, Any],
                   training: dict[str, Any], init: dict[str, Any], samples: dict[str, Any]) -> Spec:
    """A network given as input_shape and [[network.layers]] (model/layers.py)."""
    for key in ("sizes", "activations"):
        if key in network:
            raise SheetnetError(f"network.{key} with network.layers: give either sizes/activations"
                                " (a dense network) or input_shape and [[network.layers]], not both")
    if "input_shape" not in network:
        raise SheetnetError("network.input_shape is missing: network.layers needs the shape of one"
                            " sample, e.g. [1, 4, 4] (channels, height, width)")
    if "layers" not in network:
        raise SheetnetError("network.layers is missing: network.input_shape goes with a list of"
                            " [[network.layers]] tables")
    if network.get("bias", "per-neuron") != "per-neuron" or not network.get("train_bias", True):
        raise SheetnetError("network.bias and network.train_bias apply to sizes/activations networks;"
                            " a network of layers has a trainable bias per unit: remove them")
    if uses_csv(samples):
        raise SheetnetError("data.csv works for dense networks (network.sizes) only; give a network of"
                            " layers its samples inline in data.inputs, each of network.input_shape")
    if samples.get("standardize", False):
        raise SheetnetError("data.standardize works for dense networks (network.sizes) only; remove it"
                            " or scale the samples yourself")
    input_shape = layers.parse_input_shape(network["input_shape"])
    parsed = layers.parse_layers(network["layers"], input_shape, ACTIVATIONS)
    loss = _choice(network.get("loss", _default("network.loss")), LOSSES, "network.loss")
    n_in, n_out = math.prod(input_shape), parsed[-1].out_shape[0]
    _check_output_pairing([parsed[-1].activation], loss, n_out)
    inputs, targets = _layered_data(samples, input_shape, n_out)
    _check_targets(loss, targets)
    for key in ("weights", "biases"):
        if key in init:
            raise SheetnetError(f"init.{key} is for sizes/activations networks; a network of layers"
                                " takes one [[init.layers]] table per layer with parameters, or init.seed")
    seed = _get(init, "seed", int, "init.seed", None) if "seed" in init else None
    if seed is not None and ("layers" in init or seed < 0):
        raise SheetnetError("init: give either seed (a non-negative integer) or [[init.layers]], not both")
    with_params = layers.with_parameters(parsed, init.get("layers"), seed)
    mode, batch_size, shuffle, seed_ = _batches(training, len(inputs))
    return Spec(
        translations=_translations(data),
        title=_get(data, "title", str, "title", name or "sheetnet network"),
        description=_get(data, "description", str, "description", ""),
        sizes=(n_in, n_out),
        activations=(parsed[-1].activation,),
        bias="per-neuron",
        train_bias=True,
        loss=loss,
        **_training(training),
        weights=(),
        biases=(),
        inputs=inputs,
        targets=targets,
        name=name,
        mode=mode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed_,
        leaky_slope=_leaky_slope(network),
        **_optimizer(training),
        input_shape=input_shape,
        layers=with_params,
    )


def _layered_data(samples: dict[str, Any], input_shape: tuple[int, ...],
                  n_out: int) -> tuple[Matrix, Matrix]:
    """data.inputs as one nested sample of input_shape each (flattened in C order), the targets."""
    if "inputs" not in samples:
        raise SheetnetError("data.inputs is missing: give a list of samples, each of network.input_shape"
                            f" {layers.shape_text(input_shape)}")
    rows = samples["inputs"]
    if not isinstance(rows, list) or not rows:
        raise SheetnetError("data.inputs must be a list of samples, each of network.input_shape"
                            f" {layers.shape_text(input_shape)}")
    inputs = tuple(layers.parse_sample(r, input_shape, f"data.inputs[{k}]")
                   for k, r in enumerate(rows, 1))
    targets = _matrix(samples, "targets", "data.targets", n_out)
    if len(inputs) != len(targets):
        raise SheetnetError(f"data.inputs has {len(inputs)} samples but data.targets has {len(targets)};"
                            " give one target row per sample")
    return inputs, targets


def _optimizer(training: dict[str, Any]) -> dict[str, Any]:
    """optimizer and its hyperparameters; a field the chosen optimizer does not read is an error."""
    name = _choice(training.get("optimizer", "sgd"), optimizers.NAMES, "training.optimizer")
    entry = optimizers.OPTIMIZERS[name]
    result: dict[str, Any] = {"optimizer": name}
    for field in optimizers.HYPERPARAMETERS:
        if field not in entry.fields:
            if field in training:
                raise SheetnetError(
                    f'training.{field} is not used by optimizer = "{name}"; remove it or choose an'
                    f" optimizer that uses it ({', '.join(optimizers.users(field))})")
            continue
        value = (_number(training, field, f"training.{field}") if field in training
                 else entry.default(field))
        problem = optimizers.check_range(field, value, name)
        if problem:
            raise SheetnetError(f"training.{field} {problem}, got {value:g}")
        result[field] = value
    return result


def with_optimizer(spec: Spec, name: str) -> Spec:
    """spec trained by another optimizer, with that optimizer's default hyperparameters
    (the weight decay is kept)."""
    table = to_table(spec)
    for field in ("optimizer", *optimizers.HYPERPARAMETERS):
        if field != "weight_decay":
            table["training"].pop(field, None)
    table["training"]["optimizer"] = name
    if not spec.weight_decay:
        table["training"].pop("weight_decay", None)
    source = f"{spec.name or 'spec'} (as changed)"
    return dataclasses.replace(parse_spec(table, name=spec.name, source=source),
                               input_names=spec.input_names, target_names=spec.target_names,
                               class_names=spec.class_names)


def _batches(training: dict[str, Any], n_samples: int) -> tuple[str, int, bool, int]:
    """(mode, batch_size, shuffle, seed); seed defaults to 0, shuffle to false."""
    mode = _choice(training.get("mode", _default("training.mode")), MODES, "training.mode")
    if mode == "batch":
        for key in ("batch_size", "shuffle", "seed"):
            if key in training:
                raise SheetnetError(f'training.{key} applies to mode = "sgd" or "minibatch",'
                                    f' not "batch"; remove it or choose a mode')
        return mode, 0, False, 0
    batch_size = 1 if mode == "sgd" else 0
    if mode == "minibatch" and "batch_size" not in training:
        raise SheetnetError('training.batch_size is missing: mode = "minibatch" needs it,'
                            f" e.g. a divisor of the {counted(n_samples, 'sample')}")
    if "batch_size" in training:
        batch_size = _get(training, "batch_size", int, "training.batch_size", None)
        check_batch_size(batch_size, n_samples, mode)
    shuffle = _get(training, "shuffle", bool, "training.shuffle", _default("training.shuffle"))
    if "seed" in training and not shuffle:
        raise SheetnetError("training.seed orders the samples only with shuffle = true;"
                            " set shuffle = true or remove seed")
    seed = _get(training, "seed", int, "training.seed", _default("training.seed"))
    if seed < 0:
        raise SheetnetError(f"training.seed must be a non-negative integer, got {seed}")
    return mode, batch_size, shuffle, seed


def check_batch_size(batch_size: int, n_samples: int, mode: str = "minibatch") -> None:
    """A batch size must divide the samples: every row then holds one full batch.

    A smaller last batch would need a mask on every slot of every loss and gradient formula.
    """
    if mode == "sgd" and batch_size != 1:
        raise SheetnetError(f'training.batch_size is {batch_size}, but mode = "sgd" means 1;'
                            ' use mode = "minibatch" for larger batches')
    if batch_size < 1 or batch_size > n_samples:
        if n_samples == 1:
            raise SheetnetError(f"training.batch_size must be 1: the data has 1 sample, got {batch_size};"
                                " add samples for larger batches")
        raise SheetnetError(f"training.batch_size must be between 1 and the {n_samples} samples,"
                            f" got {batch_size}")
    if n_samples % batch_size:
        raise SheetnetError(
            f"training.batch_size = {batch_size} does not divide the {n_samples} samples (every"
            f" batch must be full); use one of: {', '.join(map(str, divisors(n_samples)))}")


def divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def _inline_data(samples: dict[str, Any], sizes: list[int]) -> tuple[Matrix, Matrix]:
    inputs = _matrix(samples, "inputs", "data.inputs", sizes[0])
    targets = _matrix(samples, "targets", "data.targets", sizes[-1])
    if len(inputs) != len(targets):
        raise SheetnetError(
            f"data.inputs has {len(inputs)} samples but data.targets has {len(targets)};"
            " give one target row per input row"
        )
    return inputs, targets


def _check_csv_widths(table: CsvData, samples: dict[str, Any], sizes: list[int]) -> None:
    """The CSV's chosen columns must match the first and last layer sizes."""
    if len(table.input_names) != sizes[0]:
        raise SheetnetError(
            f"network.sizes starts with {sizes[0]} inputs but data.input_columns names"
            f" {len(table.input_names)} columns; make them agree")
    if len(table.target_names) != sizes[-1]:
        what = (f"data.label_column {samples['label_column']!r} has {len(table.class_names)} classes"
                f" ({', '.join(table.class_names)})" if table.class_names
                else f"data.target_columns names {len(table.target_names)} columns")
        raise SheetnetError(f"network.sizes ends with {sizes[-1]} outputs but {what}; make them agree")


def _check_output_pairing(activations: list[str], loss: str, n_out: int) -> None:
    """softmax only as the output of cross_entropy, and binary_cross_entropy only on sigmoids."""
    if "softmax" in activations[:-1]:
        raise SheetnetError("network.activations: softmax is only allowed on the output layer"
                            " (the last entry); use sigmoid, tanh, relu, leaky_relu or linear")
    out = activations[-1]
    if out == "softmax" and n_out < 2:
        raise SheetnetError("network.sizes: a softmax output needs at least 2 neurons (one per"
                            " class); for two classes with one output use sigmoid and"
                            ' binary_cross_entropy')
    # Each classification loss names the output activation whose f′ its δ = a − t cancels.
    partner = {entry.output: name for name, entry in ops.LOSSES.items() if entry.classifies}
    if out in ops.LAYER_ACTIVATIONS and loss != partner[out]:
        raise SheetnetError(f'network.loss = "{loss}" with a {out} output; {out} goes with'
                            f' loss = "{partner[out]}"')
    required = ops.classification_loss(loss).output if loss in CLASSIFICATION_LOSSES else out
    if out != required:
        raise SheetnetError(f'network.loss = "{loss}" needs a {required} output layer, got'
                            f' "{out}"; set the last activation to "{required}"')


def _leaky_slope(network: dict[str, Any]) -> float:
    if "leaky_slope" not in network:
        return DEFAULT_LEAKY_SLOPE
    slope = _number(network, "leaky_slope", "network.leaky_slope")
    if not 0 <= slope < 1:
        raise SheetnetError(f"network.leaky_slope must be at least 0 and less than 1, got {slope}")
    return slope


def _check_targets(loss: str, targets: Matrix) -> None:
    """Cross-entropy targets are one-hot rows; binary cross-entropy targets lie in [0, 1]."""
    for k, row in enumerate(targets, 1):
        if loss == "cross_entropy" and (sorted(row)[:-1] != [0.0] * (len(row) - 1) or max(row) != 1):
            raise SheetnetError(f"data.targets[{k}] must be one-hot for cross_entropy (one 1, the"
                                f" rest 0), got {list(row)!r}")
        if loss == "binary_cross_entropy" and not all(0 <= t <= 1 for t in row):
            raise SheetnetError(f"data.targets[{k}] must lie in [0, 1] for binary_cross_entropy,"
                                f" got {list(row)!r}")


def _translations(data: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    result = []
    for lang in ("zh",):
        table = _table(data, lang, required=False)
        if table:
            title = _get(table, "title", str, f"{lang}.title", _get(data, "title", str, "title", ""))
            description = _get(table, "description", str, f"{lang}.description", "")
            result.append((lang, title, description))
    return tuple(result)


def validate(spec: Spec) -> Spec:
    """Re-check a Spec built in code (e.g. after replace) by round-tripping it through parse.

    The table holds the data inline, so the CSV's column and class names are carried over.
    """
    # Named after the network, e.g. "iris (as changed): training.batch_size = 32 does not divide …",
    # since the change (a command-line option, say) is what made it invalid.
    source = f"{spec.name} (as changed)" if spec.name else "spec"
    parsed = parse_spec(to_table(spec), name=spec.name, source=source)
    return dataclasses.replace(parsed, input_names=spec.input_names, target_names=spec.target_names,
                               class_names=spec.class_names)


def to_table(spec: Spec) -> dict[str, Any]:
    """The TOML table that parse_spec turns back into this spec."""
    if spec.layered:
        return _layered_table(spec)
    # With network.bias = "none" every b is () and no biases are written.
    biases: list[Any] = [list(b) if spec.bias == "per-neuron" else b[0] for b in spec.biases if b]
    table: dict[str, Any] = {
        "title": spec.title,
        "description": spec.description,
        **{lang: {"title": t, "description": d} for lang, t, d in spec.translations},
        "network": {
            "sizes": list(spec.sizes),
            "activations": list(spec.activations),
            "bias": spec.bias,
            "train_bias": spec.train_bias,
            "loss": spec.loss,
            "leaky_slope": spec.leaky_slope,
        },
        "training": {
            "learning_rate": spec.learning_rate,
            "iterations": spec.iterations,
            "reduction": spec.reduction,
            **_batch_table(spec),
            **_optimizer_table(spec),
        },
        "init": {"weights": [[list(row) for row in w] for w in spec.weights]},
        "data": {
            "inputs": [list(r) for r in spec.inputs],
            "targets": [list(r) for r in spec.targets],
        },
    }
    if spec.bias != "none":
        table["init"]["biases"] = biases
    if spec.standardize:
        table["data"]["standardize"] = True
    return table


def _layered_table(spec: Spec) -> dict[str, Any]:
    """to_table for a network of layers: input_shape, [[network.layers]], [[init.layers]]."""
    shape = spec.input_shape
    return {
        "title": spec.title,
        "description": spec.description,
        **{lang: {"title": t, "description": d} for lang, t, d in spec.translations},
        "network": {
            "input_shape": list(shape),
            "loss": spec.loss,
            "leaky_slope": spec.leaky_slope,
            "layers": [layers.layer_table(layer) for layer in spec.layers],
        },
        "training": {
            "learning_rate": spec.learning_rate,
            "iterations": spec.iterations,
            "reduction": spec.reduction,
            **_batch_table(spec),
            **_optimizer_table(spec),
        },
        "init": {"layers": [layers.init_table(layer) for layer in spec.layers if layer.params]},
        "data": {
            "inputs": [np.array(r).reshape(shape).tolist() for r in spec.inputs],
            "targets": [list(r) for r in spec.targets],
        },
    }


def _optimizer_table(spec: Spec) -> dict[str, Any]:
    """The optimizer and the hyperparameters it reads; none for plain sgd (files stay as they were)."""
    if not spec.has_optimizer_state:
        return {}
    table: dict[str, Any] = {"optimizer": spec.optimizer}
    for field in optimizers.OPTIMIZERS[spec.optimizer].fields:
        table[field] = getattr(spec, field)
    return table


def _batch_table(spec: Spec) -> dict[str, Any]:
    """The [training] keys of the mode; none in batch mode (today's files stay as they were)."""
    if spec.mode == "batch":
        return {}
    table: dict[str, Any] = {"mode": spec.mode, "shuffle": spec.shuffle}
    if spec.mode == "minibatch":
        table["batch_size"] = spec.batch_size
    if spec.shuffle:
        table["seed"] = spec.seed
    return table


def _initial_parameters(
    init: dict[str, Any], sizes: list[int], bias: str
) -> tuple[tuple[Matrix, ...], tuple[tuple[float, ...], ...]]:
    if "seed" in init:
        if "weights" in init or "biases" in init:
            raise SheetnetError("init: give either seed or weights/biases, not both")
        seed = _get(init, "seed", int, "init.seed", None)
        if seed < 0:  # NumPy's generator would fail with a traceback
            raise SheetnetError(f"init.seed must be a non-negative integer, got {seed}")
        return _seeded_parameters(seed, sizes, bias)
    if "weights" not in init:
        raise SheetnetError("init.weights is missing: give one [to][from] matrix per layer, or seed")
    weights = _weights(init["weights"], sizes)
    biases = _biases(init.get("biases"), sizes, bias)
    return weights, biases


def _seeded_parameters(
    seed: int, sizes: list[int], bias: str
) -> tuple[tuple[Matrix, ...], tuple[tuple[float, ...], ...]]:
    # Uniform in ±1/√fan_in (the usual scale for sigmoid nets), rounded to 4 decimals so the
    # Network sheet shows numbers a student can copy by hand; biases start at 0.
    rng = np.random.default_rng(seed)
    weights = []
    for n_from, n_to in itertools.pairwise(sizes):
        limit = 1 / math.sqrt(n_from)
        w = np.round(rng.uniform(-limit, limit, size=(n_to, n_from)), 4)
        weights.append(tuple(tuple(float(x) for x in row) for row in w))
    biases = tuple(_zero_bias(n, bias) for n in sizes[1:])
    return tuple(weights), biases


def _zero_bias(n: int, bias: str) -> tuple[float, ...]:
    return {"none": (), "shared": (0.0,), "per-neuron": (0.0,) * n}[bias]


def _weights(value: Any, sizes: list[int]) -> tuple[Matrix, ...]:
    n_layers = len(sizes) - 1
    if not isinstance(value, list) or len(value) != n_layers:
        raise SheetnetError(f"init.weights must hold {n_layers} matrices, one per layer")
    layers = []
    for layer, (n_from, n_to) in enumerate(itertools.pairwise(sizes), start=1):
        field = f"init.weights[{layer}]"
        rows = value[layer - 1]
        if not isinstance(rows, list) or len(rows) != n_to:
            raise SheetnetError(
                f"{field} must have {n_to} rows (one per neuron of layer {layer}, [to][from])"
            )
        layers.append(tuple(_row(r, n_from, f"{field}[{j}]") for j, r in enumerate(rows, 1)))
    return tuple(layers)


def _biases(value: Any, sizes: list[int], bias: str) -> tuple[tuple[float, ...], ...]:
    n_layers = len(sizes) - 1
    if bias == "none":
        if value is not None:
            raise SheetnetError('init.biases given but network.bias = "none"; remove one of them')
        return ((),) * n_layers
    if value is None:
        raise SheetnetError(f'init.biases is missing: network.bias = "{bias}" needs them')
    if not isinstance(value, list) or len(value) != n_layers:
        raise SheetnetError(f"init.biases must hold {n_layers} entries, one per layer")
    result = []
    for layer, (entry, n) in enumerate(zip(value, sizes[1:], strict=True), start=1):
        field = f"init.biases[{layer}]"
        if bias == "shared":
            if not _is_number(entry):
                raise SheetnetError(f'{field} must be one number (network.bias = "shared")')
            result.append((as_stored(float(entry)),))
        else:
            result.append(_row(entry, n, f"{field} (per-neuron)"))
    return tuple(result)


def _matrix(table: dict[str, Any], key: str, field: str, width: int) -> Matrix:
    if key not in table:
        raise SheetnetError(f"{field} is missing: give one row of {width} numbers per sample")
    rows = table[key]
    if not isinstance(rows, list) or not rows:
        raise SheetnetError(f"{field} must be a list of rows, e.g. [[0.1, 0.2]]")
    if _is_number(rows[0]):
        rows = [rows]  # a single sample may be written as a flat list
    return tuple(_row(r, width, f"{field}[{k}]") for k, r in enumerate(rows, 1))


def _row(value: Any, width: int, field: str) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != width or not all(map(_is_number, value)):
        raise SheetnetError(f"{field} must be a list of {width} numbers, got {value!r}")
    numbers = tuple(as_stored(float(x)) for x in value)
    if not all(math.isfinite(x) for x in numbers):
        raise SheetnetError(f"{field} must hold finite numbers, got {value!r}")
    return numbers


def as_stored(x: float) -> float:
    """x as the workbook stores it: XlsxWriter writes numbers with 16 significant digits, so a
    17-digit number (1.5842638289297661) would be read back one unit in the last place off
    (1.584263828929766). The spec keeps the stored number, so workbook and NumPy train the same."""
    return float(f"{x:.16g}") if math.isfinite(x) else x


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_fields(table: dict[str, Any], prefix: str) -> None:
    allowed = FIELDS[prefix]
    for key in table:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else key
            raise SheetnetError(f"unknown field {where!r}; expected one of: {', '.join(allowed)}")


def _table(data: dict[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    if key not in data:
        if required:
            raise SheetnetError(f"the [{key}] table is missing")
        return {}
    table = data[key]
    if not isinstance(table, dict):
        raise SheetnetError(f"{key} must be a table ([{key}])")
    _check_fields(table, key)
    return table


def _get(table: dict[str, Any], key: str, kind: type, field: str, default: Any) -> Any:
    if key not in table:
        if default is None:
            raise SheetnetError(f"{field} is missing")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SheetnetError(f"{field} must be {_KIND_NAMES[kind]}, got {value!r}")
    return value


_KIND_NAMES = {list: "a list", bool: "true or false", int: "an integer", str: "a string"}


def _number(table: dict[str, Any], key: str, field: str) -> float:
    if key not in table:
        raise SheetnetError(f"{field} is missing")
    value = table[key]
    if not _is_number(value) or not math.isfinite(value):
        raise SheetnetError(f"{field} must be a number, got {value!r}")
    return as_stored(float(value))


def _int_list(table: dict[str, Any], field: str, key: str) -> list[int]:
    value = _get(table, key, list, field, None)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise SheetnetError(f"{field} must be a list of integers, got {value!r}")
    return value


def _choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise SheetnetError(f"{field}: unknown value {value!r}; expected one of: {', '.join(allowed)}")
    return value


# --- templates -----------------------------------------------------------------------------

DEFAULT_TEMPLATE = "seed-004-2-2-2"


def templates_dir() -> Path:
    """templates/ at the top of a source checkout, or sheetnet/templates in an installed wheel."""
    package = Path(__file__).resolve().parents[1]  # sheetnet/
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise SheetnetError("the templates folder is missing from this installation; reinstall sheetnet")


def template_names() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.toml"))


def load_template(name: str) -> Spec:
    path = templates_dir() / f"{name}.toml"
    if not path.is_file():
        raise SheetnetError(
            f"unknown template {name!r}; run `sheetnet templates` to list them"
            f" ({', '.join(template_names())})"
        )
    return load_spec(path)


def model_inputs(spec: Spec) -> np.ndarray:
    """The inputs the network sees, one row per sample: standardised when the spec says so."""
    return standardize.standardized(spec.inputs) if spec.standardize else np.asarray(spec.inputs, dtype=float)
