"""The network and its truth: the spec (TOML → validated dataclass), data sets from CSV,
standardisation, the batch schedule, activations and losses, the Training-sheet ids, and the NumPy
reference core that trains the network with textbook matrix algebra.

It may import `sheetnet.errors`, `sheetnet.atomic` and `sheetnet.expr`; never `equations`,
`sheets`, `verify` or `engines`. Nothing here knows that a workbook exists.
"""
