"""Which engine computes which workbook: every template and option, checked in every engine.

    python bench/engines.py            # every case in formulas, LibreOffice, Gnumeric and IronCalc
    python bench/engines.py --docs     # also write the table into docs/check.md

Each case is built with the command line (as a teacher would), then `sheetnet.check` runs in
each engine that is installed. The table gives, per engine, OK or the first wrong cell, the
largest error as a share of its bound and the largest drift from NumPy, so docs/check.md's
engine table holds measured agreement, not claims. Results: bench/engines.json.
Never part of the test suite (pytest only collects tests/).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sheetnet  # noqa: E402
from sheetnet.engines import gnumeric, ironcalc  # noqa: E402
from sheetnet.engines.libreoffice import find_soffice  # noqa: E402
from sheetnet.errors import SheetnetError  # noqa: E402
from sheetnet.model.optimizers import NAMES as OPTIMIZERS  # noqa: E402
from sheetnet.model.spec import template_names  # noqa: E402

RESULTS = ROOT / "bench" / "engines.json"
DOCS = ROOT / "docs" / "check.md"
BEGIN, END = "<!-- engines table: bench/engines.py --docs -->", "<!-- end of engines table -->"


def cases() -> list[tuple[str, list[str]]]:
    """(name, build arguments): every template at its default iterations (at most 300, for the
    slower engines' sake), then the options on a template each fits."""
    out = [(t, ["-t", t, "--iters", "300"]) for t in template_names()]
    xor = ["-t", "xor", "--iters", "200"]
    out += [
        ("xor --compare-lr", [*xor, "--compare-lr", "0.1,0.5,2"]),
        ("xor --compare-optim", [*xor, "--compare-optim", "sgd,momentum,adam"]),
        ("xor --decision-map 15", [*xor, "--decision-map", "15"]),
        ("xor --lang zh", [*xor, "--lang", "zh"]),
        ("xor --mode sgd --shuffle", [*xor, "--mode", "sgd", "--shuffle", "--seed", "3"]),
        ("xor --batch-size 2", [*xor, "--batch-size", "2"]),
        ("seed-000-classification --decision-map 10",
         ["-t", "seed-000-classification", "--iters", "100", "--decision-map", "10"]),
        ("seed-000-regression --decision-map 20",
         ["-t", "seed-000-regression", "--iters", "100", "--decision-map", "20"]),
    ]
    out += [  # networks of layers at their default iterations: every block a layered Training sheet
        ("cnn-stripes --compare-lr", ["-t", "cnn-stripes", "--compare-lr", "0.1,0.5,1"]),
        ("rnn-sequence --compare-optim", ["-t", "rnn-sequence", "--compare-optim", "sgd,momentum,adam"]),
        ("attention-marker --compare-lr", ["-t", "attention-marker", "--compare-lr", "0.05,0.1,0.5"]),
    ]
    out += [(f"seed-004-2-2-2 --optimizer {o}", ["-t", "seed-004-2-2-2", "--iters", "200", "--optimizer", o])
            for o in OPTIMIZERS]
    out.append(("exercise (practice file)", ["exercise", "-t", "seed-004-2-2-2"]))
    return out


def engines() -> list[str]:
    have = {"formulas": True, "libreoffice": find_soffice() is not None,
            "gnumeric": gnumeric.find_ssconvert() is not None, "ironcalc": ironcalc.available()}
    return [e for e, ok in have.items() if ok]


def build(args: list[str], path: Path) -> None:
    command = args[0] if args[0] == "exercise" else "build"
    rest = args[1:] if command == "exercise" else args
    subprocess.run([sys.executable, "-m", "sheetnet", command, *rest, str(path)], check=True,
                   capture_output=True, text=True)


def measure(path: Path, engine: str) -> dict[str, object]:
    start = time.perf_counter()
    try:
        report = sheetnet.check(path, engine=engine)
    except SheetnetError as exc:
        return {"ok": False, "error": str(exc), "seconds": time.perf_counter() - start}
    drifts = [g.drift for g in report.groups.values() if g.drift is not None]
    return {
        "ok": report.ok, "cells": report.cells, "wrong": report.wrong,
        "max_of_bound": max((g.max_bound for g in report.groups.values()), default=0.0),
        "drift": max(drifts) if drifts else None,
        "first_wrong": report.first_wrong.describe() if report.first_wrong else None,
        "seconds": time.perf_counter() - start,
    }


def cell(result: dict[str, object]) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    if not result["ok"]:
        return f"**FAIL** {result['wrong']} cells"
    drift = "" if result["drift"] is None else f", drift {result['drift']:.0e}"
    return f"OK {result['max_of_bound']:.2g}{drift}"


def table(results: dict[str, dict[str, dict[str, object]]], names: list[str]) -> str:
    head = "| workbook | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
    rows = [f"| {case} | " + " | ".join(cell(r[e]) if e in r else "—" for e in names) + " |"
            for case, r in results.items()]
    return "\n".join([head, *rows])


def write_docs(text: str) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{text}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        raise SystemExit(f"{DOCS} has no {BEGIN} block")
    DOCS.write_text(pattern.sub(lambda _: block, doc), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="write the table into docs/check.md")
    parser.add_argument("--only", help="only the cases whose name contains this text")
    args = parser.parse_args()
    names = engines()
    results: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="sheetnet-engines-") as tmp:
        for n, (case, build_args) in enumerate(cases()):
            if args.only and args.only not in case:
                continue
            path = Path(tmp) / f"case{n}.xlsx"
            build(build_args, path)
            results[case] = {e: measure(path, e) for e in names}
            print(case, "  ".join(f"{e}: {cell(r)} ({r['seconds']:.1f} s)"
                                  for e, r in results[case].items()), flush=True)
    text = table(results, names)
    print(text)
    if args.only is None:
        RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n", encoding="utf-8")
        if args.docs:
            write_docs(text)


if __name__ == "__main__":
    main()
