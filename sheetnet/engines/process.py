"""Run a spreadsheet program as a child that can always be stopped, with all it spawned.

soffice is a wrapper that spawns soffice.bin, and ssconvert may spawn helpers: each runs in a
session of its own, so that a timeout or a Ctrl-C (which reaches only us) kills the whole tree.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping


class TimedOut(Exception):
    """The program ran longer than its timeout and was killed."""


def run(cmd: list[str], timeout: float,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """cmd's exit code and output; TimedOut (after killing it) when it runs past timeout seconds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=None if env is None else dict(env))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimedOut from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def last_line(text: str) -> str:
    """The last non-blank line of a program's output: usually the reason it failed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"
