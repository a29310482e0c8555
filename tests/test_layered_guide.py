"""The Guide's live drawings of a layered network (sheets/layer_drawings.py): recomputed by the
formulas engine, LibreOffice and Gnumeric, each drawing shows NumPy's numbers (z of the chosen
conv window summed by hand, the feature map, the pooling arg-max, P of sample 1 at t and one
row's softmax, each h of the unrolled rnn); a new t or window moves them; a tampered cell fails
the check by its address; the Chinese build works the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from sheetnet import api
from sheetnet.equations.numbertext import fixed_text
from sheetnet.model.spec import Spec, load_template
from sheetnet.sheets import layer_drawings
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layer_drawings import Drawing, Item, Sheets
from sheetnet.sheets.layered_network import network_layout
from sheetnet.sheets.layout import TrainingLayout, address
from sheetnet.verify.guidecheck import t_row
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_gnumeric, needs_libreoffice

ITERATIONS = 6
T = 4  # the iteration the tests type in the Guide's yellow t cell


def _spec(name: str) -> Spec:
    return load_template(name).replace(iterations=ITERATIONS)


def _drawings(spec: Spec, path: Path, lang: str = "en") -> list[Drawing]:
    """The drawings as placed in the file's Guide (found by its t label)."""
    guide = openpyxl.load_workbook(path).worksheets[0]
    cells = {(c.row, c.column): c.value for row in guide.iter_rows() for c in row if c.value is not None}
    row = t_row(cells)
    assert row is not None
    words = STRINGS[lang]
    training = TrainingLayout(spec, network_layout(spec), words["sheet.network"])
    return layer_drawings.drawings(spec, Sheets(training, words["sheet.training"], row, words))


def _type(path: Path, drawings: list[Drawing], t: int, **choices: int) -> None:
    """Type t and the choices into the Guide's yellow cells, as a student would."""
    book = openpyxl.load_workbook(path)
    guide = book.worksheets[0]
    guide.cell(drawings[0].first_row - 5, layer_drawings.T_COL).value = t
    for d in drawings:
        for c in d.choices:
            if c.name in choices:
                guide.cell(c.row, c.col).value = choices[c.name]
    book.save(path)


def _recalculated(path: Path, engine: str) -> dict[tuple[int, int], Any]:
    """The Guide's values: computed by a spreadsheet program, or as written (the formulas engine
    is the check's own; the check evaluates each formula)."""
    if engine == "libreoffice":
        from sheetnet.engines.libreoffice import recalculate
    elif engine == "gnumeric":
        from sheetnet.engines.gnumeric import recalculate  # type: ignore[assignment]
    else:
        raise AssertionError(engine)
    out = recalculate(path, path.with_name(f"{engine}.xlsx"))
    book = openpyxl.load_workbook(out, data_only=True, read_only=True)  # Gnumeric's comments: read-only
    cells = {(r, c): value for r, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
             for c, value in enumerate(row, start=1) if value is not None}
    book.close()
    return cells


def _by_style(d: Drawing, style: str) -> list[Item]:
    return sorted((i for i in d.items if i.style == style), key=lambda i: (i.row, i.col))


def _right_of(d: Drawing, text: str) -> tuple[int, int]:
    """The cell right of a label (which spans its columns)."""
    label = next(i for i in d.items if i.content == text)
    return label.row, label.col + label.span


# --- conv2d and max-pool: cnn-stripes -------------------------------------------------------------


def _conv_expectations(spec: Spec, d: Drawing, t: int, c: int, r: int, s: int) -> dict[tuple[int, int], Any]:
    """The conv drawing's cells from NumPy alone: sample 1's image, K[c,1] at t, the map z[c] at
    t and z[c,r,s] = Σ K·x + b over the window (1-based c, r, s)."""
    frame = api.train(spec)
    x = np.asarray(spec.inputs[0], dtype=float).reshape(spec.input_shape)[0]  # one channel, 4 × 4
    kernel = np.array([[frame.loc[t, f"K1[{c},1,{u},{v}]"] for v in (1, 2, 3)] for u in (1, 2, 3)])
    bias = frame.loc[t, f"b1[{c}]"]
    z = float((kernel * x[r - 1:r + 2, s - 1:s + 2]).sum() + bias)
    assert z == pytest.approx(frame.loc[t, f"z1[{c},{r},{s}]@1"], abs=1e-12)  # torch's cross-correlation
    cells: dict[tuple[int, int], Any] = {}
    for item, value in zip(_by_style(d, "x"), x.reshape(-1), strict=True):
        cells[item.row, item.col] = value
    for item, value in zip(_by_style(d, "kernel")[:9], kernel.reshape(-1), strict=True):
        cells[item.row, item.col] = value
    cells[_by_style(d, "kernel")[9].row, _by_style(d, "kernel")[9].col] = bias
    for item, (p, q) in zip(_by_style(d, "map"), [(1, 1), (1, 2), (2, 1), (2, 2)], strict=True):
        cells[item.row, item.col] = frame.loc[t, f"z1[{c},{p},{q}]@1"]
    cells[_right_of(d, STRINGS["en"]["guide.draw.zsum"])] = z
    window = x[r - 1:r + 2, s - 1:s + 2].reshape(-1)
    terms = " + ".join(f"{fixed_text(k, 4)}·{fixed_text(v, 4)}"
                       for k, v in zip(kernel.reshape(-1), window, strict=True))
    line = _by_style(d, "line")[0]
    cells[line.row, line.col] = f"z[{c},{r},{s}] = {terms} + {fixed_text(bias, 4)} = {fixed_text(z, 4)}"
    return cells


def _pool_expectations(spec: Spec, d: Drawing, t: int) -> dict[tuple[int, int], Any]:
    """The max-pool drawing: each channel's 2 × 2 map at t, its maximum and where it is (1 … 4)."""
    frame = api.train(spec)
    cells: dict[tuple[int, int], Any] = {}
    pooled, where = _by_style(d, "map"), _by_style(d, "index_value")
    for c in (1, 2):
        window = [frame.loc[t, f"a1[{c},{p},{q}]@1"] for p in (1, 2) for q in (1, 2)]
        cells[pooled[c - 1].row, pooled[c - 1].col] = max(window)
        cells[where[c - 1].row, where[c - 1].col] = float(int(np.argmax(window)) + 1)
        assert frame.loc[t, f"a2[{c},1,1]@1"] == max(window)
    return cells


def _compare(got: dict[tuple[int, int], Any], want: dict[tuple[int, int], Any]) -> None:
    for at, value in want.items():
        if isinstance(value, str):
            assert got.get(at) == value, (address(*at), got.get(at), value)
        else:
            assert got.get(at) == pytest.approx(value, rel=1e-12, abs=1e-14), (address(*at), value)


@needs_libreoffice
@pytest.mark.parametrize("engine", ["libreoffice", pytest.param("gnumeric", marks=needs_gnumeric)])
def test_the_kernel_slides_to_the_typed_window(tmp_path: Path, engine: str) -> None:
    spec = _spec("cnn-stripes")
    path = build(tmp_path, spec)
    conv, pool = _drawings(spec, path)
    got = _recalculated(path, engine)  # as built: t = 0, channel 1, window (1, 1)
    _compare(got, _conv_expectations(spec, conv, 0, 1, 1, 1) | _pool_expectations(spec, pool, 0))
    _type(path, [conv, pool], T, c=2, r=2, s=1)
    got = _recalculated(path, engine)
    want = _conv_expectations(spec, conv, T, 2, 2, 1)
    assert want != _conv_expectations(spec, conv, 0, 1, 1, 1)
    _compare(got, want | _pool_expectations(spec, pool, T))
    assert run_check(path, engine=engine).ok


def test_the_check_recomputes_the_drawings_at_the_typed_choices(tmp_path: Path) -> None:
    spec = _spec("cnn-stripes")
    path = build(tmp_path, spec)
    drawings = _drawings(spec, path)
    report = run_check(path)
    assert report.ok, report.summary()
    cells = sum(1 for d in drawings for i in d.items if i.expect is not None and i.style != "line")
    # x, K and b, the map z, Σ K·x + b; per pooled channel its input, maximum and arg-max
    assert report.groups["drawings"].cells == cells == 16 + 10 + 4 + 1 + 2 * (4 + 1 + 1)
    # the written-out line is the Guide's own group: the Working sheet's "texts" counted it before
    lines = sum(1 for d in drawings for i in d.items if i.style == "line")
    assert report.groups["drawing texts"].cells == lines == 1
    assert report.groups["drawing texts"].sheet == "Guide" and report.groups["texts"].sheet == "Working"
    _type(path, drawings, T, c=2, r=2, s=2)
    assert run_check(path).ok
    # A window past the map (r = 3 of 2) is not one the data validation allows: the check says so.
    _type(path, drawings, T, r=3)
    assert not run_check(path).ok


def test_a_tampered_drawing_cell_fails_and_is_named(tmp_path: Path) -> None:
    spec = _spec("cnn-stripes")
    path = build(tmp_path, spec)
    conv = _drawings(spec, path)[0]
    row, col = _right_of(conv, STRINGS["en"]["guide.draw.zsum"])
    book = openpyxl.load_workbook(path)
    held = book.worksheets[0].cell(row, col).value
    assert isinstance(held, str) and held.startswith("=INDEX(")
    book.worksheets[0].cell(row, col).value = f"=({held[1:]})*1.001"  # z at t = 0 is 0.2703
    book.save(path)
    report = run_check(path)
    assert not report.ok and report.wrong == 1, report.summary()
    assert report.first_wrong is not None and report.first_wrong.address == f"Guide!{address(row, col)}"


# --- attention: P of sample 1 and one row's softmax -----------------------------------------------


@needs_libreoffice
@pytest.mark.parametrize("engine", ["libreoffice", pytest.param("gnumeric", marks=needs_gnumeric)])
def test_the_attention_matrix_and_a_row_softmax(tmp_path: Path, engine: str) -> None:
    spec = _spec("attention-marker")
    path = build(tmp_path, spec)
    (attention,) = _drawings(spec, path)
    _type(path, [attention], T, q=2, u=1)
    got = _recalculated(path, engine)
    frame = api.train(spec)
    # S[2,1] = Q[2]·K[1]/√3, from the Q and K columns at t
    score = sum(frame.loc[T, f"Q1[2,{i}]@1"] * frame.loc[T, f"K1[1,{i}]@1"] for i in (1, 2, 3)) / np.sqrt(3)
    assert score == pytest.approx(frame.loc[T, "S1[2,1]@1"], rel=1e-12)
    assert got[_right_of(attention, STRINGS["en"]["guide.draw.score"])] == pytest.approx(score, rel=1e-12)
    p = np.array([[frame.loc[T, f"P1[{r},{u}]@1"] for u in (1, 2, 3)] for r in (1, 2, 3)])
    s = np.array([[frame.loc[T, f"S1[{r},{u}]@1"] for u in (1, 2, 3)] for r in (1, 2, 3)])
    softmax = np.exp(s[1] - s[1].max()) / np.exp(s[1] - s[1].max()).sum()
    assert softmax == pytest.approx(p[1], rel=1e-12)
    grid = [i for i in _by_style(attention, "map")]
    shown_p = [got[i.row, i.col] for i in grid[:9]]  # the 3 × 3 grid, then row q worked out
    assert shown_p == pytest.approx(p.reshape(-1), rel=1e-12)
    assert [got[i.row, i.col] for i in grid[9:]] == pytest.approx(softmax, rel=1e-12)
    values = _by_style(attention, "value")
    assert [got[i.row, i.col] for i in values[:9]] == pytest.approx(s.reshape(-1), rel=1e-12)
    line = _by_style(attention, "line")[-1]
    assert got[line.row, line.col].startswith("S[2,1] = (") and got[line.row, line.col].endswith(
        f")/√3 = {fixed_text(score, 4)}")
    assert sum(shown_p[3:6]) == pytest.approx(1.0)
    assert run_check(path, engine=engine).ok


# --- rnn: the unrolled chain ------------------------------------------------------------------------


@needs_libreoffice
def test_the_unrolled_rnn_shows_each_h_and_delta(tmp_path: Path) -> None:
    spec = _spec("rnn-sequence")
    path = build(tmp_path, spec)
    (rnn,) = _drawings(spec, path)
    _type(path, [rnn], T, tau=3, j=2)
    got = _recalculated(path, "libreoffice")
    frame = api.train(spec)
    h = [got[i.row, i.col] for i in _by_style(rnn, "map")][:8]  # row j, step 1 … 4
    assert h == pytest.approx([frame.loc[T, f"h1[{step},{j}]@1"] for j in (1, 2) for step in (1, 2, 3, 4)],
                              rel=1e-12)
    # h[1] = tanh(Wx·x[1] + b): the chain starts from h₀ = 0
    x1 = np.asarray(spec.inputs[0], dtype=float).reshape(spec.input_shape)[0, 0]
    assert h[0] == pytest.approx(np.tanh(frame.loc[T, "Wx1[1,1]"] * x1 + frame.loc[T, "b1[1]"]), rel=1e-12)
    # Step 3 of unit 2 worked out: z = Wx[2,1]·x[3] + Wh[2,1]·h[2,1] + Wh[2,2]·h[2,2] + b[2]
    x3 = np.asarray(spec.inputs[0], dtype=float).reshape(spec.input_shape)[2, 0]
    wx, b = frame.loc[T, "Wx1[2,1]"], frame.loc[T, "b1[2]"]
    wh = [frame.loc[T, f"Wh1[2,{m}]"] for m in (1, 2)]
    previous = [frame.loc[T, f"h1[2,{m}]@1"] for m in (1, 2)]
    z = wx * x3 + wh[0] * previous[0] + wh[1] * previous[1] + b
    assert z == pytest.approx(frame.loc[T, "z1[3,2]@1"], rel=1e-12)
    assert got[_right_of(rnn, STRINGS["en"]["guide.draw.rnn_z"])] == pytest.approx(z, rel=1e-12)
    h_label = STRINGS["en"]["guide.draw.rnn_h"].format(f="tanh")
    assert got[_right_of(rnn, h_label)] == pytest.approx(np.tanh(z), rel=1e-12)
    line = _by_style(rnn, "line")[0]
    numbers = [wx, x3, wh[0], previous[0], wh[1], previous[1], b, z, np.tanh(z)]
    text = "z[3,2] = {}·{} + {}·{} + {}·{} + {} = {};  h = tanh(z) = {}".format(
        *(fixed_text(v, 4) for v in numbers))
    assert got[line.row, line.col] == text
    deltas = [got[i.row, i.col] for i in _by_style(rnn, "delta")]
    assert deltas == pytest.approx([frame.loc[T, f"delta1[{step},{j}]@1"] for j in (1, 2)
                                    for step in (1, 2, 3, 4)], rel=1e-12)
    assert run_check(path, engine="libreoffice").ok


# --- Chinese ----------------------------------------------------------------------------------------


def test_the_chinese_guide_draws_and_checks(tmp_path: Path) -> None:
    spec = _spec("attention-marker")
    path = build(tmp_path, spec, lang="zh")
    words = STRINGS["zh"]
    guide = openpyxl.load_workbook(path).worksheets[0]
    assert guide.title == words["sheet.guide"]
    texts = {c.value for row in guide.iter_rows() for c in row if isinstance(c.value, str)}
    assert {words["guide.draw.t"], words["guide.draw.query"], words["guide.draw.softmax"]} <= texts
    assert len(_drawings(spec, path, "zh")) == 1  # placed from the Chinese t label
    report = run_check(path)
    # P and S, row q's e and P, then Q[q,·], K[u,·] and S[q,u]
    assert report.ok and report.groups["drawings"].cells == 9 + 9 + 3 + 3 + 3 + 3 + 1, report.summary()


@needs_libreoffice
def test_a_causal_attention_greys_the_masked_steps(tmp_path: Path) -> None:
    """causal = true: P[q,u] is 0 for every u > q; those cells are grey, and row q's softmax
    worked out takes the steps up to q only (row 1 attends to step 1 alone)."""
    from tests.test_layered_workbook import case_spec

    spec = case_spec("causal attention, adam")
    path = build(tmp_path, spec)
    (attention,) = _drawings(spec, path)
    grid = [i for i in attention.items if i.style in ("map", "masked")][:9]
    masked = [(i.row - grid[0].row, i.col - grid[0].col) for i in grid if i.style == "masked"]
    assert masked == [(0, 1), (0, 2), (1, 2)]
    fill = openpyxl.load_workbook(path).worksheets[0].cell(grid[1].row, grid[1].col).fill.fgColor.rgb
    assert str(fill).endswith("BFBFBF")
    _type(path, [attention], 2, q=1)
    got = _recalculated(path, "libreoffice")
    assert [got[i.row, i.col] for i in grid if i.style == "masked"] == [0, 0, 0]
    worked = _by_style(attention, "map")[-3:]  # P = e / Σ e of row q
    assert [got[i.row, i.col] for i in worked] == [1, 0, 0]
    assert run_check(path, engine="libreoffice").ok
