"""The teacher's console: `sheetnet serve`, a local web page over the Python API.

Every page is a thin layer over the calls the command line makes (sheetnet.api); the Build form
is generated from the spec's field table (model/fields.py). This layer may import api, errors
and model.fields, nothing else of sheetnet; nothing below imports it (only cli.py, for `serve`).
"""
