"""The check's whole-column functions (verify/vectorised.py) equal the `formulas` package's own,
value by value, on random numbers and errors: every operator and function alone, and whole
formulas of the kinds sheetnet writes, compiled with and without them."""

from __future__ import annotations

import math

import numpy as np
import pytest

formulas = pytest.importorskip("formulas")
from formulas.functions import Error  # noqa: E402
from formulas.functions.operators import OPERATORS  # noqa: E402
from formulas.tokens.operand import XlError  # noqa: E402

from sheetnet.verify import recompute  # noqa: E402
from sheetnet.verify.vectorised import (  # noqa: E402
    ARITHMETIC,
    COMPARISONS,
    FUNCTIONS,
    Logicals,
    Numbers,
    fast_functions,
    fast_functions_for,
    fast_operators,
    light_functions,
    package_functions,
)

# The package warns where EXP overflows into its #NUM!; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
N = 400
ERRORS = [Error.errors[e] for e in ("#NUM!", "#DIV/0!", "#VALUE!")]


def draw(rng: np.random.Generator, n: int, *, logicals: bool = False) -> list[object]:
    """Cell values: numbers of every scale (overflowing EXP and ^ too), exact zeros and
    ties, errors, and (for logicals) TRUE/FALSE."""
    pool: list[object] = []
    for _ in range(n):
        pick = rng.integers(8)
        if pick == 0:
            pool.append(ERRORS[rng.integers(len(ERRORS))])
        elif pick == 1:
            pool.append(float(rng.choice([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-300, 710.0, -745.5])))
        elif pick == 2:
            pool.append(float(rng.normal() * 10.0 ** rng.integers(-3, 4)))
        elif pick == 3 and logicals:
            pool.append(bool(rng.integers(2)))
        else:
            pool.append(float(rng.normal() * 3))
    return pool


def fast_form(values: list[object]) -> Numbers:
    """The fast functions' form of a column: NaN for an error, Logicals for all-boolean."""
    kind = Logicals if all(isinstance(v, bool) for v in values) else Numbers
    return np.array([math.nan if isinstance(v, XlError) else float(v) for v in values]
                    ).reshape(-1, 1).view(kind)


def outcome(value: object) -> float:
    """A result as a number, NaN for any error (the package also gives complex numbers,
    e.g. (-8)^(1/3), and infinities for what a spreadsheet shows as an error)."""
    value = np.asarray(value, dtype=object).ravel()[0]
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating) and math.isfinite(value):
        return float(value)
    return math.nan


def package_values(function, columns: list[list[object]]) -> np.ndarray:
    """The package's own function called on each row's values, one call per row."""
    return np.array([outcome(function(*row)) for row in zip(*columns, strict=True)])


def fast_values(function, columns: list[list[object]]) -> np.ndarray:
    result = function(*(fast_form(c) for c in columns))
    assert isinstance(result, Numbers)  # computed by NumPy, not handed to the package
    return np.asarray(result, dtype=float).reshape(-1)


def assert_same(fast: np.ndarray, package: np.ndarray) -> None:
    assert np.array_equal(np.isnan(fast), np.isnan(package)), "errors in different rows"
    ok = ~np.isnan(package)
    # NumPy's array exp/log/tanh may round the last bit differently from its scalar ones.
    np.testing.assert_allclose(fast[ok], package[ok], rtol=4e-16, atol=0)


@pytest.mark.parametrize("name", [*ARITHMETIC, *COMPARISONS])
def test_each_operator_equals_the_package(name: str) -> None:
    rng = np.random.default_rng(sum(map(ord, name)))
    fast = fast_operators(dict(OPERATORS))[name]
    arity = 1 if name in ("U-", "U+", "%") else 2
    logicals = name in ARITHMETIC  # arithmetic reads TRUE as 1; comparisons give them to the package
    columns = [draw(rng, N, logicals=logicals) for _ in range(arity)]
    if logicals:
        columns.append([bool(rng.integers(2)) for _ in range(N)])  # a whole column of TRUE/FALSE
        columns = columns[-arity:]
    assert_same(fast_values(fast, columns), package_values(OPERATORS[name], columns))


@pytest.mark.parametrize("name", [*FUNCTIONS, "IF"])
def test_each_function_equals_the_package(name: str) -> None:
    registry = package_functions()
    rng = np.random.default_rng(sum(map(ord, name)))
    fast = fast_functions_for(dict(registry))[name]
    original = registry[name]
    if name == "IF":
        fast, original = fast["function"], original["function"]
        condition = [bool(v) for v in rng.integers(2, size=N)]
        columns = [condition, draw(rng, N), draw(rng, N)]
        # and a numeric condition: 0 is FALSE, any other number TRUE, an error the result
        numeric = [draw(rng, N), draw(rng, N), draw(rng, N)]
        assert_same(fast_values(fast, numeric), package_values(original, numeric))
    elif name == "SHEETNET.ROWMAX":
        columns = [draw(rng, N), draw(rng, N), draw(rng, N)]
    else:
        columns = [draw(rng, N)]
    assert_same(fast_values(fast, columns), package_values(original, columns))


def test_values_other_than_numbers_go_to_the_package() -> None:
    """Text, booleans mixed with numbers, empty cells: the package's answer, unchanged."""
    fast = fast_operators(dict(OPERATORS))
    for x, y in [("2", 3.0), ("abc", 1.0), (True, 2.0), (math.nan, 1.0)]:
        for name in ("+", "*", ">", "="):
            want = outcome(OPERATORS[name](x, y))
            got = outcome(fast[name](x, y))
            assert got == want or (math.isnan(got) and math.isnan(want)), (name, x, y)


# Formulas as sheetnet writes them: sigmoid, softmax, cross-entropy, ReLU, leaky, tanh, MSE.
FORMULAS = [
    "=IF(A1>=0,1/(1+EXP(-A1)),EXP(A1)/(1+EXP(A1)))",
    "=EXP(A1-MAX(A1,B1,C1))/(EXP(A1-MAX(A1,B1,C1))+EXP(B1-MAX(A1,B1,C1))+EXP(C1-MAX(A1,B1,C1)))",
    "=-(B1*(A1-MAX(A1,C1))-LN(EXP(A1-MAX(A1,C1))+EXP(C1-MAX(A1,C1))))",
    "=MAX(A1,0)-A1*B1+LN(1+EXP(-ABS(A1)))",
    "=IF(A1>0,A1,0)*IF(B1>0,1,0)",
    "=IF(A1>0,A1,C1*A1)",
    "=(A1*B1+C1)*(1-TANH(A1)^2)",
    "=0.5*((A1-B1)^2+(C1-A1)^2)/2",
    "=(A1=MAX(A1,B1,C1))*(B1>0.5)",
    "=A1-0.1*B1/C1",
    "=(A1-B1)/SQRT(C1+0.00001)+A1/SQRT(2)",  # layernorm's x̂ and attention's scores
]


@pytest.mark.parametrize("text", FORMULAS)
def test_compiled_formulas_equal_the_package(text: str) -> None:
    text = recompute._MAX_CALL.sub(recompute._ROW_MAX + "(", text)
    full = formulas.get_functions()  # the package's whole registry, with ROW_MAX added
    full.setdefault(recompute._ROW_MAX, package_functions()[recompute._ROW_MAX])
    package = formulas.Parser().ast(text)[1].compile()
    with fast_functions():
        fast = formulas.Parser().ast(text)[1].compile()
    assert OPERATORS["+"] is not fast_functions  # the registries are restored afterwards
    rng = np.random.default_rng(len(text))
    columns = [draw(rng, 150) for _ in package.inputs]
    want = np.array([outcome(package(*row)) for row in zip(*columns, strict=True)])
    got = fast(*(fast_form(c) for c in columns))
    assert isinstance(got, Numbers)
    assert_same(np.asarray(got, dtype=float).reshape(-1), want)


def test_registries_are_restored() -> None:
    before_operators, before_functions = dict(OPERATORS), dict(formulas.get_functions())
    with fast_functions():
        assert OPERATORS["+"] is not before_operators["+"]
    assert dict(OPERATORS) == before_operators
    assert dict(formulas.get_functions()) == before_functions


def test_the_functions_sheetnet_writes_are_the_package_s_own_entries() -> None:
    """The light registry holds the very entries of the full one (it only skips loading SciPy),
    and a function outside it still comes from the full registry."""
    light, full = package_functions(), formulas.get_functions()
    for name in ("EXP", "LN", "TANH", "ABS", "IF", "INDEX", "TEXT", "SQRT"):
        assert light[name] is full[name], name
    assert light["MEDIAN"] is full["MEDIAN"]  # not among them: loaded from the full registry


STATISTICS_FORMULAS = [
    "=MAX(A1:A6)", "=MIN(A1:A6)", "=MAX(A1,B1,C1)", "=MIN(A1,B1,C1)", "=MAX(A1,0)", "=MIN(0.99,A1)",
    "=AVERAGE(A1:A6)", "=AVERAGE(A1,B1:B6)", "=STDEVP(A1:A6)", "=STDEVP(A1,B1,C1)",
    '=AVERAGEIF(A1:A6,">0",B1:B6)', '=AVERAGEIF(A1:A6,"<=1")', "=AVERAGEIF(A1:A6,C1,B1:B6)",
]


def _cell_value(rng: np.random.Generator) -> object:
    """Anything a cell may hold: numbers, text, a number as text, TRUE/FALSE, empty, errors."""
    import schedula

    pick = rng.integers(10)
    pool: list[object] = [ERRORS[rng.integers(len(ERRORS))], "abc", "3", bool(rng.integers(2)),
                          schedula.EMPTY, 0.0, int(rng.integers(-3, 4))]
    return pool[pick] if pick < len(pool) else float(rng.normal() * 3)


def _argument(name: str, rng: np.random.Generator, plain: bool) -> object:
    """A range as the 2-D object array of its cells, a single cell as its value."""
    if ":" in name:
        return np.array([[_cell_value(rng) if not plain else float(rng.normal())] for _ in range(6)],
                        dtype=object)
    return _cell_value(rng) if not plain else float(rng.normal())


def _result(function, args: list[object]) -> object:
    try:
        value = np.asarray(function(*args), dtype=object).ravel()[0]
    except Exception as exc:  # the package raises for some inputs: both must raise alike
        return type(exc).__name__
    return str(value) if isinstance(value, XlError) else value


@pytest.mark.parametrize("text", STATISTICS_FORMULAS)
def test_statistics_without_scipy_equal_the_package(text: str) -> None:
    """MAX, MIN, AVERAGE, AVERAGEIF and STDEVP of the light registry (statfunctions.py, written
    out so that SciPy is not imported) give what the package's own give, on numbers, text,
    TRUE/FALSE, empty cells and errors, in ranges and single cells."""
    package = formulas.Parser().ast(text)[1].compile()
    with light_functions():
        light = formulas.Parser().ast(text)[1].compile()
    rng = np.random.default_rng(len(text) + sum(map(ord, text)))
    numbers_seen = 0
    for trial in range(300):
        args = [_argument(name, rng, plain=trial % 3 == 0) for name in package.inputs]
        want, got = _result(package, args), _result(light, args)
        assert type(got) is type(want) and (got == want or (got != got and want != want)), (args, want, got)
        numbers_seen += isinstance(want, float | np.floating) and math.isfinite(want)
    assert numbers_seen > 20  # many draws compute a number, not only errors


def test_a_function_outside_the_light_registry_compiles_in_a_fresh_process() -> None:
    """MEDIAN, first asked for while the registry is patched, comes from the package's full
    registry, and the package's own get_functions is what formulas hands out afterwards (it caches
    the attribute it hands out first: asking it while patched used to loop forever)."""
    import subprocess
    import sys

    code = """
import formulas, numpy as np
from sheetnet.verify.vectorised import fast_functions, light_functions
for patch in (light_functions, fast_functions):
    with patch():
        f = formulas.Parser().ast("=MEDIAN(A1:A3)+MAX(B1,2)")[1].compile()
    print(float(np.asarray(f(np.array([[1.0], [5.0], [2.0]], dtype=object), 1.0)).ravel()[0]))
print(formulas.get_functions.__module__, 'MEDIAN' in formulas.get_functions())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120)
    assert out.stdout.split() == ["4.0", "4.0", "formulas.functions", "True"]
