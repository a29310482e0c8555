"""A spec's [zh] table gives the title and description that a Chinese workbook shows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetnet.errors import SheetnetError
from sheetnet.model.spec import load_template, parse_spec, template_names, to_table
from tests.conftest import build


@pytest.mark.parametrize("name", template_names())
def test_every_template_has_a_chinese_title_and_description(name: str) -> None:
    spec = load_template(name)
    zh = spec.in_language("zh")
    assert zh.title != spec.title and any("\u4e00" <= ch <= "\u9fff" for ch in zh.title)
    assert ("种子" in zh.description) == name.startswith("seed-")  # xor comes from no seed
    assert spec.in_language("en") is spec


def test_chinese_workbook_shows_the_chinese_title(tmp_path: Path) -> None:
    zh = openpyxl.load_workbook(build(tmp_path, "seed-004-2-2-2", "zh.xlsx", lang="zh"))
    en = openpyxl.load_workbook(build(tmp_path, "seed-004-2-2-2", "en.xlsx"))
    assert zh["网络"]["A1"].value == "2-2-2 sigmoid 网络，每个神经元一个偏置（种子 004）"
    assert "0.6250409" in zh["网络"]["A2"].value
    assert en["Network"]["A1"].value == "2-2-2 sigmoid network with per-neuron biases (seed 004)"


def test_translation_survives_replace_and_unknown_fields_are_refused() -> None:
    spec = load_template("seed-003-single-update").replace(iterations=3)
    assert spec.in_language("zh").title == "手算一次权重更新（种子 003）"
    table = to_table(spec)
    table["zh"]["subtitle"] = "x"
    with pytest.raises(SheetnetError, match=r"unknown field 'zh\.subtitle'"):
        parse_spec(table)
