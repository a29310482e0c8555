"""The cell notes on the Training header: each column's equation in the seeds' notation."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from sheetnet.equations.labels import MAX_TERMS, collapse
from sheetnet.equations.notes import column_notes
from sheetnet.model import ids
from sheetnet.model.spec import load_template, parse_spec, template_names
from sheetnet.sheets import layout
from sheetnet.sheets.blocks import comment_options
from sheetnet.sheets.i18n import STRINGS
from tests.conftest import build

SEED_004 = {  # column id → the equation its note must hold (seed 004's notation)
    "W1[1,1]": "w₃₁ (next row) = w₃₁ − η·∂L/∂w₃₁",
    "b2[2]": "b₆ (next row) = b₆ − η·∂L/∂b₆",
    "z1[1]": "z₃ = w₃₁·x₁ + w₃₂·x₂ + b₃",
    "a1[1]": "a₃ = σ(z₃)",
    "z2[2]": "z₆ = w₆₃·a₃ + w₆₄·a₄ + b₆",
    "loss": "L = ½·((a₅ − t₁)² + (a₆ − t₂)²)",
    "delta2[1]": "δ₅ = (a₅ − t₁)·a₅·(1 − a₅)",
    "delta2[2]": "δ₆ = (a₆ − t₂)·a₆·(1 − a₆)",
    "delta1[1]": "δ₃ = (w₅₃·δ₅ + w₆₃·δ₆)·a₃·(1 − a₃)",
    "delta1[2]": "δ₄ = (w₅₄·δ₅ + w₆₄·δ₆)·a₄·(1 − a₄)",
    "dW2[1,1]": "∂L/∂w₅₃ = ∂L/∂z₅ · ∂z₅/∂w₅₃ = δ₅·a₃",
    "dW1[2,2]": "∂L/∂w₄₂ = ∂L/∂z₄ · ∂z₄/∂w₄₂ = δ₄·x₂",
    "db1[1]": "∂L/∂b₃ = δ₃",
}
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# function names, the same in both languages
FORMULA_WORDS = {"tanh", "max", "ReLU", "softmax", "ln", "LeakyReLU"}


def test_seed_004_equations() -> None:
    notes = column_notes(load_template("seed-004-2-2-2"), STRINGS["en"])
    for qid, equation in SEED_004.items():
        assert equation in notes[qid].splitlines(), (qid, notes[qid])


@pytest.mark.parametrize("name", template_names())
def test_every_column_has_a_note(name: str) -> None:
    spec = load_template(name)
    for lang in STRINGS:
        notes = column_notes(spec, STRINGS[lang])
        assert set(notes) == set(ids.all_ids(spec))
        assert all(text.strip() for text in notes.values())


def test_linear_sum_over_samples() -> None:
    """seed 001's linear system: Σ(y−t)² summed over two samples, so δ has the factor 2 and no f′;
    where a formula sums over the samples each symbol carries its sample."""
    notes = column_notes(load_template("seed-001-linear-system"), STRINGS["en"])
    assert "δ₃ = 2·(a₃ − t₁)" in notes["delta1[1]@1"]
    assert "L = (a₃⁽¹⁾ − t₁⁽¹⁾)² + (a₃⁽²⁾ − t₁⁽²⁾)²" in notes["loss"]
    assert "∂L/∂w₃₁ = δ₃⁽¹⁾·x₁⁽¹⁾ + δ₃⁽²⁾·x₁⁽²⁾" in notes["dW1[1,1]"]
    assert "a₃ = z₃" in notes["a1[1]@2"]
    assert "sample 2" in notes["z1[1]@2"]


def test_fixed_shared_bias() -> None:
    """seed 001's bp_demo: one bias per layer, not trained."""
    notes = column_notes(load_template("seed-001-bp-demo"), STRINGS["en"])
    assert "z₃ = w₃₁·x₁ + w₃₂·x₂ + b⁽¹⁾" in notes["z1[1]"]
    assert "fixed" in notes["b1"] and "b⁽¹⁾" in notes["b1"]
    assert "db1" not in notes


def _wide_spec() -> object:
    return parse_spec({
        "title": "wide", "description": "",
        "network": {"sizes": [7, 6, 2], "activations": ["relu", "tanh"], "bias": "shared", "loss": "mse"},
        "training": {"learning_rate": 0.1, "iterations": 3, "reduction": "mean"},
        "init": {"seed": 1},
        "data": {"inputs": [[0.1] * 7, [0.2] * 7], "targets": [[0.0, 1.0], [1.0, 0.0]]},
    })


def test_long_sums_collapse_and_keep_the_bias() -> None:
    notes = column_notes(_wide_spec(), STRINGS["en"])
    assert "z₈ = w₈₁·x₁ + w₈₂·x₂ + … + b⁽¹⁾" in notes["z1[1]@1"]  # the bias stays
    assert "δ₈ = (w₁₄‚₈·δ₁₄ + w₁₅‚₈·δ₁₅)·[1 if z₈ > 0, else 0]" in notes["delta1[1]@2"]
    assert "δ₁₄ = 2/2·(a₁₄ − t₁)·(1 − a₁₄²)" in notes["delta2[1]@1"]
    assert ("L = ((a₁₄⁽¹⁾ − t₁⁽¹⁾)² + (a₁₅⁽¹⁾ − t₂⁽¹⁾)² + (a₁₄⁽²⁾ − t₁⁽²⁾)² + (a₁₅⁽²⁾ − t₂⁽²⁾)²)/2/2"
            in notes["loss"])  # the mean over 2 outputs, then over 2 samples, as the cell divides
    assert "∂L/∂b⁽¹⁾ = (δ₈⁽¹⁾ + δ₉⁽¹⁾ + … + δ₁₃⁽²⁾)/2" in notes["db1"]
    assert collapse([str(n) for n in range(MAX_TERMS)]) == " + ".join(map(str, range(MAX_TERMS)))


def test_chinese_notes_have_no_english() -> None:
    for spec in (load_template("seed-004-2-2-2"), load_template("seed-001-bp-demo"), _wide_spec()):
        for qid, text in column_notes(spec, STRINGS["zh"]).items():
            assert set(ENGLISH_WORD.findall(text)) <= FORMULA_WORDS, (qid, text)
            assert re.search(r"[\u4e00-\u9fff]", text), (qid, text)


def test_comment_box_fits_its_text() -> None:
    short, long = comment_options("a₃ = σ(z₃)"), comment_options("x" * 200 + "\nline two\nline three")
    assert short["width"] >= 220 and long["width"] <= 520
    assert long["height"] > short["height"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_header_cells_carry_the_notes(tmp_path: Path, lang: str) -> None:
    spec = load_template("seed-004-2-2-2")
    wb = openpyxl.load_workbook(build(tmp_path, spec, lang=lang))
    ws = wb[STRINGS[lang]["sheet.training"]]
    expected = column_notes(spec, STRINGS[lang])
    found = {}
    for col in range(1, ws.max_column + 1):
        qid = ws.cell(layout.ID_ROW, col).value
        comment = ws.cell(layout.LABEL_ROW, col).comment
        assert comment is not None, qid
        found[qid] = comment.text
        assert ws.cell(layout.BAND_ROW, col).comment is None  # notes on the label row only
    assert found == expected
    assert SEED_004["dW2[1,1]"] in found["dW2[1,1]"]
    assert ws.row_dimensions[layout.BAND_ROW].height == 45  # set before the band row was written
