"""Training in blocks: train_blocks gives the run of one whole-run loop whatever the block size,
the workbook writer streams it (sheets/trajectory.py), and the build's memory does not grow
with the iterations."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sheetnet.model import ids, reference
from sheetnet.model.reference import train, train_array, train_blocks
from sheetnet.model.spec import Spec, load_template, with_optimizer
from sheetnet.sheets import charts
from sheetnet.sheets import trajectory as trajectory_module
from sheetnet.sheets.trajectory import Trajectory
from sheetnet.sheets.writer import build_workbook
from tests.test_diverge import random_spec

pytestmark = pytest.mark.filterwarnings("ignore::sheetnet.model.reference.DivergedWarning")


def _specs() -> dict[str, Spec]:
    iris = load_template("iris")
    return {
        "seed-004": load_template("seed-004-2-2-2").replace(iterations=23),
        "xor adam": with_optimizer(load_template("xor").replace(iterations=23), "adam"),
        "bp-demo momentum": with_optimizer(load_template("seed-001-bp-demo").replace(iterations=23),
                                           "momentum"),
        "iris sgd shuffled": iris.replace(iterations=23, mode="sgd", batch_size=1, shuffle=True),
        # The loss is NaN from t = 5 on: in the middle of a block of 4 (rows 4 to 7).
        "diverging": random_spec([2, 2, 1], "relu", 50, iterations=12),
    }


def _whole_run(spec: Spec) -> np.ndarray:
    """The run as one block: the loop the trainer ran before it trained in blocks."""
    with np.errstate(all="ignore"):
        (block,) = train_blocks(spec, spec.iterations + 1)
    return block


@pytest.mark.parametrize("name", list(_specs()))
@pytest.mark.parametrize("block_rows", [1, 4, 7, 4096])
def test_blocks_give_the_whole_runs_array(name: str, block_rows: int) -> None:
    spec = _specs()[name]
    with np.errstate(all="ignore"):
        blocks = list(train_blocks(spec, block_rows))
    assert [len(b) for b in blocks[:-1]] == [block_rows] * (len(blocks) - 1)
    whole = _whole_run(spec)
    assert whole.shape == (spec.iterations + 1, len(ids.all_ids(spec)) - 1)
    assert np.array_equal(np.concatenate(blocks), whole, equal_nan=True)  # bit for bit
    if name == "diverging":
        loss = ids.all_ids(spec).index("loss") - 1
        assert np.isfinite(whole[:5, loss]).all() and np.isnan(whole[5:, loss]).all()
        assert not np.isinf(whole).any()  # an overflow is NaN, as #NUM! in the sheet


def test_train_and_train_array_are_the_blocks() -> None:
    spec = _specs()["xor adam"]
    frame, array = train(spec), train_array(spec)
    assert list(frame.columns) == ids.all_ids(spec) and list(frame.index) == list(range(24))
    assert np.array_equal(frame.to_numpy(dtype=float), array, equal_nan=True)
    assert np.array_equal(array[:, 1:], _whole_run(spec), equal_nan=True)
    out = np.zeros_like(array)
    assert train_array(spec, out) is out and np.array_equal(out, array, equal_nan=True)
    with pytest.raises(ValueError, match="shape"):
        train_array(spec, np.zeros((3, 3)))


# --- the writer's trajectory ---------------------------------------------------------------


def _streamed(spec: Spec, trajectory: Trajectory) -> np.ndarray:
    starts, blocks = zip(*trajectory.blocks(), strict=True)
    assert list(starts) == [sum(len(b) for b in blocks[:n]) for n in range(len(blocks))]
    return np.concatenate(blocks)


@pytest.mark.parametrize("block_rows", [1, 5, 4096])
def test_the_trajectory_streams_every_row_and_keeps_what_it_was_asked(block_rows: int) -> None:
    spec = _specs()["diverging"]
    with np.errstate(all="ignore"):
        whole, frame = train_array(spec), train(spec)
    run = Trajectory(spec, rows=[7, 12], columns=["a2[1]@3"], block_rows=block_rows)
    assert run.loc[0, "loss"] == frame.loc[0, "loss"]  # before the Training sheet: rows 0 and 1
    assert np.array_equal(run.loc[1].to_numpy(), whole[1], equal_nan=True)
    assert np.array_equal(_streamed(spec, run), whole, equal_nan=True)
    expected = frame.loc[[7, 12, 0], ["loss", "W1[1,1]"]].to_numpy()
    assert np.array_equal(run.rows([7, 12, 0], ["loss", "W1[1,1]"]), expected, equal_nan=True)
    for qid in ("loss", "a2[1]@3", "iter"):
        assert np.array_equal(run.column(qid), frame[qid].to_numpy(), equal_nan=True)
    assert run.diverged_at() == 5
    with pytest.raises(LookupError, match="iteration 6"):
        run.row(6)
    with pytest.raises(LookupError, match="W1"):
        run.column("W1[1,1]")
    with pytest.raises(ValueError, match="no such columns in this run: y"):
        Trajectory(spec, rows=[], columns=["y"])


def test_kept_values_read_before_the_training_sheet_then_it_trains_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _specs()["xor adam"]
    runs: list[int] = []

    def counted(spec: Spec, block_rows: int):
        runs.append(spec.iterations)
        return train_blocks(spec, block_rows)

    monkeypatch.setattr(trajectory_module, "train_blocks", counted)
    run = Trajectory(spec, rows=[20], columns=[], block_rows=4)
    assert run.loc[20, "loss"] == train(spec).loc[20, "loss"]  # trains the rest, keeps row 20
    assert np.array_equal(_streamed(spec, run), train_array(spec), equal_nan=True)
    assert runs == [23, 23]


def test_kept_values_cannot_be_read_while_the_training_sheet_takes_the_rows() -> None:
    spec = _specs()["xor adam"]
    run = Trajectory(spec, rows=[20], columns=[], block_rows=4)
    blocks = run.blocks()
    next(blocks), next(blocks)
    with pytest.raises(RuntimeError, match="while the Training sheet"):
        run.row(20)


def test_a_whole_frame_handed_over_streams_the_same() -> None:
    spec = _specs()["iris sgd shuffled"]
    run = Trajectory(spec, rows=[], columns=[], frame=train(spec), block_rows=6)
    assert np.array_equal(_streamed(spec, run), train_array(spec), equal_nan=True)
    assert run.loc[9, "loss"] == train(spec).loc[9, "loss"]  # every row of a frame is at hand


# --- memory --------------------------------------------------------------------------------


def _build_peak(tmp_path: Path, iterations: int) -> int:
    """The most memory Python allocated while building seed-004 at this many iterations."""
    spec = load_template("seed-004-2-2-2").replace(iterations=iterations)
    gc.collect()
    tracemalloc.start()
    try:
        build_workbook(spec, tmp_path / f"s{iterations}.xlsx")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_build_memory_does_not_grow_with_the_iterations(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 more iterations of 38 columns are 3 MB of float64 (the whole run that the writer
    held before it streamed it): they must cost less than 0.5 MiB more at the peak. Blocks of
    500 rows and charts with no cached values beyond 1,000 points, so that both builds are past
    the sizes where memory may grow with the rows (a block, a chart's cache)."""
    monkeypatch.setattr(reference, "BLOCK_ROWS", 500)
    monkeypatch.setattr(charts, "CACHE_POINTS", 1_000)
    small, large = _build_peak(tmp_path, 2_000), _build_peak(tmp_path, 12_000)
    assert large - small < 0.5 * 2**20, (small, large)
