"""The ids of a layered network's quantities as the equations name them (provisional: replaced by
model/layer_ids.py's scheme once it lands)."""

from __future__ import annotations

from sheetnet.model.spec import Spec

Index = tuple[int, ...]


def _text(symbol: str, layer: int, index: Index, k: int | None) -> str:
    inner = ",".join(str(i + 1) for i in index)
    return f"{symbol}{layer + 1}" + (f"[{inner}]" if index else "") + ("" if k is None else f"@{k + 1}")


def quantity(spec: Spec, name: str, layer: int, index: Index, k: int) -> str:
    return _text(name, layer, index, k if spec.slots > 1 else None)


PARAMETER_SYMBOLS = {"weight": "W", "bias": "b", "weight_ih": "Wih", "weight_hh": "Whh",
                     "wq": "Wq", "wk": "Wk", "wv": "Wv", "gain": "g"}


def parameter(spec: Spec, layer: int, name: str, index: Index) -> str:
    kind = getattr(spec.layers[layer], "kind", "")
    symbol = "K" if kind == "conv2d" and name == "weight" else PARAMETER_SYMBOLS[name]
    return _text(symbol, layer, index, None)


def all_ids(spec: Spec) -> list[str] | None:
    return None
