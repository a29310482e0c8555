"""Stochastic and mini-batch gradient descent: one batch of samples per Training row.

The order of the samples is drawn once (sheetnet.schedule) and written into the sheet as
constants; each slot reads its x and t from the Network data table by a live INDEX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.equations import graph, labels
from sheetnet.errors import SheetnetError
from sheetnet.expr.formula import Bin, Cell, Const, evaluate
from sheetnet.model import ids, schedule
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec, to_table
from sheetnet.sheets import layout, summary
from sheetnet.sheets.layout import FIRST_DATA_ROW, ID_ROW, NetworkLayout, TrainingLayout
from sheetnet.verify.readback import read_workbook
from sheetnet.verify.run import run_check
from tests.conftest import build, needs_gnumeric, needs_libreoffice

runner = CliRunner()


def _spec(training: dict[str, Any] | None = None, *, n_samples: int = 5, iterations: int = 12,
          sizes: tuple[int, ...] = (2, 2, 1)) -> Spec:
    """A sigmoid net with n_samples distinct samples and the given [training] extras."""
    rng = np.random.default_rng(0)
    table = {
        "network": {"sizes": list(sizes), "activations": ["sigmoid"] * (len(sizes) - 1)},
        "training": {"learning_rate": 0.5, "iterations": iterations, **(training or {})},
        "init": {"seed": 1},
        "data": {"inputs": np.round(rng.uniform(-1, 1, (n_samples, sizes[0])), 2).tolist(),
                 "targets": np.round(rng.uniform(0, 1, (n_samples, sizes[-1])), 2).tolist()},
    }
    return parse_spec(table)


def _training_values(path: Path, qids: list[str], *, data_only: bool = True) -> dict[str, list]:
    """Columns of the written Training sheet, by id, rows t = 0..N."""
    ws = openpyxl.load_workbook(path, data_only=data_only)["Training"]
    header = [c.value for c in ws[ID_ROW]]
    rows = list(ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))
    return {q: [row[header.index(q)] for row in rows] for q in qids}


SHUFFLED_SGD = {"mode": "sgd", "shuffle": True, "seed": 42}
SHUFFLED_MINIBATCH = {"mode": "minibatch", "batch_size": 2, "shuffle": True, "seed": 7}


# --- the order of the samples --------------------------------------------------------------


def test_shuffled_sgd_workbook_and_numpy_visit_the_same_samples(tmp_path: Path) -> None:
    spec = _spec(SHUFFLED_SGD, n_samples=5, iterations=12)
    path = build(tmp_path, spec)
    written = _training_values(path, ["epoch", "sample"])
    # Drawn independently here: a fresh permutation per epoch from one generator.
    rng = np.random.default_rng(42)
    expected = np.concatenate([rng.permutation(5) for _ in range(3)])[:13] + 1
    assert written["sample"] == expected.tolist()
    assert written["epoch"] == [1] * 5 + [2] * 5 + [3] * 3
    assert sorted(written["sample"][:5]) == [1, 2, 3, 4, 5]  # an epoch visits every sample once
    assert written["sample"][:5] != written["sample"][5:10]  # and the next one reshuffles
    reference = train(spec)
    assert reference["sample"].tolist() == written["sample"]
    # The reference really trains on that sample: its row-0 output is sample k's forward pass.
    k = written["sample"][0] - 1
    w, b = np.array(spec.weights[0]), np.array(spec.biases[0])
    hidden = 1 / (1 + np.exp(-(w @ np.array(spec.inputs[k]) + b)))
    z_out = np.array(spec.weights[1]) @ hidden + np.array(spec.biases[1])
    assert reference.loc[0, "z2[1]"] == pytest.approx(float(z_out[0]), rel=1e-14)


def test_minibatch_slots_hold_consecutive_cuts_of_each_permutation(tmp_path: Path) -> None:
    spec = _spec(SHUFFLED_MINIBATCH, n_samples=6, iterations=5)
    written = _training_values(build(tmp_path, spec), ["sample@1", "sample@2"])
    perm = np.random.default_rng(7).permutation(6) + 1
    assert written["sample@1"][:3] == perm[0::2].tolist()
    assert written["sample@2"][:3] == perm[1::2].tolist()
    assert np.array_equal(schedule.batches(spec)[:6] + 1,
                          np.column_stack([written["sample@1"], written["sample@2"]]))


def test_without_shuffle_the_samples_are_visited_in_order() -> None:
    sgd = _spec({"mode": "sgd"}, n_samples=4, iterations=9)
    assert (schedule.batches(sgd)[:, 0] + 1).tolist() == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]
    assert schedule.epochs(sgd).tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]
    mini = _spec({"mode": "minibatch", "batch_size": 2}, n_samples=4, iterations=3)
    assert (schedule.batches(mini) + 1).tolist() == [[1, 2], [3, 4], [1, 2], [3, 4]]
    assert sgd.slots == 1 and mini.slots == 2 and _spec().slots == 5


# --- the numbers ---------------------------------------------------------------------------


def test_first_two_sgd_updates_of_a_linear_neuron_by_hand(tmp_path: Path) -> None:
    """y = w·x + b, loss ½(y − t)², η = 0.1, samples (x, t) = (1, 2) then (2, 1).

    Row 0, sample 1: y = 0.5·1 + 0.1 = 0.6, δ = y − t = −1.4, L = ½·1.4² = 0.98,
        ∂L/∂w = δ·x = −1.4, ∂L/∂b = −1.4  →  w = 0.5 + 0.14 = 0.64, b = 0.1 + 0.14 = 0.24.
    Row 1, sample 2: y = 0.64·2 + 0.24 = 1.52, δ = 0.52, L = ½·0.52² = 0.1352,
        ∂L/∂w = 0.52·2 = 1.04, ∂L/∂b = 0.52  →  w = 0.64 − 0.104 = 0.536, b = 0.24 − 0.052 = 0.188.
    Row 2, sample 1 again (epoch 2): y = 0.536 + 0.188 = 0.724, L = ½·1.276² = 0.814088.
    """
    spec = parse_spec({
        "network": {"sizes": [1, 1], "activations": ["linear"]},
        "training": {"learning_rate": 0.1, "iterations": 2, "mode": "sgd"},
        "init": {"weights": [[[0.5]]], "biases": [[0.1]]},
        "data": {"inputs": [[1.0], [2.0]], "targets": [[2.0], [1.0]]},
    })
    ref = train(spec)
    expected = {
        "sample": [1, 2, 1], "epoch": [1, 1, 2],
        "W1[1,1]": [0.5, 0.64, 0.536], "b1[1]": [0.1, 0.24, 0.188],
        "z1[1]": [0.6, 1.52, 0.724], "loss": [0.98, 0.1352, 0.814088],
        "delta1[1]": [-1.4, 0.52], "dW1[1,1]": [-1.4, 1.04], "db1[1]": [-1.4, 0.52],
    }
    for qid, values in expected.items():
        assert ref[qid].tolist()[: len(values)] == pytest.approx(values, rel=1e-12), qid
    path = build(tmp_path, spec)
    formulas = _training_values(path, ["z1[1]", "loss"], data_only=False)
    assert formulas["z1[1]"][1] == "=D5*INDEX(Network!$B$30:$B$31,C5)+E5"
    assert formulas["loss"][1] == "=0.5*(G5-INDEX(Network!$C$30:$C$31,C5))^2"
    report = run_check(path)
    assert report.ok, report.summary()


@pytest.mark.parametrize("training", [SHUFFLED_SGD, SHUFFLED_MINIBATCH], ids=["sgd", "minibatch"])
def test_formulas_engine_recomputes_sgd_and_minibatch(tmp_path: Path, training: dict) -> None:
    spec = _spec(training, n_samples=6, iterations=20)
    report = run_check(build(tmp_path, spec))
    assert report.ok, report.summary()
    # Every cell is compared, the constant epoch and sample numbers too (group "iter").
    columns = TrainingLayout(spec, NetworkLayout(spec), "Network").columns
    assert report.training_cells == sum(21 if c.in_final_row else 20 for c in columns)
    assert len(ids.schedule(spec)) == 1 + spec.slots


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("training", [SHUFFLED_SGD, SHUFFLED_MINIBATCH], ids=["sgd", "minibatch"])
def test_libreoffice_recomputes_sgd_and_minibatch(tmp_path: Path, training: dict) -> None:
    spec = _spec(training, n_samples=6, iterations=20)
    report = run_check(build(tmp_path, spec), engine="libreoffice")
    assert report.ok, report.summary()


def test_a_changed_sample_number_is_a_wrong_cell(tmp_path: Path) -> None:
    spec = _spec(SHUFFLED_SGD, n_samples=5, iterations=6)
    path = build(tmp_path, spec)
    col = ids.all_ids(spec).index("sample") + 1
    book = openpyxl.load_workbook(path)
    cell = book["Training"].cell(FIRST_DATA_ROW + 3, col)
    cell.value = cell.value % 5 + 1  # another sample in row t = 3
    book.save(path)
    report = run_check(path)
    assert not report.ok
    assert report.first_wrong is not None
    assert (report.first_wrong.qid, report.first_wrong.iteration) == ("sample", 3)


# --- a student edits the data table --------------------------------------------------------


def _edit_input(path: Path, spec: Spec, key: str, value: float) -> Path:
    row, col = NetworkLayout(spec).input_cells[key]
    book = openpyxl.load_workbook(path)
    book["Network"].cell(row, col).value = value
    edited = path.with_name("edited.xlsx")
    book.save(edited)
    return edited


def test_an_edited_data_cell_is_read_by_the_rows_that_use_that_sample(tmp_path: Path) -> None:
    spec = _spec({"mode": "sgd"}, n_samples=3, iterations=5)  # rows use samples 1 2 3 1 2 3
    edited = _edit_input(build(tmp_path, spec), spec, "x[1]@3", 0.9)
    book = read_workbook(edited)
    assert book.spec.inputs[2][0] == 0.9
    before, after = train(spec), train(book.spec)
    assert before.loc[:1].equals(after.loc[:1])  # rows 0 and 1 never see sample 3
    assert after.loc[2, "z1[1]"] != before.loc[2, "z1[1]"]
    report = run_check(edited)  # each INDEX evaluated on the edited Network sheet
    assert report.ok, report.summary()


@needs_libreoffice
@pytest.mark.libreoffice
def test_libreoffice_recomputes_the_rows_of_an_edited_sample(tmp_path: Path) -> None:
    spec = _spec({"mode": "sgd"}, n_samples=3, iterations=5)
    path = build(tmp_path, spec)
    edited = _edit_input(path, spec, "x[1]@3", 0.9)
    qids = ["z1[1]", "loss", "W1[1,1]"]
    old = _training_values(recalculate(path, tmp_path / "old.xlsx"), qids)
    new = _training_values(recalculate(edited, tmp_path / "new.xlsx"), qids)
    for qid in qids:
        assert new[qid][:2] == pytest.approx(old[qid][:2], rel=1e-15), qid
    assert new["z1[1]"][2] != pytest.approx(old["z1[1]"][2])  # row 2 uses sample 3
    expected = train(read_workbook(edited).spec)
    assert new["z1[1]"][2] == pytest.approx(float(expected.loc[2, "z1[1]"]), rel=1e-12)
    assert new["W1[1,1]"][3] == pytest.approx(float(expected.loc[3, "W1[1,1]"]), rel=1e-12)


# --- settings: validation, round trip, CLI -------------------------------------------------


@pytest.mark.parametrize(("training", "message"), [
    ({"mode": "online"}, r"training\.mode: unknown value 'online'"),
    ({"mode": "minibatch"}, r"training\.batch_size is missing"),
    ({"mode": "minibatch", "batch_size": 0}, r"between 1 and the 4 samples, got 0"),
    ({"mode": "minibatch", "batch_size": 5}, r"between 1 and the 4 samples, got 5"),
    ({"mode": "minibatch", "batch_size": 3},
     r"batch_size = 3 does not divide the 4 samples.*use one of: 1, 2, 4$"),
    ({"mode": "minibatch", "batch_size": "2"}, r"batch_size must be an integer"),
    ({"mode": "sgd", "batch_size": 2}, r'mode = "sgd" means 1'),
    ({"batch_size": 2}, r'training\.batch_size applies to mode = "sgd" or "minibatch"'),
    ({"mode": "sgd", "shuffle": "yes"}, r"training\.shuffle must be true or false"),
    ({"mode": "sgd", "seed": 3}, r"training\.seed orders the samples only with shuffle = true"),
    ({"mode": "sgd", "shuffle": True, "seed": -1}, r"seed must be a non-negative integer"),
])
def test_bad_batch_settings_are_one_line_errors(training: dict, message: str) -> None:
    with pytest.raises(SheetnetError, match=message) as info:
        _spec(training, n_samples=4)
    assert "\n" not in str(info.value)


def test_a_batch_size_that_does_not_divide_the_samples_names_the_divisors() -> None:
    with pytest.raises(SheetnetError, match=r"batch_size = 32 does not divide the 150 samples"
                       r" \(every batch must be full\); use one of: 1, 2, 3, 5, 6, 10, 15, 25, 30,"
                       r" 50, 75, 150$"):
        _spec({"mode": "minibatch", "batch_size": 32}, n_samples=150, sizes=(1, 1))


@pytest.mark.parametrize("training", [SHUFFLED_SGD, SHUFFLED_MINIBATCH, {"mode": "sgd"}, {}])
def test_settings_round_trip_through_toml_and_the_network_sheet(tmp_path: Path, training: dict) -> None:
    spec = _spec(training, n_samples=4, iterations=3)
    assert parse_spec(to_table(spec)) == spec
    back = read_workbook(build(tmp_path, spec)).spec
    assert (back.mode, back.batch_size, back.shuffle, back.seed, back.slots) == (
        spec.mode, spec.batch_size, spec.shuffle, spec.seed, spec.slots)
    assert ids.all_ids(back) == ids.all_ids(spec)


def test_batch_mode_has_no_schedule_columns() -> None:
    spec = load_template("seed-000-regression")
    assert spec.mode == "batch" and spec.slots == spec.n_samples == 2
    assert ids.all_ids(spec)[:2] == ["iter", "W1[1,1]"]
    assert "sample" not in train(spec).columns


def test_cli_builds_a_shuffled_minibatch_workbook(tmp_path: Path) -> None:
    out = tmp_path / "mb.xlsx"
    result = runner.invoke(app, ["build", str(out), "-t", "seed-000-regression", "-n", "4",
                                 "--batch-size", "1", "--shuffle", "--seed", "3"])
    assert result.exit_code == 0, result.output
    spec = read_workbook(out).spec
    assert (spec.mode, spec.batch_size, spec.shuffle, spec.seed) == ("minibatch", 1, True, 3)
    bad = runner.invoke(app, ["build", str(tmp_path / "x.xlsx"), "-t", "seed-000-regression",
                              "--mode", "minibatch"])
    assert bad.exit_code == 2
    assert "--mode minibatch needs --batch-size N, a divisor of the 2 samples" in bad.output
    assert not (tmp_path / "x.xlsx").exists()


# --- wide layouts stay within the grid -----------------------------------------------------


def test_too_many_columns_names_the_largest_batch_size_that_fits(tmp_path: Path) -> None:
    # 1-50-1 with 150 samples: 3·51 = 153 columns per sample, 22,950 in batch mode.
    spec = _spec(n_samples=150, iterations=2, sizes=(1, 50, 1))
    fixed = 1 + 1 + 151 + 1 + 151  # t, epoch, parameters, loss, gradients
    fits = [b for b in (1, 2, 3, 5, 6, 10, 15, 25, 30, 50, 75, 150) if fixed + b * 154 <= 16_384]
    assert max(fits) == 75
    with pytest.raises(SheetnetError, match=r"needs 23,254 Training columns, more than a spreadsheet"
                       r' holds \(16,384\); use mode = "minibatch" with batch_size = 75 \(the largest'
                       r' divisor of the 150 samples that fits\) or smaller, or mode = "sgd"$'):
        TrainingLayout(spec, NetworkLayout(spec), "Network")
    fitting = spec.replace(mode="minibatch", batch_size=75)
    assert len(TrainingLayout(fitting, NetworkLayout(fitting), "Network").columns) == fixed + 75 * 154
    with pytest.raises(SheetnetError, match=r"batch_size = 75 \(the largest"):
        too_big = spec.replace(mode="minibatch", batch_size=150)
        TrainingLayout(too_big, NetworkLayout(too_big), "Network")
    out = tmp_path / "wide.xlsx"
    result = runner.invoke(app, ["build", str(out), "-c", str(_write_toml(tmp_path, spec))])
    assert result.exit_code == 2 and "batch_size = 75" in result.output and not out.exists()


def _write_toml(tmp_path: Path, spec: Spec) -> Path:
    """The wide spec as TOML (Python's list repr of floats is a TOML array)."""
    path = tmp_path / "wide.toml"
    path.write_text(
        f"[network]\nsizes = {list(spec.sizes)}\nactivations = {list(spec.activations)}\n"
        f"[training]\nlearning_rate = 0.5\niterations = 2\n[init]\nseed = 1\n"
        f"[data]\ninputs = {[list(r) for r in spec.inputs]}\ntargets = {[list(r) for r in spec.targets]}\n",
        encoding="utf-8")
    return path


# --- the other sheets ----------------------------------------------------------------------


def test_other_sheets_in_minibatch_mode(tmp_path: Path) -> None:
    spec = _spec(SHUFFLED_MINIBATCH, n_samples=6, iterations=10)
    path = build(tmp_path, spec, summary_every=5, compare_lr=(0.2,))
    book = openpyxl.load_workbook(path)
    first = (schedule.batches(spec)[0] + 1).tolist()
    working = [[c.value for c in row] for row in book["Working"].iter_rows(max_col=7)]
    assert f"sample {first[0]}, {first[1]} of the data table" in working[2][0]
    headings = [row[0] for row in working if isinstance(row[0], str) and row[0].startswith("Sample ")]
    assert headings == [f"Sample {first[0]}", f"Sample {first[1]}"] * 2
    summary_ids = [c.value for c in book["Summary"][summary.ID_ROW]][:5]
    assert summary_ids == ["iter", "epoch", "sample@1", "sample@2", "loss"]
    guide = " ".join(str(c.value) for row in book["Guide"].iter_rows() for c in row if c.value)
    assert "each row uses a batch of 2 of the 6 samples" in guide and "3 rows make one epoch" in guide
    # The comparison block repeats the sample numbers, so its lookups read the same samples.
    report = run_check(path)
    assert report.ok, report.summary()


def test_working_sheet_recomputes_iteration_1_on_its_batch(tmp_path: Path) -> None:
    from tests.test_working import _expected, _lines, _recompute_with_formulas

    spec = _spec(SHUFFLED_MINIBATCH, n_samples=6, iterations=3)
    path = build(tmp_path, spec)
    k = labels.sup(f"({int(schedule.batches(spec)[0, 1]) + 1})")  # slot 2's sample in iteration 1
    lines = _lines(path)
    assert lines[f"z₃{k}"].equation == f"w₃₁·x₁{k} + w₃₂·x₂{k} + b₃"
    recomputed = _recompute_with_formulas(path)
    expected = _expected(spec, train(spec))
    assert list(recomputed) == list(expected)
    for symbol, line in recomputed.items():
        assert line.value == pytest.approx(expected[symbol], rel=1e-12, abs=1e-15), symbol
        assert line.numbers == lines[symbol].numbers, symbol


def test_graph_formulas_evaluated_in_python_equal_the_reference() -> None:
    """Every column of a shuffled minibatch row, INDEX lookups included, evaluated by
    formula.evaluate on the reference's row above and the spec's data."""
    spec = _spec(SHUFFLED_MINIBATCH, n_samples=6, iterations=4)
    ref = train(spec)
    data = {f"x[{i + 1}]@{k + 1}": v for k, row in enumerate(spec.inputs) for i, v in enumerate(row)}
    data |= {f"t[{j + 1}]@{k + 1}": v for k, row in enumerate(spec.targets) for j, v in enumerate(row)}
    data["lr"] = spec.learning_rate
    t = 2

    def lookup(node: Cell | Const) -> float:
        if isinstance(node, Const):
            return data[node.key]
        return float(ref.loc[t - 1 if node.prev else t, node.qid])

    z = next(c for c in graph.training_columns(spec) if c.qid == "z1[1]@2").formula
    assert isinstance(z, Bin) and "INDEX" in repr(z)
    for column in graph.training_columns(spec):
        if column.formula is not None:
            value = evaluate(column.formula, lookup)
            assert value == pytest.approx(float(ref.loc[t, column.qid]), rel=1e-12), column.qid


@pytest.mark.parametrize("engine", [
    "formulas",
    pytest.param("libreoffice", marks=[needs_libreoffice, pytest.mark.libreoffice]),
    pytest.param("gnumeric", marks=[needs_gnumeric, pytest.mark.gnumeric]),
])
def test_sgd_on_a_single_sample_reads_its_cells_directly(tmp_path: Path, engine: str) -> None:
    # INDEX over a one-cell range is #REF! in Gnumeric 1.12: with one sample every row reads
    # the sample's Network cells themselves, the same number in every engine.
    spec = load_template("seed-003-single-update").replace(mode="sgd", iterations=5)
    path = build(tmp_path, spec)
    ws = openpyxl.load_workbook(path)["Training"]
    z = ws.cell(FIRST_DATA_ROW + 3, ids.all_ids(spec).index("z1[1]") + 1).value
    cell = NetworkLayout(spec).input_cells[graph.input_key(0, 0).key]
    assert "INDEX" not in z and f"Network!{layout.address(*cell, absolute=True)}" in z, z
    report = run_check(path, engine=engine)
    assert report.ok, report.summary()
