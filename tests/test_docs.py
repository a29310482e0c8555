"""The READMEs stay a five-minute read, say the same in both languages, and link only to files
that exist; CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "README.zh-CN.md", ROOT / "CONTRIBUTING.md",
         *sorted((ROOT / "docs").glob("*.md"))]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text(path), re.S)


def without_comments(code: str) -> list[str]:
    return [line.split("#")[0].rstrip() for line in code.splitlines() if line.split("#")[0].strip()]


def test_the_readmes_are_a_five_minute_read() -> None:
    for name in ("README.md", "README.zh-CN.md"):
        assert len(text(ROOT / name)) < 10_000, name
    assert "(README.zh-CN.md)" in "".join(text(ROOT / "README.md").splitlines()[:4])
    assert "(README.md)" in "".join(text(ROOT / "README.zh-CN.md").splitlines()[:4])


def test_both_readmes_show_the_same_commands_and_code() -> None:
    en, zh = ROOT / "README.md", ROOT / "README.zh-CN.md"
    assert without_comments(blocks(en, "python")[0]) == without_comments(blocks(zh, "python")[0])
    en_commands = [line for b in blocks(en, "sh") for line in without_comments(b)]
    zh_commands = [line for b in blocks(zh, "sh") for line in without_comments(b)]
    assert set(en_commands) <= set(zh_commands)
    for template in re.findall(r"^\| `([\w-]+)`", text(en), re.M):
        assert f"| `{template}`" in text(zh), template


def test_ci_runs_the_readmes_commands_verbatim() -> None:
    first, tests = blocks(ROOT / "README.md", "sh")[:2]
    assert "sheetnet build --iters 100 out.xlsx" in first
    assert tests.strip() in text(ROOT / ".ci" / "run")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_local_link_resolves(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text(page)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def _bench_readme():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_readme", ROOT / "bench" / "readme.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readmes_performance_tables_are_one_recorded_bench_run() -> None:
    """Both READMEs' tables are rendered from bench/results.json, which `bench.py --readme` saves
    in the same run that writes them: no figure typed by hand, none from another run."""
    import json

    readme = _bench_readme()
    run = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    for lang, path in readme.READMES.items():
        assert readme.block(text(path)) == readme.render(run, lang), f"{path.name}: rerun bench.py --readme"
    names = [case["case"] for case in run["cases"]]
    # The cases: the five timed against both engines (each with its ratio), every
    # template at 100,000 iterations, and Excel's largest sheet.
    timed = [case for case in run["cases"] if case["ratio"] is not None]
    assert len(timed) == 5 and all(case["libreoffice_s"] and case["gnumeric_s"] for case in timed)
    from tests.conftest import dense_templates

    for name in dense_templates():  # the networks of layers have no workbook yet
        assert f"{name} 100,000" in names, name
    assert "seed-004-2-2-2 1,048,570" in names
    assert all(str(case["result"]).startswith("OK") for case in run["cases"]), "a benchmark check failed"


def test_the_bench_fills_an_empty_table_block_and_refills_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    readme = _bench_readme()
    run = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    page = tmp_path / "README.md"
    page.write_text(f"# x\n\n{readme.BEGIN}\n{readme.END}\n\n## after\n", encoding="utf-8")
    monkeypatch.setattr(readme, "READMES", {"en": page})
    for _ in range(2):  # a first run fills the empty block, a later one replaces it
        readme.update_readmes(run)
        assert readme.block(text(page)) == readme.render(run, "en")
        assert text(page).startswith("# x\n\n") and text(page).endswith(f"{readme.END}\n\n## after\n")
