"""The Working sheet: iteration 1 by hand, its texts live, its values equal the NumPy reference."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import openpyxl
import pandas as pd
import pytest

from sheetnet.engines.libreoffice import recalculate
from sheetnet.equations import numbertext, textprint
from sheetnet.expr.formula import Cell, Const, Num, mul, sub
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import working
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layout import NetworkLayout
from tests.conftest import build, needs_gnumeric, needs_libreoffice

SEED_004 = "seed-004-2-2-2"
TWO_SAMPLES = "seed-000-regression"  # two samples, mean over them, linear, no bias


@dataclass
class Row:
    symbol: str
    equation: str
    numbers: Any  # the text column: its formula, or its (stored / recomputed) value
    value: Any


def _sheet(path: Path, lang: str = "en", *, data_only: bool = True) -> Any:
    book = openpyxl.load_workbook(path, data_only=data_only)
    return book[STRINGS[lang]["sheet.working"]]


def _lines(path: Path, lang: str = "en", *, data_only: bool = True) -> dict[str, Row]:
    """Every quantity line by its symbol, in sheet order."""
    ws = _sheet(path, lang, data_only=data_only)
    lines = {}
    for r in range(working.FIRST_ROW, ws.max_row + 1):
        def at(col: int, r: int = r) -> Any:
            return ws.cell(r, col).value
        if at(working.EQ1) == "=":
            symbol = at(working.SYMBOL)
            lines[symbol] = Row(symbol, at(working.EQUATION), at(working.NUMBERS), at(working.VALUE))
    return lines


def _expected(spec: Spec, reference: pd.DataFrame) -> dict[str, float]:
    """symbol → NumPy value: row t = 0, and row t = 1 for the updated parameters."""
    result = {}
    for item in working.items(spec):
        if isinstance(item, working.Line):
            label = working.quantity_label(spec, item.qid)
            if item.group == "update":
                result[label + "′"] = float(reference.loc[1, item.qid])
            else:
                result[label] = float(reference.loc[0, item.qid])
    return result


def _spec(name: str) -> Spec:
    return load_template(name)


# --- structure -----------------------------------------------------------------------------


def test_sheet_follows_training_and_has_every_line_of_seed_004(tmp_path: Path) -> None:
    path = build(tmp_path, SEED_004)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert names.index("Working") == names.index("Training") + 1
    forward = [f"{q}{n}" for n in "3456" for q in "za"]
    deltas = ["δ₅", "δ₆", "δ₃", "δ₄"]
    params = ["w₃₁", "w₃₂", "w₄₁", "w₄₂", "b₃", "b₄", "w₅₃", "w₅₄", "w₆₃", "w₆₄", "b₅", "b₆"]
    sub_digits = str.maketrans("3456", "₃₄₅₆")
    expected = [s.translate(sub_digits) for s in forward] + ["L", *deltas]
    expected += [f"∂L/∂{p}" for p in params] + [f"{p}′" for p in params]
    assert list(_lines(path)) == expected


def test_sections_in_hand_order_with_group_colours(tmp_path: Path) -> None:
    path = build(tmp_path, SEED_004)
    ws = _sheet(path, data_only=False)
    headers = [(ws.cell(r, 1).value, ws.cell(r, 1).fill.fgColor.rgb) for r in range(1, ws.max_row + 1)
               if ws.cell(r, 1).font.sz == 12]
    words = STRINGS["en"]
    # Plain gradient descent has no optimizer section (test_optimizer_sheets covers it).
    assert [h for h, _ in headers] == [words[f"working.{g}"] for g in working.SECTIONS if g != "optimizer"]
    assert [rgb[-6:] for _, rgb in headers] == ["A9D08E", "F4B084", "B4A7D6", "FFD966", "9DC3E6"]
    assert ws.freeze_panes == f"A{working.FIRST_ROW}"


def test_two_samples_get_sample_headers_and_superscripts(tmp_path: Path) -> None:
    spec = _spec(TWO_SAMPLES)
    path = build(tmp_path, spec)
    lines = _lines(path)
    # 2 samples × 3 neurons × (z, a) + L + 2 × 3 deltas + 6 gradients + 6 updates
    assert len(lines) == 12 + 1 + 6 + 6 + 6
    assert lines["z₃⁽²⁾"].equation == "w₃₁·x₁⁽²⁾ + w₃₂·x₂⁽²⁾"
    assert lines["∂L/∂w₃₁"].equation == "(δ₃⁽¹⁾·x₁⁽¹⁾ + δ₃⁽²⁾·x₁⁽²⁾)/2"
    assert lines["L"].equation == "½·((a₅⁽¹⁾ − t₁⁽¹⁾)² + (a₅⁽²⁾ − t₁⁽²⁾)²)/2"
    column_a = [c.value for c in _sheet(path)["A"]]
    assert column_a.count("Sample 1") == 2 and column_a.count("Sample 2") == 2  # forward, backward


def test_a3_line_matches_seed_004(tmp_path: Path) -> None:
    lines = _lines(build(tmp_path, SEED_004))
    # Seed 004: a3 = sigmoid(0.05*0.02 + 0.1*0.04 + 0.5) = 1/(1+e^-0.505) = 0.6236336
    z3, a3 = lines["z₃"], lines["a₃"]
    assert z3.equation == "w₃₁·x₁ + w₃₂·x₂ + b₃"
    assert z3.numbers == "0.05×0.02 + 0.1×0.04 + 0.5"
    assert z3.value == pytest.approx(0.505, abs=1e-15)
    assert (a3.equation, a3.numbers) == ("σ(z₃)", "σ(0.505)")
    assert round(a3.value, 7) == 0.6236336
    # a negative number after an operator is bracketed, one that opens a line is not
    assert lines["δ₃"].numbers == "(0.25×0.04797881 + 0.35×(-0.01664142))×0.6236336×(1 − 0.6236336)"
    assert lines["∂L/∂w₆₃"].numbers == "-0.01664142×0.6236336"
    assert lines["w₆₃′"].equation == "w₆₃ − η·∂L/∂w₆₃"
    assert lines["w₆₃′"].numbers == "0.35 − 0.5×(-0.01037815)"


def test_stored_values_are_the_reference(tmp_path: Path) -> None:
    spec = _spec(SEED_004)
    lines = _lines(build(tmp_path, spec))
    expected = _expected(spec, train(spec))
    assert {s: line.value for s, line in lines.items()} == expected


def test_chinese_sheet(tmp_path: Path) -> None:
    path = build(tmp_path, SEED_004, lang="zh")
    assert "演算" in openpyxl.load_workbook(path, read_only=True).sheetnames
    ws = _sheet(path, "zh", data_only=False)
    assert ws.cell(working.HEADER_ROW, working.NUMBERS).value == "代入数值"
    formula = ws.cell(working.FIRST_ROW + 1, working.NUMBERS).value  # z₃
    assert formula.startswith("=IF(ABS('网络'!$B$")


# --- recomputed by the `formulas` package, cell by cell ------------------------------------


def _recompute_with_formulas(path: Path, lang: str = "en") -> dict[str, Row]:
    """Every Working formula evaluated by `formulas`, reading the Network sheet's inputs.

    Each cell is compiled alone and its inputs resolved recursively, so this needs neither the
    Training sheet nor the cached values: the Working sheet must recompute from Network alone.
    """
    book = openpyxl.load_workbook(path)
    ws, network = book[STRINGS[lang]["sheet.working"]], book[STRINGS[lang]["sheet.network"]]
    parser = formulas.Parser()
    cache: dict[str, Any] = {}

    def value(ref: str) -> Any:
        if "!" in ref:
            return network[ref.rsplit("!", 1)[1]].value
        if ref not in cache:
            text = ws[ref].value
            if isinstance(text, str) and text.startswith("="):
                func = parser.ast(text)[1].compile()
                result = np.asarray(func(*(value(name) for name in func.inputs))).item()
                cache[ref] = result
            else:
                cache[ref] = text
        return cache[ref]

    lines = _lines(path, lang, data_only=False)
    for line in lines.values():
        row = next(r for r in range(working.FIRST_ROW, ws.max_row + 1)
                   if ws.cell(r, working.SYMBOL).value == line.symbol)
        line.numbers = value(f"E{row}")
        line.value = value(f"G{row}")
    return lines


@pytest.mark.parametrize(("name", "lang"), [(SEED_004, "en"), (TWO_SAMPLES, "zh")])
def test_formulas_package_recomputes_values_and_texts(tmp_path: Path, name: str, lang: str) -> None:
    spec = _spec(name)
    path = build(tmp_path, spec, lang=lang)
    stored = _lines(path, lang)
    recomputed = _recompute_with_formulas(path, lang)
    expected = _expected(spec, train(spec))
    assert list(recomputed) == list(expected)
    for symbol, line in recomputed.items():
        assert line.value == pytest.approx(expected[symbol], rel=1e-12, abs=1e-15), symbol
        assert line.numbers == stored[symbol].numbers, symbol


def test_long_sums_are_shortened_but_values_are_complete(tmp_path: Path) -> None:
    spec = _spec("seed-003-single-update")
    wide = spec.replace(
        sizes=(8, 1), weights=(tuple(tuple(0.1 * (i + 1) for i in range(8)) for _ in range(1)),),
        inputs=(tuple(0.5 - 0.1 * i for i in range(8)),),
    )
    path = build(tmp_path, wide)
    z = _lines(path)["z₉"]
    assert z.equation == "w₉₁·x₁ + w₉₂·x₂ + … + w₉₈·x₈"
    assert z.numbers == "0.1×0.5 + 0.2×0.4 + … + 0.8×(-0.2)"
    recomputed = _recompute_with_formulas(path)
    assert recomputed["z₉"].numbers == z.numbers
    assert recomputed["z₉"].value == pytest.approx(float(train(wide).loc[0, "z1[1]"]), rel=1e-12)


# --- recomputed by LibreOffice -------------------------------------------------------------


@needs_libreoffice
@pytest.mark.libreoffice
def test_libreoffice_recomputes_values_and_texts(tmp_path: Path) -> None:
    spec = _spec(SEED_004)
    path = build(tmp_path, spec)
    stored = _lines(path)
    recomputed = _lines(recalculate(path, tmp_path / "recalc.xlsx"))
    expected = _expected(spec, train(spec))
    assert list(recomputed) == list(expected)
    for symbol, line in recomputed.items():
        # LibreOffice 7.4 keeps 15 significant digits in the file.
        assert line.value == pytest.approx(expected[symbol], rel=1e-12, abs=1e-15), symbol
        assert line.numbers == stored[symbol].numbers, symbol


@needs_libreoffice
@pytest.mark.libreoffice
def test_editing_a_network_input_rewrites_the_hand_calculation(tmp_path: Path) -> None:
    spec = _spec(SEED_004)
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    row, col = NetworkLayout(spec).input_cells["x[1]@1"]
    network = book[STRINGS["en"]["sheet.network"]]
    assert network.cell(row, col).value == 0.02
    network.cell(row, col).value = 0.03
    book.save(tmp_path / "edited.xlsx")
    lines = _lines(recalculate(tmp_path / "edited.xlsx", tmp_path / "recalc.xlsx"))
    assert lines["z₃"].numbers == "0.05×0.03 + 0.1×0.04 + 0.5"
    assert lines["a₃"].numbers == "σ(0.5055)"
    edited = spec.replace(inputs=((0.03, 0.04),))
    expected = _expected(edited, train(edited))
    for symbol, line in lines.items():
        assert line.value == pytest.approx(expected[symbol], rel=1e-12, abs=1e-15), symbol
    assert lines["∂L/∂w₃₁"].numbers.endswith("×0.03")


# --- the printers --------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "text"), [
    (0.05, "0.05"), (2, "2"), (0.0, "0"), (0.62363364, "0.6236336"), (-0.0123, "-0.0123"),
    (-0.586, "-0.586"), (0.1 + 0.2, "0.3"), (12345.678, "12345.68"), (0.00012345678, "0.0001234568"),
    (0.000001234567, "1.234567E-6"), (5e-08, "5E-8"), (-1.5e-9, "-1.5E-9"), (123456789.5, "1.234568E8"),
    (1e20, "1E20"), (9999999.6, "10000000"), (9.99999996e-5, "1E-4"), (1e-6, "1E-6"), (-1e-7, "-1E-7"),
    (0.001, "0.001"), (1000, "1000"), (0.00999999996, "0.01"),
])
def test_format_number_matches_libreoffice_text(x: float, text: str) -> None:
    # Each pair was read back from LibreOffice 7.4 (en-US, zh-CN; de-DE and fr-FR the same with
    # a decimal comma) and Gnumeric 1.12 computing numbertext's formula. Seven significant
    # digits, not seven decimals: 5E-8 and 1.5E-9 no longer print as 0.0 (issue 15, item 2).
    assert textprint.format_number(x) == text


@pytest.mark.parametrize(("activation", "a_line", "delta"), [
    ("relu", "ReLU(z₃)", "(a₃ − t₁)·ReLU′(z₃)"),
    ("tanh", "tanh(z₃)", "(a₃ − t₁)·(1 − a₃²)"),
    ("sigmoid", "σ(z₃)", "(a₃ − t₁)·a₃·(1 − a₃)"),
    ("linear", "z₃", "a₃ − t₁"),
])
def test_activations_are_shown_by_name(activation: str, a_line: str, delta: str) -> None:
    spec = _spec("seed-003-single-update").replace(activations=(activation,))
    lines = {i.qid: i for i in working.items(spec) if isinstance(i, working.Line)}

    def name(node: Cell | Const) -> str:
        return working.quantity_label(spec, node.qid) if isinstance(node, Cell) else {
            "t[1]@1": "t₁"}.get(node.key, node.key)

    assert textprint.symbolic(lines["a1[1]"].expr, name) == a_line
    assert textprint.symbolic(lines["delta1[1]"].expr, name) == delta


def test_text_formula_and_text_value_agree_on_brackets() -> None:
    expr = sub(Cell("w"), mul(Const("lr"), Cell("g")))
    address = {"w": "B1", "lr": "B2", "g": "B3"}
    values = {"w": 0.35, "lr": 0.5, "g": -0.0103781}

    def key(node: Cell | Const) -> str:
        return node.qid if isinstance(node, Cell) else node.key

    formula = textprint.text_formula(expr, lambda n: address[key(n)])
    text = numbertext.number_text_formula
    assert formula == (f'={text("B1")}&" − "&IF(B2<0,"(","")&{text("B2")}&IF(B2<0,")","")'
                       f'&"×"&IF(B3<0,"(","")&{text("B3")}&IF(B3<0,")","")')
    assert "TEXT(" not in formula  # no format code, which a spreadsheet reads in its locale
    assert textprint.text_value(expr, lambda n: values[key(n)]) == "0.35 − 0.5×(-0.0103781)"
    assert textprint.text_value(Num(2), lambda n: 0.0) == "2"
    assert textprint.text_value(expr, lambda n: float("inf")) is None



def _extreme_spec() -> Spec:
    """Seed 004 with an input of 10⁻⁶ and one of 123456789.5: both need scientific notation."""
    return _spec(SEED_004).replace(inputs=((1e-6, 123456789.5),))


def _decimal_point(text: str) -> str:
    """A line read in a locale with a decimal comma, written with decimal points again."""
    return re.sub(r"(?<=\d),(?=\d)", ".", text)


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize(("locale", "comma"), [("de-DE", True), ("fr-FR", True), ("zh-CN", False)])
def test_texts_are_right_in_every_locale(tmp_path: Path, locale: str, comma: bool) -> None:
    # Issue 15: TEXT(x, "0.0######") read its format code in the locale; in German the xor
    # workbook's "-0.586×0.0" became "-00.1×00.". The numbers' text uses no format code now.
    for spec in (_spec("xor"), _extreme_spec()):
        path = build(tmp_path, spec)
        stored = _lines(path)
        recomputed = _lines(recalculate(path, tmp_path / f"{locale}.xlsx", locale=locale))
        assert list(recomputed) == list(stored)
        for symbol, line in recomputed.items():
            if comma:  # German and French students write decimal commas: 0,6236336
                assert re.search(r"\d\.\d", line.numbers) is None, symbol
                assert _decimal_point(line.numbers) == stored[symbol].numbers, symbol
            else:
                assert line.numbers == stored[symbol].numbers, symbol
    assert stored["z₃"].numbers == "0.05×1E-6 + 0.1×1.234568E8 + 0.5"


@needs_gnumeric
@pytest.mark.gnumeric
def test_gnumeric_computes_the_same_texts(tmp_path: Path) -> None:
    path = build(tmp_path, _extreme_spec())
    stripped = tmp_path / "stripped.xlsx"
    openpyxl.load_workbook(path).save(stripped)  # no stored values: Gnumeric must compute them
    out = tmp_path / "gnumeric.xlsx"
    subprocess.run([shutil.which("ssconvert") or "ssconvert", "--recalc", str(stripped), str(out)],
                   check=True, capture_output=True, timeout=300)
    stored = _lines(path)
    recomputed = _lines(out)
    assert {s: r.numbers for s, r in recomputed.items()} == {s: r.numbers for s, r in stored.items()}


def test_a_line_whose_text_formula_would_be_too_long_is_written_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each number's text is a formula of its own (numbertext.py), so a line of many numbers can
    # pass Excel's 8,192 characters; such a line is written as its text (not refused). Shown
    # here with a limit of 1,500 characters, which seed 004's z₃ line (Network cells) passes and
    # δ₃ (this sheet's cells) does not.
    from sheetnet.sheets import limits

    monkeypatch.setattr(limits, "MAX_FORMULA_CHARS", 1500)
    path = build(tmp_path, SEED_004)
    formulas_ = _lines(path, data_only=False)
    stored = _lines(path)
    assert stored["z₃"].numbers == "0.05×0.02 + 0.1×0.04 + 0.5"
    assert formulas_["z₃"].numbers == stored["z₃"].numbers  # plain text, computed here
    assert str(formulas_["δ₃"].numbers).startswith("=")  # a shorter line stays a live formula
    # The check expects what the writer wrote: the plain text where the formula would be too long.
    from sheetnet.verify.run import run_check

    report = run_check(path)
    assert report.ok, report.summary()
    assert report.group("texts", "Working").cells > 0
