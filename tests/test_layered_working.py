"""The Working sheet of a network of layers: iteration 1 by hand, every line live.

Its values equal NumPy's iteration 1 (row 0, and row 1 for the updated parameters) for the three
layered templates and a small network of every kind and optimizer, recomputed by the formulas
package (each cell from its own text, reading only the Network sheet and earlier lines), by
LibreOffice (English and German profiles) and by Gnumeric; its text column reads the same numbers;
an edited initial weight on the Network sheet changes it; `sheetnet check` finds a tampered line.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import column_index_from_string

from sheetnet.api import check
from sheetnet.engines import gnumeric, libreoffice
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec, to_table
from sheetnet.sheets import layout, working
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layered_network import network_layout
from sheetnet.verify import cellformula
from sheetnet.verify.workingcheck import _same_text
from tests.conftest import LAYERED_TEMPLATES, build, needs_gnumeric, needs_ironcalc, needs_libreoffice
from tests.test_layered_workbook import CASES, case_spec, layered_spec
from tests.test_working import Row, _lines

_FLAT = [{"kind": "flatten"}, {"kind": "dense", "size": 2, "activation": "tanh"},
         {"kind": "dense", "size": 1}]
# Beyond test_layered_workbook's cases (every kind, sgd with momentum, adam): a layer norm alone
# on a vector (no steps: μ and σ² without an index), a minibatch, and the other optimizers.
EXTRA: dict[str, tuple[list[int], list[dict[str, Any]], str, dict[str, Any]]] = {
    "layernorm alone": ([3], [{"kind": "layernorm"}, {"kind": "dense", "size": 1}], "mse", {}),
    "rnn, minibatch, rmsprop": ([3, 2], [{"kind": "rnn", "size": 2}, {"kind": "dense", "size": 1}], "mse",
                                {"mode": "minibatch", "batch_size": 2, "shuffle": True, "seed": 2,
                                 "samples": 4, "optimizer": "rmsprop"}),
    "nesterov": ([2, 2], _FLAT, "mse", {"optimizer": "nesterov", "momentum": 0.9}),
    "adagrad": ([2, 2], _FLAT, "mse", {"optimizer": "adagrad"}),
    "adamw": ([2, 2], _FLAT, "mse", {"optimizer": "adamw", "learning_rate": 0.05}),
}
NETWORKS = [*LAYERED_TEMPLATES, *sorted(CASES), *EXTRA]
# attention-marker's 822 lines take the formulas package 40 s one cell at a time; its small
# sibling "attention+layernorm+meanpool" has every kind it has, and the other engines take it.
BY_FORMULAS = [n for n in NETWORKS if n != "attention-marker"]
GERMAN = [*LAYERED_TEMPLATES, "causal attention, adam", "rnn, minibatch, rmsprop"]


@cache
def spec_of(name: str) -> Spec:
    if name in LAYERED_TEMPLATES:
        return load_template(name)
    if name in EXTRA:
        shape, layers, loss, training = EXTRA[name]
        return layered_spec(shape, layers, loss, **training)
    return case_spec(name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """name → its workbook (English), built once for this module."""
    paths: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in paths:
            folder = tmp_path_factory.mktemp("layered-working")
            paths[name] = build(folder, spec_of(name))
        return paths[name]

    return get


def _expected(spec: Spec, run: pd.DataFrame) -> dict[str, float]:
    """symbol → NumPy's value: row t = 0, row t = 1 for the updated parameters (symbol′)."""
    result = {}
    for item in working.items(spec):
        if isinstance(item, working.Line):
            label = "accuracy" if item.qid == ids.ACCURACY else working.quantity_label(spec, item.qid)
            update = item.group == "update"
            result[label + ("′" if update else "")] = float(run.loc[int(update), item.qid])
    return result


def _same_numbers(got: str, want: str) -> bool:
    """The text reads the same numbers to 7 significant digits; a value that is rounding noise
    (a gradient exactly 0 in exact arithmetic: 1e-18 in NumPy, 0 or 4e-22 in an engine) any way."""
    pattern = re.compile(r"\((-?[\d.]+(?:E-?\d+)?)\)|(-?[\d.]+(?:E-?\d+)?)")
    numbers = [[float(a or b) for a, b in pattern.findall(text)] for text in (got, want)]
    shapes = [pattern.sub("#", text) for text in (got, want)]
    return shapes[0] == shapes[1] and all(
        g == pytest.approx(w, rel=5e-7) or max(abs(g), abs(w)) < 1e-15
        for g, w in zip(*numbers, strict=True))


def _agree(lines: dict[str, Row], stored: dict[str, Row], expected: dict[str, float],
           comma: bool = False) -> None:
    assert list(lines) == list(expected)
    for symbol, line in lines.items():
        assert line.value == pytest.approx(expected[symbol], rel=1e-11, abs=1e-14), symbol
        text = re.sub(r"(?<=\d),(?=\d)", ".", line.numbers) if comma else line.numbers
        if comma:  # a German student reads decimal commas: 0,2703
            assert re.search(r"\d\.\d", line.numbers) is None, symbol
        assert _same_numbers(text, stored[symbol].numbers), (symbol, line.numbers, stored[symbol].numbers)


# --- what the sheet says ------------------------------------------------------------------------


def _column_a(path: Path, lang: str = "en") -> list[Any]:
    ws = openpyxl.load_workbook(path)[STRINGS[lang]["sheet.working"]]
    return [ws.cell(r, 1).value for r in range(working.FIRST_ROW, ws.max_row + 1)]


def test_cnn_stripes_is_worked_layer_by_layer(built: Any) -> None:
    spec = spec_of("cnn-stripes")
    path = built("cnn-stripes")
    assert "Working" in openpyxl.load_workbook(path, read_only=True).sheetnames
    column = _column_a(path)
    # Sample 1: conv2d, maxpool2d, (no flatten: it has no quantity of its own) dense
    first = column.index("Sample 1")
    assert column[first + 1] == "Layer 1: conv2d"
    layers = [c for c in column if isinstance(c, str) and c.startswith("Layer ")]
    assert layers[:3] == ["Layer 1: conv2d", "Layer 2: maxpool2d", "Layer 4: dense"]
    lines = _lines(path)
    z = lines["z⁽¹⁾[1,1,1]⁽¹⁾"]
    assert z.equation == "K⁽¹⁾[1,1,1,1]·x[1,1,1]⁽¹⁾ + K⁽¹⁾[1,1,1,2]·x[1,1,2]⁽¹⁾ + … + b⁽¹⁾[1]"
    assert z.value == pytest.approx(float(train(spec).loc[0, "z1[1,1,1]@1"]), rel=1e-15)
    # max-pool's backward routes ∂L/∂a through the live arg-max
    routed = lines["∂L/∂a⁽¹⁾[1,1,1]⁽¹⁾"]
    assert routed.equation == "if(argmax⁽²⁾[1,1,1]⁽¹⁾ = 1, ∂L/∂a⁽²⁾[1,1,1]⁽¹⁾, 0)"
    assert list(lines)[-1] == "b⁽⁴⁾[2]′"


def test_rnn_backward_runs_through_time_from_the_last_step(built: Any) -> None:
    spec = spec_of("rnn-sequence")
    steps, size = spec.layers[0].in_shape[0], spec.layers[0].size
    assert steps >= 4
    symbols = [s for s in _lines(built("rnn-sequence")) if s.startswith("δ⁽¹⁾") and s.endswith("⁽¹⁾")]
    assert symbols == [f"δ⁽¹⁾[{t},{j}]⁽¹⁾" for t in reversed(range(1, steps + 1)) for j in range(1, size + 1)]
    lines = _lines(built("rnn-sequence"))
    assert steps == 4 and size == 2
    assert lines[symbols[0]].equation == "∂L/∂a⁽¹⁾[1]⁽¹⁾·(1 − h⁽¹⁾[4,1]⁽¹⁾²)"  # the output: the last h
    assert lines[symbols[size]].equation == (  # a step before: the recurrent term through Whᵀ
        "(Wh⁽¹⁾[1,1]·δ⁽¹⁾[4,1]⁽¹⁾ + Wh⁽¹⁾[2,1]·δ⁽¹⁾[4,2]⁽¹⁾)·(1 − h⁽¹⁾[3,1]⁽¹⁾²)")


def test_attention_backward_has_the_softmax_jacobian(built: Any) -> None:
    lines = _lines(built("attention-marker"))
    ds = lines["∂L/∂S⁽¹⁾[1,2]⁽¹⁾"]
    assert ds.equation == ("P⁽¹⁾[1,2]⁽¹⁾·(∂L/∂P⁽¹⁾[1,2]⁽¹⁾ − (P⁽¹⁾[1,1]⁽¹⁾·∂L/∂P⁽¹⁾[1,1]⁽¹⁾"
                           " + P⁽¹⁾[1,2]⁽¹⁾·∂L/∂P⁽¹⁾[1,2]⁽¹⁾ + P⁽¹⁾[1,3]⁽¹⁾·∂L/∂P⁽¹⁾[1,3]⁽¹⁾))")


def test_optimizer_lines_name_their_parameter(built: Any) -> None:
    lines = _lines(built("causal attention, adam"))
    assert lines["m(Wq⁽¹⁾[1,1])"].equation == "(1 − β₁)·∂L/∂Wq⁽¹⁾[1,1]"
    assert lines["ΔWq⁽¹⁾[1,1]"].equation == "η/(1 − β₁ᵗ⁺¹)·m(Wq⁽¹⁾[1,1])/(√v(Wq⁽¹⁾[1,1])/√(1 − β₂ᵗ⁺¹) + ε)"
    assert lines["Wq⁽¹⁾[1,1]′"].equation == "Wq⁽¹⁾[1,1] − ΔWq⁽¹⁾[1,1]"


def test_chinese_sheet(tmp_path: Path) -> None:
    path = build(tmp_path, spec_of("rnn-sequence").in_language("zh"), lang="zh")
    column = _column_a(path, "zh")
    assert "样本1" in column and "第1层：rnn" in column and "第2层：dense" in column
    zh, en = _lines(path, "zh"), _lines(build(tmp_path, spec_of("rnn-sequence"), "en.xlsx"))
    assert [(r.equation, r.value) for r in zh.values()] == [(r.equation, r.value) for r in en.values()]
    assert "准确率" in zh  # the accuracy's line is named in Chinese, every other symbol alike


@pytest.mark.parametrize("name", NETWORKS)
def test_stored_values_are_numpys_iteration_1(built: Any, name: str) -> None:
    spec = spec_of(name)
    expected = _expected(spec, train(spec))
    lines = _lines(built(name))
    assert len(lines) == sum(isinstance(i, working.Line) for i in working.items(spec))
    for symbol, line in lines.items():
        assert line.value == pytest.approx(expected[symbol], rel=1e-15, abs=1e-300), symbol


# --- recomputed by the formulas package, from the Network sheet alone -----------------------------


def recompute(path: Path, lang: str = "en") -> dict[str, Row]:
    """Every Working line's text and value evaluated by the formulas package from the cell's own
    formula, each input it reads resolved the same way (never a stored value) down to the Network
    sheet's numbers."""
    book = openpyxl.load_workbook(path)
    ws, network = book[STRINGS[lang]["sheet.working"]], book[STRINGS[lang]["sheet.network"]]
    done: dict[tuple[str, str, int], Any] = {}

    def on(sheet: Any) -> Any:
        def lookup(other: str, col: str, row: int) -> Any:
            if other:  # another sheet: only the Network sheet is read (the 1 − β cells are formulas)
                assert other == network.title.upper(), other
                return on(network)("", col, row)
            if (sheet.title, col, row) not in done:
                value = sheet.cell(row, column_index_from_string(col)).value
                formula = isinstance(value, str) and value.startswith("=")
                done[sheet.title, col, row] = cellformula.evaluate(value, lookup) if formula else value
            return done[sheet.title, col, row]
        return lookup

    lookup = on(ws)
    lines = _lines(path, lang, data_only=False)
    row_of = {ws.cell(r, working.SYMBOL).value: r for r in range(working.FIRST_ROW, ws.max_row + 1)}
    for symbol, line in lines.items():
        line.numbers = lookup("", "E", row_of[symbol])
        line.value = lookup("", "G", row_of[symbol])
    return lines


@pytest.mark.parametrize("name", BY_FORMULAS)
def test_formulas_package_recomputes_values_and_texts(built: Any, name: str) -> None:
    spec = spec_of(name)
    path = built(name)
    _agree(recompute(path), _lines(path), _expected(spec, train(spec)))


def _edited(name: str) -> tuple[Spec, dict[str, Any]]:
    """The spec with its first initial weight changed by 0.25, and that change as Network cell edits."""
    spec = spec_of(name)
    table = to_table(spec)
    first = spec.layers[0].param_names[0]
    weight = table["init"]["layers"][0][first]
    index: list[int] = []
    while isinstance(weight[0], list):
        index.append(0)
        weight = weight[0]
    weight[0] += 0.25
    edited = parse_spec(table, name=spec.name)
    from sheetnet.equations import layer_names  # the id of that weight: K1[1,1,1,1], Wx1[1,1], …

    qid = layer_names.parameter(spec, 0, first, (*index, 0))
    row, col = network_layout(spec).input_cells[f"init:{qid}"]
    return edited, {layout.address(row, col): weight[0]}


def _edit(path: Path, changes: dict[str, Any], out: Path) -> Path:
    book = openpyxl.load_workbook(path)
    for address, value in changes.items():
        book["Network"][address] = value
    book.save(out)
    return out


@pytest.mark.parametrize("name", ["cnn-stripes", "rnn-sequence", "attention+layernorm+meanpool"])
def test_an_edited_initial_weight_changes_every_line(built: Any, tmp_path: Path, name: str) -> None:
    edited, changes = _edited(name)
    before = _lines(built(name))
    lines = recompute(_edit(built(name), changes, tmp_path / "edited.xlsx"))
    _agree(lines, _fresh_lines(edited), _expected(edited, train(edited)))
    changed = [s for s in lines if lines[s].value != pytest.approx(before[s].value, rel=1e-12)]
    assert len(changed) > len(lines) // 3


@cache
def _fresh_lines(spec: Spec) -> dict[str, Row]:
    """The lines of a fresh build of spec: what an edited workbook's lines must read."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return _lines(build(Path(folder), spec))


# --- recomputed by LibreOffice and Gnumeric -----------------------------------------------------


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", NETWORKS)
def test_libreoffice_recomputes_values_and_texts(built: Any, tmp_path: Path, name: str) -> None:
    spec = spec_of(name)
    path = built(name)
    recomputed = _lines(libreoffice.recalculate(path, tmp_path / "recalc.xlsx"))
    _agree(recomputed, _lines(path), _expected(spec, train(spec)))


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", GERMAN)
def test_libreoffice_in_german_writes_decimal_commas(built: Any, tmp_path: Path, name: str) -> None:
    spec = spec_of(name)
    path = built(name)
    recomputed = _lines(libreoffice.recalculate(path, tmp_path / "de.xlsx", locale="de-DE"))
    _agree(recomputed, _lines(path), _expected(spec, train(spec)), comma=True)


@needs_libreoffice
@pytest.mark.libreoffice
def test_libreoffice_follows_an_edited_initial_weight(built: Any, tmp_path: Path) -> None:
    edited, changes = _edited("cnn-stripes")
    path = _edit(built("cnn-stripes"), changes, tmp_path / "edited.xlsx")
    lines = _lines(libreoffice.recalculate(path, tmp_path / "recalc.xlsx"))
    _agree(lines, _fresh_lines(edited), _expected(edited, train(edited)))


@needs_gnumeric
@pytest.mark.gnumeric
@pytest.mark.parametrize("name", NETWORKS)
def test_gnumeric_recomputes_values_and_texts(built: Any, tmp_path: Path, name: str) -> None:
    spec = spec_of(name)
    path = built(name)
    stripped = tmp_path / "stripped.xlsx"
    openpyxl.load_workbook(path).save(stripped)  # no stored values: Gnumeric must compute them
    recomputed = _lines(gnumeric.recalculate(stripped, tmp_path / "gnumeric.xlsx"))
    _agree(recomputed, _lines(path), _expected(spec, train(spec)))


# --- the check ----------------------------------------------------------------------------------

ENGINES = [
    "formulas",
    pytest.param("libreoffice", marks=[needs_libreoffice, pytest.mark.libreoffice]),
    pytest.param("gnumeric", marks=[needs_gnumeric, pytest.mark.gnumeric]),
    pytest.param("ironcalc", marks=[needs_ironcalc]),
]


def _row_of(path: Path, symbol: str) -> int:
    ws = openpyxl.load_workbook(path)["Working"]
    return next(r for r in range(working.FIRST_ROW, ws.max_row + 1)
                if ws.cell(r, working.SYMBOL).value == symbol)


@pytest.mark.parametrize("engine", ENGINES)
def test_check_covers_the_working_sheet(built: Any, engine: str) -> None:
    report = check(built("rnn, shuffled sgd, momentum"), engine=engine)
    assert report.ok, report.summary()
    lines = len(_lines(built("rnn, shuffled sgd, momentum")))
    assert report.groups["values"].cells == lines and report.groups["texts"].cells == lines


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("what", ["value", "text"])
def test_a_tampered_working_line_fails(built: Any, tmp_path: Path, engine: str, what: str) -> None:
    source = built("conv2d+maxpool2d")
    row = _row_of(source, "δ⁽¹⁾[1,1,1]⁽²⁾")
    col = "G" if what == "value" else "E"
    book = openpyxl.load_workbook(source)
    text = book["Working"][f"{col}{row}"].value
    assert isinstance(text, str) and text.startswith("="), text
    book["Working"][f"{col}{row}"] = f"=({text[1:]})+0.001" if what == "value" else f'={text[1:]}&" "'
    book.save(tmp_path / "tampered.xlsx")
    report = check(tmp_path / "tampered.xlsx", engine=engine)
    assert not report.ok and report.first_wrong is not None
    assert report.first_wrong.address == f"Working!{col}{row}", report.summary()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", LAYERED_TEMPLATES)
def test_every_layered_template_passes_the_check(built: Any, name: str, engine: str) -> None:
    # attention-marker's gradients of Wk[·,3] are exactly 0 in exact arithmetic: NumPy holds
    # 1e-18, LibreOffice 0, Gnumeric 4e-22, so each engine's text is read against its own numbers.
    report = check(built(name), engine=engine)
    assert report.ok, report.summary()
    assert report.groups["texts"].cells == len(_lines(built(name)))


@pytest.mark.parametrize(("want", "got", "same"), [
    ("0.1×(-3.252607E-19)", "0.1×0", True),  # IronCalc: |x| ≤ 1E-300 is TRUE below ~1e-15
    ("-1.084202E-18", "0", True),
    ("0.1×(-3.252607E-12)", "0.1×0", False),  # not noise: a number the line must show
    ("0.09821729 + 1", "0.098217290000000000002 + 1", True),  # Gnumeric's 21 digits
    ("0.5×0.25", "0.5×0.26", False),
    ("0.5×0.25", "0.5×0.25 ", False),
])
def test_a_text_may_show_rounding_noise_as_0(want: str, got: str, same: bool) -> None:
    assert _same_text(want, got) is same
