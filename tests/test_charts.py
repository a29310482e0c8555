"""The Charts sheet: loss charts (one log-scale) and outputs against targets, all on live ranges."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from sheetnet.engines.libreoffice import recalculate
from sheetnet.model.reference import train
from sheetnet.model.spec import load_template
from sheetnet.sheets import charts, layout
from tests.conftest import build, needs_libreoffice


def id_columns(ws: Any, id_row: int = layout.ID_ROW) -> dict[str, str]:
    """Column id → column letter, read from a sheet's row of ids."""
    return {c.value: get_column_letter(c.column) for c in ws[id_row] if isinstance(c.value, str)}


def title_text(title: Any) -> str:
    return "".join(run.t for p in title.tx.rich.p for run in (p.r or []))


def series_refs(chart: Any) -> list[tuple[str, str]]:
    return [(s.xVal.numRef.f, s.yVal.numRef.f) for s in chart.series]


def load(path: Path, sheet: str) -> tuple[Any, Any]:
    book = openpyxl.load_workbook(path)
    return book, book[sheet]


def test_loss_charts_plot_the_training_loss_column_against_t(tmp_path: Path) -> None:
    book, ws = load(build(tmp_path, "seed-004-2-2-2"), "Charts")
    cols = id_columns(book["Training"])
    last = layout.FIRST_DATA_ROW + 100
    expected = (f"Training!${cols['iter']}$4:${cols['iter']}${last}",
                f"Training!${cols['loss']}$4:${cols['loss']}${last}")
    loss_charts = [c for c in ws._charts if series_refs(c) == [expected]]
    assert len(loss_charts) == 2
    logs = [c.y_axis.scaling.logBase for c in loss_charts]
    assert sorted(logs, key=lambda b: b or 0) == [None, 10]  # one linear, one log-scale axis
    assert all(c.x_axis.title is not None and c.y_axis.title is not None for c in loss_charts)
    # The ranges hold live formulas (so the charts redraw when an input changes).
    assert str(book["Training"][f"{cols['loss']}50"].value).startswith("=")


def test_output_charts_pair_each_output_with_a_flat_target_line(tmp_path: Path) -> None:
    spec = load_template("seed-000-regression")  # two samples, one output each
    book, ws = load(build(tmp_path, spec), "Charts")
    cols = id_columns(book["Training"])
    network = book["Network"]
    output_charts = ws._charts[2:]
    assert len(output_charts) == spec.n_samples
    for k, chart in enumerate(output_charts):
        (out_x, out_y), (target_x, target_y) = series_refs(chart)
        assert out_y == f"Training!${cols[f'a2[1]@{k + 1}']}$4:${cols[f'a2[1]@{k + 1}']}$104"
        assert out_x.startswith(f"Training!${cols['iter']}$4:")
        assert chart.series[1].spPr.ln.prstDash == "dash"
        # The target line's two points are formulas on the Charts sheet reading Network cells.
        assert target_x.startswith("Charts!") and target_y.startswith("Charts!")
        first, second = target_y.removeprefix("Charts!").replace("$", "").split(":")
        for cell in (first, second):
            formula = ws[cell].value
            assert formula.startswith("=Network!")
            assert network[formula.removeprefix("=Network!").replace("$", "")].value == spec.targets[k][0]
        x_cells = target_x.removeprefix("Charts!").replace("$", "").split(":")
        t_col = cols["iter"]
        assert [ws[c].value for c in x_cells] == [f"=Training!{t_col}4", f"=Training!{t_col}104"]


def test_charts_speak_chinese(tmp_path: Path) -> None:
    _, ws = load(build(tmp_path, "seed-004-2-2-2", lang="zh"), "图表")
    titles = [title_text(c.title) for c in ws._charts]
    assert titles[0] == "损失 L 随迭代的变化"
    assert "对数坐标" in titles[1]
    assert titles[2] == "输出与目标"
    assert title_text(ws._charts[0].x_axis.title) == "迭代 t"
    # Cross-sheet ranges quote the Chinese sheet name.
    assert series_refs(ws._charts[0])[0][1].startswith("'训练'!$")


def test_charts_carry_cached_values_for_viewers_that_do_not_recalculate(tmp_path: Path) -> None:
    from sheetnet.model.reference import train

    _, ws = load(build(tmp_path, "seed-004-2-2-2"), "Charts")
    cache = ws._charts[0].series[0].yVal.numRef.numCache
    loss = train(load_template("seed-004-2-2-2"))["loss"]
    assert cache.ptCount == 101
    assert [p.v for p in cache.pt[:3]] == pytest.approx(loss.iloc[:3].tolist(), rel=1e-12)


def test_cache_leaves_gaps_for_overflow_and_skips_long_series() -> None:
    assert charts.cache([1.0, float("inf"), float("nan")]) == [1.0, None, None]
    assert charts.cache([0.0] * (charts.CACHE_POINTS + 1)) is None


def test_many_samples_get_a_limited_number_of_output_charts(tmp_path: Path) -> None:
    spec = load_template("seed-001-linear-system")
    n = charts.MAX_SAMPLE_CHARTS + 2
    spec = dataclasses.replace(spec, inputs=tuple((float(i), 1.0) for i in range(n)),
                               targets=tuple((float(i),) for i in range(n)), iterations=3)
    _, ws = load(build(tmp_path, spec), "Charts")
    assert len(ws._charts) == 2 + charts.MAX_SAMPLE_CHARTS
    assert str(n) in ws["A3"].value


# --- sgd/minibatch: the mean over each epoch ---------------------------------------------------


def _epoch_table(ws: Any) -> list[list[Any]]:
    """The rows of the Charts sheet's epoch table (below its heading and header row)."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(n for n, r in enumerate(rows)
                 if isinstance(r[0], str) and r[0].startswith("Mean over each epoch"))
    return [r[:4] for r in rows[start + 2:] if isinstance(r[0], int | float)]


def test_minibatch_charts_draw_each_epochs_mean_from_averageif_formulas(tmp_path: Path) -> None:
    spec = load_template("iris").replace(iterations=45)  # 3 epochs of 15 updates, and the final row
    path = build(tmp_path, spec)
    book, ws = load(path, "Charts")
    table = _epoch_table(ws)
    cols = id_columns(book["Training"])
    assert [r[:2] for r in table] == [[1, 14], [2, 29], [3, 44]]  # the final row's epoch 4 is left out
    first = next(r.row for r in ws["A"] if r.value == 1 and ws.cell(r.row, 2).value == 14)
    assert table[0][2] == (f"=AVERAGEIF(Training!${cols['epoch']}$4:${cols['epoch']}$49,A{first},"
                           f"Training!${cols['loss']}$4:${cols['loss']}$49)")
    assert table[0][3].endswith(f",Training!${cols['accuracy']}$4:${cols['accuracy']}$49)")
    loss_chart, _, accuracy_chart = ws._charts[:3]
    assert len(loss_chart.series) == len(accuracy_chart.series) == 2
    x_ref, y_ref = series_refs(loss_chart)[1]
    assert x_ref.startswith("Charts!$B$") and y_ref.startswith("Charts!$C$")


@pytest.mark.libreoffice
@needs_libreoffice
def test_libreoffice_computes_the_epoch_means_numpy_computes(tmp_path: Path) -> None:
    spec = load_template("iris").replace(iterations=45)
    path = build(tmp_path, spec)
    recalculated = recalculate(path, tmp_path / "recalculated.xlsx")
    values = _epoch_table(openpyxl.load_workbook(recalculated, data_only=True)["Charts"])
    frame = train(spec)
    expected = frame[frame["epoch"] <= 3].groupby("epoch")[["loss", "accuracy"]].mean().to_numpy()
    assert [r[0] for r in values] == [1, 2, 3]
    assert [v for r in values for v in r[2:4]] == pytest.approx(expected.ravel().tolist(), rel=1e-12)
    assert expected[0, 0] > expected[2, 0]  # the mean loss falls epoch by epoch


def test_a_layered_networks_output_charts_name_each_output_without_a_sample(tmp_path: Path) -> None:
    spec = load_template("cnn-stripes")  # four images, two outputs a⁽⁴⁾[1], a⁽⁴⁾[2]
    book, ws = load(build(tmp_path, spec), "Charts")
    cols = id_columns(book["Training"])
    output_charts = ws._charts[3:]  # the two loss charts and the accuracy chart come first
    assert len(output_charts) == spec.n_samples == 4
    for k, chart in enumerate(output_charts):
        outputs = chart.series[0::2]  # output, its dashed target, output, target
        assert [s.yVal.numRef.f for s in outputs] == [
            f"Training!${cols[f'a4[{j}]@{k + 1}']}$4:${cols[f'a4[{j}]@{k + 1}']}$64" for j in (1, 2)]
        # the chart's title names the sample; a series named "(sample 1)" in sample 3's chart misled
        assert [s.tx.v for s in outputs] == ["output a⁽⁴⁾[1]", "output a⁽⁴⁾[2]"]
