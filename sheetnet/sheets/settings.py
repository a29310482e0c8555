"""The Network sheet's settings table, declared once: what each row holds, how it is written and
how the check reads it back and validates it (layout.py places the rows, network.py writes them,
verify/readback.py reads them).

A setting's label is the i18n key `setting.<name>`; its value sits in column B of its row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sheetnet.model import optimizers
from sheetnet.model.spec import Spec


def _whole(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError
    return value


def _truth(value: Any) -> bool:
    """A true/false setting as written ("true") or as a spreadsheet may save it (TRUE)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError
    return value


def _word(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value.strip()


def _sizes(value: Any) -> list[int]:
    return [int(n) for n in str(value).split("-")]


def _words(value: Any) -> list[str]:
    if not isinstance(value, str):
        raise ValueError
    return [a.strip() for a in value.split(",")]


def _true_false(flag: bool) -> str:
    return "true" if flag else "false"


@dataclass(frozen=True)
class Setting:
    """One row: `write` gives the cell's value for a spec; `read` turns a cell's value back into
    the spec's (raising ValueError, reported as "must be {what}"), None for an input cell that
    the Training formulas read live (η, α), which the check reads with the other inputs."""

    name: str
    write: Callable[[Spec], Any]
    read: Callable[[Any], Any] | None = None
    what: str = ""
    batches_only: bool = False  # read only in sgd/minibatch mode
    editable: Callable[[Spec], bool] = lambda spec: False  # a yellow input cell


def _uses_slope(spec: Spec) -> bool:
    return "leaky_relu" in spec.activations  # only then does a formula read the slope


SETTINGS: tuple[Setting, ...] = (
    Setting("learning_rate", lambda s: s.learning_rate, editable=lambda spec: True),
    Setting("iterations", lambda s: s.iterations, _whole, "a whole number"),
    Setting("sizes", lambda s: "-".join(map(str, s.sizes)), _sizes, 'layer sizes like "2-2-2"'),
    Setting("activations", lambda s: ", ".join(s.activations), _words, 'activations like "sigmoid, sigmoid"'),
    Setting("bias", lambda s: s.bias, _word, "a word"),
    Setting("train_bias", lambda s: _true_false(s.train_bias), _truth, '"true" or "false"'),
    Setting("loss", lambda s: s.loss, _word, "a word"),
    Setting("reduction", lambda s: s.reduction, _word, "a word"),
    Setting("mode", lambda s: s.mode, _word, "a word"),
    Setting("batch_size", lambda s: s.slots, _whole, "a whole number", batches_only=True),
    Setting("shuffle", lambda s: _true_false(s.shuffle), _truth, '"true" or "false"', batches_only=True),
    Setting("seed", lambda s: s.seed, _whole, "a whole number", batches_only=True),
    Setting("standardize", lambda s: _true_false(s.standardize), _truth, '"true" or "false"'),
    Setting("leaky_slope", lambda s: s.leaky_slope, editable=_uses_slope),
)

def _optimizer(value: Any) -> str:
    if value is None:  # a workbook from before the optimizers: plain gradient descent
        return "sgd"
    if not isinstance(value, str) or value.strip() not in optimizers.OPTIMIZERS:
        raise ValueError
    return value.strip()


# The optimizer, then its hyperparameters: input cells that the optimizer's formulas read live
# (network.py writes them; only the chosen optimizer's rows, see applies) and the complements
# 1 − β₁, 1 − β₂, 1 − α, formulas of their β cell. The check reads the hyperparameters with the other inputs.
SETTINGS += (
    Setting("optimizer", lambda s: s.optimizer, _optimizer, f"one of {', '.join(optimizers.NAMES)}"),
    *(Setting(name, lambda s: None) for name in ("momentum", "beta1", "one_minus_beta1", "beta2",
                                                "one_minus_beta2", "eps", "alpha", "one_minus_alpha",
                                                "weight_decay")),
)
NAMES = tuple(setting.name for setting in SETTINGS)


# The Network rows of the complements 1 − β₁, 1 − β₂, 1 − α, by the hyperparameter they follow.
_COMPLEMENT_OF = {"one_minus_beta1": "beta1", "one_minus_beta2": "beta2", "one_minus_alpha": "alpha"}


def applies(setting: Setting, spec: Spec) -> bool:
    """Whether the Network sheet shows this setting's row: no leaky slope without leaky_relu,
    no batch rows in batch mode, no shuffle seed without shuffling, and only the hyperparameters
    the chosen optimizer reads (a student sees η, μ for momentum, β₁ β₂ ε for adam, …)."""
    if setting.name == "leaky_slope":
        return _uses_slope(spec)
    field = _COMPLEMENT_OF.get(setting.name, setting.name)
    if field in optimizers.HYPERPARAMETERS:
        return field in optimizers.OPTIMIZERS[spec.optimizer].fields
    if setting.batches_only:
        return spec.mode != "batch" and (setting.name != "seed" or spec.shuffle)
    return True


def read_settings(raw: dict[str, Any], fail: Callable[[str, str], Exception]) -> dict[str, Any]:
    """The settings of the cells' values `raw` (by name), as the spec's TOML keys hold them:
    in batch mode without the batch keys, and the seed only when the samples are shuffled."""
    result: dict[str, Any] = {}
    batches = isinstance(raw.get("mode"), str) and raw["mode"].strip() != "batch"
    for setting in SETTINGS:
        if setting.read is None or (setting.batches_only and not batches):
            continue
        try:
            result[setting.name] = setting.read(raw[setting.name])
        except ValueError:
            raise fail(setting.name, setting.what) from None
    if batches and result["mode"] != "minibatch":
        del result["batch_size"]
    if batches and not result["shuffle"]:
        del result["seed"]
    return result


# --- the grey settings as built ------------------------------------------------------------
# One custom document property each, so that the check can name a setting a student edited
# (verify/edits.py) instead of reporting a distant wrong cell.

PROPERTY_PREFIX = "sheetnet:"  # custom property names: sheetnet:iterations, sheetnet:activations, ...
MAX_PROPERTY = 255  # Excel's limit for a text custom property


def recorded(spec: Spec) -> dict[str, str]:
    """The custom properties recording the grey settings (not η, α: inputs) as text."""
    props = {PROPERTY_PREFIX + s.name: as_text(s.write(spec)) for s in SETTINGS if s.read is not None}
    return {name: value for name, value in props.items() if len(value) <= MAX_PROPERTY}


def as_text(value: Any) -> str:
    """A setting as text, the same whether written by sheetnet or saved by a spreadsheet program."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()
