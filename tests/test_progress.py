"""Progress bars: drawn on stderr for a person at a terminal, never into a pipe or with --quiet."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sheetnet import cli, progress
from sheetnet.cli import app
from tests.conftest import needs_libreoffice

runner = CliRunner()


@pytest.fixture
def built(tmp_path: Path) -> Path:
    result = runner.invoke(app, ["build", "--iters", "40", str(tmp_path / "a.xlsx")])
    assert result.exit_code == 0, result.output
    return tmp_path / "a.xlsx"


def run(*args: str | Path, terminal: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: terminal)
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_build_draws_progress_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = run("build", "--iters", "40", tmp_path / "a.xlsx", terminal=False, monkeypatch=monkeypatch)
    assert err == "" and out.startswith("wrote ")
    out, err = run("build", "--iters", "40", tmp_path / "b.xlsx", terminal=True, monkeypatch=monkeypatch)
    assert "Training sheet rows" in err and "41/41" in err
    assert out.startswith("wrote ")  # the result itself goes to stdout as before
    out, err = run("build", "-q", "--iters", "40", tmp_path / "c.xlsx", terminal=True,
                   monkeypatch=monkeypatch)
    assert err == "" and out.startswith("wrote ")


def test_check_draws_progress_only_on_a_terminal(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = run("check", built, terminal=False, monkeypatch=monkeypatch)
    assert err == "" and "OK" in out.upper()
    out, err = run("check", built, terminal=True, monkeypatch=monkeypatch)
    assert "recomputing Training columns" in err and "38/38" in err
    _, err = run("check", "--quiet", built, terminal=True, monkeypatch=monkeypatch)
    assert err == ""


def test_no_terminal_means_no_callback_at_all() -> None:
    with progress.terminal_progress(False) as callback:
        assert callback is None


def on_a_terminal(*args: str, cwd: Path) -> str:
    """Run `python -m sheetnet` with stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100"}
    with subprocess.Popen([sys.executable, "-m", "sheetnet", *args], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=follower) as proc:
        os.close(follower)
        received = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: the command is done
                break
            if not chunk:
                break
            received += chunk
        assert proc.wait(timeout=120) == 0, received.decode(errors="replace")
    os.close(leader)
    return received.decode(errors="replace")


def test_a_real_terminal_is_detected_and_quiet_silences_it(tmp_path: Path) -> None:
    drawn = on_a_terminal("build", "--iters", "200", "out.xlsx", cwd=tmp_path)
    assert "Training sheet rows" in drawn
    assert on_a_terminal("build", "-q", "--iters", "200", "quiet.xlsx", cwd=tmp_path) == ""


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_work_shows_as_a_stage(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = run("pdf", built, built.with_suffix(".pdf"), terminal=True, monkeypatch=monkeypatch)
    assert "printing to PDF in LibreOffice" in err and "1/1" in err
    assert out.startswith("wrote ") and built.with_suffix(".pdf").stat().st_size > 0
    _, err = run("check", "--engine", "libreoffice", built, terminal=True, monkeypatch=monkeypatch)
    assert "recalculating in LibreOffice" in err
    _, err = run("pdf", built, built.with_suffix(".pdf"), terminal=False, monkeypatch=monkeypatch)
    assert err == ""
