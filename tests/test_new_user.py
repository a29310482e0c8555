"""Defects a new user met (issue 15): each test here failed on the code before its fix."""

from __future__ import annotations

import copy
import os
import re
import stat
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sheetnet.errors import counted, ordinal
from sheetnet.model import ids
from sheetnet.model.reference import train
from sheetnet.model.spec import load_spec, load_template
from sheetnet.sheets.context import column_label
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.layout import NetworkLayout
from tests.conftest import build
from tests.test_cli import SENTINEL, assert_one_line_error, invoke, write_config
from tests.test_csvdata import write_spec
from tests.test_spec import default_table, seeded_table

# --- spec files a teacher writes ---------------------------------------------------------------


def test_a_negative_init_seed_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, seeded_table(-1, [2, 2, 1]))
    assert_one_line_error(invoke("build", "--config", config, tmp_path / "out.xlsx"),
                          "init.seed must be a non-negative integer, got -1")
    assert not (tmp_path / "out.xlsx").exists()


def test_an_array_nested_2000_deep_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("x = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    assert_one_line_error(invoke("build", "--config", config, tmp_path / "out.xlsx"),
                          "deep.toml", "nested thousands deep")


@pytest.mark.parametrize(("where", "words"), [
    ("", "title must be a string, got 42"),
    ("zh", "zh.title must be a string, got 42"),
    ("description", "description must be a string, got 42"),
])
def test_a_title_must_be_text_in_both_places(tmp_path: Path, where: str, words: str) -> None:
    table = copy.deepcopy(default_table())
    if where == "zh":
        table["zh"] = {"title": 42}
    else:
        table[where or "title"] = 42
    config = write_config(tmp_path, table)
    assert_one_line_error(invoke("build", "--config", config, tmp_path / "out.xlsx"), words)


# --- the command line ---------------------------------------------------------------------------


def test_sgd_with_a_batch_size_is_refused_as_in_a_file(tmp_path: Path) -> None:
    result = invoke("build", "-t", "xor", "--mode", "sgd", "--batch-size", "2", tmp_path / "out.xlsx")
    assert_one_line_error(result, "--batch-size 2 needs --mode minibatch")
    assert invoke("build", "-t", "xor", "--mode", "sgd", "--batch-size", "1",
                  tmp_path / "out.xlsx").exit_code == 0


def test_one_sample_is_singular(tmp_path: Path) -> None:
    result = invoke("build", "--batch-size", "2", tmp_path / "out.xlsx")
    assert_one_line_error(result, "the data has 1 sample, got 2")
    result = invoke("build", "--iters", "1", tmp_path / "out.xlsx")
    assert result.exit_code == 0
    assert "(1 iteration of" in result.stdout


def test_counts_and_ordinals() -> None:
    assert [counted(n, "sample") for n in (1, 2, 1000)] == ["1 sample", "2 samples", "1000 samples"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
        "112th"]


@pytest.mark.parametrize(("k", "text"), [(1, "every 1st iteration"), (2, "every 2nd iteration"),
                                         (22, "every 22nd iteration"), (13, "every 13th iteration")])
def test_summary_says_english_ordinals(tmp_path: Path, k: int, text: str) -> None:
    out = tmp_path / "out.xlsx"
    assert invoke("build", "--iters", "30", "--summary-every", str(k), out).exit_code == 0
    notes = [c.value for row in openpyxl.load_workbook(out)["Summary"].iter_rows(max_row=5)
             for c in row if isinstance(c.value, str)]
    assert any(text in note for note in notes), notes


# --- files --------------------------------------------------------------------------------------


def test_a_read_only_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "ro.xlsx"
    out.write_bytes(SENTINEL)
    out.chmod(0o444)
    result = invoke("build", "--iters", "2", out)
    assert_one_line_error(result, "ro.xlsx", "permission denied", "read-only")
    assert out.read_bytes() == SENTINEL
    assert stat.S_IMODE(out.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro.xlsx"]


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(SENTINEL)
    out.chmod(0o600)
    assert invoke("build", "--iters", "2", out).exit_code == 0
    assert out.read_bytes() != SENTINEL
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "book.xlsx"
    target.write_bytes(SENTINEL)
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    assert invoke("build", "--iters", "2", link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(b"PK")  # the workbook, a zip
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["book.xlsx"]


def test_a_pdf_into_a_write_protected_folder_is_refused_before_building(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = invoke("build", "--iters", "2", "--pdf", locked / "out.pdf", tmp_path / "out.xlsx")
        assert_one_line_error(result, "locked", "permission denied")
        assert not (tmp_path / "out.xlsx").exists()
    finally:
        locked.chmod(0o755)


def test_train_csv_must_be_named_csv(tmp_path: Path) -> None:
    assert_one_line_error(invoke("train", "--csv", tmp_path / "t.xlsx"), "t.xlsx", ".csv")
    assert not (tmp_path / "t.xlsx").exists()


def test_a_folder_is_called_a_folder(tmp_path: Path) -> None:
    assert_one_line_error(invoke("check", tmp_path), "is a folder")
    assert_one_line_error(invoke("pdf", tmp_path, tmp_path / "x.pdf"), "is a folder")
    assert_one_line_error(invoke("build", "--config", tmp_path, tmp_path / "o.xlsx"), "is a folder")
    (tmp_path / "out.xlsx").mkdir()
    assert_one_line_error(invoke("build", tmp_path / "out.xlsx"), "is a folder")
    table = copy.deepcopy(default_table())
    table["data"] = {"csv": ".", "input_columns": ["a"], "target_columns": ["b"]}
    config = write_config(tmp_path, table)
    assert_one_line_error(invoke("build", "--config", config, tmp_path / "o.xlsx"), "is a folder")


# --- help and usage errors ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["build", "check", "pdf", "train", "templates"])
def test_help_shows_no_bool_type_and_no_braces(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    if command == "build":
        assert "OUTPUT" in usage
        assert "--no-shuffle" in result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["build", "--iters", "abc", "o.xlsx"], ["--iters", "valid integer", "build --help`"]),
    (["build", "--lr", "fast", "o.xlsx"], ["--lr", "build --help`"]),
    (["build"], ["Missing argument 'OUTPUT'"]),
    (["bogus"], ["No such command 'bogus'"]),
])
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], words: list[str]) -> None:
    assert_one_line_error(invoke(*args), *words)


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_lr_inf_and_nan_get_the_same_words(tmp_path: Path, value: str) -> None:
    assert_one_line_error(invoke("build", "--lr", value, tmp_path / "o.xlsx"),
                          f"--lr must be a positive number, got {value}")


# --- train's table ------------------------------------------------------------------------------


def test_train_shows_loss_and_accuracy_and_says_how_to_get_everything() -> None:
    result = invoke("train", "-t", "xor", "--iters", "30")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["iter", "loss", "accuracy", "W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]"]
    assert lines[1].split()[:3] == ["0", "0.701963", "0.50"]
    assert "…" not in result.stdout and "..." in result.stdout  # rows elided, no column hidden
    assert lines[-1] == "(7 of 65 columns; --csv run.csv writes them all)"


def test_train_csv_writes_the_shortest_text_that_reads_back(tmp_path: Path) -> None:
    csv = tmp_path / "run.csv"
    assert invoke("train", "-t", "seed-001-bp-demo", "--iters", "3", "--csv", csv).exit_code == 0
    rows = csv.read_text(encoding="utf-8").splitlines()
    assert pd.read_csv(csv, dtype=str).loc[0, "b1"] == "0.35"
    assert "0.34999999999999998" not in rows[1]
    expected = train(load_template("seed-001-bp-demo").replace(iterations=3))
    pd.testing.assert_frame_equal(pd.read_csv(csv),
                                  expected.reset_index(drop=True), check_exact=True,
                                  check_dtype=False)


# --- numbers too large or too small -------------------------------------------------------------


def _one_input_table(inputs: list[float], *, standardize: bool, activation: str = "sigmoid") -> dict:
    return {
        "network": {"sizes": [1, 1], "activations": [activation]},
        "training": {"learning_rate": 0.1, "iterations": 3},
        "init": {"weights": [[[0.5]]], "biases": [[0.1]]},
        "data": {"inputs": [[x] for x in inputs], "targets": [[0.0], [1.0]][:len(inputs)],
                 "standardize": standardize},
    }


@pytest.mark.parametrize(("inputs", "what"), [([1e200, 3e200], "overflows"),
                                              ([1e-320, 2e-320], "underflows to 0")])
def test_data_that_cannot_be_standardised_is_refused(tmp_path: Path, inputs: list[float],
                                                     what: str) -> None:
    config = write_config(tmp_path, _one_input_table(inputs, standardize=True))
    result = invoke("build", "--config", config, tmp_path / "out.xlsx")
    assert_one_line_error(result, "input column 'x1' cannot be standardised", f"σ {what}")
    assert not (tmp_path / "out.xlsx").exists()


def test_no_workbook_cell_stores_inf_or_nan(tmp_path: Path) -> None:
    # A start that overflows at once: every non-finite value is stored as the error it shows.
    config = write_config(tmp_path, _one_input_table([1e308, 1e308], standardize=False,
                                                     activation="linear"))
    out = tmp_path / "out.xlsx"
    assert invoke("build", "--config", config, out).exit_code == 0
    with zipfile.ZipFile(out) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/"):
                xml = book.read(name).decode("utf-8")
                assert not re.search(r"<v>-?(inf|nan)</v>", xml, flags=re.IGNORECASE), name


def test_a_loss_not_finite_at_the_start_blames_the_numbers_not_the_rate(tmp_path: Path) -> None:
    config = write_config(tmp_path, _one_input_table([1e308, 1e308], standardize=False,
                                                     activation="linear"))
    result = invoke("build", "--config", config, tmp_path / "out.xlsx")
    assert result.exit_code == 0
    warning = result.stderr.strip()
    assert warning.startswith("sheetnet: warning: the loss is not finite at the start (iteration 0")
    assert "inputs or the initial weights are too large" in warning
    assert "learning rate" not in warning


# --- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "lang", "loss", "z"), [
    ("iris", "en", "L (slot 1)", "z₉ (slot 1)"),
    ("iris", "zh", "L (槽1)", "z₉ (槽1)"),
    ("xor", "en", "L (sample 1)", "z₅ (sample 1)"),  # batch mode: column k is sample k
])
def test_per_slot_loss_columns_say_slot_like_their_neighbours(template: str, lang: str, loss: str,
                                                               z: str) -> None:
    spec = load_template(template)
    words = STRINGS[lang]
    names = {q: column_label(spec, q, words) for q in ids.all_ids(spec)}
    assert names["loss@1"] == loss
    assert z in names.values()


def test_the_chinese_network_sheet_glosses_the_specs_words(tmp_path: Path) -> None:
    cells = NetworkLayout(load_template("xor")).setting_cells
    for lang in ("zh", "en"):
        path = build(tmp_path, "xor", name=f"{lang}.xlsx", lang=lang)
        ws = openpyxl.load_workbook(path)[STRINGS[lang]["sheet.network"]]
        beside = {name: (ws.cell(row, col).value, ws.cell(row, col + 1).value)
                  for name, (row, col) in cells.items()}
        # The values stay as the spec spells them (the check reads them back) ...
        assert beside["bias"][0] == "per-neuron" and beside["reduction"][0] == "mean"
        assert beside["loss"][0] == "binary_cross_entropy" and beside["train_bias"][0] == "true"
        # ... and in Chinese the words stand beside them.
        if lang == "zh":
            assert beside["bias"][1] == "每个神经元一个偏置"
            assert beside["reduction"][1] == "取平均"
            assert beside["loss"][1] == "二元交叉熵"
            assert beside["train_bias"][1] == "是"
            assert beside["activations"][1] == "S 型函数、S 型函数"
        else:
            assert beside["bias"][1] is None


# --- check messages -----------------------------------------------------------------------------


def _edited(tmp_path: Path, cell: tuple[int, int], value: object) -> Path:
    path = build(tmp_path, load_template("seed-004-2-2-2").replace(iterations=200))
    book = openpyxl.load_workbook(path)
    book[STRINGS["en"]["sheet.network"]].cell(*cell).value = value
    book.save(tmp_path / "edited.xlsx")
    return tmp_path / "edited.xlsx"


@pytest.mark.parametrize(("name", "value", "words"), [
    ("iterations", 500, ["Network!B5 says 500 iterations but the Training sheet has 200",
                         "settings in grey describe the workbook and cannot be edited"]),
    ("activations", "tanh, sigmoid", ["(activations) says 'tanh, sigmoid' but the workbook was built "
                                      "with 'sigmoid, sigmoid'", "build a new one"]),
    ("loss", "mse", ["(loss) says 'mse'", "'half_sse'"]),
])
def test_an_edited_grey_setting_is_named(tmp_path: Path, name: str, value: object,
                                         words: list[str]) -> None:
    cells = NetworkLayout(load_template("seed-004-2-2-2")).setting_cells
    path = _edited(tmp_path, cells[name], value)
    assert_one_line_error(invoke("check", path), "edited.xlsx: ", *words)


def test_an_edited_learning_rate_is_still_checked(tmp_path: Path) -> None:
    cells = NetworkLayout(load_template("seed-004-2-2-2")).setting_cells
    result = invoke("check", _edited(tmp_path, cells["learning_rate"], 0.7))
    assert result.exit_code == 0, result.output  # the formulas recompute with the new rate
    assert "OK:" in result.stdout


def test_a_formula_without_a_stored_value_is_called_so(tmp_path: Path) -> None:
    at = NetworkLayout(load_template("seed-004-2-2-2")).input_cells["x[1]@1"]
    result = invoke("check", _edited(tmp_path, at, "=1/2"))
    assert_one_line_error(result, "holds the formula =1/2 without a computed value",
                          "save the file in a spreadsheet program")


# --- CSV files from European Excel --------------------------------------------------------------

EUROPEAN = "Länge (cm);宽度;Ω;类别\n5,1;3,5;1,4;setosa\n\n7,0;3,2;4,7;versicolor\n6,3;3,3;6,0;virginica\n"


def _csv_spec(tmp_path: Path, text: str, **data: object) -> Path:
    fields = {"csv": "small.csv", "input_columns": ["Länge (cm)", "宽度", "Ω"], "label_column": "类别",
              **data}
    return write_spec(tmp_path, fields, text, sizes=(3, 3))


def test_a_semicolon_file_with_decimal_commas_reads_with_decimal_comma(tmp_path: Path) -> None:
    spec = load_spec(_csv_spec(tmp_path, EUROPEAN, decimal=","))
    assert spec.inputs == ((5.1, 3.5, 1.4), (7.0, 3.2, 4.7), (6.3, 3.3, 6.0))
    assert spec.class_names == ("setosa", "versicolor", "virginica")


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolons_and_tabs_are_found_from_the_header(tmp_path: Path, separator: str) -> None:
    text = "a,b,y\n1.5,2,0\n3,4.25,1\n".replace(",", separator)
    config = write_config_csv(tmp_path, text)
    assert load_spec(config).inputs == ((1.5, 2.0), (3.0, 4.25))


def write_config_csv(tmp_path: Path, text: str) -> Path:
    return write_spec(tmp_path, {"csv": "small.csv", "input_columns": ["a", "b"], "target_columns": ["y"]},
                      text, sizes=(2, 1))


def test_decimal_commas_without_the_option_get_a_hint(tmp_path: Path) -> None:
    result = invoke("build", "--config", _csv_spec(tmp_path, EUROPEAN), tmp_path / "o.xlsx")
    assert_one_line_error(result, "data row 1 (line 2), column 'Länge (cm)' holds '5,1'",
                          'set decimal = "," in [data]')


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    text = EUROPEAN.replace("6,3;", "6,x;")
    result = invoke("build", "--config", _csv_spec(tmp_path, text, decimal=","), tmp_path / "o.xlsx")
    assert_one_line_error(result, "data row 3 (line 5), column 'Länge (cm)' holds '6,x'")


def test_a_header_mixing_separators_is_pointed_out(tmp_path: Path) -> None:
    text = "a;b,y\n1;2,0\n3;4,1\n"  # commas win the header, but a name holds a semicolon
    result = invoke("build", "--config", write_config_csv(tmp_path, text), tmp_path / "o.xlsx")
    assert_one_line_error(result, "has no column 'a'", "a column name holds a semicolon")


def test_a_row_with_too_few_fields_is_named_by_its_line(tmp_path: Path) -> None:
    text = "a,b,y\n1,2,0\n\n3,4\n"
    result = invoke("build", "--config", write_config_csv(tmp_path, text), tmp_path / "o.xlsx")
    assert_one_line_error(result, "line 4 has 2 fields but the header has 3 (separated by commas)")


# --- accuracy as the mean of per-sample correct@k columns ---------------------------------------


def _many_samples(n: int) -> dict:
    """A 1-1-2 softmax classifier in batch mode: one row holds all n samples."""
    return {
        "network": {"sizes": [1, 1, 2], "activations": ["tanh", "softmax"], "loss": "cross_entropy",
                    "bias": "none"},
        "training": {"learning_rate": 0.5, "iterations": 2},
        "init": {"weights": [[[0.5]], [[0.3], [-0.2]]]},
        "data": {"inputs": [[k / n - 0.5] for k in range(n)],
                 "targets": [[1.0, 0.0] if k < n // 2 else [0.0, 1.0] for k in range(n)]},
    }


def test_accuracy_no_longer_limits_the_number_of_samples(tmp_path: Path) -> None:
    # Inlined, the accuracy of 100 samples was some 12,000 characters long and refused.
    config = write_config(tmp_path, _many_samples(100))
    out = tmp_path / "out.xlsx"
    result = invoke("build", "--config", config, out)
    assert result.exit_code == 0, result.output
    spec = load_spec(config)
    reference = train(spec)
    correct = [ids.sample_correct(k) for k in range(100)]
    assert correct == [q for q in ids.all_ids(spec) if q.startswith("correct@")]
    # The NumPy core: each correct@k is 0 or 1, and the accuracy is their mean.
    assert set(reference[correct].to_numpy().ravel()) <= {0.0, 1.0}
    assert reference["accuracy"].tolist() == pytest.approx(reference[correct].mean(axis=1).tolist())
    ws = openpyxl.load_workbook(out)[STRINGS["en"]["sheet.training"]]
    accuracy_formula = next(c.value for row in ws.iter_rows(min_row=5, max_row=5) for c in row
                            if isinstance(c.value, str) and c.value.startswith("=(") and "/100" in c.value)
    assert len(accuracy_formula) < 2000


def test_correct_columns_are_checked_and_show_which_sample_is_wrong(tmp_path: Path) -> None:
    spec = load_template("seed-000-classification")
    names = [column_label(spec, ids.sample_correct(k), STRINGS["en"]) for k in range(spec.slots)]
    assert names == ["right (sample 1)", "right (sample 2)", "right (sample 3)", "right (sample 4)"]
    out = build(tmp_path, spec.replace(iterations=40))
    result = invoke("check", out)
    assert result.exit_code == 0 and "OK:" in result.stdout, result.output
    reference = train(spec.replace(iterations=40))
    # Accuracy 50% → 100% at iteration 35 (README): the columns show which samples flip.
    assert reference.loc[0, "accuracy"] == 0.5 and reference.loc[35, "accuracy"] == 1.0
    assert reference.loc[35, [ids.sample_correct(k) for k in range(4)]].tolist() == [1.0] * 4


# --- only the settings that apply, read back by their labels -------------------------------------


@pytest.mark.parametrize(("name", "changes", "absent", "present"), [
    ("xor", {}, ["leaky_slope", "batch_size", "shuffle", "seed"], ["mode"]),
    ("iris", {}, ["leaky_slope"], ["batch_size", "shuffle", "seed"]),
    ("seed-000-classification", {"mode": "sgd", "batch_size": 1}, ["leaky_slope", "seed"],
     ["batch_size", "shuffle"]),
    ("seed-003-single-update", {"activations": ("leaky_relu",), "leaky_slope": 0.1},
     ["batch_size", "shuffle", "seed"], ["leaky_slope"]),
])
def test_the_network_sheet_shows_only_the_settings_that_apply(
    tmp_path: Path, name: str, changes: dict, absent: list[str], present: list[str]
) -> None:
    from sheetnet.sheets import layout

    spec = load_template(name).replace(**changes, iterations=3)
    path = build(tmp_path, spec)
    ws = openpyxl.load_workbook(path)[STRINGS["en"]["sheet.network"]]
    labels_shown = [ws.cell(r, 1).value for r in range(layout.FIRST_SETTING_ROW, layout.DATA_HEADER_ROW)]
    words = STRINGS["en"]
    for setting in absent:
        assert words[f"setting.{setting}"] not in labels_shown, setting
    for setting in present:
        assert words[f"setting.{setting}"] in labels_shown, setting
    result = invoke("check", path)  # the check finds every setting by its label
    assert result.exit_code == 0 and "OK:" in result.stdout, result.output


def test_an_edited_leaky_slope_is_read_from_its_own_row(tmp_path: Path) -> None:
    spec = load_template("seed-003-single-update").replace(activations=("leaky_relu",), leaky_slope=0.1,
                                                           iterations=3)
    path = build(tmp_path, spec)
    book = openpyxl.load_workbook(path)
    row, col = NetworkLayout(spec).setting_cells["leaky_slope"]
    book[STRINGS["en"]["sheet.network"]].cell(row, col).value = 0.2
    book.save(tmp_path / "edited.xlsx")
    from sheetnet.verify.readback import read_workbook

    assert read_workbook(tmp_path / "edited.xlsx").spec.leaky_slope == 0.2
