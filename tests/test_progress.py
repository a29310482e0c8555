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


def test_classroom_commands_draw_progress_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ann\ns2,Bo\ns3,Cy\n", encoding="utf-8")
    for terminal, quiet, name in ((False, [], "a"), (True, [], "b"), (True, ["--quiet"], "c")):
        shown = terminal and not quiet
        out, err = run("exercise", *quiet, "--iters", "40", tmp_path / f"{name}.xlsx",
                       terminal=terminal, monkeypatch=monkeypatch)
        assert out.startswith("wrote ") and (("Training sheet rows" in err and "41/41" in err) == shown)
        assert (err == "") != shown
        folder = tmp_path / f"class-{name}"
        out, err = run("class", *quiet, roster, folder, "--secret", "s", terminal=terminal,
                       monkeypatch=monkeypatch)
        assert out.startswith(f"wrote {folder}: 3 students")
        assert (("student files and keys" in err and "3/3" in err) == shown) and (err == "") != shown
        students = sorted((folder / "students").glob("*.xlsx"))
        out, err = run("grade", *quiet, folder, *students, terminal=terminal, monkeypatch=monkeypatch)
        assert out.startswith("3 of 3 students graded")
        assert (("reading the students' files" in err and "3/3" in err) == shown) and (err == "") != shown


def test_classroom_api_reports_through_the_callback(tmp_path: Path) -> None:
    import sheetnet

    heard: list[tuple[int, int, str]] = []
    spec = sheetnet.template("seed-004-2-2-2").replace(iterations=20)
    sheetnet.exercise(spec, tmp_path / "p.xlsx", ask=["forward"], progress=lambda *a: heard.append(a))
    assert (21, 21, "Training sheet rows") in heard
    roster = tmp_path / "roster.csv"
    roster.write_text("id\ns1\ns2\n", encoding="utf-8")
    heard.clear()
    folder = sheetnet.make_class(spec, roster, tmp_path / "c", secret="x",
                                 progress=lambda *a: heard.append(a))
    assert [h for h in heard if h[2] == "student files and keys"] == [(1, 2, "student files and keys"),
                                                                      (2, 2, "student files and keys")]
    heard.clear()
    files = sorted((folder / "students").glob("*.xlsx"))
    sheetnet.grade(folder, files, feedback=tmp_path / "fb", progress=lambda *a: heard.append(a))
    assert heard == [(0, 2, "reading the students' files"), (1, 2, "reading the students' files"),
                     (2, 2, "reading the students' files"), (1, 2, "feedback workbooks"),
                     (2, 2, "feedback workbooks")]
