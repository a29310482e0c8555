"""Write TOML: the tables sheetnet writes (a spec's, class.toml), not TOML in general.

Python reads TOML (tomllib) but does not write it; these tables hold only strings, booleans,
numbers, lists of them, sub-tables and lists of tables, which is all this printer handles.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(table: dict[str, Any]) -> str:
    """TOML text that tomllib reads back as `table`."""
    lines = _scalars(table)
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", f"[{_key(key)}]", *_scalars(value)]
            for sub, inner in value.items():
                name = f"{_key(key)}.{_key(sub)}"
                if isinstance(inner, dict):
                    lines += ["", f"[{name}]", *_scalars(inner)]
                elif _is_table_list(inner):  # a network of layers: [[network.layers]], [[init.layers]]
                    for item in inner:
                        lines += ["", f"[[{name}]]", *_scalars(item)]
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{_key(key)}]]", *_scalars(item)]
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _scalars(table: dict[str, Any]) -> list[str]:
    return [
        f"{_key(k)} = {_value(v)}"
        for k, v in table.items()
        if not isinstance(v, dict) and not _is_table_list(v)
    ]


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML holds no {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's basic-string escapes
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
