"""sheetnet: a small neural network as a workbook in which every number of training is a formula.

The Python API (sheetnet/api.py), for notebooks and scripts:

    import sheetnet
    spec = sheetnet.template("seed-004-2-2-2").replace(iterations=500)
    run = sheetnet.train(spec)
    sheetnet.build(spec, "out.xlsx", lang="zh", compare_lr=[0.1, 0.5])
    report = sheetnet.check("out.xlsx")

The names below are loaded on first use (PEP 562), so that `import sheetnet.errors` or
`sheetnet --version` never pays for pandas, XlsxWriter or formulas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sheetnet.errors import SheetnetError  # cheap, and what `except sheetnet.SheetnetError` needs

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TEMPLATE",
    "DivergedWarning",
    "Grades",
    "Report",
    "SheetnetError",
    "Spec",
    "__version__",
    "build",
    "check",
    "exercise",
    "grade",
    "load_spec",
    "make_class",
    "pdf",
    "template",
    "templates",
    "train",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from sheetnet.api import (
        DEFAULT_TEMPLATE,
        DivergedWarning,
        Grades,
        Report,
        Spec,
        build,
        check,
        exercise,
        grade,
        load_spec,
        make_class,
        pdf,
        template,
        templates,
        train,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("sheetnet.api"), name)
        globals()[name] = value  # once loaded, an ordinary attribute
        return value
    raise AttributeError(f"module 'sheetnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
