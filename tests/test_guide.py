"""The Guide sheet: first tab and active, in both languages, with the network drawn and the chain rule."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from sheetnet.model.spec import Spec, load_template, parse_spec
from sheetnet.sheets import styles
from sheetnet.sheets.guide import MAX_SHOWN
from sheetnet.sheets.i18n import STRINGS
from tests.conftest import build, dense_templates

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# function names, the same in both languages
FORMULA_WORDS = {"tanh", "max", "ReLU", "softmax", "ln", "LeakyReLU"}


def guide_texts(path: Path) -> tuple[openpyxl.Workbook, list[str]]:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    return wb, [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_guide_is_first_and_active(tmp_path: Path, lang: str) -> None:
    wb, _ = guide_texts(build(tmp_path, "seed-004-2-2-2", lang=lang))
    assert wb.sheetnames[0] == STRINGS[lang]["sheet.guide"]
    assert wb.active.title == STRINGS[lang]["sheet.guide"]
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [wb.sheetnames[0]]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_guide_content(tmp_path: Path, lang: str) -> None:
    spec = load_template("seed-004-2-2-2")
    words = STRINGS[lang]
    _, texts = guide_texts(build(tmp_path, spec, lang=lang))
    shown = spec.in_language(lang)  # the template's own [zh] title and description
    for expected in (shown.title, shown.description.strip(), words["guide.sheets_heading"],
                     words["guide.network_heading"], words["guide.chain_heading"],
                     words["guide.try_heading"], words["guide.sheet.training"]):
        assert expected in texts
    for group in ("forward", "loss", "backward", "gradient"):
        assert words[f"group.{group}"] in texts
    joined = "\n".join(texts)
    # the network drawn: x₁ x₂ → a₃ a₄ → a₅ a₆ → L, with its activations
    for neuron in ("x₁", "x₂", "a₃", "a₄", "a₅", "a₆", "L"):
        assert neuron in texts
    assert "a = σ(z)" in texts
    # the chain rule, with this network's first equations
    for equation in ("z₃ = w₃₁·x₁ + w₃₂·x₂ + b₃", "a₃ = σ(z₃)", "δ₅ = (a₅ − t₁)·a₅·(1 − a₅)",
                     "δ₃ = (w₅₃·δ₅ + w₆₃·δ₆)·a₃·(1 − a₃)", "∂L/∂w₅₃ = ∂L/∂z₅ · ∂z₅/∂w₅₃ = δ₅·a₃",
                     "L = ½·((a₅ − t₁)² + (a₆ − t₂)²)", "wⱼᵢ ← wⱼᵢ − η·∂L/∂wⱼᵢ"):
        assert equation in joined
    # the third thing to try quotes the number seed 004 prints: a₃ = 0.6236336
    assert "a₃ = 0.6236336" in joined
    assert words["guide.try.lr"].format(lr="0.5") in texts  # quotes the current learning rate


def test_sheet_list_names_every_other_sheet(tmp_path: Path) -> None:
    wb, texts = guide_texts(build(tmp_path, "seed-004-2-2-2"))
    described = [name for name in wb.sheetnames[1:] if name in texts]
    assert {"Network", "Training"} <= set(described)


def test_group_colours_match_the_training_sheet(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(build(tmp_path, "seed-004-2-2-2"))
    ws = wb.worksheets[0]
    fills = {c.value: c.fill.fgColor.rgb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for group in ("param", "forward", "loss", "backward", "gradient"):
        band = styles.GROUP_COLOURS[group][0].lstrip("#").upper()
        assert fills[STRINGS["en"][f"group.{group}"]].endswith(band), group


@pytest.mark.parametrize("name", dense_templates())
def test_chinese_guide_has_no_english(tmp_path: Path, name: str) -> None:
    spec = load_template(name)
    _assert_chinese(build(tmp_path, spec, lang="zh"), spec)


def _assert_chinese(path: Path, spec: Spec) -> None:
    _, texts = guide_texts(path)
    zh = spec.in_language("zh")
    # The spec's own words may quote identifiers (y_true); everything else must be Chinese.
    own = {zh.title, zh.description.strip()}
    for text in texts:
        if text not in own:
            assert set(ENGLISH_WORD.findall(text)) <= FORMULA_WORDS, text


def wide_spec() -> Spec:
    return parse_spec({
        "title": "wide & deep", "description": "collapsing",
        "network": {"sizes": [9, 6, 4, 2], "activations": ["relu", "tanh", "linear"], "bias": "shared",
                    "loss": "mse"},
        "training": {"learning_rate": 0.1, "iterations": 3, "reduction": "sum"},
        "init": {"seed": 1},
        "data": {"inputs": [[0.1] * 9, [0.2] * 9], "targets": [[0.0, 1.0], [1.0, 0.0]]},
    })


def test_big_layers_collapse(tmp_path: Path) -> None:
    spec = wide_spec()
    assert spec.sizes[0] > MAX_SHOWN
    _, texts = guide_texts(build(tmp_path, spec))
    assert {"x₁", "x₂", "x₃", "x₉", "a₁₀", "a₁₁", "a₁₂", "a₁₅", "a₁₆", "a₁₉", "a₂₀", "a₂₁"} <= set(texts)
    assert not {"x₄", "x₈", "a₁₃", "a₁₄"} & set(texts)
    assert texts.count("⋮") == 2  # the 9 inputs and the 6 hidden neurons
    joined = "\n".join(texts)
    assert "z₁₀ = w₁₀‚₁·x₁ + w₁₀‚₂·x₂ + … + b⁽¹⁾" in joined
    assert "a = max(0, z)" in texts and "a = tanh(z)" in texts
    assert STRINGS["en"]["guide.samples"].format(n=2, how="sum") in texts
    _assert_chinese(build(tmp_path, spec, name="zh.xlsx", lang="zh"), spec)


@pytest.mark.parametrize(("name", "key"), [("seed-004-2-2-2", "guide.try.seed"), ("xor", "guide.try.hand")])
def test_only_seed_templates_compare_with_a_tutorial(tmp_path: Path, name: str, key: str) -> None:
    _, texts = guide_texts(build(tmp_path, load_template(name).replace(iterations=3)))
    joined = "\n".join(texts)
    for other in ("guide.try.seed", "guide.try.hand"):
        opening = STRINGS["en"][other].split("{")[0]
        assert (opening in joined) == (other == key), other


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_student_guide_names_only_sheets_the_file_has(tmp_path: Path, lang: str) -> None:
    """A student's file has no Training or Working sheet: its Guide must not send them there."""
    from sheetnet.classroom.exercise import Setup, build_exercise

    words = STRINGS[lang]
    path = build_exercise(load_template("seed-004-2-2-2"), tmp_path / "student.xlsx",
                          setup=Setup(mode="student"), lang=lang)
    wb, texts = guide_texts(path)
    assert wb.sheetnames == [words["sheet.guide"], words["sheet.network"], words["sheet.exercise"]]
    for sent in (words["guide.subtitle.exercise"], words["guide.sheet.network.exercise"],
                 words["guide.reading.exercise"], words["guide.try.exercise.order"],
                 words["guide.try_heading.exercise"], words["guide.eq.param.exercise"]):
        assert sent in texts
    # what a full workbook's Guide says about recomputing and about the sheets a student has not got
    gone = ("guide.subtitle", "guide.sheet.network", "guide.reading", "guide.try.lr", "guide.try.weight",
            "guide.eq.param", "guide.sheet.training", "guide.sheet.working")
    for key in gone:
        assert words[key] not in texts
    if lang == "en":  # the only text naming the Training or Working sheet: they are in the full workbook
        naming = [t for t in texts if re.search(r"\b(Training|Working) sheet", t)]
        assert naming == [words["guide.try.exercise.key"]]
