"""Drive Gnumeric's `ssconvert --recalc` to fully recalculate a workbook: a third spreadsheet
engine, independent of the `formulas` package and of LibreOffice."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = "install it (Debian: apt-get install gnumeric) or use --engine formulas"


class GnumericError(Exception):
    """An ssconvert run failed; the message is one line, fit to show to a user."""


def find_ssconvert() -> str | None:
    """Return the ssconvert executable: $SHEETNET_SSCONVERT if set, else ssconvert on PATH."""
    override = os.environ.get("SHEETNET_SSCONVERT")
    if override:
        return shutil.which(override)
    return shutil.which("ssconvert")


def recalculate(src: Path, dst: Path, *, timeout: float = 600) -> Path:
    """Recompute every formula of the .xlsx `src` in Gnumeric; save it as the .xlsx `dst`."""
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise GnumericError(f"input file not found: {src}")
    ssconvert = find_ssconvert()
    if ssconvert is None:
        where = os.environ.get("SHEETNET_SSCONVERT")
        what = f"not found at SHEETNET_SSCONVERT={where}" if where else "is not installed"
        raise GnumericError(f"Gnumeric's ssconvert {what}: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="sheetnet-gnumeric-") as tmp:
        produced = Path(tmp) / "recalculated.xlsx"
        cmd = [ssconvert, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(src.resolve()), str(produced)]
        # ssconvert warns about header/footer parts it ignores; only its exit code and file count.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env={**os.environ, "HOME": tmp})
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise GnumericError(f"Gnumeric timed out after {timeout:g} s") from None
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        if proc.returncode != 0 or not produced.is_file():
            lines = [x.strip() for x in (err or out).splitlines() if x.strip()]
            why = lines[-1] if lines else "no error output"
            raise GnumericError(f"Gnumeric failed on {src.name} ({proc.returncode}): {why}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, dst)
    return dst
