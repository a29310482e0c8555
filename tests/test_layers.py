"""The package's folders are layers: no module imports one that imports it back, and no layer
imports a higher one (model never imports sheets or verify). Read from the source, so that an
import inside a function or under TYPE_CHECKING counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sheetnet"

# Lowest first; a module may import modules of its own rank or below, never above.
RANKS = {
    "errors": 0, "atomic": 0, "progress": 0, "memo": 0, "csvsafe": 0,
    "expr": 1, "engines": 1,
    "model": 2,
    "equations": 3,
    "sheets": 4,
    "verify": 5,
    "classroom": 6,
    "api": 7, "web": 8, "cli": 8, "__init__": 8, "__main__": 9,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str], name: str | None = None) -> set[str]:
    """The sheetnet modules that path imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("sheetnet"):
                continue
            for alias in node.names:  # `from sheetnet.sheets import layout` imports a module
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    found.discard(name or module_name(path))
    return {m for m in found if m in known}


def rank(module: str) -> int:
    parts = module.split(".")
    return RANKS["__init__"] if len(parts) == 1 else RANKS[parts[1]]


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, set(mods)) for name, path in mods.items()}


def test_every_module_has_a_layer() -> None:
    for name in modules():
        parts = name.split(".")
        assert len(parts) == 1 or parts[1] in RANKS, f"{name}: add its folder to RANKS and to the docs"


def upward(edges: dict[str, set[str]]) -> list[str]:
    return [f"{m} imports {d}" for m, deps in edges.items() for d in sorted(deps) if rank(d) > rank(m)]


def circles(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    found.append(" → ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_layer_imports_a_higher_one() -> None:
    assert upward(graph()) == []


def test_no_import_circles() -> None:
    assert circles(graph()) == []


def test_every_folder_says_what_it_does_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init.parent.name}/__init__.py needs its layer docstring"


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """Neither rule is vacuous: an upward import, a lazy one included, and a circle are reported."""
    fake = PACKAGE / "model" / "spec.py"
    source = tmp_path / "spec.py"
    source.write_text("def f():\n    from sheetnet.sheets import layout\n")
    known = set(modules())
    deps = imports(source, known, "sheetnet.model.spec")
    assert deps == {"sheetnet.sheets.layout"}
    assert upward({module_name(fake): deps}) == ["sheetnet.model.spec imports sheetnet.sheets.layout"]
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == ["a → b → a", "b → a → b"]
