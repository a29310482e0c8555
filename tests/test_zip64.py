"""A workbook whose Training sheet passes zipfile's 2 GiB limit (iris at 100,000 iterations, a
million rows of seed-004) is written with ZIP64 records and a warning that LibreOffice cannot
open it; the check and Gnumeric read it. The limit is lowered to 16 KiB here, so an ordinary
workbook stands in for a 2 GiB one."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.errors import SheetnetError
from sheetnet.model.spec import load_template
from sheetnet.sheets.writer import LargeWorkbookWarning
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_gnumeric, needs_libreoffice

SMALL_LIMIT = 1 << 14
ZIP64_EXTRA = 0x0001  # the ZIP64 extended-information extra field's header id


def _zip64_parts(path: Path) -> list[str]:
    """The archive's parts whose central-directory record carries a ZIP64 extra field."""
    parts = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            extra, ids = info.extra, []
            while len(extra) >= 4:
                tag, size = struct.unpack("<HH", extra[:4])
                ids.append(tag)
                extra = extra[4 + size:]
            if ZIP64_EXTRA in ids:
                parts.append(info.filename)
    return parts


@pytest.fixture
def past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", SMALL_LIMIT)
    with pytest.warns(LargeWorkbookWarning, match="past 16 KiB, so it is zipped with ZIP64"):
        return build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=300), "big.xlsx")


def test_a_sheet_past_the_limit_is_written_with_zip64_and_checks(past_the_limit: Path) -> None:
    with zipfile.ZipFile(past_the_limit) as archive:
        big = {i.filename for i in archive.infolist() if i.file_size * 1.05 > SMALL_LIMIT}
    assert big and big <= set(_zip64_parts(past_the_limit))  # the Training sheet among them
    report = run_check(past_the_limit, engine="formulas")
    assert report.ok, report.summary()


def test_below_the_limit_nothing_changes(tmp_path: Path) -> None:
    assert _zip64_parts(build(tmp_path, "seed-004-2-2-2")) == []


def test_the_command_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", SMALL_LIMIT)
    result = CliRunner().invoke(app, ["build", "--iters", "300", "-q", str(tmp_path / "big.xlsx")])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("sheetnet: warning:")]
    assert len(warning) == 1 and "LibreOffice cannot" in warning[0], result.stderr
    assert "Traceback" not in result.output


@needs_libreoffice
def test_libreoffice_cannot_load_it_and_the_check_says_so(past_the_limit: Path) -> None:
    # LibreOffice 7.4 cannot load an xlsx with ZIP64 records, hence the warning. Should a later
    # LibreOffice read it, it must recompute it right, and the warning's words can be softened.
    try:
        report = run_check(past_the_limit, engine="libreoffice")
    except SheetnetError as exc:
        assert "could not be loaded" in str(exc)
    else:
        assert report.ok, report.summary()


@needs_gnumeric
def test_gnumeric_reads_a_zip64_workbook(past_the_limit: Path) -> None:
    report = run_check(past_the_limit, engine="gnumeric")
    assert report.ok, report.summary()
