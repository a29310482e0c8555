"""Excel's limits, proven on what we write: every formula of every sheet of every template and
option, the class's student and key files included, read back from the file with openpyxl's
formula tokenizer (independent of the printer that wrote them).

Excel's documented limits (Excel specifications and limits, Excel 2010 and later): 8,192
characters in a formula, 64 levels of nested functions, 255 arguments to a function, 1,048,576
rows and 16,384 columns; a data-validation list at most 255 characters; a sheet name at most 31
characters without [ ] : * ? / \\. Functions: only those Excel 2010 has without the `_xlfn.`
prefix that marks newer ones (an older Excel shows #NAME? for those).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formula.tokenizer import Token, Tokenizer
from typer.testing import CliRunner

from sheetnet.cli import app
from sheetnet.model.optimizers import NAMES as OPTIMIZERS
from sheetnet.model.spec import load_template
from sheetnet.sheets import limits
from tests.conftest import LAYERED_TEMPLATES, TEMPLATES, build

runner = CliRunner()

# Every function a sheetnet formula may call: each is in Excel 2010 (and long before) without the
# _xlfn. prefix. A new function in a formula fails here until it is checked and listed.
EXCEL_2010_FUNCTIONS = frozenset({
    "ABS", "AND", "AVERAGE", "AVERAGEIF", "CHAR", "CHOOSE", "COUNT", "COUNTIF", "EXP", "FIXED", "IF",
    "IFERROR", "INDEX", "INT", "ISBLANK", "ISERROR", "ISNUMBER", "LEN", "LN", "LOG10", "MAX", "MIN", "MOD",
    "NOT", "OR", "POWER", "ROUND", "SIGN", "SQRT", "STDEVP", "SUM", "SUMPRODUCT", "TANH", "TEXT",
})
FORBIDDEN_SHEET_CHARS = set("[]:*?/\\")


def formulas_of(path: Path) -> Iterator[tuple[str, str, str]]:
    """(sheet, cell, formula) for every formula cell of the workbook."""
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    yield ws.title, cell.coordinate, str(cell.value)


def shape_of(formula: str) -> tuple[int, int, set[str]]:
    """(deepest nesting of functions, most arguments of one call, function names) of a formula."""
    depth = deepest = widest = 0
    args: list[int] = []  # the arguments counted so far in each open call (or bracket: -1)
    names: set[str] = set()
    for token in Tokenizer(formula).items:
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            names.add(token.value[:-1].upper())
            depth += 1
            deepest = max(deepest, depth)
            args.append(0)
        elif token.type == Token.PAREN and token.subtype == Token.OPEN:
            args.append(-1)
        elif token.type in (Token.FUNC, Token.PAREN) and token.subtype == Token.CLOSE:
            counted = args.pop()
            if counted >= 0:
                depth -= 1
                widest = max(widest, counted + 1)
        elif token.type == Token.SEP and token.subtype == Token.ARG and args and args[-1] >= 0:
            args[-1] += 1
    return deepest, widest, names


def assert_within_excels_limits(path: Path) -> int:
    """Every limit above, for one workbook; the number of formulas walked."""
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert len(ws.title) <= 31 and not FORBIDDEN_SHEET_CHARS & set(ws.title), ws.title
        assert ws.max_row <= limits.MAX_ROWS and ws.max_column <= limits.MAX_COLS, ws.title
        for rule in ws.data_validations.dataValidation:
            if rule.type == "list":
                assert len(rule.formula1 or "") <= 255, (ws.title, rule.formula1)
    walked = 0
    for sheet, cell, formula in formulas_of(path):
        where = f"{path.name} {sheet}!{cell}"
        assert len(formula) <= limits.MAX_FORMULA_CHARS, (where, len(formula))
        assert "_xlfn." not in formula.lower(), where
        depth, widest, names = shape_of(formula)
        assert depth <= limits.MAX_NESTING, (where, depth)
        assert widest <= limits.MAX_ARGUMENTS, (where, widest)
        assert names <= EXCEL_2010_FUNCTIONS, (where, names - EXCEL_2010_FUNCTIONS)
        walked += 1
    return walked


def test_the_walker_counts_what_it_should() -> None:
    assert shape_of("=IF(A1<0,EXP(A1)/(1+EXP(A1)),1/(1+EXP(-A1)))") == (2, 3, {"IF", "EXP"})
    assert shape_of("=MAX(A1,B1,C1)+(A2*(B2+C2))") == (1, 3, {"MAX"})
    assert shape_of("=A1+B1") == (0, 0, set())
    assert shape_of("=" + "ABS(" * 70 + "1" + ")" * 70)[0] == 70


def _template_cases() -> list[tuple[str, dict[str, object]]]:
    cases: list[tuple[str, dict[str, object]]] = [(t, {}) for t in [*TEMPLATES, *LAYERED_TEMPLATES]]
    cases += [("xor", {"compare_lr": (0.1, 0.5, 2.0)}), ("xor", {"compare_optim": OPTIMIZERS}),
              ("xor", {"decision_map": 12}), ("seed-000-classification", {"decision_map": 8}),
              ("iris", {"lang": "zh"}), ("xor", {"lang": "zh", "compare_optim": ("sgd", "adam")})]
    # Networks of layers: every block of their comparison sheets (attention-marker's are the widest)
    cases += [("cnn-stripes", {"compare_lr": (0.1, 0.5, 1.0)}),
              ("attention-marker", {"compare_optim": OPTIMIZERS}),
              ("rnn-sequence", {"lang": "zh", "compare_lr": (0.1, 1.0), "compare_optim": ("sgd", "adam")})]
    return cases


@pytest.mark.parametrize(("template", "options"), _template_cases(),
                         ids=lambda x: x if isinstance(x, str) else ",".join(map(str, x)) or "default")
def test_every_formula_of_every_template_and_option_is_within_excels_limits(
    tmp_path: Path, template: str, options: dict[str, object]
) -> None:
    spec = load_template(template).replace(iterations=3)
    assert assert_within_excels_limits(build(tmp_path, spec, **options)) > 50


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("mode", ["batch", "sgd", "minibatch"])
def test_every_optimizer_and_mode_is_within_excels_limits(tmp_path: Path, optimizer: str, mode: str) -> None:
    args = ["build", "-t", "xor", "--iters", "3", "--optimizer", optimizer]
    args += {"batch": [], "sgd": ["--mode", "sgd", "--shuffle"], "minibatch": ["--batch-size", "2"]}[mode]
    path = tmp_path / "out.xlsx"
    assert runner.invoke(app, [*args, str(path)]).exit_code == 0
    assert assert_within_excels_limits(path) > 50


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_exercise_and_class_files_are_within_excels_limits(tmp_path: Path, lang: str) -> None:
    practice = tmp_path / "practice.xlsx"
    assert runner.invoke(app, ["exercise", "-t", "iris", "--lang", lang, str(practice)]).exit_code == 0
    assert assert_within_excels_limits(practice) > 50
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns1,Ann\ns2,Bo\n", encoding="utf-8")
    folder = tmp_path / "class"
    result = runner.invoke(app, ["class", str(roster), str(folder), "--secret", "s", "--lang", lang,
                                 "--jobs", "1"])
    assert result.exit_code == 0, result.output
    files = sorted(folder.rglob("*.xlsx"))
    assert len(files) >= 4  # each student's file and key
    for path in files:
        assert_within_excels_limits(path)


def test_a_function_with_too_many_arguments_is_refused_before_writing(tmp_path: Path) -> None:
    """A softmax over 300 outputs would call MAX with 300 arguments."""
    spec = load_template("seed-000-classification")
    n = 300
    wide = spec.replace(sizes=(2, 2, n), weights=(spec.weights[0], tuple((0.1, 0.2) for _ in range(n))),
                        biases=(spec.biases[0], tuple(0.0 for _ in range(n))) if spec.biases else (),
                        targets=tuple(tuple(1.0 if j == 0 else 0.0 for j in range(n)) for _ in spec.targets),
                        iterations=1)
    from sheetnet.errors import SheetnetError

    with pytest.raises(SheetnetError, match=r"with 30\d arguments, more than the 255"):
        build(tmp_path, wide)
    assert not (tmp_path / "out.xlsx").exists()


def test_the_build_warns_past_google_sheets_cells_and_excel_for_the_webs_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits lowered, so that an ordinary workbook stands in for a huge one."""
    monkeypatch.setattr(limits, "GOOGLE_SHEETS_CELLS", 1_000)
    monkeypatch.setattr(limits, "EXCEL_WEB_BYTES", 10_000)
    path = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["build", "--iters", "50", str(path)])
    assert result.exit_code == 0 and path.is_file()
    warnings = [line for line in result.stderr.splitlines() if line.startswith("sheetnet: warning: ")]
    assert len(warnings) == 2, result.stderr
    # The Training sheet's 54 rows (3 of them its head) of 38 columns:
    assert warnings[0].startswith("sheetnet: warning: out.xlsx holds 2,052 Training cells, past the 1,000")
    assert "Google Sheets" in warnings[0]
    assert "Excel for the web opens" in warnings[1]


def test_an_ordinary_build_warns_of_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", "--iters", "100", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 0 and "warning" not in result.stderr
