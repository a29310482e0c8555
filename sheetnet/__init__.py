"""sheetnet: a small neural network as a workbook in which every number of training is a formula."""

__version__ = "0.1.0"
