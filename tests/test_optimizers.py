"""Optimizers: torch.optim's documented update rules written out by hand, scalar per element, for
the first three steps, against the NumPy core; and the spec's one-line errors.

The hand-written steps below follow the pseudo-code of the torch.optim documentation (SGD,
RMSprop, Adagrad, Adam, AdamW) line by line and share no code with sheetnet's optimizers.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from sheetnet.errors import SheetnetError
from sheetnet.model.reference import train
from sheetnet.model.spec import Spec, load_template, parse_spec, with_optimizer

X, T = 2.0, 1.0  # one sample; the net is z = w·x + b, linear, loss ½(z − t)²
W0, B0, LR = 0.5, 0.1, 0.1


def tiny(**training: Any) -> Spec:
    return parse_spec({
        "network": {"sizes": [1, 1], "activations": ["linear"], "bias": "per-neuron", "loss": "half_sse"},
        "training": {"learning_rate": LR, "iterations": 3, **training},
        "init": {"weights": [[[W0]]], "biases": [[B0]]},
        "data": {"inputs": [[X]], "targets": [[T]]},
    })


def gradients(w: float, b: float) -> tuple[float, float]:
    """∂L/∂w and ∂L/∂b of L = ½(w·x + b − t)²."""
    e = w * X + b - T
    return e * X, e


def by_hand(optimizer: str, **h: float) -> list[dict[str, float]]:
    """Rows 0..3 of (w, b) and each row's state, torch.optim's pseudo-code, one scalar at a time."""
    lr, wd = LR, h.get("weight_decay", 0.0)
    theta = {"w": W0, "b": B0}
    state: dict[str, dict[str, float]] = {"w": {}, "b": {}}
    rows = []
    for t in range(1, 4):  # torch counts steps from 1
        grads = dict(zip(("w", "b"), gradients(theta["w"], theta["b"]), strict=True))
        row: dict[str, float] = {"w": theta["w"], "b": theta["b"]}
        for name in ("w", "b"):
            g, p, st = grads[name], theta[name], state[name]
            if optimizer == "adamw":
                p = p - lr * wd * p  # θ_t ← θ_{t−1} − γλθ_{t−1}
            elif wd != 0:
                g = g + wd * p  # g_t ← g_t + λθ_{t−1}
            decayed = p  # adamw's step column holds the Adam step that follows the decay
            if optimizer in ("momentum", "nesterov"):
                mu = h["momentum"]
                st["b"] = g if t == 1 else mu * st["b"] + (1 - 0) * g  # dampening τ = 0
                g = g + mu * st["b"] if optimizer == "nesterov" else st["b"]
                p = p - lr * g
            elif optimizer == "sgd":
                p = p - lr * g
            elif optimizer == "rmsprop":
                alpha, eps, mu = h["alpha"], h["eps"], h.get("momentum", 0.0)
                st["s"] = alpha * st.get("s", 0.0) + (1 - alpha) * g * g
                if mu > 0:
                    st["b"] = mu * st.get("b", 0.0) + g / (math.sqrt(st["s"]) + eps)
                    p = p - lr * st["b"]
                else:
                    p = p - lr * g / (math.sqrt(st["s"]) + eps)
            elif optimizer == "adagrad":
                st["G"] = st.get("G", 0.0) + g * g  # state_sum, initial accumulator 0
                p = p - lr * g / (math.sqrt(st["G"]) + h["eps"])  # lr_decay 0: γ̃ = γ
            elif optimizer in ("adam", "adamw"):
                b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
                st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
                st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
                m_hat = st["m"] / (1 - b1**t)
                v_hat = st["v"] / (1 - b2**t)
                p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
            row.update({f"{k}:{name}": v for k, v in st.items()})
            row[f"step:{name}"] = decayed - p
            theta[name] = p
        rows.append(row)
    rows.append({"w": theta["w"], "b": theta["b"]})
    return rows


CASES = [
    ("sgd", {"weight_decay": 0.3}),
    ("momentum", {"momentum": 0.9}),
    ("momentum", {"momentum": 0.5, "weight_decay": 0.2}),
    ("nesterov", {"momentum": 0.9}),
    ("nesterov", {"momentum": 0.7, "weight_decay": 0.1}),
    ("rmsprop", {"alpha": 0.99, "eps": 1e-8}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-3, "momentum": 0.8, "weight_decay": 0.05}),
    ("adagrad", {"eps": 1e-10}),
    ("adagrad", {"eps": 0.01, "weight_decay": 0.5}),
    ("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "eps": 0.1, "weight_decay": 0.2}),
    ("adamw", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}),
    ("adamw", {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "weight_decay": 0.5}),
]


@pytest.mark.parametrize(("optimizer", "h"), CASES, ids=[f"{o}-{n}" for n, (o, _) in enumerate(CASES)])
def test_three_steps_equal_torch_pseudocode(optimizer: str, h: dict[str, float]) -> None:
    frame = train(tiny(optimizer=optimizer, **h))
    expected = by_hand(optimizer, **h)
    names = {"w": "W1[1,1]", "b": "b1[1]"}
    for t, row in enumerate(expected):
        for key, value in row.items():
            kind, _, element = key.rpartition(":")
            qid = f"{kind}:{names[element]}" if kind else names[element]
            # A step by hand is θ_old − θ_new, good to the rounding of θ (about 1e-16 absolute).
            tolerance = 1e-15 if kind == "step" else 1e-300
            assert frame.loc[t, qid] == pytest.approx(value, rel=1e-14, abs=tolerance), (t, qid)


def test_adam_bias_corrections_are_one_minus_beta_to_the_step() -> None:
    frame = train(tiny(optimizer="adam", beta1=0.5, beta2=0.75))
    assert list(frame["bc1"][:3]) == [0.5, 0.75, 0.875]
    assert list(frame["bc2"][:3]) == pytest.approx([0.25, 1 - 0.75**2, 1 - 0.75**3], rel=1e-15)


def test_first_adam_step_is_lr_times_sign() -> None:
    """With m̂₁ = g₁ and v̂₁ = g₁², Adam's first step is η·g/(|g| + ε): about η whatever g is."""
    frame = train(tiny(optimizer="adam", eps=1e-12))
    assert frame.loc[0, "step:W1[1,1]"] == pytest.approx(LR, rel=1e-10)
    assert frame.loc[0, "step:b1[1]"] == pytest.approx(LR, rel=1e-10)


def test_momentum_buffer_starts_at_the_first_gradient() -> None:
    frame = train(tiny(optimizer="momentum"))
    assert frame.loc[0, "b:W1[1,1]"] == frame.loc[0, "dW1[1,1]"]  # not (1 − μ)·g, not 0


def test_plain_sgd_has_no_optimizer_columns() -> None:
    assert not any(":" in c for c in train(tiny()).columns)
    assert train(tiny(optimizer="sgd")).equals(train(tiny()))


def test_defaults_are_torch_defaults() -> None:
    adam = tiny(optimizer="adam")
    assert (adam.beta1, adam.beta2, adam.eps, adam.weight_decay) == (0.9, 0.999, 1e-8, 0.0)
    assert tiny(optimizer="adagrad").eps == 1e-10
    assert tiny(optimizer="rmsprop").momentum == 0.0
    assert tiny(optimizer="rmsprop").alpha == 0.99
    assert tiny(optimizer="momentum").momentum == 0.9


def test_with_optimizer_takes_the_new_defaults() -> None:
    spec = with_optimizer(tiny(optimizer="adagrad", weight_decay=0.1), "rmsprop")
    assert (spec.optimizer, spec.eps, spec.momentum, spec.weight_decay) == ("rmsprop", 1e-8, 0.0, 0.1)
    assert with_optimizer(load_template("xor"), "adam").replace(iterations=5).optimizer == "adam"


@pytest.mark.parametrize(("training", "message"), [
    ({"optimizer": "adam", "momentum": 0.9},
     'training.momentum is not used by optimizer = "adam"; remove it or choose an optimizer that uses it'
     " (momentum, nesterov, rmsprop)"),
    ({"beta1": 0.9}, 'training.beta1 is not used by optimizer = "sgd"'),
    ({"optimizer": "adam", "beta1": 1.0}, "training.beta1 must lie in [0, 1), got 1"),
    ({"optimizer": "adamw", "beta2": -0.1}, "training.beta2 must lie in [0, 1), got -0.1"),
    ({"optimizer": "adam", "eps": 0.0}, "training.eps must be a positive number, got 0"),
    ({"optimizer": "rmsprop", "alpha": 1.5}, "training.alpha must lie in [0, 1), got 1.5"),
    ({"optimizer": "nesterov", "momentum": 0.0},
     'training.momentum must lie in (0, 1) for optimizer = "nesterov", got 0'),
    ({"optimizer": "momentum", "momentum": 1.0}, "training.momentum must lie in [0, 1), got 1"),
    ({"weight_decay": -1}, "training.weight_decay must be at least 0, got -1"),
    ({"optimizer": "lbfgs"}, "training.optimizer: unknown value 'lbfgs'; expected one of: sgd, momentum,"
                             " nesterov, rmsprop, adagrad, adam, adamw"),
    ({"optimizer": "adam", "beta1": "0.9"}, "training.beta1 must be a number, got '0.9'"),
])
def test_bad_optimizer_fields_get_one_line(training: dict[str, Any], message: str) -> None:
    with pytest.raises(SheetnetError) as err:
        tiny(**training)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_spec_round_trips_through_its_table() -> None:
    spec = tiny(optimizer="rmsprop", alpha=0.9, momentum=0.5, eps=1e-6, weight_decay=0.01)
    assert spec.replace() == spec
    assert spec.hyperparameters == ("momentum", "alpha", "eps", "weight_decay")
    assert tiny(optimizer="adam").hyperparameters == ("beta1", "beta2", "eps")


# --- rounding in torch's order -------------------------------------------------------------
# torch's kernels round (1−α)·g·g as ((1−α)·g)·g (addcmul), η·g/(√s + ε) as (η·g)/(√s + ε)
# (addcdiv), Adam's step as (η/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε), and AdamW's θ·(1 − η·λ) before it.
# The first update, where no fused multiply-add is involved, is then equal bit for bit.


def first_update(optimizer: str, **h: float) -> tuple[dict[str, float], dict[str, float]]:
    """Row 0's optimizer columns and row 1's parameters, by the NumPy core."""
    frame = train(tiny(optimizer=optimizer, **h).replace(learning_rate=0.3))
    return frame.loc[0].to_dict(), frame.loc[1].to_dict()


@pytest.mark.parametrize("name", ["w", "b"])
def test_first_update_rounds_in_torchs_order(name: str) -> None:
    qid = {"w": "W1[1,1]", "b": "b1[1]"}[name]
    g = dict(zip(("w", "b"), gradients(W0, B0), strict=True))[name]
    theta = {"w": W0, "b": B0}[name]
    lr = 0.3
    row, _ = first_update("rmsprop", alpha=0.9, eps=1e-3)
    s = (1 - 0.9) * g * g  # addcmul: ((1−α)·g)·g
    assert row[f"s:{qid}"] == s
    assert row[f"step:{qid}"] == lr * g / (math.sqrt(s) + 1e-3)  # addcdiv: (η·g)/(√s + ε)
    row, after = first_update("adam", beta1=0.8, beta2=0.7, eps=1e-3)
    m, v = (1 - 0.8) * g, (1 - 0.7) * g * g
    step = lr / (1 - 0.8) * m / (math.sqrt(v) / math.sqrt(1 - 0.7) + 1e-3)  # step_size·m/denom
    assert (row[f"m:{qid}"], row[f"v:{qid}"], row[f"step:{qid}"]) == (m, v, step)
    row, after = first_update("adamw", beta1=0.8, beta2=0.7, eps=1e-3, weight_decay=0.4)
    assert row[f"step:{qid}"] == step
    assert after[qid] == theta * (1 - lr * 0.4) - step  # param.mul_(1 − η·λ), then the step
