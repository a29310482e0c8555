"""Recalculate a workbook in IronCalc, a spreadsheet engine written in Rust with Python bindings
(PyPI `ironcalc`, the optional extra `sheetnet[ironcalc]`): a fourth engine, independent of the
`formulas` package, LibreOffice and Gnumeric, that aims at Excel's semantics."""

from __future__ import annotations

import posixpath
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

INSTALL_HINT = "install it with pip install 'sheetnet[ironcalc]' or use --engine formulas"


class IronCalcError(Exception):
    """IronCalc is missing or failed; the message is one line, fit to show to a user."""


def available() -> bool:
    """Whether the ironcalc package can be imported."""
    try:
        import ironcalc  # noqa: F401
    except ImportError:
        return False
    return True


def recalculate(src: Path, dst: Path, *, timeout: float = 600) -> Path:
    """Recompute every formula of the .xlsx `src` in IronCalc; save it as the .xlsx `dst`.

    IronCalc runs in this process, so timeout is not used; it is accepted so that every
    whole-chain engine is called alike.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise IronCalcError(f"input file not found: {src}")
    try:
        import ironcalc
    except ImportError:
        raise IronCalcError(
            f"IronCalc (the Python package ironcalc) is not installed: {INSTALL_HINT}") from None
    with tempfile.TemporaryDirectory(prefix="sheetnet-ironcalc-") as tmp:
        produced = Path(tmp) / "recalculated.xlsx"
        readable = relative_targets(src, Path(tmp) / "input.xlsx")
        try:
            model = ironcalc.load_from_xlsx(str(readable), "en", "UTC")
            model.evaluate()  # every formula, whatever values the file stored
            model.save_to_xlsx(str(produced))
        except BaseException as exc:  # the Rust side raises its own types, panics included
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            why = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise IronCalcError(f"IronCalc failed on {src.name}: {why}") from None
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, dst)
    return dst


_ABSOLUTE_TARGET = re.compile(r'Target="/([^"]+)"')


def relative_targets(src: Path, dst: Path) -> Path:
    """A copy of the workbook whose part relationships name their targets relatively.

    openpyxl (which saves a file edited by a script) writes a sheet's comments as the absolute
    target "/xl/comments/comment1.xml"; IronCalc 0.9 resolves targets only relative to the part
    ("specified file not found in archive"). Both forms are valid; the relative one is what Excel,
    LibreOffice and XlsxWriter write, so the copy changes nothing else.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".rels"):
                data = _relative(data.decode("utf-8"), info.filename).encode("utf-8")
            zout.writestr(info, data)
    return dst


def _relative(rels: str, name: str) -> str:
    """The relationships part `name` with each absolute target made relative to its folder."""
    folder = posixpath.dirname(posixpath.dirname(name)) or "."  # xl/worksheets/_rels/… → xl/worksheets
    return _ABSOLUTE_TARGET.sub(lambda m: f'Target="{posixpath.relpath(m[1], folder)}"', rels)
