"""Drive Gnumeric's `ssconvert --recalc` to fully recalculate a workbook: a third spreadsheet
engine, independent of the `formulas` package and of LibreOffice."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sheetnet.engines import process

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
        try:
            result = process.run(cmd, timeout, env={**os.environ, "HOME": tmp})
        except process.TimedOut:
            raise GnumericError(f"Gnumeric timed out after {timeout:g} s") from None
        if result.returncode != 0 or not produced.is_file():
            why = process.last_line(result.stderr or result.stdout)
            raise GnumericError(f"Gnumeric failed on {src.name} ({result.returncode}): {why}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, dst)
    return dst
