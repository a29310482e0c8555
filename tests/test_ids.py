"""Structured ids: ids.Qid's text is the column id, and ids.parse reads every id back."""

from __future__ import annotations

import pytest

from sheetnet.equations import graph
from sheetnet.model import ids
from sheetnet.model.spec import load_template
from tests.conftest import dense_templates


@pytest.mark.parametrize("name", dense_templates())
def test_every_id_reads_back_to_itself(name: str) -> None:
    spec = load_template(name)
    for mode in ("batch", "sgd"):
        changed = spec.replace(mode=mode, batch_size=0 if mode == "batch" else 1)
        for qid in ids.all_ids(changed):
            assert str(ids.parse(qid)) == qid
    n_in, n_out = spec.sizes[0], spec.sizes[-1]
    for k in range(spec.n_samples):
        keys = [graph.input_key(i, k) for i in range(n_in)] + [graph.target_key(j, k) for j in range(n_out)]
        assert [str(ids.parse(key.key)) for key in keys] == [key.key for key in keys]


def test_the_parts_count_from_zero() -> None:
    assert ids.parse("W2[3,1]") == ids.Qid("W", layer=1, neuron=2, input=0)
    assert ids.parse("delta1[2]@4") == ids.Qid("delta", layer=0, neuron=1, sample=3)
    assert ids.parse("b3") == ids.Qid("b", layer=2)
    assert ids.parse("x[2]@10") == ids.Qid("x", neuron=1, sample=9)
    assert ids.parse("loss@2") == ids.Qid("loss", sample=1)
    assert ids.parse("iter") == ids.Qid("iter")
    assert ids.gradient_of("b2[1]") == "db2[1]"
    assert ids.bias_of("shared", 1, 5) == "b2" and ids.bias_of("per-neuron", 1, 5) == "b2[6]"


@pytest.mark.parametrize("text", ["init:W1[1,1]", "W1[1", "W1[x]", "", "a1[1]@"])
def test_not_an_id(text: str) -> None:
    with pytest.raises(ValueError, match="not a quantity id"):
        ids.parse(text)
