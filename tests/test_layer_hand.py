"""First-iteration numbers of one small network per layer kind, worked by hand from torch's
documented definitions (Conv2d is a cross-correlation, MaxPool2d's gradient goes to the first
maximum, LayerNorm's variance is biased with ε = 1e-5 inside the root, an Elman RNN starts at
h₀ = 0, scaled dot-product attention softmaxes each row of QKᵀ/√d), with no torch."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from sheetnet.model import reference
from sheetnet.model.spec import parse_spec


def first_rows(shape: list[int], layers: list[dict[str, Any]], init: list[dict[str, Any]],
               sample: Any, target: list[float]) -> pd.DataFrame:
    """One sample, half_sse, η = 0.1, one update: rows 0 and 1."""
    spec = parse_spec({"network": {"input_shape": shape, "loss": "half_sse", "layers": layers},
                       "training": {"learning_rate": 0.1, "iterations": 1},
                       "init": {"layers": init},
                       "data": {"inputs": [sample], "targets": [target]}})
    return reference.train(spec)


def test_conv2d_is_a_cross_correlation() -> None:
    # x = 1..9 in a 3×3 image, K = [[1, 0], [0, −1]], b = 0.5: z[r,s] = x[r,s] − x[r+1,s+1] + 0.5
    # = −3.5 everywhere (a flipped kernel, a true convolution, would give +4.5).
    frame = first_rows([1, 3, 3], [{"kind": "conv2d", "channels": 1, "kernel": 2}, {"kind": "flatten"},
                                   {"kind": "dense", "size": 1}],
                       [{"weight": [[[[1, 0], [0, -1]]]], "bias": [0.5]},
                        {"weight": [[1, 1, 1, 1]], "bias": [0]}],
                       [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [0])
    row = frame.loc[0]
    assert [row[f"z1[1,{r},{s}]"] for r in (1, 2) for s in (1, 2)] == [-3.5] * 4
    assert row["z3[1]"] == -14 and row["loss"] == 98  # ½·(−14)²
    assert row["delta3[1]"] == -14 and row["dW3[1,1]"] == 49  # δ·a = −14·−3.5
    assert row["da1[1,2,2]"] == -14 and row["delta1[1,2,2]"] == -14  # linear: δ = da
    # dK[u,v] = Σ_rs δ[r,s]·x[r+u, s+v] = −14 × the sum of the window at (u, v).
    assert [row[f"dK1[1,1,{u},{v}]"] for u in (1, 2) for v in (1, 2)] == [-168, -224, -336, -392]
    assert row["db1[1]"] == -56
    assert frame.loc[1, "K1[1,1,1,1]"] == pytest.approx(1 - 0.1 * -168, abs=1e-15)


POOL_INPUT = [[[3, 1], [3, 2]], [[10, 20], [30, 40]]]  # channel 1 ties at (1,1) and (2,1)
POOL_INIT = [{"weight": [[[[1]], [[0]]]], "bias": [0]}, {"weight": [[2]], "bias": [0]}]


def pool_rows(kind: str) -> pd.DataFrame:
    # A 1×1 convolution copies channel 1 (weight 1) and ignores channel 2 (weight 0), whose
    # numbers then show in dK1[1,2,1,1] which input position the gradient reached.
    return first_rows([2, 2, 2], [{"kind": "conv2d", "channels": 1, "kernel": 1},
                                  {"kind": kind, "size": 2}, {"kind": "flatten"},
                                  {"kind": "dense", "size": 1}], POOL_INIT, POOL_INPUT, [0])


def test_maxpool_routes_the_gradient_to_the_first_maximum() -> None:
    row = pool_rows("maxpool2d").loc[0]
    assert row["m2[1,1,1]"] == 1 and row["a2[1,1,1]"] == 3  # the tie goes to position 1
    assert row["z4[1]"] == 6 and row["loss"] == 18 and row["dW4[1,1]"] == 18
    assert row["da2[1,1,1]"] == 12  # W·δ = 2·6
    assert [row[f"da1[1,{r},{s}]"] for r in (1, 2) for s in (1, 2)] == [12, 0, 0, 0]
    assert row["dK1[1,1,1,1]"] == 36 and row["dK1[1,2,1,1]"] == 120  # 12·3 and 12·10, not 12·30
    assert row["db1[1]"] == 12


def test_avgpool_spreads_the_gradient_evenly() -> None:
    row = pool_rows("avgpool2d").loc[0]
    assert row["a2[1,1,1]"] == 2.25 and row["z4[1]"] == 4.5 and row["loss"] == 10.125
    assert row["da2[1,1,1]"] == 9
    assert [row[f"da1[1,{r},{s}]"] for r in (1, 2) for s in (1, 2)] == [2.25] * 4
    assert row["dK1[1,1,1,1]"] == 20.25 and row["dK1[1,2,1,1]"] == 225  # 2.25·9, 2.25·100


def test_rnn_backpropagates_through_time() -> None:
    # Linear units: h1 = 1, h2 = 2 + 0.5·1 = 2.5, h3 = 3 + 0.5·2.5 = 4.25 (h0 = 0).
    frame = first_rows([3, 1], [{"kind": "rnn", "size": 1, "activation": "linear"},
                                {"kind": "dense", "size": 1}],
                       [{"weight_ih": [[1]], "weight_hh": [[0.5]], "bias": [0]},
                        {"weight": [[1]], "bias": [0]}], [[1], [2], [3]], [0])
    row = frame.loc[0]
    assert [row[f"h1[{t},1]"] for t in (1, 2, 3)] == [1, 2.5, 4.25]
    assert row["loss"] == 4.25**2 / 2
    assert row["da1[1]"] == 4.25  # ∂L/∂h3
    assert [row[f"delta1[{t},1]"] for t in (3, 2, 1)] == [4.25, 2.125, 1.0625]  # ×W_hh each step back
    assert row["dWx1[1,1]"] == 4.25 * 3 + 2.125 * 2 + 1.0625 * 1
    assert row["dWh1[1,1]"] == 4.25 * 2.5 + 2.125 * 1  # δ_t·h_{t−1}, none at t = 1
    assert row["db1[1]"] == 4.25 + 2.125 + 1.0625


def test_rnn_with_tanh() -> None:
    frame = first_rows([2, 1], [{"kind": "rnn", "size": 1}, {"kind": "dense", "size": 1}],
                       [{"weight_ih": [[0.5]], "weight_hh": [[-1]], "bias": [0.1]},
                        {"weight": [[2]], "bias": [0]}], [[1], [-1]], [1])
    h1 = math.tanh(0.5 + 0.1)
    h2 = math.tanh(-0.5 - h1 + 0.1)
    y = 2 * h2
    d2 = (y - 1) * 2 * (1 - h2**2)
    d1 = -1 * d2 * (1 - h1**2)
    row = frame.loc[0]
    assert row["h1[2,1]"] == pytest.approx(h2, rel=1e-15)
    assert row["delta1[2,1]"] == pytest.approx(d2, rel=1e-14)
    assert row["delta1[1,1]"] == pytest.approx(d1, rel=1e-14)
    assert row["dWh1[1,1]"] == pytest.approx(d2 * h1, rel=1e-14)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_softmaxes_each_row_and_backpropagates_through_it(causal: bool) -> None:
    # Two steps of one feature, x = (1, 2), every projection 1: Q = K = V = x, S = x·xᵀ; causal:
    # step 1 sees only itself.
    frame = first_rows([2, 1], [{"kind": "attention", "dim": 1, "causal": causal},
                                {"kind": "meanpool"}, {"kind": "dense", "size": 1}],
                       [{"wq": [[1]], "wk": [[1]], "wv": [[1]]}, {"weight": [[1]], "bias": [0]}],
                       [[1], [2]], [0])
    e = math.e
    p = [[1.0, 0.0] if causal else [1 / (1 + e), e / (1 + e)], [1 / (1 + e**2), e**2 / (1 + e**2)]]
    a = [p[t][0] * 1 + p[t][1] * 2 for t in (0, 1)]
    y = (a[0] + a[1]) / 2
    g = y / 2  # ∂L/∂a[t] through the mean
    d_prob = [[g * 1, g * 2], [g * 1, g * 2]]
    d_s = [[p[t][u] * (d_prob[t][u] - sum(p[t][w] * d_prob[t][w] for w in (0, 1))) for u in (0, 1)]
           for t in (0, 1)]
    d_q = [d_s[t][0] * 1 + d_s[t][1] * 2 for t in (0, 1)]
    d_k = [d_s[0][u] * 1 + d_s[1][u] * 2 for u in (0, 1)]
    d_v = [p[0][u] * g + p[1][u] * g for u in (0, 1)]
    row = frame.loc[0]
    assert [row["S1[1,2]"], row["S1[2,2]"]] == [2, 4]
    assert [row[f"P1[{t},{u}]"] for t in (1, 2) for u in (1, 2)] == pytest.approx(
        [x for r in p for x in r], rel=1e-15)
    assert row["a2[1]"] == pytest.approx(y, rel=1e-15)
    assert row["loss"] == pytest.approx(y * y / 2, rel=1e-15)
    assert [row["da1[1,1]"], row["da1[2,1]"]] == pytest.approx([g, g], rel=1e-15)
    assert [row[f"dS1[{t},{u}]"] for t in (1, 2) for u in (1, 2)] == pytest.approx(
        [x for r in d_s for x in r], rel=1e-13, abs=1e-17)
    assert row["dWq1[1,1]"] == pytest.approx(d_q[0] * 1 + d_q[1] * 2, rel=1e-13)
    assert row["dWk1[1,1]"] == pytest.approx(d_k[0] * 1 + d_k[1] * 2, rel=1e-13)
    assert row["dWv1[1,1]"] == pytest.approx(d_v[0] * 1 + d_v[1] * 2, rel=1e-13)
    if causal:
        assert row["dS1[1,1]"] == 0 and row["dS1[1,2]"] == 0


def test_layernorm_uses_the_biased_variance_and_eps_inside_the_root() -> None:
    frame = first_rows([3], [{"kind": "layernorm"}, {"kind": "dense", "size": 1}],
                       [{"gain": [2, 1, 1], "bias": [0.5, 0, 0]}, {"weight": [[1, 0, 0]], "bias": [0]}],
                       [1, 2, 3], [0])
    sigma = math.sqrt(2 / 3 + 1e-5)  # mean 2, variance (1 + 0 + 1)/3
    n = [-1 / sigma, 0, 1 / sigma]
    y = 2 * n[0] + 0.5
    row = frame.loc[0]
    assert row["mu1"] == 2 and row["var1"] == pytest.approx(2 / 3, rel=1e-15)
    assert [row[f"n1[{j}]"] for j in (1, 2, 3)] == pytest.approx(n, rel=1e-15)
    assert row["a1[1]"] == pytest.approx(y, rel=1e-15)
    assert row["dn1[1]"] == pytest.approx(2 * y, rel=1e-15)  # ∂L/∂n = ∂L/∂a·γ
    assert row["dg1[1]"] == pytest.approx(y * n[0], rel=1e-15)
    assert row["db1[1]"] == pytest.approx(y, rel=1e-15)
    assert row["dg1[2]"] == 0 and row["db1[3]"] == 0
