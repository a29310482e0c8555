"""The check (`sheetnet check`): open a workbook as untrusted (untrusted), read the network and the
formulas back (readback), recompute every formula cell (recompute: the `formulas` package; or a
whole-file recalculation by an engine), compare with the NumPy core and report (report, run).

The top of the pipeline: it may import every layer below (`sheets` for the layout it reads
back, `equations`, `model`, `expr`, `engines`); nothing below imports it. The folder is not
named `check` so that `sheetnet.check(...)`, the Python API's function, is never shadowed by it.
"""
