"""Every registry entry (ops.py) checked three ways: its NumPy function, the evaluation of its Excel
tree, and finite differences of the NumPy function for its derivative.

A new activation, loss or optimizer gets these tests by being in its registry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sheetnet.expr.formula import Cell, Const, Expr, Num, evaluate, lowered
from sheetnet.model import ops
from sheetnet.model.spec import ACTIVATIONS, LOSSES

SLOPE = 0.07  # a leaky slope other than the default, so the slope cell is really read
ZS = [-30.0, -2.3, -0.4, -1e-3, 1e-3, 0.6, 1.7, 25.0]
H = 1e-6


def _lookup(values: dict[str, float]) -> Callable[[Cell | Const], float]:
    def lookup(node: Cell | Const) -> float:
        return values[node.qid if isinstance(node, Cell) else node.key]

    return lookup


def _sheet(expr: Expr | None, values: dict[str, float]) -> float:
    """The value of expr's Excel spelling (None stands for 1, a factor that is left out)."""
    if expr is None:
        return 1.0
    values = {ops.LEAKY_SLOPE.key: SLOPE, **values}
    return evaluate(lowered(expr, "excel"), _lookup(values))


def _fd(f: Callable[[float], float], x: float) -> float:
    return (f(x + H) - f(x - H)) / (2 * H)


ELEMENTWISE = [name for name in ACTIVATIONS if name in ops.ACTIVATIONS]


def test_the_spec_offers_exactly_the_registries() -> None:
    assert set(ACTIVATIONS) == set(ops.ACTIVATIONS) | set(ops.LAYER_ACTIVATIONS)
    assert set(LOSSES) == set(ops.LOSSES)
    assert ops.DEFAULT_OPTIMIZER in ops.OPTIMIZERS


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("z", ZS)
def test_activation(name: str, z: float) -> None:
    act = ops.activation(name, SLOPE)
    a = float(act.numpy(np.array(z)))
    values = {"z": z, "a": a}
    assert _sheet(act(Cell("z")), values) == pytest.approx(a, rel=1e-14, abs=1e-300)
    derivative = float(act.numpy_derivative(np.array(z), np.array(a)))
    assert _sheet(act.excel_derivative(Cell("z"), Cell("a")), values) == pytest.approx(derivative, rel=1e-12)
    assert derivative == pytest.approx(_fd(lambda x: float(act.numpy(np.array(x))), z), rel=1e-6, abs=1e-9)
    assert act.words.startswith("guide.act.")


@pytest.mark.parametrize("zs", [[0.3, -1.2], [2.0, 2.0, -5.0], [800.0, 1.0, -3.0]])
def test_softmax(zs: list[float]) -> None:
    Z = np.array(zs)[:, None]
    a = ops.SOFTMAX.numpy(Z)[:, 0]
    cells = [Cell(f"z{j}") for j in range(len(zs))]
    values = {f"z{j}": z for j, z in enumerate(zs)}
    for j in range(len(zs)):
        assert _sheet(ops.SOFTMAX.of_layer(cells, j), values) == pytest.approx(a[j], rel=1e-14, abs=1e-300)
    if max(zs) < 700:  # the textbook form, e^z_j/Σ e^z_i, is the same number where it does not overflow
        by_hand = [lowered(ops.SOFTMAX.of_layer(cells, j), "text") for j in range(len(zs))]
        assert [evaluate(e, _lookup(values)) for e in by_hand] == pytest.approx(list(a), rel=1e-14)


SQUARED = [name for name, loss in ops.LOSSES.items() if not loss.classifies]
CLASSIFYING = [name for name, loss in ops.LOSSES.items() if loss.classifies]


@pytest.mark.parametrize("name", SQUARED)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_squared_loss(name: str, n: int) -> None:
    """scale·Σ(y − t)² in the sheet, its scale for NumPy and its derivative 2·scale·(y − t)."""
    loss = ops.squared_loss(name)
    ys, ts = np.linspace(-0.4, 1.3, n), np.linspace(0.9, -0.2, n)
    squares = sum(((y - t) ** 2 for y, t in zip(ys, ts, strict=True)), 0.0)
    scale = loss.scale(n)
    assert scale == {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / n}[name]  # the textbook scales
    assert _sheet(loss.scaled(Num(squares), n), {}) == pytest.approx(scale * squares, rel=1e-15)

    def value(y0: float) -> float:
        return scale * float(((np.r_[y0, ys[1:]] - ts) ** 2).sum())

    gradient = _sheet(loss.gradient_factor(n), {}) * (ys[0] - ts[0])
    assert gradient == pytest.approx(_fd(value, ys[0]), rel=1e-7)
    assert loss.formula


@pytest.mark.parametrize("name", CLASSIFYING)
@pytest.mark.parametrize("zs", [[0.4], [-2.0], [1.5, -0.3, 0.2], [40.0, -40.0]])
def test_classification_loss(name: str, zs: list[float]) -> None:
    """Per-sample loss: NumPy = the sheet's stable form = the textbook form in a; ∂loss/∂z = a − t."""
    loss = ops.classification_loss(name)
    if (loss.output == "softmax") != (len(zs) > 1):
        pytest.skip("softmax needs several outputs; sigmoid + binary cross-entropy is tested with one")
    n = len(zs)
    ts = [1.0] + [0.0] * (n - 1) if n > 1 else [0.3]
    output = ops.activation(loss.output, SLOPE)
    Z, T = np.array(zs)[:, None], np.array(ts)[:, None]
    a = (output.numpy(Z) if n > 1 else np.vectorize(lambda z: float(output.numpy(np.array(z))))(Z))[:, 0]
    expected = float(loss.numpy(Z, T)[0])
    values = {**{f"z{j}": zs[j] for j in range(n)}, **{f"t{j}": ts[j] for j in range(n)},
              **{f"a{j}": a[j] for j in range(n)}}
    tree = loss.of_sample(*([Cell(f"{kind}{j}") for j in range(n)] for kind in "zta"))
    assert _sheet(tree, values) == pytest.approx(expected, rel=1e-13)
    if max(map(abs, zs)) < 30:  # by hand, ln a: the same number while a is not rounded to 0 or 1
        assert evaluate(lowered(tree, "text"), _lookup(values)) == pytest.approx(expected, rel=1e-9)
    for j in range(n):
        def value(x: float, j: int = j) -> float:
            return float(loss.numpy(np.array([*zs[:j], x, *zs[j + 1:]])[:, None], T)[0])

        assert a[j] - ts[j] == pytest.approx(_fd(value, zs[j]), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", list(ops.OPTIMIZERS))
@pytest.mark.parametrize(("theta", "g", "lr"), [(0.5, 0.2, 0.1), (-1.5, -3.0, 2.0)])
def test_optimizer(name: str, theta: float, g: float, lr: float) -> None:
    optimizer = ops.OPTIMIZERS[name]
    expected = float(optimizer.numpy(np.array(theta), np.array(g), lr))
    tree = optimizer.excel(Cell("theta"), Cell("g"), Const("lr"))
    assert _sheet(tree, {"theta": theta, "g": g, "lr": lr}) == expected


def test_one_node_three_printers() -> None:
    """The tree says relu(z): Excel writes the IF, a hand calculation ReLU(z₃), a note max(0, z₃)."""
    from sheetnet.equations import notes, textprint
    from sheetnet.expr.formula import to_excel

    node = ops.ACTIVATIONS["relu"](Cell("z1[1]"))
    assert to_excel(node, lambda leaf: "B4") == "=IF(B4>0,B4,0)"
    assert textprint.symbolic(node, lambda leaf: "z₃") == "ReLU(z₃)"
    assert textprint.symbolic(node, lambda leaf: "z₃", notes.NOTE) == "max(0, z₃)"
    step = ops.ACTIVATIONS["relu"].excel_derivative(Cell("z1[1]"), Cell("a1[1]"))
    assert to_excel(step, lambda leaf: "B4") == "=IF(B4>0,1,0)"
    assert textprint.symbolic(step, lambda leaf: "z₃") == "ReLU′(z₃)"
