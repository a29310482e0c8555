"""Drive headless LibreOffice to fully recalculate workbooks and export them to PDF."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from multiprocessing.util import Finalize
from pathlib import Path

from sheetnet.engines import process

INSTALL_HINT = "install it (Debian: apt-get install libreoffice-calc) or use --engine formulas"

# 0 = "always recalculate on load". LibreOffice's default ("never" for .xlsx in 7.4) keeps
# whatever cached values the file stores, so a conversion alone proves nothing.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
{locale}</oor:items>
"""
# The locale LibreOffice computes in (decimal separator, how TEXT reads a format code), as a
# student's machine set to German or French would: tests use it, a build never does.
_LOCALE = """<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" \
oor:op="fuse"><value>{locale}</value></prop></item>
"""

# One profile per process and locale (keyed by pid so forked workers don't share a locked
# profile); the lock serialises threads, since one profile cannot be used by two soffice at once.
_profiles: dict[tuple[int, str], Path] = {}
_lock = threading.Lock()


class LibreOfficeError(Exception):
    """A LibreOffice run failed; the message is one line, fit to show to a user."""


def find_soffice() -> str | None:
    """Return the LibreOffice executable: $SHEETNET_SOFFICE if set, else soffice on PATH."""
    override = os.environ.get("SHEETNET_SOFFICE")
    if override:
        return shutil.which(override)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _profile_dir(locale: str = "") -> Path:
    key = (os.getpid(), locale)
    if key not in _profiles:
        root = Path(tempfile.mkdtemp(prefix="sheetnet-lo-profile-"))
        (root / "user").mkdir()
        setting = _LOCALE.format(locale=locale) if locale else ""
        (root / "user" / "registrymodifications.xcu").write_text(
            _REGISTRY.format(locale=setting), encoding="utf-8")
        # Not atexit: pool workers leave via os._exit, and a forked child must not delete its
        # parent's profile. multiprocessing finalizers run in both cases and check the pid.
        Finalize(None, shutil.rmtree, args=(root, True), exitpriority=0)
        _profiles[key] = root
    return _profiles[key]


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return process.run(cmd, timeout)
    except process.TimedOut:
        raise LibreOfficeError(f"LibreOffice timed out after {timeout:g} s") from None


def _convert(src: Path, dst: Path, target: str, suffix: str, timeout: float,
             locale: str = "") -> Path:
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise LibreOfficeError(f"input file not found: {src}")
    soffice = find_soffice()
    if soffice is None:
        where = os.environ.get("SHEETNET_SOFFICE")
        what = f"not found at SHEETNET_SOFFICE={where}" if where else "is not installed"
        raise LibreOfficeError(f"LibreOffice {what}: {INSTALL_HINT}")
    with _lock, tempfile.TemporaryDirectory(prefix="sheetnet-lo-out-") as outdir:
        cmd = [
            soffice,
            f"-env:UserInstallation={_profile_dir(locale).as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            target,
            "--outdir",
            outdir,
            str(src.resolve()),
        ]
        try:
            result = _run(cmd, timeout)
        except OSError as exc:
            raise LibreOfficeError(f"cannot start LibreOffice ({soffice}): {exc}") from None
        produced = Path(outdir) / f"{src.stem}.{suffix}"
        # soffice exits 0 even when it cannot load the file, so the output file is the proof.
        if result.returncode != 0 or not produced.is_file():
            why = process.last_line(result.stderr or result.stdout)
            raise LibreOfficeError(f"LibreOffice failed on {src.name} ({result.returncode}): {why}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, dst)
    return dst


def recalculate(src: Path, dst: Path, *, timeout: float = 600, locale: str = "") -> Path:
    """Fully recompute every formula of the .xlsx `src` in LibreOffice; save it as `dst`.

    `locale` (such as "de-DE") computes as LibreOffice set to that language would; "" is the
    machine's.
    """
    return _convert(src, dst, "xlsx:Calc MS Excel 2007 XML", "xlsx", timeout, locale)


def to_pdf(src: Path, dst: Path, *, timeout: float = 600) -> Path:
    """Recompute `src` in LibreOffice and export all its sheets as the PDF `dst`."""
    return _convert(src, dst, "pdf:calc_pdf_Export", "pdf", timeout)
