"""What each page shows and does: its context for the template, and the job its form starts.

A form is read here into the arguments of one API call (the same the command makes); a value
that cannot be one is reported beside its field before anything starts (FormErrors).
"""

from __future__ import annotations

import inspect
import itertools
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from sheetnet import api
from sheetnet.errors import SheetnetError
from sheetnet.web import specform, workspace
from sheetnet.web.drawing import network_svg
from sheetnet.web.jobs import Job

Work = Callable[[Job], None]
ASK = ("forward", "loss", "backward", "gradients", "update")
ENGINES = ("formulas", "libreoffice", "gnumeric")
_runs = itertools.count(1)


class FormErrors(Exception):
    """Values of a form that are not the API's arguments: one line per field."""

    def __init__(self, errors: dict[str, str], values: dict[str, Any]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors, self.values = errors, values


def libreoffice_installed() -> bool:
    return api.has_libreoffice()


def _run_folder(space: workspace.Workspace, page: str) -> Path:
    """A fresh folder per job: a job's files never overwrite an earlier job's still offered."""
    folder = space.path(f"{page}-{next(_runs)}")
    folder.mkdir()
    return folder


# --- the pages' contexts ------------------------------------------------------------------------


def context(page: str, space: workspace.Workspace, query: dict[str, Any], job: Job | None,
            errors: dict[str, str] | None = None) -> dict[str, Any]:
    result = space.results.get(page) if job is None or job.state == "done" else None
    out: dict[str, Any] = {"job": job, "result": result, "errors": errors or {}, "values": query,
                           "templates": api.templates(), "default_template": api.DEFAULT_TEMPLATE,
                           "ask_groups": ASK, "engines": ENGINES}
    if page in ("build", "exercise"):
        out.update(_build_context(page, space, query))
    if page == "grade":
        out["session_class"] = space.results.get("class")
        out["platforms"] = gradebook_formats()[1:]
    return out


def _build_context(page: str, space: workspace.Workspace, query: dict[str, Any]) -> dict[str, Any]:
    if "network.sizes" not in query:  # a GET: the template chosen, else the tab's last form, else the default
        name = query.get("template") if query.get("template") in api.templates() else None
        saved = space.results.get(f"{page}:values")
        if name is None and saved:
            query = dict(saved)
        else:
            name = name or api.DEFAULT_TEMPLATE
            query = {**specform.values_of(api.spec_table(api.template(name))), "template": name}
    return {"values": query, "fields": specform.form_fields(), **_drawn(query)}


def _drawn(values: dict[str, Any]) -> dict[str, Any]:
    """The network's picture and words, from the form's values when they make a spec."""
    table, _errors = specform.table_of(values)
    try:
        spec = api.parse_spec(table, name=str(values.get("template") or "spec"))
    except SheetnetError:
        return {"svg": "", "title": "", "description": ""}
    return {"svg": network_svg(spec.sizes, spec.activations), "title": spec.title,
            "description": spec.description, "title_zh": spec.in_language("zh").title,
            "description_zh": spec.in_language("zh").description}


def feedback_rows(result: Any) -> list[dict[str, Any]]:
    """A student's marks as the feedback page lists them."""
    rows = []
    for mark in result.marks:
        answer = mark.answer.text if mark.answer.value is None else f"{mark.answer.value:.6g}"
        rows.append({"key": mark.question.key, "label": mark.question.label, "answer": answer,
                     "expected": f"{mark.expected:.6g}", "verdict": mark.verdict,
                     "mistake": mark.mistake or ""})
    return rows


def download_path(space: workspace.Workspace, name: str) -> Path | None:
    for result in space.results.values():
        files = result.get("files", {}) if isinstance(result, dict) else {}
        if name in files:
            return files[name]
    return None


def gradebook_formats() -> tuple[str, ...]:
    """The gradebook formats api.grade writes, the plain one first: its GRADEBOOK_FORMATS when
    the API lists them (LMS import files), else the plain CSV alone. The Grade page offers every
    one, so a format added to the API appears there by itself."""
    return tuple(getattr(api, "GRADEBOOK_FORMATS", ("plain",)))


def _grade_parameters() -> set[str]:
    """The options api.grade takes (a class report workbook where it writes one)."""
    return set(inspect.signature(api.grade).parameters)


# --- reading the forms --------------------------------------------------------------------------


async def prepare(page: str, form: FormData, space: workspace.Workspace, clean: Callable[[str], str]) -> Work:
    return await {"build": _prepare_build, "exercise": _prepare_build, "class": _prepare_class,
                  "grade": _prepare_grade, "check": _prepare_check}[page](page, form, space, clean)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(form: FormData, name: str, errors: dict[str, str], default: int | None) -> int | None:
    text = _text(form, name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        errors[name] = f"{name}: {text!r} is not a whole number"
        return default


def _float(form: FormData, name: str, errors: dict[str, str], default: float) -> float:
    try:
        return float(_text(form, name) or default)
    except ValueError:
        errors[name] = f"{name}: {_text(form, name)!r} is not a number"
        return default


def _choice(form: FormData, name: str, allowed: tuple[str, ...]) -> str:
    value = _text(form, name)
    return value if value in allowed else allowed[0]


def _spec_from(form: FormData, page: str, space: workspace.Workspace, clean: Callable[[str], str],
               errors: dict[str, str]) -> tuple[api.Spec | None, dict[str, Any]]:
    values = {f.path: _text(form, f.path) for f in specform.form_fields()}
    values["template"] = _choice(form, "template", (api.DEFAULT_TEMPLATE, *api.templates()))
    space.results[f"{page}:values"] = values
    table, field_errors = specform.table_of(values)
    if values.get("data.csv") and not plain_csv(values["data.csv"]):
        field_errors["data.csv"] = CSV_ONLY_UPLOADED
    errors.update(field_errors)
    if field_errors:
        return None, values
    try:
        return api.parse_spec(table, name=values["template"], base_dir=space.path("data")), values
    except SheetnetError as exc:
        message = clean(str(exc))
        errors[specform.field_of(message) or "spec"] = message
        return None, values


async def _prepare_build(page: str, form: FormData, space: workspace.Workspace,
                         clean: Callable[[str], str]) -> Work:
    errors: dict[str, str] = {}
    spec, values = _spec_from(form, page, space, clean, errors)
    lang, paper = _choice(form, "lang", ("en", "zh")), _choice(form, "paper", ("a4", "letter"))
    options = {k: _text(form, k) for k in ("lang", "paper", "compare_lr", "compare_optim", "decision_map",
                                           "summary_every", "sig_figs")}
    rates = []
    for part in filter(None, (p.strip() for p in options["compare_lr"].split(","))):
        try:
            rates.append(float(part))
        except ValueError:
            errors["compare_lr"] = f"compare_lr: {part!r} is not a number; give rates like 0.1,0.5,2"
    compared = [p.strip() for p in options["compare_optim"].split(",") if p.strip()]
    decision_map = _int(form, "decision_map", errors, 0) or 0
    every = _int(form, "summary_every", errors, None)
    sig_figs = _int(form, "sig_figs", errors, 4) or 4
    ask = [g for g in ASK if form.get(f"ask_{g}")] or None
    run = _run_folder(space, page)
    pdf = run / f"{page}.pdf" if form.get("pdf") else None
    if errors or spec is None:
        raise FormErrors(errors, {**values, **options})

    def work(job: Job) -> None:
        out = run / ("workbook.xlsx" if page == "build" else "exercise.xlsx")
        if page == "build":
            api.build(spec, out, lang=lang, paper=paper, compare_lr=rates, summary_every=every, pdf=pdf,
                      progress=job.progress, compare_optim=compared, decision_map=decision_map)
        else:
            api.exercise(spec, out, ask=ask, sig_figs=sig_figs, lang=lang, paper=paper, pdf=pdf,
                         progress=job.progress)
        files = {out.name: out, **({pdf.name: pdf} if pdf else {})}
        space.results[page] = {"files": files, "iterations": spec.iterations,
                               "title": spec.in_language(lang).title}

    return work


async def load_upload(form: FormData, space: workspace.Workspace,
                      clean: Callable[[str], str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form refilled from an uploaded spec TOML; a CSV data file kept for data.csv (where the
    TOML uploaded with it names it, else under its own safe name, the inline samples cleared)."""
    values = {f.path: _text(form, f.path) for f in specform.form_fields()}
    values["template"] = _choice(form, "template", (api.DEFAULT_TEMPLATE, *api.templates()))
    errors: dict[str, str] = {}
    toml, data = form.get("toml_file"), form.get("data_file")
    toml_bytes = await toml.read() if isinstance(toml, UploadFile) and toml.filename else None
    if isinstance(data, UploadFile) and data.filename:
        named = _csv_named_in(toml_bytes)
        path = space.path("data").joinpath(*named) if named else \
            space.path("data") / workspace.safe_name(data.filename, ".csv")
        workspace.save_upload(await data.read(), path.parent, path.name)
        values |= {"data.csv": "/".join(named) if named else path.name, "data.inputs": "", "data.targets": ""}
    if toml_bytes is not None:
        assert isinstance(toml, UploadFile)
        path = workspace.save_upload(toml_bytes, space.path("data"), "uploaded-spec.toml")
        try:
            if _names_csv(toml_bytes) and _csv_named_in(toml_bytes) is None:
                raise SheetnetError(CSV_ONLY_UPLOADED)
            spec = api.load_spec(path)
            values = {**specform.values_of(api.spec_table(spec)), "template": values["template"]}
        except SheetnetError as exc:
            shown = workspace.safe_name(toml.filename or "", ".toml")
            message = clean(str(exc)).replace("uploaded-spec.toml", shown)
            errors[specform.field_of(message) or "toml_file"] = message
    return values, errors


def _csv_named_in(toml_bytes: bytes | None) -> tuple[str, ...] | None:
    """The parts of the data.csv path a spec TOML names, when it is a plain relative path
    (`data/iris.csv`): the CSV uploaded with it is saved there, so the TOML reads as written."""
    try:
        named = tomllib.loads(toml_bytes.decode("utf-8"))["data"]["csv"] if toml_bytes else None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, RecursionError):
        return None
    return plain_csv(named) if isinstance(named, str) else None


def _names_csv(toml_bytes: bytes) -> bool:
    try:
        data = tomllib.loads(toml_bytes.decode("utf-8")).get("data")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False  # load_spec says what is wrong with it
    return isinstance(data, dict) and "csv" in data


def plain_csv(named: str) -> tuple[str, ...] | None:
    """The parts of a plain relative path of a CSV file (`data/iris.csv`); None for any other
    (absolute, `..`, hidden): a spec read here reads only files uploaded to its page."""
    parts = tuple(named.split("/"))
    plain = all(re.fullmatch(r"[\w\- ][\w.\- ]*", p) for p in parts) and named.endswith(".csv")
    return parts if parts and len(parts) <= 3 and plain else None


CSV_ONLY_UPLOADED = "data.csv: give the name of a CSV file uploaded on this page (like iris.csv)"


async def _save_uploads(form: FormData, name: str, folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files of one input, each in its own numbered folder under its safe name."""
    saved = []
    for n, item in enumerate(f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename):
        suffix = next((s for s in suffixes if item.filename.lower().endswith(s)), suffixes[0])
        target = folder / f"{n:04d}" / workspace.safe_name(item.filename, suffix)
        saved.append(workspace.save_upload(await item.read(), target.parent, target.name))
    return saved


async def _prepare_class(page: str, form: FormData, space: workspace.Workspace,
                         clean: Callable[[str], str]) -> Work:
    errors: dict[str, str] = {}
    secret = form.get("secret")
    secret = secret if isinstance(secret, str) else ""
    roster = form.get("roster")
    if not (isinstance(roster, UploadFile) and roster.filename):
        errors["roster"] = "roster: choose the roster's CSV file"
    if not secret:
        errors["secret"] = "secret: a class needs a secret: the students' numbers are drawn from it"
    name = _choice(form, "template", (api.DEFAULT_TEMPLATE, *api.templates()))
    decimals = _int(form, "decimals", errors, 2)
    sig_figs = _int(form, "sig_figs", errors, 4)
    options = {k: _text(form, k) for k in ("template", "vary", "decimals", "lang", "sig_figs", "paper")}
    if errors:
        raise FormErrors(errors, options)  # the secret is never sent back to the page
    run = _run_folder(space, page)
    assert isinstance(roster, UploadFile)
    roster_path = workspace.save_upload(await roster.read(), run, "roster.csv")
    ask = [g for g in ASK if form.get(f"ask_{g}")] or None
    lang, paper = _choice(form, "lang", ("en", "zh")), _choice(form, "paper", ("a4", "letter"))
    vary = options["vary"] or None
    pdf = bool(form.get("pdf"))

    def work(job: Job) -> None:
        folder = run / "class"
        api.make_class(api.template(name), roster_path, folder, secret=secret, vary=vary,
                       decimals=decimals or 2, ask=ask, lang=lang, sig_figs=sig_figs or 4, paper=paper,
                       pdf=pdf, template_name=name, progress=job.progress)
        files = {"class.zip": workspace.zip_folder(folder, run / "class.zip", "class"),
                 "students.zip": workspace.zip_folder(folder / "students", run / "students.zip", "students")}
        students = len(list((folder / "students").glob("*.xlsx")))
        space.results[page] = {"files": files, "folder": folder, "students": students, "template": name}

    return work


async def _prepare_grade(page: str, form: FormData, space: workspace.Workspace,
                         clean: Callable[[str], str]) -> Work:
    errors: dict[str, str] = {}
    ecf_credit = _float(form, "ecf_credit", errors, 1.0)
    sig_figs = _int(form, "sig_figs", errors, 4) or 4
    class_zip = form.get("class_zip")
    uploaded = isinstance(class_zip, UploadFile) and bool(class_zip.filename)
    session_class = space.results.get("class")
    secret = form.get("secret")
    secret = secret if isinstance(secret, str) else ""
    if not uploaded and not session_class:
        errors["class_zip"] = "class: make a class on the Class page first, or upload the class zip"
    if uploaded and not secret:
        errors["secret"] = "secret: give the secret of the uploaded class"
    run = _run_folder(space, page)
    subs = await _save_uploads(form, "submissions", run / "uploads", (".xlsx", ".zip"))
    if not subs:
        errors["submissions"] = "submissions: choose the students' .xlsx files (or one zip of them)"
    options = {k: _text(form, k) for k in ("ecf_credit", "sig_figs", "assignment")}
    platforms = [f for f in gradebook_formats()[1:] if form.get(f"format_{f}")]
    assignment = options["assignment"] or "Exercise"
    if errors:
        raise FormErrors(errors, options)
    zip_path = workspace.save_upload(await class_zip.read(), run, "class-upload.zip") if uploaded else None  # type: ignore[union-attr]

    def work(job: Job) -> None:
        if zip_path is not None:
            folder = workspace.unzip_class(zip_path, run / "class")
            api.check_class_secret(folder, secret)
        else:
            folder = session_class["folder"]
        files: list[Path] = []
        for path in subs:
            files += workspace.unzip_submissions(path, path.parent / "unzipped") if path.suffix == ".zip" \
                else [path]
        gradebook, feedback = run / "gradebook.csv", run / "feedback"
        extra = {"report": run / "report.xlsx"} if "report" in _grade_parameters() else {}
        grades = api.grade(folder, files, gradebook=gradebook, feedback=feedback, ecf_credit=ecf_credit,
                           sig_figs=sig_figs, progress=job.progress, **extra)
        report = run / "report.txt"
        report.write_text("\n".join([*grades.summary, *grades.warnings]) + "\n", encoding="utf-8")
        outputs = {"gradebook.csv": gradebook, "report.txt": report,
                   "feedback.zip": workspace.zip_folder(feedback, run / "feedback.zip", "feedback"),
                   **{p.name: p for p in extra.values()}}
        for fmt in platforms:  # a platform's import file is a second pass of the same grading
            path = run / f"gradebook-{fmt}.csv"
            api.grade(folder, files, gradebook=path, ecf_credit=ecf_credit, sig_figs=sig_figs,
                      progress=job.progress, fmt=fmt, assignment=assignment)  # type: ignore[call-arg]
            outputs[path.name] = path
        space.results[page] = {"files": outputs, "grades": grades,
                               "warnings": [clean(w) for w in grades.warnings]}

    return work


async def _prepare_check(page: str, form: FormData, space: workspace.Workspace,
                         clean: Callable[[str], str]) -> Work:
    errors: dict[str, str] = {}
    engine = _choice(form, "engine", ENGINES)
    run = _run_folder(space, page)
    saved = await _save_uploads(form, "workbook", run, (".xlsx",))
    if not saved:
        errors["workbook"] = "workbook: choose a workbook (.xlsx) written by sheetnet"
        raise FormErrors(errors, {"engine": engine})

    def work(job: Job) -> None:
        report = api.check(saved[0], engine=engine, progress=job.progress)
        facts = report.to_dict()
        facts.pop("path")
        space.results[page] = {"report": facts, "summary": report.summary(), "ok": report.ok,
                               "name": saved[0].name, "files": {}}

    return work
