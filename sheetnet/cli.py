"""The `sheetnet` command: build, check, pdf, train, templates, schema; a thin layer over sheetnet.api.

Each command turns its options into one API call, prints the result, and turns a SheetnetError
into one line on stderr with exit code 2. Progress bars are drawn here, never in the library.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

try:  # typer ≥ 0.2x carries its own copy of click; older ones use the click package
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_errors  # type: ignore[no-redef]

from sheetnet import __version__, api
from sheetnet.atomic import check_target
from sheetnet.errors import SheetnetError, counted
from sheetnet.model.spec import DEFAULT_TEMPLATE, Spec
from sheetnet.progress import stderr_is_terminal, terminal_progress


class _Command(typer.core.TyperCommand):
    """A command whose help shows no type for flags and plain names in its usage line.

    Typer prints `--shuffle/--no-shuffle <bool>` and `Usage: sheetnet build [OPTIONS] {output}`;
    a flag takes no value and braces are no shell syntax, so both only puzzle a reader.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [re.sub(r"^\{(.*)\}", r"\1", piece) for piece in super().collect_usage_pieces(ctx)]


class _Group(typer.core.TyperGroup):
    """The app: a usage error (`--iters abc`) is one line and exit 2, like every other error."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:  # `sheetnet` alone: the help
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            message = " ".join(exc.format_message().split()).rstrip(".")
            where = exc.ctx.command_path if exc.ctx else "sheetnet"
            typer.echo(f"sheetnet: error: {message}; see `{where} --help`", err=True)
            sys.exit(2)
        except click_errors.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn a small neural network into a workbook where every number of training is a formula.",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sheetnet {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Turn a small neural network into a workbook where every number of training is a formula."""


INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report a SheetnetError as one line on stderr and exit 2, with no traceback.

    Ctrl-C is one line too, exit 130: every output is written to a temporary file renamed into
    place only when complete (atomic.py), so an interrupted command leaves the old file as it was.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SheetnetError as exc:
            typer.echo(f"sheetnet: error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("sheetnet: interrupted; the unfinished file was discarded, an earlier one "
                       "left as it was", err=True)
            raise typer.Exit(INTERRUPTED) from None

    return wrapper


def _choose_spec(
    template: str | None, config: Path | None, iters: int | None, lr: float | None = None,
    optimizer: str | None = None,
) -> Spec:
    if template and config:
        raise SheetnetError("give either --template or --config, not both")
    spec = api.load_spec(config) if config else api.template(template or DEFAULT_TEMPLATE)
    if optimizer is not None:
        spec = _with_optimizer(spec, optimizer)
    changes: dict[str, Any] = {}
    if iters is not None:
        if iters < 1:
            raise SheetnetError(f"--iters must be a positive integer, got {iters}")
        changes["iterations"] = iters
    if lr is not None:
        if not (lr > 0 and math.isfinite(lr)):  # inf and nan alike
            raise SheetnetError(f"--lr must be a positive number, got {lr}")
        changes["learning_rate"] = lr
    return spec.replace(**changes) if changes else spec


def _with_optimizer(spec: Spec, name: str) -> Spec:
    """The spec trained by --optimizer, with that optimizer's default hyperparameters."""
    from sheetnet.model.optimizers import NAMES
    from sheetnet.model.spec import with_optimizer

    if name not in NAMES:
        raise SheetnetError(f"--optimizer: unknown optimizer {name!r}; expected one of: {', '.join(NAMES)}")
    return spec if name == spec.optimizer else with_optimizer(spec, name)


def _with_batches(
    spec: Spec, mode: str | None, batch_size: int | None, shuffle: bool | None, seed: int | None
) -> Spec:
    """The spec with --mode, --batch-size, --shuffle and --seed applied (validated again)."""
    if mode is None and batch_size is None and shuffle is None and seed is None:
        return spec
    if mode is None:
        mode = "minibatch" if batch_size is not None else spec.mode
    if mode == "batch":
        if batch_size is not None or shuffle or seed is not None:
            raise SheetnetError("--batch-size, --shuffle and --seed need --mode sgd or minibatch")
        return spec.replace(mode="batch", batch_size=0, shuffle=False, seed=0)
    if mode == "sgd" and batch_size not in (None, 1):
        raise SheetnetError(f"--batch-size {batch_size} needs --mode minibatch (or no --mode);"
                            " --mode sgd updates after each single sample")
    if mode == "minibatch" and batch_size is None:
        if spec.mode != "minibatch":
            raise SheetnetError(f"--mode minibatch needs --batch-size N, a divisor of the"
                                f" {counted(spec.n_samples, 'sample')}")
        batch_size = spec.batch_size
    shuffle = spec.shuffle if shuffle is None else shuffle
    if seed is not None and not shuffle:
        raise SheetnetError("--seed orders the samples only with --shuffle")
    return spec.replace(mode=mode, batch_size=batch_size if mode == "minibatch" else 1,
                        shuffle=shuffle, seed=spec.seed if seed is None else seed)


WORKBOOK_HELP = "A workbook written by `sheetnet build`."
TemplateOpt = Annotated[
    str | None, typer.Option("--template", "-t", help="Template name (see `sheetnet templates`).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="A network spec TOML file.")
]
ItersOpt = Annotated[
    int | None, typer.Option("--iters", "-n", help="Iterations (overrides the spec).")
]
LrOpt = Annotated[float | None, typer.Option("--lr", help="Learning rate (overrides the spec).")]
OptimizerOpt = Annotated[str | None, typer.Option(
    "--optimizer", help="sgd, momentum, nesterov, rmsprop, adagrad, adam or adamw, with torch's"
    " default hyperparameters (overrides the spec).")]


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command(cls=_Command)
@friendly_errors
def build(
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="The .xlsx file to write.")],
    template: TemplateOpt = None,
    config: ConfigOpt = None,
    iters: ItersOpt = None,
    lr: LrOpt = None,
    optimizer: OptimizerOpt = None,
    lang: Annotated[str, typer.Option(help="Language of labels and sheets: en or zh.")] = "en",
    summary_every: Annotated[int | None, typer.Option(
        "--summary-every", metavar="K",
        help="Summary sheet: every K-th iteration (besides t = 0, 1, 2, 5, 10, 20, 50, … and the last).",
    )] = None,
    compare_lr: Annotated[str | None, typer.Option(
        "--compare-lr", metavar="RATES",
        help="Add a sheet training the same network with each learning rate, e.g. 0.1,0.5,2.",
    )] = None,
    compare_optim: Annotated[str | None, typer.Option(
        "--compare-optim", metavar="OPTIMIZERS",
        help="Add a sheet training the same network with each optimizer, e.g. sgd,momentum,adam.",
    )] = None,
    decision_map: Annotated[int | None, typer.Option(
        "--decision-map", metavar="N",
        help="Add a live N × N decision map (two inputs, one output) or an N-point fitted curve"
        " (one input, one output), e.g. 30.",
    )] = None,
    paper: Annotated[str, typer.Option(help="Paper size for printing: a4 or letter.")] = "a4",
    pdf: Annotated[Path | None, typer.Option(
        help="Also print a handout to this PDF: every sheet but only Training's first page (LibreOffice).",
    )] = None,
    mode: Annotated[str | None, typer.Option(
        help="Samples per update: batch (all), sgd (one) or minibatch (--batch-size).")] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", help="Samples per update in minibatch mode (a divisor of the samples).")] = None,
    shuffle: Annotated[bool | None, typer.Option(
        "--shuffle/--no-shuffle", help="Shuffle the samples every epoch (sgd/minibatch).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the shuffle (default 0).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write the training workbook: one row per iteration, every number a live formula."""
    from sheetnet.sheets.decision_map import check_grid
    from sheetnet.sheets.optimizers_sheet import parse_optimizers
    from sheetnet.sheets.rates import parse_rates

    if output.suffix.lower() != ".xlsx":  # before the spec: a wrong name is the first thing to say
        raise SheetnetError(f"{output}: the output must be an .xlsx file")
    check_target(output)
    spec = _with_batches(_choose_spec(template, config, iters, lr, optimizer), mode, batch_size, shuffle,
                         seed)
    rates = parse_rates(compare_lr) if compare_lr is not None else ()
    compared = parse_optimizers(compare_optim) if compare_optim is not None else ()
    if decision_map is not None:
        check_grid(spec, decision_map)
    if pdf is not None:
        _check_pdf_target(pdf)  # before the workbook, so a missing LibreOffice writes nothing
    with _sheetnet_warnings(), terminal_progress(_shows_progress(quiet)) as progress:
        api.build(spec, output, lang=lang, paper=paper, compare_lr=rates, summary_every=summary_every,
                  progress=progress, compare_optim=compared, decision_map=decision_map or 0)
    # Said before the PDF is printed: if printing fails or is interrupted, the workbook is there.
    typer.echo(f"wrote {output} ({counted(spec.iterations, 'iteration')} of {spec.in_language(lang).title})")
    if pdf is not None:
        with terminal_progress(_shows_progress(quiet)) as progress:
            api.pdf(output, pdf, progress=progress)
        typer.echo(f"wrote {pdf}")


def _check_pdf_target(pdf: Path) -> None:
    from sheetnet.sheets.printing import check_pdf_path, ensure_libreoffice

    check_pdf_path(pdf)
    ensure_libreoffice()


def _shows_progress(quiet: bool) -> bool:
    """A progress bar only for a person at a terminal: never into a pipe, a log or with --quiet."""
    return not quiet and stderr_is_terminal()


@contextmanager
def _sheetnet_warnings() -> Iterator[None]:
    """Show a SheetnetWarning (a run that diverged, a sheet past 2 GiB) as one line on stderr
    (exit code unchanged); others as usual."""
    from sheetnet.errors import SheetnetWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SheetnetWarning)
        yield
    for w in caught:
        if issubclass(w.category, SheetnetWarning):
            typer.echo(f"sheetnet: warning: {w.message}", err=True)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


@app.command("pdf", cls=_Command)
@friendly_errors
def pdf_command(
    workbook: Annotated[Path, typer.Argument(metavar="WORKBOOK", help=WORKBOOK_HELP)],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="The PDF file to write.")],
    all_sheets: Annotated[bool, typer.Option(
        "--all", help="Print every sheet in full, not the handout (Training: every iteration).")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Print a handout of a workbook to a PDF through headless LibreOffice (--all: every sheet)."""
    with terminal_progress(_shows_progress(quiet)) as progress:
        api.pdf(workbook, output, all_sheets=all_sheets, progress=progress)
    typer.echo(f"wrote {output}")


@app.command(cls=_Command)
@friendly_errors
def check(
    workbook: Annotated[Path, typer.Argument(metavar="WORKBOOK", help=WORKBOOK_HELP)],
    engine: Annotated[str, typer.Option(
        help="formulas, libreoffice, gnumeric, ironcalc or all (ironcalc where installed).")] = "formulas",
    rtol: Annotated[float, typer.Option(help="Least relative tolerance of every cell.")] = 1e-9,
    strict: Annotated[bool, typer.Option(help="Fail (exit 1) on stale stored values too.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also print the first wrong cell's whole formulas.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Recompute the workbook's formulas and compare every cell with the NumPy core."""
    from sheetnet.engines import ironcalc
    from sheetnet.verify.report import ENGINES, table, to_json

    # IronCalc is an optional extra: "all" takes it where it is installed.
    every = tuple(e for e in ENGINES if e != "ironcalc" or ironcalc.available())
    engines = every if engine == "all" else (engine,)
    with terminal_progress(_shows_progress(quiet or json)) as progress:
        reports = [api.check(workbook, engine=e, rtol=rtol, strict=strict, progress=progress)
                   for e in engines]
    if json:
        typer.echo(to_json(reports))
    else:
        typer.echo(table(reports, verbose) if len(reports) > 1 else reports[0].summary(verbose))
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command(cls=_Command)
@friendly_errors
def train(
    template: TemplateOpt = None,
    config: ConfigOpt = None,
    iters: ItersOpt = None,
    lr: LrOpt = None,
    optimizer: OptimizerOpt = None,
    csv: Annotated[Path | None, typer.Option(help="Write every iteration to this CSV file.")] = None,
) -> None:
    """Train with the NumPy reference core only and print (or save) the trajectory."""
    from sheetnet.model.tables import overview, write_csv

    if csv is not None and csv.suffix.lower() != ".csv":
        raise SheetnetError(f"{csv}: the table is CSV text; give a name ending in .csv")
    spec = _choose_spec(template, config, iters, lr, optimizer)
    with _sheetnet_warnings():
        frame = api.train(spec)
    if csv is not None:
        write_csv(frame, csv)
        typer.echo(f"wrote {csv} ({len(frame)} rows, {len(frame.columns)} columns)")
    else:
        shown = overview(spec, frame)
        typer.echo(shown.to_string(index=False, max_rows=20))
        typer.echo(f"({len(shown.columns)} of {len(frame.columns)} columns; --csv run.csv writes them all)")


@app.command(cls=_Command)
@friendly_errors
def templates() -> None:
    """List the network templates: name, shape and title."""
    for name in api.templates():
        spec = api.template(name)
        shape = "-".join(map(str, spec.sizes))
        if spec.layered:  # one sample's shape, then the outputs: 1×4×4-2
            shape = "×".join(map(str, spec.input_shape)) + f"-{spec.sizes[-1]}"
        default = " (default)" if name == DEFAULT_TEMPLATE else ""
        typer.echo(f"{name:<26} {shape:<10} {spec.title}{default}")


# --- the classroom kit -----------------------------------------------------------------------

AskOpt = Annotated[str | None, typer.Option(
    help="Groups asked, comma-separated: forward, loss, backward, gradients, update (default: all).")]
LangOpt = Annotated[str, typer.Option(help="Language of labels and sheets: en or zh.")]


@app.command(cls=_Command)
@friendly_errors
def exercise(
    output: Annotated[Path, typer.Argument(help="The practice workbook (.xlsx) to write.")],
    template: TemplateOpt = None,
    config: ConfigOpt = None,
    iters: ItersOpt = None,
    lang: LangOpt = "en",
    ask: AskOpt = None,
    sig_figs: Annotated[int, typer.Option("--sig-figs", help="Significant figures an answer needs.")] = 4,
    paper: Annotated[str, typer.Option(help="Paper size for printing: a4 or letter.")] = "a4",
    pdf: Annotated[Path | None, typer.Option(
        help="Also print a handout to this PDF: Guide, Network, the blank Exercise (LibreOffice).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a practice workbook: the full workbook plus an Exercise sheet that checks each answer live."""
    if output.suffix.lower() != ".xlsx":
        raise SheetnetError(f"{output}: the output must be an .xlsx file")
    spec = _choose_spec(template, config, iters)
    with _sheetnet_warnings(), terminal_progress(_shows_progress(quiet)) as progress:
        api.exercise(spec, output, ask=ask, sig_figs=sig_figs, lang=lang, paper=paper, pdf=pdf,
                     progress=progress)
    typer.echo(f"wrote {output} (an exercise on {spec.in_language(lang).title})")
    if pdf is not None:
        typer.echo(f"wrote {pdf}")


def _sig_figs(n: int) -> int:
    if not 1 <= n <= 12:
        raise SheetnetError(f"--sig-figs must be between 1 and 12, got {n}")
    return n


@app.command("class", cls=_Command)
@friendly_errors
def class_command(
    roster: Annotated[Path, typer.Argument(help="CSV with a header, an id column and maybe a name column.")],
    folder: Annotated[Path, typer.Argument(help="The class folder to write (students/, key/, class.toml).")],
    template: TemplateOpt = None,
    config: ConfigOpt = None,
    secret: Annotated[str | None, typer.Option(
        help="The class secret: the numbers are drawn from it.")] = None,
    vary: Annotated[str | None, typer.Option(
        help="What varies, comma-separated: inputs, targets, weights, biases, lr "
             "(default: inputs,targets,weights,biases).")] = None,
    decimals: Annotated[int, typer.Option(help="Decimals of the drawn numbers.")] = 2,
    ask: AskOpt = None,
    lang: LangOpt = "en",
    sig_figs: Annotated[int, typer.Option("--sig-figs", help="Significant figures an answer needs.")] = 4,
    paper: Annotated[str, typer.Option(help="Paper size for printing: a4 or letter.")] = "a4",
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also print each student's file to students/<id>.pdf (LibreOffice).")] = False,
    jobs: Annotated[int | None, typer.Option(
        help="Worker processes writing the students' files (default: one per core; 1: none).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a class: a workbook with different numbers for every student, and their keys."""
    from sheetnet.classroom.roster import read_roster

    spec = _choose_spec(template, config, None)
    name = template or (config.name if config else DEFAULT_TEMPLATE)
    with _sheetnet_warnings(), terminal_progress(_shows_progress(quiet)) as progress:
        api.make_class(spec, roster, folder, secret=secret or "", vary=vary, decimals=decimals, ask=ask,
                       lang=lang, sig_figs=sig_figs, paper=paper, pdf=pdf, template_name=name,
                       progress=progress, jobs=jobs)
    typer.echo(f"wrote {folder}: {len(read_roster(roster))} students, each with their own numbers "
               "(students/), their keys (key/) and class.toml")


@app.command(cls=_Command)
@friendly_errors
def grade(
    folder: Annotated[Path, typer.Argument(help="The class folder `sheetnet class` wrote.")],
    submissions: Annotated[list[Path], typer.Argument(help="The students' files (.xlsx).")],
    gradebook: Annotated[Path | None, typer.Option(help="Write the gradebook to this CSV file.")] = None,
    feedback: Annotated[Path | None, typer.Option(
        help="Write one feedback workbook per student here.")] = None,
    ecf_credit: Annotated[float, typer.Option(
        "--ecf-credit", help="Credit for an answer right from the student's own earlier answers.")] = 1.0,
    sig_figs: Annotated[int, typer.Option("--sig-figs", help="Significant figures an answer needs.")] = 4,
    fmt: Annotated[str, typer.Option(
        "--format", help="The gradebook's format: plain, canvas, moodle or blackboard.")] = "plain",
    assignment: Annotated[str, typer.Option(
        help="The score column's name in a platform's gradebook.")] = "Exercise",
    previous: Annotated[Path | None, typer.Option(
        help="An earlier gradebook: print what changed for each student.")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Write the class report workbook (item analysis) to this .xlsx file.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Grade submissions against each student's own key, with error carried forward."""
    with terminal_progress(_shows_progress(quiet)) as progress:
        grades = api.grade(folder, submissions, gradebook=gradebook, feedback=feedback,
                           ecf_credit=ecf_credit, sig_figs=sig_figs, progress=progress, fmt=fmt,
                           assignment=assignment, previous=previous, report=report)
    for line in grades.warnings:
        typer.echo(line, err=True)
    for line in grades.summary:
        typer.echo(line)
    for line in grades.items:
        typer.echo(line)
    if report is not None:
        typer.echo(f"wrote {report}")
    if previous is not None:
        name = previous.name
        typer.echo(f"changes since {name}:" if grades.changes else f"no changes since {name}")
        for line in grades.changes:
            typer.echo(line)
    if gradebook is not None:
        typer.echo(f"wrote {gradebook} (tolerance: {sig_figs} significant figures)")


@app.command(cls=_Command)
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; other than loopback needs a token.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        help="A token every request must carry (made and printed when --host is not loopback).")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the console in the browser.")] = False,
) -> None:
    """The teacher's console in the browser: build, exercise, class, grade and check."""
    from sheetnet.web.serve import serve as run_console

    run_console(host, port, token, open_browser, echo=typer.echo)


@app.command(cls=_Command)
@friendly_errors
def schema() -> None:
    """Print the spec's JSON Schema (sheetnet.schema.json, for TOML editors)."""
    import json

    from sheetnet.model.fields import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def main() -> None:
    """`python -m sheetnet` and the `sheetnet` script."""
    app(prog_name="sheetnet")
