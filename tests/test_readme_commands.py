"""Every `sheetnet` command line in the README and docs runs as written (issue 15, item 6)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import find_soffice
from sheetnet.model.spec import templates_dir
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
# README.md, a translated README, the docs pages: every shell block of each.
PAGES = sorted([*ROOT.glob("README*.md"), *(ROOT / "docs").glob("*.md")])
MAX_ITERS = 200  # the harness, not the README, keeps long runs short: --iters 5000 runs 200


def command_lines(page: Path) -> list[str]:
    """The `sheetnet …` commands in the page's shell blocks, comments removed.

    A line such as `… && .venv/bin/sheetnet build --iters 100 out.xlsx` contributes its
    sheetnet part; the pip install before it is the environment these tests already run in. A
    usage synopsis (`[--gradebook grades.csv]`: optional parts in brackets) is not a command.
    """
    commands = []
    for block in re.findall(r"```(?:sh|bash|shell|console)\n(.*?)```", page.read_text(encoding="utf-8"),
                            flags=re.DOTALL):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and Path(words[0]).name == "sheetnet" and not any(w.startswith("[") for w in words):
                    commands.append(shlex.join(["sheetnet", *words[1:]]))
    return commands


def _shortened(words: list[str]) -> list[str]:
    out = list(words)
    for k, word in enumerate(out[:-1]):
        if word in ("--iters", "-n") and int(out[k + 1]) > MAX_ITERS:
            out[k + 1] = str(MAX_ITERS)
    return out


def _needs_libreoffice(words: list[str]) -> bool:
    return "--pdf" in words or words[1] == "pdf" or "libreoffice" in words


def test_the_readme_has_command_lines_to_test() -> None:
    readme = command_lines(ROOT / "README.md")
    assert len(readme) >= 14
    assert "sheetnet build -t xor --batch-size 2 out.xlsx" in readme


WITH_COMMANDS = [p for p in PAGES if command_lines(p)]


@pytest.mark.parametrize("page", WITH_COMMANDS, ids=[p.name for p in WITH_COMMANDS])
def test_every_command_line_runs_as_written(tmp_path: Path, page: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    commands = command_lines(page)
    monkeypatch.chdir(tmp_path)
    # What the user brings: their own spec (the --config lines), a class roster, and, once
    # `sheetnet class` has written the students' workbooks, the files they hand back.
    shutil.copy(templates_dir() / "xor.toml", tmp_path / "my-net.toml")
    (tmp_path / "roster.csv").write_text("id,name\ns1,Ada\ns2,李雷\n", encoding="utf-8")
    runner = CliRunner()
    for command in commands:
        words = shlex.split(command)
        if _needs_libreoffice(words) and find_soffice() is None and not IN_CI:
            continue  # the LibreOffice lines run wherever LibreOffice is installed (always in CI)
        if words[1] == "serve":
            continue  # a server runs until stopped: tests/test_web.py and test_web_browser.py drive it
        if words[1] == "grade":
            _hand_back(tmp_path)
        into = None
        if ">" in words:  # the shell's `> file`: the command's output, written by the harness
            words, into = words[:words.index(">")], words[words.index(">") + 1]
        result = runner.invoke(app, _shortened(words)[1:])
        assert result.exit_code == 0, f"{page.name}: `{command}` failed: {result.output}"
        if into is not None:
            (tmp_path / into).write_text(result.stdout, encoding="utf-8")


def _hand_back(folder: Path) -> None:
    """The students' workbooks of the class the commands made, handed back unchanged."""
    (folder / "submissions").mkdir(exist_ok=True)
    for book in (folder / "class1").rglob("*.xlsx"):
        if "students" in book.parts:
            shutil.copy(book, folder / "submissions" / book.name)
