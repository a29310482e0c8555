"""Nothing lost: an existing output is replaced only by a complete new one.

A build that fails half-way, a full disk or a Ctrl-C leave the earlier file byte for byte and no
temporary file behind; Ctrl-C is one line on stderr and exit code 130, never a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xlsxwriter.workbook

from sheetnet.cli import INTERRUPTED
from sheetnet.errors import SheetnetError
from sheetnet.model.spec import load_template
from sheetnet.sheets import summary
from sheetnet.sheets.writer import build_workbook
from tests.conftest import build, ctrl_c_as_at_a_terminal, needs_libreoffice

OLD = b"the previous output: must survive"
REPO = Path(__file__).resolve().parents[1]
INTERRUPTED_LINE = ("sheetnet: interrupted; the unfinished file was discarded, an earlier one "
                    "left as it was")


def _old_output(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(OLD)
    return path


def _only(folder: Path, *names: str) -> None:
    """The folder holds exactly these files: no .sheetnet-* temporary file is left."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --- failures inside the library -----------------------------------------------------------


def test_a_build_failing_half_way_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _old_output(tmp_path, "out.xlsx")
    seen: list[int] = []

    def broken_writer(ctx: object, ws: object) -> None:
        # By now the Guide, Network, Training, Working and Charts sheets are written.
        seen.append(len(list(tmp_path.glob(".sheetnet-*.xlsx"))))
        raise RuntimeError("a sheet writer failed")

    monkeypatch.setattr(summary, "write_summary_sheet", broken_writer)
    with pytest.raises(RuntimeError, match="a sheet writer failed"):
        build_workbook(load_template("seed-004-2-2-2"), out)
    assert seen == [1]  # the temporary file existed while the build ran
    assert out.read_bytes() == OLD
    _only(tmp_path, "out.xlsx")


def test_a_full_disk_while_zipping_is_one_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _old_output(tmp_path, "out.xlsx")

    def disk_full(self: xlsxwriter.workbook.Workbook) -> None:
        Path(self.filename).write_bytes(b"PK\x03\x04 half a zip")  # a partial file, then the error
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", disk_full)
    with pytest.raises(SheetnetError) as caught:
        build_workbook(load_template("seed-004-2-2-2"), out)
    assert str(caught.value) == (f"could not write {out}: No space left on device; "
                                 "an earlier file of that name is unchanged")
    assert out.read_bytes() == OLD
    _only(tmp_path, "out.xlsx")


def test_a_good_build_replaces_the_old_file(tmp_path: Path) -> None:
    out = _old_output(tmp_path, "out.xlsx")
    build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=3))
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    _only(tmp_path, "out.xlsx")


# --- Ctrl-C on the command ---------------------------------------------------------------------


def _interrupt(
    args: list[str], folder: Path, suffix: str, *, with_child: bool = False
) -> tuple[int, str, str, list[int]]:
    """Run `sheetnet ARGS`, press Ctrl-C once its temporary output file exists (and, with
    with_child, once it has started a child process).

    Returns the exit code, stdout, stderr and the pids of the children it had at that moment.
    Like a terminal, the signal goes to the command's whole process group.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sheetnet.cli import app; app()", *args],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    try:
        deadline = time.monotonic() + 300
        while not list(folder.glob(f".sheetnet-*{suffix}")) or (with_child and not _children(proc.pid)):
            if proc.poll() is not None:
                pytest.fail(f"finished before the interrupt: {proc.communicate()}")
            if time.monotonic() > deadline:
                pytest.fail("no temporary file appeared")
            time.sleep(0.01)
        children = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, out, err, children


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _gone(pid: int) -> bool:
    """The process ended (a zombie waiting for its parent counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def _assert_interrupted(code: int, err: str) -> None:
    assert code == INTERRUPTED == 130
    assert err.splitlines() == [INTERRUPTED_LINE], err
    assert "Traceback" not in err


def test_ctrl_c_during_a_long_build_leaves_the_old_workbook(tmp_path: Path) -> None:
    out = _old_output(tmp_path, "out.xlsx")
    # 20,000 iterations of the 2-2-2-2 demo take some 8 s to write: the interrupt comes first.
    code, stdout, err, _ = _interrupt(
        ["build", "-t", "seed-001-bp-demo", "--iters", "20000", "out.xlsx"], tmp_path, ".xlsx")
    _assert_interrupted(code, err)
    assert stdout == ""
    assert out.read_bytes() == OLD
    _only(tmp_path, "out.xlsx")


def test_ctrl_c_while_writing_csv_leaves_the_old_file(tmp_path: Path) -> None:
    out = _old_output(tmp_path, "run.csv")
    # 3,000 rows of the 1,228-column benchmark network: seconds of CSV formatting.
    config = REPO / "bench" / "wide.toml"
    code, stdout, err, _ = _interrupt(
        ["train", "-c", str(config), "--iters", "3000", "--csv", "run.csv"], tmp_path, ".csv")
    _assert_interrupted(code, err)
    assert stdout == ""
    assert out.read_bytes() == OLD
    _only(tmp_path, "run.csv")


@needs_libreoffice
@pytest.mark.libreoffice
def test_ctrl_c_while_printing_the_pdf_leaves_the_old_pdf_and_stops_libreoffice(tmp_path: Path) -> None:
    pdf = _old_output(tmp_path, "out.pdf")
    code, stdout, err, children = _interrupt(
        ["build", "-t", "seed-004-2-2-2", "--iters", "50", "out.xlsx", "--pdf", "out.pdf"],
        tmp_path, ".pdf", with_child=True)
    _assert_interrupted(code, err)
    assert stdout.startswith("wrote out.xlsx")  # the workbook was complete before the PDF began
    assert pdf.read_bytes() == OLD
    _only(tmp_path, "out.pdf", "out.xlsx")
    assert children, "LibreOffice was not running"
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in children)  # soffice did not outlive the command
