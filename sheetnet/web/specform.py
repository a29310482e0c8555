"""The Build page's form, generated from the spec's field table (model/fields.py), the same
table the JSON Schema comes from: a field added there appears here by itself.

A field is shown as text (numbers and lists in TOML's own spelling), a choice, or true/false;
an empty field is left out, so the spec's default applies as in a TOML file.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

from sheetnet.model import fields
from sheetnet.web.words import FIELD_DOCS_ZH


@dataclass(frozen=True)
class FormField:
    path: str  # "network.sizes"
    kind: str  # text, string, choice, boolean
    choices: tuple[str, ...]
    doc: str
    required: bool
    doc_zh: str = ""  # the help in Chinese (web/words.py)


def form_fields() -> list[FormField]:
    """Every value field (tables are headings, not inputs), in declaration order."""
    out = []
    for f in fields.DECLARED:
        if f.json is fields.TABLE:
            continue
        kind = ("boolean" if f.json.get("type") == "boolean" else
                "choice" if "enum" in f.json else
                "string" if f.json.get("type") == "string" else "text")
        out.append(FormField(f.path, kind, tuple(f.json.get("enum", ())), f.doc, f.required,
                             FIELD_DOCS_ZH.get(f.path, "")))
    return out


def values_of(table: dict[str, Any]) -> dict[str, str]:
    """The form's text for each field of a spec's TOML table."""
    out: dict[str, str] = {}
    for f in form_fields():
        value: Any = table
        for part in f.path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        out[f.path] = value if isinstance(value, str) else toml_value(value)
    return out


def toml_value(value: Any) -> str:
    """A value in TOML's inline spelling, which _value reads back: numbers and lists as JSON
    writes them, but a table (a layer of [[network.layers]]) as {kind = "conv2d", size = 2}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k) if not k.isidentifier() else k} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # a number, or a string in TOML's basic quotes


def table_of(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The TOML table the form's fields make, and a one-line message per field that is not a value."""
    table: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form_fields():
        text = (form.get(f.path) or "").strip()
        if not text:
            continue
        try:
            value = _value(f, text)
        except ValueError as exc:
            errors[f.path] = f"{f.path}: {exc}"
            continue
        *tables, key = f.path.split(".")
        node = table
        for name in tables:
            node = node.setdefault(name, {})
        node[key] = value
    return table, errors


def _value(f: FormField, text: str) -> Any:
    if f.kind in ("string", "choice"):
        return text
    if f.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("true or false")
        return text == "true"
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        raise ValueError(f"{text[:40]!r} is not a TOML value (a number like 0.5, or a list like [2, 2, 2])"
                         ) from None


def field_of(message: str) -> str | None:
    """The field a spec error names (the longest path it mentions), to show it beside that field."""
    named = [f.path for f in form_fields() if f.path in message]
    return max(named, key=len) if named else None
