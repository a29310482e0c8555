"""The READMEs' performance table: one bench run's figures, written between two markers.

`bench.py` saves each case's main figures to `bench/results.json` and calls `update_readmes`,
so the README shows exactly one recorded run; tests/test_docs.py renders the table again from
that file and fails if a README's table differs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_JSON = Path(__file__).resolve().parent / "results.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
READMES = {"en": ROOT / "README.md", "zh": ROOT / "README.zh-CN.md"}

HEADERS = {
    "en": ["workbook", "formula cells", "build", "check (+ its training process)", "LibreOffice",
           "Gnumeric", "check ÷ faster engine"],
    "zh": ["工作簿", "公式单元格", "生成", "校验（+ 其训练进程）", "LibreOffice", "Gnumeric",
           "校验 ÷ 较快的引擎"],
}
VERDICT = {"en": ("every check passed, cell by cell", "A CHECK FAILED: see its row"),
           "zh": ("每次校验逐格通过", "有校验失败：见该行")}
INTRO = {
    "en": ("`python bench/bench.py {args}`, one run on {date} ({machine}): seconds, peak memory; "
           "engines recalculate the same file (blank: not run); {verdict}. "
           "[All figures](docs/performance.md)."),
    "zh": ("`python bench/bench.py {args}`，{date} 运行一次（{machine}）：秒数与内存峰值；引擎重算同一文件"
           "（空白：未运行）；{verdict}。[全部数据](docs/performance.md)。"),
}


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """The figures of one bench case that the README shows (None where not measured)."""
    def seconds(key: str) -> float | None:
        return row.get(key, {}).get("seconds")

    build, check = row["build"], row["check"]
    engines = [s for s in (seconds("libreoffice"), seconds("gnumeric")) if s is not None]
    return {
        "case": row["case"].name, "iterations": row["case"].iterations, "cells": row.get("cells"),
        "build_s": build.get("seconds"), "build_kib": build.get("peak_kib"),
        "check_s": check.get("seconds"), "check_kib": check.get("peak_kib"),
        "training_kib": check.get("children_kib"), "result": check.get("result"),
        "libreoffice_s": seconds("libreoffice"), "gnumeric_s": seconds("gnumeric"),
        "ratio": check["seconds"] / min(engines) if engines and "seconds" in check else None,
    }


def save(rows: list[dict[str, Any]], args: str, date: str, machine: str) -> dict[str, Any]:
    run = {"args": args, "date": date, "machine": machine, "cases": [summary(r) for r in rows]}
    RESULTS_JSON.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return run


def _mib(kib: int | None) -> str:
    if kib is None:
        return "–"
    mib = kib / 1024
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:,.2f} s" if seconds < 10 else f"{seconds:,.0f} s"


def _cells(cells: int | None) -> str:
    if cells is None:
        return "–"
    return f"{cells / 1e6:.1f} M" if cells >= 1e6 else f"{cells / 1e3:,.0f} k"


MORE = {
    "en": "Every template at 100,000 iterations, from the same run: [docs/performance.md]({link}).",
    "zh": "每个模板 100,000 次迭代（同一次运行）：[docs/performance.md]({link})。",
}
LINK = "docs/performance.md#100000-iterations-of-every-template-and-excels-largest-sheet"


def shown(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The README's rows: the cases timed against both engines, and the largest sheet; the other
    cases (every template at 100,000 iterations) are in docs/performance.md."""
    largest = max(run["cases"], key=lambda c: c["iterations"])
    return [c for c in run["cases"] if c["ratio"] is not None or c is largest]


def render(run: dict[str, Any], lang: str) -> str:
    """The table and its one-line introduction, in English or Chinese."""
    passed = all(str(c["result"]).startswith("OK") for c in run["cases"])
    verdict = VERDICT[lang][0 if passed else 1]
    lines = [INTRO[lang].format(verdict=verdict, **run), "",
             "| " + " | ".join(HEADERS[lang]) + " |", "|---|" + "---:|" * (len(HEADERS[lang]) - 1)]
    for c in shown(run):
        build = f"{_secs(c['build_s'])}, {_mib(c['build_kib'])}" if c["build_s"] is not None else "failed"
        own = _mib(c["check_kib"]).removesuffix(" MiB")  # "205 + 112 MiB"
        check = (f"{_secs(c['check_s'])}, {own} + {_mib(c['training_kib'])}"
                 if c["check_s"] is not None else "failed")
        if c["result"] and not str(c["result"]).startswith("OK"):
            check += f" ({c['result']})"
        ratio = f"**{c['ratio']:.2f}**" if c["ratio"] is not None else ""
        lines.append(f"| {c['case']} | {_cells(c['cells'])} | {build} | {check} | "
                     f"{_secs(c['libreoffice_s'])} | {_secs(c['gnumeric_s'])} | {ratio} |")
    if len(shown(run)) < len(run["cases"]):
        lines += ["", MORE[lang].format(link=LINK)]
    return "\n".join(lines)


def block(text: str) -> str:
    """What a README holds between the markers."""
    return _between(text)[1].removesuffix("\n")


def _between(text: str) -> re.Match[str]:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)  # may be empty
    if match is None:
        raise ValueError(f"no {BEGIN} … {END} block")
    return match


def update_readmes(run: dict[str, Any]) -> None:
    for lang, path in READMES.items():
        text = path.read_text(encoding="utf-8")
        span = _between(text).span()
        new = f"{BEGIN}\n{render(run, lang)}\n{END}"
        path.write_text(text[:span[0]] + new + text[span[1]:], encoding="utf-8")
