"""Drivers for external spreadsheet programs (headless LibreOffice): recalculation and PDF export.

They know nothing of networks and import only the top-level helpers, so that both the printing
of sheets and the check can use them.
"""
