"""The one exception type that the CLI turns into a one-line message and exit code 2, and the
warning type it prints as one line."""


class SheetnetError(Exception):
    """A problem with the user's input: the message says what is wrong and how to fix it."""


class SheetnetWarning(UserWarning):
    """Not an error, but worth a line: the CLI prints it as `sheetnet: warning: …`."""


def counted(n: int, noun: str) -> str:
    """'1 sample', '2 samples', '1000 iterations': a count with its noun, singular for one."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def ordinal(n: int) -> str:
    """English ordinals: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st, 111th."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
