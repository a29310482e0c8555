"""`python -m sheetnet …` runs the `sheetnet` command."""

from sheetnet.cli import main

main()
