"""The expression language: trees of numbers, cell keys, operators and spreadsheet functions, and
their printing as Excel formula text with Excel's precedence.

It knows nothing of networks. It is the bottom layer: it imports nothing of sheetnet, and every
other layer may import it.
"""
