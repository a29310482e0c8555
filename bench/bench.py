"""Benchmark: build speed and memory, `check` against LibreOffice's and Gnumeric's recalculation.

    python bench/bench.py            # bp_demo at 1,000 and 10,000 iterations, the wide net at 2,000,
                                     # the iris template at 3,000
    python bench/bench.py --quick    # a tenth of the iterations; writes no results file
    python bench/bench.py --templates 100000   # also every template at 100,000 iterations:
                                     # build and check only
    python bench/bench.py --all-templates-100k # the same
    python bench/bench.py --no-main --layers   # cnn-stripes, rnn-sequence, attention-marker at
                                     # 1,000 and 10,000 iterations, timed against both engines
    python bench/bench.py --huge     # also seed-004-2-2-2 at 1,048,570 iterations, Excel's
                                     # largest sheet: build and check only (not for CI)
    python bench/bench.py --all-templates-100k --huge --readme   # the READMEs' table: one run
                                     # saved to bench/results.json and written into both READMEs

Every measurement in Python runs in a child process of its own (this script with `--child`),
so each peak memory figure is that child's own peak resident set size (getrusage(RUSAGE_SELF)
.ru_maxrss at its end) and nothing of one run lingers into the next. That peak includes the
interpreter with NumPy and pandas loaded, so the RSS after imports is reported too.
LibreOffice is timed as a whole (`soffice --convert-to xlsx` with recalculation on load),
startup included, and so is Gnumeric (`ssconvert --recalc`); the check is judged against the
faster of the two. The baseline is openpyxl's write_only mode writing the same number of formula
cells (the Training sheet's formula texts, without stored values), measured in the same run, so
the build rate is also given as a ratio that does not depend on the machine.
Never part of the test suite (pytest only collects tests/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECK_TARGET = 0.5  # check seconds / the faster engine's seconds should stay at or below this
HUGE_ITERATIONS = 1_048_570  # Excel's 1,048,576 rows less the header rows and row t = 0


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # a template name or a TOML file in bench/
    iterations: int
    engines: bool = True  # also time LibreOffice, Gnumeric and the openpyxl baseline
    decision_map: int = 0  # points per side of a Decision map sheet (0: none)


def cases(quick: bool) -> list[Case]:
    scale = 10 if quick else 1
    return [
        Case(f"bp_demo {1000 // scale:,}", "seed-001-bp-demo", 1000 // scale),
        Case(f"bp_demo {10000 // scale:,}", "seed-001-bp-demo", 10000 // scale),
        Case(f"wide 4-16-16-3 {2000 // scale:,}", "wide.toml", 2000 // scale),
        # CSV data, standardised, softmax, minibatches of 10 with INDEX lookups: 200 epochs.
        Case(f"iris minibatch {3000 // scale:,}", "iris", 3000 // scale),
        # The live decision map: 25 × 25 points, each a forward pass at iteration t.
        Case(f"xor decision map 25 {1000 // scale:,}", "xor", 1000 // scale, decision_map=25),
    ]


LAYERED = ("cnn-stripes", "rnn-sequence", "attention-marker")


def layer_cases(quick: bool) -> list[Case]:
    """The networks of layers (issue 20) at 1,000 and 10,000 iterations, timed against both
    engines (a tenth with --quick)."""
    scale = 10 if quick else 1
    return [Case(f"{name} {n // scale:,}", name, n // scale)
            for name in LAYERED for n in (1000, 10000)]


# --- child processes: one measurement each, a JSON line on stdout ---------------------------


def _load(source: str, iterations: int) -> Any:
    from sheetnet.model.spec import load_spec, load_template

    spec = load_spec(HERE / source) if source.endswith(".toml") else load_template(source)
    return spec.replace(iterations=iterations)


def _peak_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _children_peak_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child's peak


def child_build(source: str, iterations: str, out: str, decision_map: str = "0") -> dict[str, Any]:
    from sheetnet.sheets.context import BuildOptions
    from sheetnet.sheets.writer import build_workbook

    spec = _load(source, int(iterations))
    imported = _peak_kib()
    start = time.perf_counter()
    build_workbook(spec, Path(out), options=BuildOptions(decision_map=int(decision_map)))
    return {"seconds": time.perf_counter() - start, "peak_kib": _peak_kib(), "import_kib": imported}


def child_check(path: str, huge: str = "") -> dict[str, Any]:
    try:
        from sheetnet.verify import untrusted
        from sheetnet.verify.run import run_check
    except ImportError:  # a tree without the check engine: the bench still runs
        return {"available": False}
    if huge:  # the bench's own file: lift the limit that guards against zip bombs
        untrusted.MAX_UNPACKED_BYTES = 1 << 40
    start = time.perf_counter()
    report = run_check(Path(path), engine="formulas")
    seconds = time.perf_counter() - start
    cells, wrong = getattr(report, "cells", None), getattr(report, "wrong", None)
    if report.ok:
        result = "OK" if cells is None else f"OK, {cells:,} cells"
    else:
        result = "FAIL" if wrong is None else f"FAIL, {wrong:,} of {cells:,} cells wrong"
    # The reference training runs in a forked process of its own (verify/trajectory.py).
    return {"available": True, "seconds": seconds, "peak_kib": _peak_kib(),
            "children_kib": _children_peak_kib(), "result": result}


def child_openpyxl(source: str, iterations: str, cells: str) -> dict[str, Any]:
    """Write `cells` formula cells with openpyxl write_only: the Training sheet's formula texts."""
    from openpyxl import Workbook

    from sheetnet.sheets.layered_network import network_layout
    from sheetnet.sheets.layout import TrainingLayout

    spec = _load(source, int(iterations))
    training = TrainingLayout(spec, network_layout(spec), "Network")
    templates = [training.template(c.formula) for c in training.columns if c.formula is not None]
    start = time.perf_counter()
    book = Workbook(write_only=True)
    book.create_sheet("Network")
    sheet = book.create_sheet("Training")
    left, row = int(cells), 4
    while left > 0:
        texts = templates[:left]
        sheet.append([row - 3, *(t.format(r=row, p=row - 1) for t in texts)])
        left -= len(texts)
        row += 1
    with tempfile.TemporaryDirectory() as tmp:
        book.save(Path(tmp) / "baseline.xlsx")
    return {"seconds": time.perf_counter() - start, "peak_kib": _peak_kib()}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "build": child_build, "check": child_check, "openpyxl": child_openpyxl,
}


def _children_cpu() -> float:
    """CPU seconds (user and system) of every finished child process and its descendants: an
    engine's or a check's CPU time does not depend on how many other jobs share the machine, as
    its wall-clock time does."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def in_child(task: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; {"error": ...} if it fails or times out.
    process_seconds: the child's whole life, Python's start-up and the imports included."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", task, *args]
    start, cpu = time.perf_counter(), _children_cpu()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1]}
    seconds = time.perf_counter() - start
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": seconds,
            "process_cpu": _children_cpu() - cpu}


# --- measurements in this process ---------------------------------------------------------


def count_formulas(path: Path) -> int:
    """Formula cells (`<f>` elements) in every worksheet of the file, read as a stream."""
    pattern = re.compile(rb"<f[ >]")
    total = 0
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            with book.open(name) as xml:
                tail = b""
                while chunk := xml.read(1 << 22):
                    data = tail + chunk
                    total += len(pattern.findall(data))
                    tail = data[-2:]  # too short to hold a whole match, enough to complete one
    return total


def libreoffice_seconds(path: Path, timeout: float) -> dict[str, Any]:
    from sheetnet.engines.libreoffice import LibreOfficeError, find_soffice, recalculate

    if find_soffice() is None:
        return {"error": "LibreOffice not installed"}
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), _children_cpu()
        try:
            recalculate(path, Path(tmp) / "recalculated.xlsx", timeout=timeout)
        except LibreOfficeError as exc:
            return {"error": str(exc)}
        return {"seconds": time.perf_counter() - start, "cpu": _children_cpu() - cpu}


def gnumeric_seconds(path: Path, timeout: float) -> dict[str, Any]:
    """Gnumeric's full recalculation and save of the file (`ssconvert --recalc`), startup included."""
    ssconvert = shutil.which("ssconvert")
    if ssconvert is None:
        return {"error": "Gnumeric (ssconvert) not installed"}
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), _children_cpu()
        try:
            done = subprocess.run([ssconvert, "--recalc", str(path), str(Path(tmp) / "recalculated.xlsx")],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:g} s"}
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
        return {"seconds": time.perf_counter() - start, "cpu": _children_cpu() - cpu}


def measure(case: Case, workdir: Path, timeout: float) -> dict[str, Any]:
    print(f"== {case.name}", file=sys.stderr, flush=True)
    path = workdir / f"{case.source.removesuffix('.toml')}-{case.iterations}.xlsx"
    row: dict[str, Any] = {"case": case, "load": load(), "build": in_child(
        "build", case.source, str(case.iterations), str(path), str(case.decision_map), timeout=timeout)}
    if "error" in row["build"]:
        return row
    row["cells"] = count_formulas(path)
    row["bytes"] = path.stat().st_size
    print("   built; checking", file=sys.stderr, flush=True)
    huge = "huge" if not case.engines else ""  # the bench's own big files: no zip-bomb limit
    row["check"] = in_child("check", str(path), huge, timeout=timeout)
    if case.engines:
        print("   LibreOffice", file=sys.stderr, flush=True)
        row["libreoffice"] = libreoffice_seconds(path, timeout)
        print("   Gnumeric", file=sys.stderr, flush=True)
        row["gnumeric"] = gnumeric_seconds(path, timeout)
        print("   openpyxl baseline", file=sys.stderr, flush=True)
        row["openpyxl"] = in_child("openpyxl", case.source, str(case.iterations), str(row["cells"]),
                                   timeout=timeout)
    path.unlink()
    row["load_after"] = load()
    # Each case's figures as soon as it is done: a long run stopped early still leaves them.
    print("   " + "; ".join(f"{k}: {v}" for k, v in metrics(row)), file=sys.stderr, flush=True)
    return row


# --- report -------------------------------------------------------------------------------


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _secs(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    if result.get("available") is False:
        return "n/a"
    return f"{result['seconds']:,.2f} s"


def _rate(cells: int, result: dict[str, Any]) -> float | None:
    return cells / result["seconds"] if "seconds" in result else None


def metrics(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, value) pairs of one case, in table order."""
    build = row["build"]
    if "error" in build:
        return [("iterations", f"{row['case'].iterations:,}"), ("build", f"error: {build['error']}")]
    cells = row["cells"]
    none = {"error": "not run"}
    check, office, base = row["check"], row.get("libreoffice", none), row.get("openpyxl", none)
    gnumeric = row.get("gnumeric", none)
    build_rate, base_rate = _rate(cells, build), _rate(cells, base)
    engines = [e["seconds"] for e in (office, gnumeric) if "seconds" in e]
    ratio = process_ratio = "n/a"
    if "seconds" in check and engines:
        ratio = f"{check['seconds'] / min(engines):.2f} (target ≤ {CHECK_TARGET:g})"
        process_ratio = f"{check['process_seconds'] / min(engines):.2f}"
    engine_cpu = [e["cpu"] for e in (office, gnumeric) if "cpu" in e]
    cpu_ratio = "n/a"
    if "process_cpu" in check and engine_cpu:
        cpu_ratio = f"{check['process_cpu'] / min(engine_cpu):.2f}"
    return [
        ("iterations", f"{row['case'].iterations:,}"),
        ("formula cells written", f"{cells:,}"),
        ("build seconds", _secs(build)),
        ("build cells/s", f"{build_rate:,.0f}"),
        ("build peak RSS (RSS after imports)",
         f"{_mib(build['peak_kib'])} ({_mib(build['import_kib'])})"),
        ("file size", f"{row['bytes'] / 1e6:,.1f} MB"),
        ("check seconds (formulas engine)", _secs(check)),
        ("check process seconds (start-up and imports included)",
         f"{check['process_seconds']:,.2f} s" if "process_seconds" in check else "n/a"),
        ("check peak RSS (reference training process)",
         f"{_mib(check['peak_kib'])} ({_mib(check['children_kib'])})" if "peak_kib" in check else "n/a"),
        ("check result", check.get("result", "n/a")),
        ("LibreOffice recalculation seconds", _secs(office)),
        ("Gnumeric recalculation seconds", _secs(gnumeric)),
        ("check CPU seconds, both processes (start-up included)",
         f"{check['process_cpu']:,.2f} s" if "process_cpu" in check else "n/a"),
        ("LibreOffice / Gnumeric CPU seconds", " / ".join(
            f"{e['cpu']:,.2f} s" if "cpu" in e else "n/a" for e in (office, gnumeric))),
        ("check / faster engine", ratio),
        ("check process / faster engine (both with start-up)", process_ratio),
        ("check CPU / the engine of least CPU (both with start-up)", cpu_ratio),
        ("openpyxl write_only baseline cells/s", f"{base_rate:,.0f}" if base_rate else _secs(base)),
        ("build rate / baseline rate",
         f"{build_rate / base_rate:.2f}×" if build_rate and base_rate else "n/a"),
        ("load average before / after", f"{row.get('load', '?')} / {row.get('load_after', '?')}"),
    ]


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Metric rows × case columns; the first row holds the case names."""
    per_case = [dict(metrics(row)) for row in rows]
    names = list(dict.fromkeys(name for m in per_case for name in m))
    header = ["", *(row["case"].name for row in rows)]
    return [header, *([name, *(m.get(name, "") for m in per_case)] for name in names)]


def memory_growth(rows: list[dict[str, Any]]) -> str:
    small, large = rows[0], rows[1]  # the two bp_demo sizes
    if "error" in small["build"] or "error" in large["build"]:
        return "memory growth: n/a (a build failed)"
    a, b = small["build"], large["build"]
    n_a, n_b = small["case"].iterations, large["case"].iterations
    return (f"build peak RSS at {n_a:,} vs {n_b:,} iterations: {_mib(a['peak_kib'])} vs "
            f"{_mib(b['peak_kib'])} ({_mib(a['peak_kib'] - a['import_kib'])} vs "
            f"{_mib(b['peak_kib'] - b['import_kib'])} above the RSS after imports)")


def render_text(grid: list[list[str]]) -> str:
    widths = [max(len(r[c]) for r in grid) for c in range(len(grid[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(grid: list[list[str]]) -> str:
    lines = ["| " + " | ".join(r) + " |" for r in grid]
    lines.insert(1, "|" + "|".join([" --- "] + [" ---: "] * (len(grid[0]) - 1)) + "|")
    return "\n".join(lines)


def load() -> str:
    """The machine's 1-minute load average: other work running alongside slows every figure."""
    return f"{os.getloadavg()[0]:.1f}"


def environment() -> str:
    import openpyxl
    import xlsxwriter

    from sheetnet.engines.libreoffice import find_soffice

    soffice = find_soffice()
    office = "not installed"
    if soffice:
        office = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                                timeout=120).stdout.strip() or "unknown version"
    return (f"Python {platform.python_version()}, XlsxWriter {xlsxwriter.__version__}, "
            f"openpyxl {openpyxl.__version__}, {office}, {os.cpu_count()} CPUs, "
            f"{platform.system()} {platform.machine()}")


def write_results(path: Path, grids: list[list[list[str]]], growth: str, env: str) -> None:
    tables = "\n\n".join(render_markdown(grid) for grid in grids)
    text = f"""# Benchmark results

Written by `python bench/bench.py` on {time.strftime('%Y-%m-%d')}: {env}.

{tables}

{growth}.

Build seconds cover the whole `build_workbook`: the NumPy reference training, every sheet,
charts and the zip. Peak memory is the child process's own peak resident set size (getrusage
ru_maxrss); it includes Python with NumPy and pandas loaded, shown in brackets as the RSS
after imports. The check trains the NumPy reference in a forked process of its own while it
reads the workbook; that process's peak is given in brackets.
LibreOffice seconds are a headless `--convert-to xlsx` with recalculation on load, Gnumeric
seconds an `ssconvert --recalc` to xlsx, both startup included; the check is compared with
the faster of the two. The check's process seconds are its whole child process, Python's
start-up and imports included; CPU seconds are user and system time of a process and its
descendants (for the check, its forked training process too), which the machine's load does
not change as it changes wall-clock time. The baseline is openpyxl write_only writing the
same number of formula cells (plain formula text, no stored values) on the same machine in
the same run.
"""
    path.write_text(text, encoding="utf-8")


def extra_cases(templates: int | None, names: list[str] | None, huge: bool) -> list[Case]:
    """Build-and-check cases: the templates at `templates` iterations; Excel's largest sheet."""
    from sheetnet.model.spec import load_template, template_names

    # The networks of layers are timed apart (--layers): every template means every dense one.
    every = [name for name in template_names() if not load_template(name).layered]
    extra = [Case(f"{name} {templates:,}", name, templates, engines=False)
             for name in names or every] if templates else []
    if huge:
        extra.append(Case(f"seed-004-2-2-2 {HUGE_ITERATIONS:,}", "seed-004-2-2-2", HUGE_ITERATIONS,
                          engines=False))
    return extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the iterations")
    parser.add_argument("--results", type=Path, default=None,
                        help="markdown file to write (default bench/results.md, none with --quick)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds allowed for each measurement (default 1800)")
    parser.add_argument("--templates", type=int, metavar="N", default=None,
                        help="also build and check every template at N iterations")
    parser.add_argument("--all-templates-100k", action="store_true",
                        help="also build and check every template at 100,000 iterations")
    parser.add_argument("--names", type=lambda text: text.split(","), default=None,
                        help="with --templates: only these templates (comma-separated)")
    parser.add_argument("--huge", action="store_true",
                        help=f"also build and check seed-004-2-2-2 at {HUGE_ITERATIONS:,} iterations")
    parser.add_argument("--no-main", action="store_true", help="skip the four cases timed against engines")
    parser.add_argument("--layers", action="store_true",
                        help="also time the networks of layers at 1,000 and 10,000 iterations "
                             "against both engines")
    parser.add_argument("--readme", action="store_true",
                        help="also save bench/results.json and write its table into both READMEs")
    args = parser.parse_args()
    if args.all_templates_100k:
        args.templates = 100_000
    results = args.results or (None if args.quick or args.no_main else HERE / "results.md")
    load_before = load()
    main_cases = [] if args.no_main else cases(args.quick)
    main_cases += layer_cases(args.quick) if args.layers else []
    more_cases = extra_cases(args.templates, args.names, args.huge)
    with tempfile.TemporaryDirectory(prefix="sheetnet-bench-") as tmp:
        rows = [measure(case, Path(tmp), args.timeout) for case in main_cases]
        extra = [measure(case, Path(tmp), args.timeout) for case in more_cases]
    grids = [table(r) for r in (rows, extra) if r]
    growth = memory_growth(rows) if len(rows) >= 2 else ""
    env = f"{environment()}, load average {load_before} before and {load()} after"
    print(env)
    for grid in grids:
        print(render_text(grid))
    print(growth)
    if results is not None:
        write_results(results, grids, growth, env)
        print(f"wrote {results}")
    if args.readme:
        import readme

        machine = f"{os.cpu_count()} CPUs, load {load_before}"
        run = readme.save(rows + extra, " ".join(sys.argv[1:]), time.strftime("%Y-%m-%d"), machine)
        readme.update_readmes(run)
        print(f"wrote {readme.RESULTS_JSON} and the READMEs' performance tables")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
    else:
        main()
