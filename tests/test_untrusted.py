"""`sheetnet check` on broken or hostile files: a one-line error (exit 2) or a named mismatch (exit 1).

Never a traceback, never unpacking a zip bomb, never expanding XML entities.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model import ids
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import layout
from sheetnet.sheets.layout import FIRST_DATA_ROW, NetworkLayout
from sheetnet.verify import untrusted
from tests.conftest import build, needs_libreoffice

runner = CliRunner()


def _spec() -> Spec:
    return load_template("seed-004-2-2-2").replace(iterations=8)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build(tmp_path_factory.mktemp("good"), _spec()).read_bytes()


def _check(path: Path, *args: str) -> Any:
    return runner.invoke(app, ["check", str(path), *args])


def _one_line_error(result: Any) -> str:
    """The run failed with exit code 2 and exactly one line on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sheetnet: error: ")
    return lines[0]


def _mismatch(result: Any) -> str:
    """The run finished with exit code 1 and the FAIL line naming the first wrong cell."""
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    fail = [line for line in result.stdout.splitlines() if line.startswith("FAIL: ")]
    assert len(fail) == 1, result.stdout
    return fail[0]


def _rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The same zip with each member's bytes passed through change(name, bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


def _edited(tmp_path: Path, good: bytes, edit: Callable[[openpyxl.Workbook], None]) -> Path:
    path = tmp_path / "edited.xlsx"
    path.write_bytes(good)
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


def _write(tmp_path: Path, data: bytes, name: str = "broken.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _network_cell(key: str) -> tuple[int, int]:
    return NetworkLayout(_spec()).input_cells[key]


# --- files that are no workbook at all -----------------------------------------------------


def _not_a_zip(good: bytes) -> bytes:
    return b"name,value\nx,1\n" * 20


def _zip_of_text(good: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "a zip, but no workbook inside")
    return out.getvalue()


def _flipped(good: bytes) -> bytes:
    # 16 bytes in the middle of the Training sheet's compressed data: a bad CRC or a broken
    # deflate stream (the zip directory stays intact).
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("xl/worksheets/sheet3.xml")
    name_len, extra_len = struct.unpack_from("<HH", good, info.header_offset + 26)
    middle = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    data = bytearray(good)
    data[middle : middle + 16] = bytes(b ^ 0x5A for b in data[middle : middle + 16])
    return bytes(data)


BROKEN_FILES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("empty", lambda good: b"", "not an .xlsx workbook that can be read (BadZipFile"),
    ("text", _not_a_zip, "not an .xlsx workbook that can be read (BadZipFile"),
    ("zip of text", _zip_of_text, "[Content_Types].xml"),
    ("truncated to 99%", lambda good: good[: len(good) * 99 // 100], "not an .xlsx workbook"),
    ("truncated to half", lambda good: good[: len(good) // 2], "not an .xlsx workbook"),
    ("bytes flipped", _flipped, "not an .xlsx workbook that can be read"),
    ("a sheet's XML cut in half",
     lambda good: _rezip(good, lambda n, b: b[: len(b) // 2] if n == "xl/worksheets/sheet3.xml" else b),
     "not an .xlsx workbook that can be read (ParseError"),
]


@pytest.mark.parametrize(("make", "words"), [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES])
def test_a_broken_file_is_a_one_line_error(tmp_path: Path, good: bytes, make: Any, words: str) -> None:
    path = _write(tmp_path, make(good))
    line = _one_line_error(_check(path))
    assert words in line
    assert str(path) in line


def test_a_plain_workbook_that_is_not_ours_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["item", "cost"])
    book.active.append(["=1+1", 3])
    book.save(path)
    line = _one_line_error(_check(path))
    assert "not a sheetnet workbook (it has no sheet named Network or 网络)" in line


# --- our workbook, damaged ------------------------------------------------------------------


def test_a_missing_sheet_is_named(tmp_path: Path, good: bytes) -> None:
    path = _edited(tmp_path, good, lambda book: book.remove(book["Training"]))
    assert "it has no sheet named Training or 训练" in _one_line_error(_check(path))


def test_a_formula_replaced_by_a_constant_is_a_named_mismatch(tmp_path: Path, good: bytes) -> None:
    spec = _spec()
    col = ids.all_ids(spec).index("a1[2]") + 1
    address = layout.address(FIRST_DATA_ROW + 4, col)

    def edit(book: openpyxl.Workbook) -> None:
        book["Training"][address] = 0.5

    fail = _mismatch(_check(_edited(tmp_path, good, edit)))
    assert fail.startswith(f"FAIL: first wrong cell Training!{address} (id a1[2], iteration 4)")
    assert "the cell holds no formula but 0.5" in fail


def test_a_deleted_training_row_is_a_named_mismatch(tmp_path: Path, good: bytes) -> None:
    # Deleting row 7 (iteration 3) moves iterations 4.. up a row: openpyxl does not rewrite the
    # formulas, so row 7 now holds iteration 4's number where 3 is expected.
    path = _edited(tmp_path, good, lambda book: book["Training"].delete_rows(FIRST_DATA_ROW + 3))
    fail = _mismatch(_check(path))
    assert fail == ("FAIL: first wrong cell Training!A7 (id iter, iteration 3): "
                    "expected 3.0, got 4.0")


@pytest.mark.parametrize(("value", "shown"), [(None, "an empty cell"), ("0.5x", "'0.5x'")])
def test_a_deleted_or_text_network_value_is_named(
    tmp_path: Path, good: bytes, value: Any, shown: str
) -> None:
    row, col = _network_cell("init:W1[2,1]")

    def edit(book: openpyxl.Workbook) -> None:
        book["Network"].cell(row, col).value = value

    line = _one_line_error(_check(_edited(tmp_path, good, edit)))
    assert f"cell {layout.address(row, col)} (init:W1[2,1]) must hold a number, got {shown}" in line


def _forget_recorded_settings(book: openpyxl.Workbook) -> None:
    """Drop the grey settings the build records, so the check cannot name the edit."""
    for name in list(book.custom_doc_props.names):
        if name.startswith("sheetnet:"):
            del book.custom_doc_props[name]


def test_a_network_claiming_a_huge_net_is_refused_before_allocating(tmp_path: Path, good: bytes) -> None:
    row, col = NetworkLayout(_spec()).setting_cells["sizes"]

    def edit(book: openpyxl.Workbook) -> None:
        _forget_recorded_settings(book)  # a forged file, not a student's edit (test_new_user.py)
        book["Network"].cell(row, col).value = "100000-100000-2"

    line = _one_line_error(_check(_edited(tmp_path, good, edit)))
    needed = 1 * (100_000 + 2) + 100_000 * 100_000 + 100_000 * 2  # 1 sample's x and t, 2 weight layers
    assert f"the settings describe a network with {needed:,} inputs and weights" in line


def test_a_network_claiming_a_million_iterations_is_refused(tmp_path: Path, good: bytes) -> None:
    row, col = NetworkLayout(_spec()).setting_cells["iterations"]

    def edit(book: openpyxl.Workbook) -> None:
        _forget_recorded_settings(book)
        book["Network"].cell(row, col).value = 1_000_000

    line = _one_line_error(_check(_edited(tmp_path, good, edit)))
    columns = len(ids.all_ids(_spec()))
    assert f"describes {1_000_001 * columns:,} Training cells" in line


@needs_libreoffice
@pytest.mark.libreoffice
def test_libreoffice_engine_on_a_broken_file_is_a_one_line_error(tmp_path: Path, good: bytes) -> None:
    path = _write(tmp_path, good[: len(good) // 2])
    assert "not an .xlsx workbook" in _one_line_error(_check(path, "--engine", "libreoffice"))


# --- hostile files ---------------------------------------------------------------------------


def test_openpyxl_parses_through_defusedxml() -> None:
    import defusedxml  # noqa: F401  (a dependency: importing it must work)

    assert openpyxl.DEFUSEDXML is True


def test_xml_entities_are_refused(tmp_path: Path, good: bytes) -> None:
    # "Billion laughs": ten levels of ten references expand to 10¹⁰ characters if resolved.
    entities = '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 11))
    doctype = f"<!DOCTYPE worksheet [{entities}]>".encode()

    def poison(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet2.xml":  # the Network sheet
            return data
        data = data.replace(b"<worksheet ", doctype + b"<worksheet ", 1)
        return data.replace(b"<t>", b"<t>&l10;", 1)

    line = _one_line_error(_check(_write(tmp_path, _rezip(good, poison))))
    assert "not an .xlsx workbook that can be read (EntitiesForbidden" in line


def test_a_zip_bomb_part_is_refused_by_its_compression_ratio(tmp_path: Path, good: bytes) -> None:
    zeros = bytes(16 << 20)  # 16 MiB of zeros deflate to about 16 KB: a ratio near 1,000

    def bomb(name: str, data: bytes) -> bytes:
        return data + zeros if name == "xl/worksheets/sheet2.xml" else data

    data = _rezip(good, bomb)
    assert len(data) < len(good) + 100_000
    line = _one_line_error(_check(_write(tmp_path, data)))
    assert "refused: its part xl/worksheets/sheet2.xml would unpack" in line
    assert "(limit 200); a zip bomb" in line


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with `member`'s uncompressed size in the central directory set to `size`.

    A bomb's declared size costs nothing on disk; the guard must read it from the directory.
    """
    out = bytearray(data)
    pos = data.find(b"PK\x01\x02")  # each central directory entry: this signature, 46 bytes, name
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + name_len] == member.encode():
            struct.pack_into("<I", out, pos + 24, size)  # the uncompressed size field
            return bytes(out)
        pos = data.find(b"PK\x01\x02", pos + 46)
    raise ValueError(f"{member} not in the zip")


def test_an_absurd_unpacked_size_is_refused_before_unpacking(tmp_path: Path, good: bytes) -> None:
    # Two sheets of 2 GiB: whatever the Network sheet claims, only one part may pass the limit.
    data = _declare_size(good, "xl/worksheets/sheet3.xml", 0x8000_0000)
    data = _declare_size(data, "xl/worksheets/sheet2.xml", 0x7FFF_FF00)
    line = _one_line_error(_check(_write(tmp_path, data)))
    assert "refused: it would unpack to 4.00 GiB, more than the 1.00 GiB limit" in line


def _sizes(data: bytes) -> dict[str, int]:
    return {i.filename: i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}


def test_the_size_limit_applies_to_the_whole_archive(tmp_path: Path, good: bytes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    unpacked = sum(_sizes(good).values())
    path = _write(tmp_path, good)
    monkeypatch.setattr(untrusted, "MAX_CELL_BYTES", 0)  # no allowance for the claimed cells
    monkeypatch.setattr(untrusted, "MAX_UNPACKED_BYTES", unpacked)
    assert _check(path).exit_code == 0  # exactly at the limit: checked
    monkeypatch.setattr(untrusted, "MAX_UNPACKED_BYTES", unpacked - 1)
    assert "more than the" in _one_line_error(_check(path))


def test_a_training_sheet_past_the_limit_is_checked_when_its_claimed_cells_explain_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel's largest sheet unpacks to 3.7 GB, past the 1 GiB limit: the limit grows by
    MAX_CELL_BYTES for each Training cell the Network sheet describes. Here the limit is cut to
    just the other parts, so that the Training sheet of 301 rows is what passes it."""
    spec = load_template("seed-004-2-2-2").replace(iterations=300)
    path = build(tmp_path, spec)
    sizes = _sizes(path.read_bytes())
    training = sizes.pop("xl/worksheets/sheet3.xml")
    assert training > max(sizes.values())  # the largest part: the one that may grow
    cells = (spec.iterations + 1) * len(ids.all_ids(spec))
    monkeypatch.setattr(untrusted, "MAX_UNPACKED_BYTES", sum(sizes.values()) + 1_000)
    result = _check(path)
    assert result.exit_code == 0 and "OK" in result.stdout, result.output
    assert training > 1_000 + cells * untrusted.MIN_CELL_BYTES
    monkeypatch.setattr(untrusted, "MAX_CELL_BYTES", (training - 1_000) // cells - 1)
    line = _one_line_error(_check(path))
    assert "refused: it would unpack to" in line
    assert f"bytes for each of the {cells:,} Training cells its Network sheet describes" in line


def test_a_big_part_that_is_not_the_training_sheet_is_refused_before_any_sheet_is_read(
        tmp_path: Path, good: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = _sizes(good)
    data = _declare_size(good, "xl/worksheets/sheet2.xml", 900_000)  # the Network sheet
    others = sum(sizes.values()) - sizes["xl/worksheets/sheet2.xml"]
    monkeypatch.setattr(untrusted, "MAX_UNPACKED_BYTES", others)
    line = _one_line_error(_check(_write(tmp_path, data)))
    assert ("refused: its part xl/worksheets/sheet2.xml would unpack to 0.9 MiB, more than the "
            f"{untrusted.MAX_UNPACKED_BYTES / 2**20:.1f} MiB limit for a workbook to check, and it is not "
            "the Training sheet") in line


def test_a_zip_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in range(untrusted.MAX_PARTS + 1):
            z.writestr(f"p{n}", b"")
    line = _one_line_error(_check(_write(tmp_path, out.getvalue())))
    assert "refused: its zip has 10,001 parts, more than the 10,000 a workbook needs" in line


def test_pdf_of_a_file_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    # LibreOffice itself would happily print an empty file as an empty page.
    path = _write(tmp_path, b"")
    result = runner.invoke(app, ["pdf", str(path), str(tmp_path / "out.pdf")])
    assert "not an .xlsx workbook that can be read (BadZipFile" in _one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.xlsx"]
