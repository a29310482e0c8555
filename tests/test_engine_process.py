"""The spreadsheet programs run as children that a timeout stops together with what they spawned."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sheetnet.engines import process


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process states in /proc")
def test_a_program_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # a wrapper that spawns a child, as soffice spawns soffice.bin
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    with pytest.raises(process.TimedOut):
        process.run(["sh", "-c", script], timeout=0.5)
    child = int(pid_file.read_text())
    time.sleep(0.2)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan stays a zombie until its new parent reaps it)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


def test_exit_code_output_and_the_last_line() -> None:
    result = process.run(["sh", "-c", "echo out; echo 'first\nwhy it failed\n' >&2; exit 3"], timeout=10)
    assert (result.returncode, result.stdout) == (3, "out\n")
    assert process.last_line(result.stderr) == "why it failed"
    assert process.last_line("  \n") == "no error output"
