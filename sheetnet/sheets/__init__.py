"""The workbook: the layout (quantity → cell, the only place that makes A1 addresses), styles, the
words in each language (i18n), Excel's limits, one module per sheet, printing, and the writer that
assembles them with XlsxWriter (writer.build_workbook).

Every sheet module takes the `context.Context` it is handed and imports nothing of its siblings
but layout, styles, limits, i18n, context and blocks (a block of Training columns: its band,
labels, ids and rows, shared by the Training, Summary and comparison sheets); only `writer` lists
the sheets. `trajectory` holds the NumPy run as the sheets read it (`Context.reference`): the
Training sheet streams its rows, the others read the few rows and columns kept. The layer may import
`equations`, `model`, `expr` and `engines`; never `verify`.
"""
