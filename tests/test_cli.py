"""The `sheetnet` command: bad input is one line on stderr, exit code 2 and no file; good input works."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import load_spec, load_template, template_names
from sheetnet.sheets.layout import MAX_ROWS
from tests.test_spec import BAD_SPECS, Mutation, default_table, seeded_table, spoiled, to_toml

# click ≥ 8.2 keeps stderr apart on its own (CliRunner has no mix_stderr any more):
# result.stdout and result.stderr separately, result.output both interleaved.
runner = CliRunner()
SENTINEL = b"not a workbook: must survive a failed build"


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an unexpected exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sheetnet: error: ")
    assert result.stdout == ""
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


def assert_nothing_written(folder: Path, protected: dict[Path, bytes]) -> None:
    """The sentinel files are untouched and no temporary file is left behind."""
    for path, content in protected.items():
        assert path.read_bytes() == content
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [p.name for p in protected] + [p.name for p in folder.glob("*.toml")]
    )


def write_config(folder: Path, table: dict[str, Any], name: str = "my.toml") -> Path:
    path = folder / name
    path.write_text(to_toml(table), encoding="utf-8")
    return path


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("mutate", "words"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_build_with_bad_config(tmp_path: Path, mutate: Mutation, words: list[str]) -> None:
    config = write_config(tmp_path, spoiled(mutate))
    out = tmp_path / "out.xlsx"
    out.write_bytes(SENTINEL)
    result = invoke("build", "--config", config, out)
    assert_one_line_error(result, "my.toml", *words)
    assert_nothing_written(tmp_path, {out: SENTINEL})


@pytest.mark.parametrize(("mutate", "words"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_train_with_bad_config(tmp_path: Path, mutate: Mutation, words: list[str]) -> None:
    config = write_config(tmp_path, spoiled(mutate))
    csv = tmp_path / "run.csv"
    csv.write_bytes(SENTINEL)
    result = invoke("train", "--config", config, "--csv", csv)
    assert_one_line_error(result, *words)
    assert_nothing_written(tmp_path, {csv: SENTINEL})


def _bad_invocations(tmp: Path) -> dict[str, tuple[list[str | Path], list[str]]]:
    out = tmp / "out.xlsx"
    return {
        "unknown template": (["build", "--template", "nope", out], ["unknown template 'nope'"]),
        "malformed TOML": (["build", "--config", tmp / "broken.toml", out],
                           ["broken.toml", "not valid TOML"]),
        "missing config": (["build", "--config", tmp / "absent.toml", out], ["absent.toml", "no such file"]),
        "template and config": (["build", "--template", "seed-001-matmul", "--config", tmp / "my.toml", out],
                                ["--template or --config"]),
        "--lr 0": (["build", "--lr", "0", out], ["--lr", "positive"]),
        "--lr negative": (["build", "--lr", "-0.5", out], ["--lr", "positive"]),
        "--lr nan": (["build", "--lr", "nan", out], ["--lr"]),
        "--iters 0": (["build", "--iters", "0", out], ["--iters", "positive"]),
        "--iters negative": (["build", "--iters", "-3", out], ["--iters", "positive"]),
        "--iters past the last row": (["build", "--iters", str(MAX_ROWS), out],
                                      [str(MAX_ROWS), f"--iters {MAX_ROWS - 4}"]),
        "--iters one past the last row": (["build", "--iters", str(MAX_ROWS - 3), out], ["--iters 1048572"]),
        "missing output folder": (["build", tmp / "no-such-folder" / "out.xlsx"],
                                  ["no-such-folder", "does not exist"]),
        "not an .xlsx name": (["build", tmp / "out.csv"], ["out.csv", ".xlsx"]),
        "xls is not xlsx": (["build", tmp / "out.xls"], [".xlsx"]),
        "unknown language": (["build", "--lang", "fr", out], ["'fr'", "en, zh"]),
        "train: --iters 0": (["train", "--iters", "0", "--csv", tmp / "run.csv"], ["--iters"]),
        "train: --lr 0 on a file": (["train", "--config", tmp / "my.toml", "--lr", "0"], ["--lr"]),
        "train: csv folder missing": (["train", "--csv", tmp / "no-such-folder" / "run.csv"],
                                      ["does not exist"]),
        "train: unknown template": (["train", "--template", "nope"], ["unknown template"]),
    }


BAD_INVOCATIONS = list(_bad_invocations(Path("/")).keys())


@pytest.mark.parametrize("case", BAD_INVOCATIONS)
def test_bad_invocation(tmp_path: Path, case: str) -> None:
    args, words = _bad_invocations(tmp_path)[case]
    (tmp_path / "broken.toml").write_text("[network\nsizes = [2, 2]\n", encoding="utf-8")
    write_config(tmp_path, default_table())
    protected = {}
    for name in ("out.xlsx", "out.csv", "out.xls", "run.csv"):
        (tmp_path / name).write_bytes(SENTINEL + name.encode())
        protected[tmp_path / name] = SENTINEL + name.encode()
    result = invoke(*args)
    assert_one_line_error(result, *words)
    assert_nothing_written(tmp_path, protected)
    assert not (tmp_path / "no-such-folder").exists()


def test_bad_file_value_is_reported_even_with_an_override(tmp_path: Path) -> None:
    """The file is validated as written: --iters does not excuse its iterations = 0."""
    bad = copy.deepcopy(default_table())
    bad["training"]["iterations"] = 0
    config = write_config(tmp_path, bad)
    for extra in ([], ["--iters", "3"]):
        result = invoke("build", "--config", config, *extra, tmp_path / "a.xlsx")
        assert_one_line_error(result, "training.iterations")
    assert not (tmp_path / "a.xlsx").exists()


# --- happy paths -----------------------------------------------------------------------------


def training_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path, data_only=True, read_only=True)["Training"]
    return [row for row in ws.iter_rows(min_row=4, values_only=True) if row and row[0] is not None]


def test_build_default_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("build", "--iters", "100", "out.xlsx")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    spec = load_template("seed-004-2-2-2")
    assert result.stdout.strip() == f"wrote out.xlsx (100 iterations of {spec.title})"
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert {"Network", "Training"} <= set(book.sheetnames)
    assert book["Network"]["A1"].value == spec.title
    assert book["Network"]["B4"].value == 0.5
    rows = training_rows(tmp_path / "out.xlsx")
    assert [r[0] for r in rows] == list(range(101))
    loss_col = ids.all_ids(spec).index("loss")
    assert rows[0][loss_col] == pytest.approx(train(spec).loc[0, "loss"], rel=1e-14)


def test_build_bp_demo_1000_iterations(tmp_path: Path) -> None:
    out = tmp_path / "bp.xlsx"
    result = invoke("build", "--template", "seed-001-bp-demo", "--iters", "1000", out)
    assert result.exit_code == 0, result.output
    assert "1000 iterations" in result.stdout
    spec = load_template("seed-001-bp-demo").replace(iterations=1000)
    frame = train(spec)
    rows = training_rows(out)
    assert len(rows) == 1001
    columns = ids.all_ids(spec)
    last = dict(zip(columns, rows[-1], strict=False))
    for qid in [*ids.params(spec), "a2[1]", "a2[2]", "loss"]:
        assert last[qid] == pytest.approx(frame.loc[1000, qid], rel=1e-14), qid


def test_build_from_config_and_overrides(tmp_path: Path) -> None:
    table = copy.deepcopy(default_table())
    table["training"]["iterations"] = 7
    config = write_config(tmp_path, table)
    assert invoke("build", "--config", config, tmp_path / "a.xlsx").exit_code == 0
    assert [r[0] for r in training_rows(tmp_path / "a.xlsx")] == list(range(8))
    result = invoke("build", "-c", config, "--iters", "3", "--lr", "0.25", tmp_path / "b.xlsx")
    assert result.exit_code == 0, result.output
    assert [r[0] for r in training_rows(tmp_path / "b.xlsx")] == list(range(4))
    assert openpyxl.load_workbook(tmp_path / "b.xlsx")["Network"]["B4"].value == 0.25
    # the overridden learning rate is the one trained with
    spec = load_spec(config).replace(iterations=3, learning_rate=0.25)
    w = ids.all_ids(spec).index("W2[1,1]")
    assert training_rows(tmp_path / "b.xlsx")[3][w] == pytest.approx(train(spec).loc[3, "W2[1,1]"], rel=1e-14)


def test_build_overwrites_an_existing_workbook(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(SENTINEL)
    assert invoke("build", "--iters", "2", out).exit_code == 0
    assert out.read_bytes() != SENTINEL
    assert [r[0] for r in training_rows(out)] == [0, 1, 2]


def test_iters_override_on_a_template_without_biases(tmp_path: Path) -> None:
    out = tmp_path / "s.xlsx"
    result = invoke("build", "--template", "seed-003-single-update", "--iters", "5", out)
    assert result.exit_code == 0, result.output
    assert [r[0] for r in training_rows(out)] == list(range(6))


def test_build_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "zh.xlsx"
    assert invoke("build", "--lang", "zh", "--iters", "3", out).exit_code == 0
    names = openpyxl.load_workbook(out).sheetnames
    assert {"网络", "训练"} <= set(names) and "Training" not in names


def test_templates_lists_all_twelve_with_shapes() -> None:
    result = invoke("templates")
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 12
    shapes = {
        "attention-marker": "3×3-2",
        "cnn-stripes": "1×4×4-2",
        "iris": "4-4-3",
        "seed-000-classification": "2-2-2",
        "seed-000-regression": "2-2-1",
        "seed-001-bp-demo": "2-3-2",
        "seed-001-linear-system": "2-1",
        "seed-001-matmul": "2-2",
        "seed-003-single-update": "2-1",
        "seed-004-2-2-2": "2-2-2",
        "rnn-sequence": "4×1-2",
        "xor": "2-2-1",
    }
    assert sorted(shapes) == template_names()
    for line, (name, shape) in zip(lines, sorted(shapes.items()), strict=True):
        fields = line.split()
        assert fields[:2] == [name, shape]
        assert load_template(name).title in line
        assert line.endswith("(default)") == (name == "seed-004-2-2-2")


def test_train_writes_the_reference_as_csv(tmp_path: Path) -> None:
    table = copy.deepcopy(default_table())
    table["training"]["iterations"] = 12
    config = write_config(tmp_path, table)
    csv = tmp_path / "run.csv"
    result = invoke("train", "--config", config, "--csv", csv)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {csv} (13 rows, {len(ids.all_ids(load_spec(config)))} columns)"
    spec = load_spec(config)
    frame = train(spec)
    saved = pd.read_csv(csv)
    assert list(saved.columns) == ids.all_ids(spec)
    assert len(saved) == 13
    # %.17g round-trips every double exactly; the last row's backward pass is empty (NaN).
    np.testing.assert_array_equal(saved.to_numpy(dtype=float), frame.to_numpy(dtype=float))


def test_train_prints_a_table_without_csv() -> None:
    result = invoke("train", "--template", "seed-003-single-update")
    assert result.exit_code == 0, result.output
    assert "W1[1,1]" in result.stdout
    assert "2.049692" in result.stdout  # the one update of seed 003


def test_seeded_init_builds_and_is_deterministic(tmp_path: Path) -> None:
    config = write_config(tmp_path, seeded_table(7, [3, 4, 2]), "seeded.toml")
    for name in ("a.csv", "b.csv"):
        assert invoke("train", "-c", config, "--csv", tmp_path / name).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert invoke("build", "-c", config, tmp_path / "s.xlsx").exit_code == 0
    spec = load_spec(config)
    network = openpyxl.load_workbook(tmp_path / "s.xlsx")["Network"]
    written = sorted(c.value for row in network.iter_rows() for c in row if isinstance(c.value, float))
    for w in np.ravel(spec.weights[0]):
        assert w in written
    rows = training_rows(tmp_path / "s.xlsx")
    assert rows[0][1] == spec.weights[0][0][0]  # W1[1,1] from the seed
    other = write_config(tmp_path, seeded_table(8, [3, 4, 2]), "other.toml")
    assert invoke("train", "-c", other, "--csv", tmp_path / "c.csv").exit_code == 0
    assert (tmp_path / "c.csv").read_bytes() != (tmp_path / "a.csv").read_bytes()


def test_written_files_follow_the_umask_not_mkstemps_private_mode(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "out.xlsx"
        csv = tmp_path / "run.csv"
        assert invoke("build", "--iters", "2", str(out)).exit_code == 0
        assert invoke("train", "--iters", "2", "--csv", str(csv)).exit_code == 0
    finally:
        os.umask(old)
    for path in (out, csv):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sheetnet-")] == []
