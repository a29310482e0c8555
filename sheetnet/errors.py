"""The one exception type that the CLI turns into a one-line message and exit code 2."""


class SheetnetError(Exception):
    """A problem with the user's input: the message says what is wrong and how to fix it."""
