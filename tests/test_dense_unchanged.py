"""The dense workbooks stay byte for byte what they were before layered networks came: every XML
part of every template's workbook hashes as recorded in tests/data/dense_parts.json (the
creation time in docProps/core.xml aside).

Regenerate the record only for a change meant to alter dense workbooks:
    python tests/test_dense_unchanged.py > tests/data/dense_parts.json
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest

from sheetnet import api
from tests.conftest import TEMPLATES

RECORD = Path(__file__).parent / "data" / "dense_parts.json"
ITERATIONS = 30
_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def part_hashes(name: str, folder: Path) -> dict[str, str]:
    """sha256 of every part of the template's workbook at ITERATIONS iterations."""
    path = folder / f"{name}.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api.build(api.template(name).replace(iterations=ITERATIONS), path)
    with zipfile.ZipFile(path) as archive:
        return {part: hashlib.sha256(_TIMES.sub(rb"\1\2", archive.read(part))).hexdigest()
                for part in sorted(archive.namelist())}


def _recorded() -> dict[str, dict[str, str]]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_dense_workbook_parts_unchanged(name: str, tmp_path: Path) -> None:
    expected = _recorded()[name]
    got = part_hashes(name, tmp_path)
    assert sorted(got) == sorted(expected)
    changed = [part for part in expected if got[part] != expected[part]]
    assert changed == [], f"{name}: these parts changed: {changed}"


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        record = {name: part_hashes(name, Path(tmp)) for name in TEMPLATES}
    json.dump(record, sys.stdout, indent=1, sort_keys=True)
    print()
