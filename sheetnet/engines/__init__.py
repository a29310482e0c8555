"""Drivers for external spreadsheet programs (headless LibreOffice, Gnumeric): recalculation and
PDF export, both run through process.py.

They know nothing of networks and import only the top-level helpers, so that both the printing
of sheets and the check can use them.
"""
