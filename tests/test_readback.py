"""Read-back equals build: the spec read back from a fresh workbook's Network sheet is the spec it
was built from, field by field, so the check trains NumPy on exactly what was built (a writer
that put a wrong target on the sheet would otherwise pass its own check)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from sheetnet.model import schedule
from sheetnet.model.spec import Spec, load_template, template_names
from sheetnet.sheets.writer import build_workbook
from sheetnet.verify.readback import read_workbook
from tests.test_properties import specs

# Words that only the Guide and headers show, not read back: the check does not need them.
NOT_READ_BACK = {"name", "translations", "input_names", "target_names", "class_names", "title", "description"}
TRAINING_FIELDS = [f.name for f in dataclasses.fields(Spec) if f.name not in NOT_READ_BACK]


def _assert_read_back(spec: Spec, path: Path) -> None:
    back = read_workbook(build_workbook(spec, path)).spec
    for name in TRAINING_FIELDS:
        assert getattr(back, name) == getattr(spec, name), name
    assert np.array_equal(schedule.batches(back), schedule.batches(spec))


def test_the_read_back_fields_are_the_training_fields() -> None:
    assert {"inputs", "targets", "weights", "biases", "learning_rate", "iterations", "mode",
            "batch_size", "shuffle", "seed", "standardize", "leaky_slope"} <= set(TRAINING_FIELDS)


@pytest.mark.parametrize("name", template_names())
def test_every_template_reads_back_as_built(tmp_path: Path, name: str) -> None:
    spec = load_template(name)
    _assert_read_back(spec.replace(iterations=min(spec.iterations, 5)), tmp_path / "out.xlsx")


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_random_specs_read_back_as_built(tmp_path: Path, spec: Spec) -> None:
    _assert_read_back(spec, tmp_path / "random.xlsx")


def test_a_changed_field_is_noticed(tmp_path: Path) -> None:
    # The comparison itself can fail: a spec whose target differs from the built one.
    spec = load_template("seed-004-2-2-2").replace(iterations=3)
    path = build_workbook(spec, tmp_path / "out.xlsx")
    other = spec.replace(targets=((0.5, 0.99), *spec.targets[1:]))
    with pytest.raises(AssertionError, match="targets"):
        for name in TRAINING_FIELDS:
            assert getattr(read_workbook(path).spec, name) == getattr(other, name), name
