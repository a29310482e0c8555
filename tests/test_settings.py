"""The Network settings table, declared once: what is written reads back as the spec's values."""

from __future__ import annotations

import pytest

from sheetnet.model.spec import load_template, template_names, to_table
from sheetnet.sheets import layout
from sheetnet.sheets.settings import NAMES, SETTINGS, read_settings


class Refused(Exception):
    pass


def _fail(name: str, what: str) -> Refused:
    return Refused(f"{name} must be {what}")


@pytest.mark.parametrize("name", template_names())
@pytest.mark.parametrize("mode", ["batch", "sgd"])
def test_written_settings_read_back_as_the_spec_holds_them(name: str, mode: str) -> None:
    spec = load_template(name)
    spec = spec.replace(mode=mode, batch_size=0 if mode == "batch" else 1, shuffle=mode == "sgd", seed=3)
    written = {setting.name: setting.write(spec) for setting in SETTINGS}
    read = read_settings(written, _fail)
    table = to_table(spec)
    assert read["sizes"] == list(spec.sizes) and read["activations"] == list(spec.activations)
    assert read["standardize"] == spec.standardize and read["iterations"] == spec.iterations
    keys = ("mode", "batch_size", "shuffle", "seed")  # as to_table writes them: none in batch mode
    batch_keys = {k: v for k, v in table["training"].items() if k in keys}
    assert {k: read[k] for k in keys if k in read} == {"mode": mode, **batch_keys}


@pytest.mark.parametrize(("name", "value", "what"), [
    ("sizes", "2-x-1", 'layer sizes like "2-2-2"'),
    ("iterations", 2.5, "a whole number"),
    ("train_bias", "maybe", '"true" or "false"'),
    ("activations", 3, 'activations like "sigmoid, sigmoid"'),
])
def test_a_bad_cell_names_what_it_must_be(name: str, value: object, what: str) -> None:
    written = {setting.name: setting.write(load_template("xor")) for setting in SETTINGS}
    with pytest.raises(Refused, match=f"^{name} must be {what}$"):
        read_settings({**written, name: value}, _fail)


def test_one_row_per_setting_above_the_data() -> None:
    cells = layout.setting_cells()
    assert list(cells) == list(NAMES)
    assert sorted(row for row, _ in cells.values()) == list(range(layout.FIRST_SETTING_ROW,
                                                                  layout.DATA_HEADER_ROW - 1))


def test_every_setting_label_fits_column_a() -> None:
    # Column A of the Network sheet is 30 characters wide and its labels are bold; a label wider
    # than about 26 was cut at the cell's edge ("Samples per update (batch, sgd, minibat").
    from sheetnet.sheets.i18n import STRINGS
    from sheetnet.sheets.styles import text_width

    too_wide = {(lang, key): text for lang, words in STRINGS.items() for key, text in words.items()
                if key.startswith("setting.") and isinstance(text, str) and text_width(text) > 26}
    assert too_wide == {}
