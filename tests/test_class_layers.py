"""The classroom kit for networks of layers: per-student variants that keep the exercise
meaningful, grading with error carried forward, and the named slips of each kind."""

from __future__ import annotations

import csv
import dataclasses
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from sheetnet.classroom import exercise, layer_variants, mistakes
from sheetnet.classroom.classfolder import ClassOptions, draw_class
from sheetnet.classroom.exercise import Setup, build_exercise
from sheetnet.classroom.grading import Tolerance, grade_answers
from sheetnet.classroom.questions import GROUPS, Question, constants, evaluate_on, key_values, questions
from sheetnet.classroom.roster import Student
from sheetnet.classroom.submission import Answer
from sheetnet.classroom.variants import MAX_Z, MIN_GRADIENT, make_variant
from sheetnet.classroom.words import words
from sheetnet.cli import app
from sheetnet.engines.libreoffice import recalculate
from sheetnet.model import ids, layer_reference
from sheetnet.model.layers import Layer
from sheetnet.model.spec import Spec, load_spec, load_template, with_optimizer
from sheetnet.sheets.layered_network import network_layout
from tests.conftest import needs_libreoffice
from tests.test_class import answers_of, fill
from tests.test_layer_reference import NETWORKS, random_spec

TEMPLATES = ["cnn-stripes", "rnn-sequence", "attention-marker"]
TOL = Tolerance()


def run(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def parameters(spec: Spec) -> np.ndarray:
    return layer_reference.initial_theta(spec)


# --- variants ---------------------------------------------------------------------------------


def iteration_one(spec: Spec) -> list[dict[str, np.ndarray]]:
    """Each layer's input ("x") and forward quantities at iteration 1 (batch mode: every sample)."""
    params = layer_reference.unflatten(spec, parameters(spec))
    x = np.array(spec.inputs).reshape(spec.n_samples, *spec.input_shape)
    result = []
    for layer, p in zip(spec.layers, params, strict=True):
        fwd = layer_reference.forward_layer(spec, layer, p, x)
        result.append({"x": x, **fwd})
        x = fwd["out"]
    return result


@pytest.mark.parametrize("name", TEMPLATES)
def test_variants_differ_and_keep_the_exercise_meaningful(name: str) -> None:
    template = load_template(name)
    drawn = draw_class(template, [Student(f"q{n}") for n in range(3)], "k", ClassOptions(template=name))
    thetas = [parameters(v.spec) for v in drawn]
    assert len({v.fingerprint for v in drawn}) == 3
    for theta, v in zip(thetas, drawn, strict=True):
        spec = v.spec
        assert not np.allclose(theta, parameters(template))
        assert np.all(theta != 0) and np.allclose(theta, np.round(theta, 2), atol=1e-12)
        inputs = np.array(spec.inputs)
        assert not np.allclose(inputs, template.inputs) and np.all(inputs != 0)
        # The signs of the template's inputs and parameters are kept (a zero may take either).
        given = np.array(template.inputs)
        assert np.all(np.sign(inputs[given != 0]) == np.sign(given[given != 0]))
        start = parameters(template)
        assert np.all(np.sign(theta[start != 0]) == np.sign(start[start != 0]))
        assert spec.targets == template.targets  # one-hot classes stay
        for layer, fwd in zip(spec.layers, iteration_one(spec), strict=True):
            if layer.activation == "tanh":  # the rnn's z of every step too
                assert np.abs(fwd["z"]).max() <= MAX_Z
            if layer.kind == "conv2d" and layer.activation == "relu":
                assert (fwd["z"] > 0).any(axis=(2, 3)).all()  # every map of every sample lives
            if layer.kind == "maxpool2d":
                windows = layer_variants.pool_windows(fwd["x"], layer.size)
                top = np.sort(windows, axis=-1)
                assert (top[..., -1] - top[..., -2] >= 1e-3).all()  # no tie for the arg-max
        values = key_values(spec)  # the NumPy trainer, another path than the draw's check
        assert min(abs(values[f"0:{q}"]) for q in ids.gradients(spec)) >= MIN_GRADIENT
    # Each student's numbers are their own.
    assert not np.allclose(thetas[0], thetas[1]) and not np.allclose(thetas[1], thetas[2])


def test_the_template_numbers_would_fail_and_say_why() -> None:
    """cnn-stripes' own numbers make a poor exercise: uniform stripes give tied max-pool windows
    and one kernel dies on the horizontal stripes; the draw moves off both."""
    problem = layer_variants.layered_problem(load_template("cnn-stripes"), GROUPS)
    assert problem == "a feature map of layer 1 (conv2d) is dead (no z > 0) for a sample"
    tied = layer_variants.layered_problem(
        load_template("cnn-stripes").replace(layers=_with_bias(load_template("cnn-stripes"), 1.0)), GROUPS)
    assert tied is not None and "no clear maximum" in tied


def _with_bias(spec: Spec, value: float) -> tuple[Layer, ...]:
    first = spec.layers[0]
    params = tuple((n, (value,) * 2 if n == "bias" else v) for n, v in first.params)
    return (dataclasses.replace(first, params=params), *spec.layers[1:])


# --- planted slips ------------------------------------------------------------------------------


def _row0(values: dict[str, float]) -> dict[str, float]:
    return {k[2:]: v for k, v in values.items() if k.startswith("0:")}


def carried_from(spec: Spec, qs: list[Question], at: Question, value: float) -> dict[str, float]:
    """Every answer a student gives who writes `value` for `at` and computes the rest right from
    their own answers (a fixed point: a max-pool's arg-max reads the window's maximum, later)."""
    key = key_values(spec)
    consts = constants(spec)
    own = {**key, at.key: value}
    for _ in range(8):
        before = dict(own)
        for q in qs:
            if q.key != at.key:
                own[q.key] = evaluate_on(spec, q.expr, _row0(own), consts)
        if own == before:
            break
    return own


def plant(spec: Spec, slip: str) -> tuple[Question, dict[str, str | None], Counter[str]]:
    """Plant `slip` on the first question where it clearly changes the value, carry on from it,
    grade: (the question, its mark's verdict and mistake, the count of every verdict)."""
    qs = questions(spec)
    key = key_values(spec)
    consts = constants(spec)
    for q in qs:
        tree = dict(mistakes.variants(spec, q)).get(slip)
        if tree is None:
            continue
        value = evaluate_on(spec, tree, _row0(key), consts)
        if abs(value - key[q.key]) > 0.01 * max(1.0, abs(key[q.key])):
            break
    else:
        raise AssertionError(f"{spec.name}: no question where {slip} changes the answer")
    own = carried_from(spec, qs, q, value)
    marks = grade_answers(spec, qs, {k.key: Answer(own[k.key]) for k in qs}, TOL)
    mark = next(m for m in marks if m.question.key == q.key)
    return q, {"verdict": mark.verdict, "mistake": mark.mistake}, Counter(m.verdict for m in marks)


SLIPS = [
    ("cnn-stripes", "kernel_flipped"),
    ("cnn-stripes", "maxpool_routed_to_all"),
    ("cnn-stripes", "maxpool_averaged"),
    ("cnn-stripes", "maxpool_column_major"),
    ("cnn-stripes", "transposed"),
    ("rnn-sequence", "bptt_recurrent_dropped"),
    ("rnn-sequence", "sigma_prime"),
    ("rnn-sequence", "transposed"),
    ("attention-marker", "softmax_diagonal_forgotten"),
    ("attention-marker", "layernorm_mean_term_forgotten"),
]


@pytest.mark.parametrize(("name", "slip"), SLIPS)
def test_a_planted_slip_is_named_and_later_answers_are_carried(name: str, slip: str) -> None:
    template = load_template(name)
    spec = make_variant(template, "slips", "ann", vary=("inputs", "weights", "biases"), decimals=2,
                        asked=GROUPS).spec
    q, mark, verdicts = plant(spec, slip)
    assert mark == {"verdict": "wrong", "mistake": slip}, q.key
    assert verdicts["wrong"] == 1  # the slip alone
    assert verdicts["ecf"] >= 1  # what follows from it is credited, by error carried forward
    assert verdicts["right"] + verdicts["ecf"] == len(questions(spec)) - 1


@pytest.mark.parametrize(("network", "slip"), [
    ("conv2d", "kernel_flipped"),  # a conv after a conv: ∂L/∂x of the second kernel, not flipped
    ("conv2d", "sigma_prime"),
    ("maxpool2d", "maxpool_routed_to_all"),
    ("attention-causal", "softmax_diagonal_forgotten"),
    ("layernorm-vector", "layernorm_mean_term_forgotten"),
    ("meanpool", "bptt_recurrent_dropped"),
])
def test_slips_of_small_networks_of_every_kind(network: str, slip: str) -> None:
    spec = make_variant(random_spec(network, draw=7), "small", "bo", vary=("inputs", "weights", "biases"),
                        decimals=2, asked=GROUPS).spec
    q, mark, verdicts = plant(spec, slip)
    assert mark == {"verdict": "wrong", "mistake": slip}, q.key
    assert verdicts["wrong"] == 1 and verdicts["ecf"] >= 1


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_small_networks_of_every_kind_draw_variants_that_grade(network: str) -> None:
    """Every kind (avgpool, causal attention, layernorm of a vector, rnn after attention, …):
    a variant is found, its numbers are rounded, and its key's answers are all right."""
    template = random_spec(network, draw=3)
    spec = make_variant(template, "every", "cy", vary=("inputs", "targets", "weights", "biases"),
                        decimals=2, asked=GROUPS).spec
    theta = parameters(spec)
    if spec.classifies:
        assert spec.targets == template.targets  # one-hot classes stay
    else:  # a regression's targets are drawn too, in (0, 1) after a sigmoid
        assert spec.targets != template.targets
        if spec.layers[-1].activation == "sigmoid":
            assert all(0 < t < 1 for row in spec.targets for t in row)
    assert np.allclose(theta, np.round(theta, 2), atol=1e-12) and not np.allclose(theta, parameters(template))
    assert layer_variants.layered_problem(spec, GROUPS) is None
    qs = questions(spec)
    key = key_values(spec)
    marks = grade_answers(spec, qs, {q.key: Answer(key[q.key]) for q in qs}, TOL)
    assert [m.verdict for m in marks] == ["right"] * len(qs)
    wrong = grade_answers(spec, qs, {qs[0].key: Answer(key[qs[0].key] + 1.0)}, TOL)
    assert wrong[0].verdict == "wrong" and {m.verdict for m in wrong[1:]} == {"blank"}


def test_kernel_flipped_in_the_backward_pass_reads_the_kernel_unrotated() -> None:
    """∂L/∂x of a conv is a full convolution (Σ K[u,v]·δ[p−u,q−v]); forgetting its flip is
    Σ K[k+1−u,k+1−v]·δ[p−u,q−v], the slip's value."""
    spec = make_variant(random_spec("conv2d", draw=7), "small", "bo", vary=("inputs", "weights", "biases"),
                        decimals=2, asked=GROUPS).spec
    layer = spec.layers[1]  # the second conv reads the first's output: its da is a question
    k = layer.kernel
    key = key_values(spec)
    q = next(q for q in questions(spec) if q.qid == "da1[1,2,2]@1")
    params = layer_reference.unflatten(spec, parameters(spec))
    K = params[1]["weight"][:, :, ::-1, ::-1]  # rotated
    delta = np.array([[[key[f"0:delta2[{c + 1},{r + 1},{s + 1}]@1"] for s in range(2)]
                       for r in range(3)] for c in range(layer.channels)])
    p, t = 1, 1  # da1[1,2,2] from 0
    slipped = sum(K[c, 0, u, v] * delta[c, p - u, t - v] for c in range(layer.channels)
                  for u in range(k) for v in range(k) if 0 <= p - u < 3 and 0 <= t - v < 2)
    named = mistakes.name_mistake(spec, q, slipped, key, key, constants(spec), TOL.close)
    assert named == "kernel_flipped" and not TOL.close(slipped, key[q.key])


def test_a_kernel_gradient_at_the_rotated_index_and_a_transposed_wh_are_named() -> None:
    cnn = make_variant(load_template("cnn-stripes"), "k", "ann", vary=("inputs", "weights", "biases"),
                       decimals=2, asked=GROUPS).spec
    key = key_values(cnn)
    q = next(q for q in questions(cnn) if q.key == "0:dK1[1,1,1,2]")
    answer = key["0:dK1[1,1,3,2]"]  # ∂L/∂K[1,1,1,2] written where K[1,1,3,2] goes (180°)
    assert mistakes.name_mistake(cnn, q, answer, key, key, constants(cnn), TOL.close) == "kernel_flipped"
    rnn = make_variant(load_template("rnn-sequence"), "k", "ann", vary=("inputs", "weights", "biases"),
                       decimals=2, asked=GROUPS).spec
    key = key_values(rnn)
    q = next(q for q in questions(rnn) if q.key == "0:dWh1[1,2]")
    assert mistakes.name_mistake(rnn, q, key["0:dWh1[2,1]"], key, key, constants(rnn),
                                 TOL.close) == "transposed"
    assert mistakes.name_mistake(rnn, q, 0.123456, key, key, constants(rnn), TOL.close) is None


# --- the class, end to end ------------------------------------------------------------------------


def _printed(value: float) -> set[str]:
    """value printed with 6 to 17 significant digits."""
    return {f"{value:.{n}g}" for n in range(6, 18)}


def _numbers(path: Path) -> set[str]:
    """Every decimal number written in the workbook's XML parts."""
    with zipfile.ZipFile(path) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return set(re.findall(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", text))


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_layered_class_builds_grades_and_names_a_slip(name: str, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\na1,Ann\na2,Bo\n", encoding="utf-8")
    folder = tmp_path / "c"
    result = run("class", roster, folder, "--template", name, "--secret", "winter")
    assert result.exit_code == 0, result.output
    specs = {sid: load_spec(folder / "key" / f"{sid}.toml") for sid in ("a1", "a2")}
    assert not np.allclose(parameters(specs["a1"]), parameters(specs["a2"]))
    keys = answers_of(folder)
    assert set(keys["a1"]) == {q.key for q in questions(specs["a1"])}
    assert keys["a1"] != keys["a2"]
    expected = key_values(specs["a1"])
    assert all(value == pytest.approx(expected[key], rel=1e-12) for key, value in keys["a1"].items())
    # The student's file holds the numbers, not the answers (the key's file does: the search sees).
    shown = {k: v for k, v in keys["a1"].items() if not float(v).is_integer()}  # not an arg-max's 1…4
    student, key = _numbers(folder / "students" / "a1.xlsx"), _numbers(folder / "key" / "a1.xlsx")
    assert [k for k, v in shown.items() if _printed(v) & student] == []
    assert len([k for k, v in shown.items() if _printed(v) & key]) > 0.9 * len(shown)
    subs = tmp_path / "subs"
    subs.mkdir()
    fill(folder, "a1", subs / "a1.xlsx", keys["a1"])
    slip = {"cnn-stripes": "maxpool_routed_to_all", "rnn-sequence": "bptt_recurrent_dropped",
            "attention-marker": "softmax_diagonal_forgotten"}[name]
    q, _, _ = plant(specs["a2"], slip)
    tree = dict(mistakes.variants(specs["a2"], q))[slip]
    value = evaluate_on(specs["a2"], tree, _row0(key_values(specs["a2"])), constants(specs["a2"]))
    fill(folder, "a2", subs / "a2.xlsx", carried_from(specs["a2"], questions(specs["a2"]), q, value))
    grades, feedback = tmp_path / "g.csv", tmp_path / "fb"
    result = run("grade", folder, *sorted(subs.iterdir()), "--gradebook", grades, "--feedback", feedback)
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(grades.open(encoding="utf-8"))}
    n = str(len(keys["a1"]))
    assert (rows["a1"]["score"], rows["a1"]["max"], rows["a1"]["percent"]) == (n, n, "100.0")
    assert rows["a2"][q.key] == "wrong" and rows["a2"]["score"] == str(len(keys["a2"]) - 1)
    assert "ecf" in rows["a2"].values()
    sheet = openpyxl.load_workbook(feedback / "a2.xlsx").worksheets[0]
    said = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert words("en")[f"mistake.{slip}"] in said


# --- the practice sheet, recomputed -----------------------------------------------------------


@pytest.mark.libreoffice
@needs_libreoffice
def test_practice_self_check_of_a_layered_network_in_libreoffice(tmp_path: Path) -> None:
    spec = load_template("rnn-sequence")
    built = build_exercise(spec, tmp_path / "practice.xlsx", setup=Setup())
    book = openpyxl.load_workbook(built)
    ws = book["Exercise"]
    rows = {f"{ws.cell(r, exercise.ITER).value}:{ws.cell(r, exercise.ID).value}": r
            for r in range(exercise.FIRST_ROW, ws.max_row + 1) if ws.cell(r, exercise.ID).value}
    key = key_values(spec)
    typed = {
        "0:z1[1,1]@1": float(f"{key['0:z1[1,1]@1']:.4g}"),  # 4 significant figures: right
        "0:delta1[3,1]@1": float(f"{key['0:delta1[3,1]@1']:.6g}"),  # a BPTT step: right
        "0:delta1[2,1]@1": 0.0,  # the recurrent term dropped: wrong
        "0:dWh1[1,2]": key["0:dWh1[2,1]"],  # transposed: wrong
        "0:h1[1,1]@1": "abc",  # not a number: wrong
    }
    for k, value in typed.items():
        ws.cell(rows[k], exercise.ANSWER).value = value
    ws.cell(exercise.REVEAL_ROW, exercise.EQUATION).value = "yes"
    row, col = network_layout(spec).input_cells["lr"]
    book["Network"].cell(row, col).value = 1.0  # η from 0.5 to 1: the expected updates move with it
    typed_file = tmp_path / "typed.xlsx"
    book.save(typed_file)
    after = recalculate(typed_file, tmp_path / "after.xlsx")
    values = openpyxl.load_workbook(after, data_only=True)["Exercise"]
    check = {k: values.cell(r, exercise.CHECK).value for k, r in rows.items()}
    assert [check[k] for k in typed] == ["✓", "✓", "✗", "✗", "✗"]
    assert check["0:loss"] in (None, "")  # blank stays blank
    shown = {k: values.cell(r, exercise.EXPECTED).value for k, r in rows.items()}
    asked = [k for k in rows if k.startswith("0:")]  # iteration 1 as the Working sheet computes it
    assert len(asked) == 147 and [shown[k] for k in asked] == pytest.approx([key[k] for k in asked],
                                                                            rel=1e-9, abs=1e-12)
    faster = key_values(spec.replace(learning_rate=1.0))
    assert shown["1:Wh1[1,2]"] == pytest.approx(faster["1:Wh1[1,2]"], rel=1e-12)
    assert shown["1:Wh1[1,2]"] != pytest.approx(key["1:Wh1[1,2]"], rel=1e-9)


def test_a_layered_class_that_cannot_be_meaningful_fails_in_one_line(tmp_path: Path) -> None:
    """Varying η alone keeps cnn-stripes' own numbers, whose second kernel is dead on the
    horizontal stripes: no draw helps, the error says so and nothing is written."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\na1\n", encoding="utf-8")
    result = run("class", roster, tmp_path / "c", "-t", "cnn-stripes", "--secret", "s", "--vary", "lr")
    assert result.exit_code != 0
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "a feature map of layer 1 (conv2d) is dead" in result.output
    assert not (tmp_path / "c").exists() and [p.name for p in tmp_path.iterdir()] == ["roster.csv"]


@pytest.mark.parametrize("name", ["seed-004-2-2-2", "rnn-sequence"])
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_an_update_with_an_optimizer_of_state_writes_its_first_step_in(name: str, optimizer: str) -> None:
    """The optimizer's state is no question: each update reads the student's own gradient through
    the first step (an exercise of such a network failed with KeyError 'optimizer' before)."""
    spec = with_optimizer(load_template(name), optimizer)
    qs = questions(spec)
    key = key_values(spec)
    update = max((q for q in qs if q.group == "update"), key=lambda q: abs(key["0:d" + q.qid]))
    gradient = "0:d" + update.qid
    assert "∂L/∂" in update.equation and "η" in update.equation
    own = {k[2:]: v for k, v in key.items() if k.startswith("0:")}
    assert evaluate_on(spec, update.expr, own, constants(spec)) == pytest.approx(key[update.key], rel=1e-12)
    own[gradient[2:]] *= -1  # a student's gradient of the wrong sign moves the update
    moved = evaluate_on(spec, update.expr, own, constants(spec))
    assert not TOL.close(moved, key[update.key])
    # momentum: θ − η·g; adam: θ − η·g/(|g| + ε) ≈ θ − η·sign(g)
    step = spec.learning_rate * (key[gradient] if optimizer == "momentum" else np.sign(key[gradient]))
    assert moved == pytest.approx(key[update.key] + 2 * step, abs=1e-4 * spec.learning_rate)
