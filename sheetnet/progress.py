"""Progress of long work (build, check, pdf): a callback the library calls, a bar the CLI draws.

The library never draws anything. Long functions take an optional `progress(done, total, what)`
callback and call it now and then: `what` names the stage ("Training sheet rows"), `done` of
`total` units of it are finished. A stage that cannot count (LibreOffice at work) reports 0 of 1
when it starts and 1 of 1 when it ends. Report every few thousand cells, not per cell: the
callback costs a function call and a terminal redraw is throttled anyway.

The command line turns the callback into a transient rich bar on stderr (`terminal_progress`),
only when stderr is a terminal and --quiet was not given, so pipes, logs and CI see nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[int, int, str], None]
"""progress(done, total, what): `done` of `total` units of the stage `what` are finished."""

# About this many cells between two reports of a row-by-row loop (a few thousand rows of a
# small net, fewer of a wide one), so that reporting costs nothing measurable.
CELLS_PER_REPORT = 50_000


def rows_per_report(cells_per_row: int) -> int:
    """How many rows to write between two progress reports."""
    return max(1, CELLS_PER_REPORT // max(1, cells_per_row))


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call progress if there is one (so callers need no `if progress` of their own)."""
    if progress is not None:
        progress(done, total, what)


@contextmanager
def stage(progress: Progress | None, what: str) -> Iterator[None]:
    """A stage that cannot count its work: 0 of 1 on entry, 1 of 1 on a normal exit."""
    report(progress, 0, 1, what)
    yield
    report(progress, 1, 1, what)


def stderr_is_terminal() -> bool:
    """Whether a person is watching stderr (a terminal, not a pipe, file or test runner)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def terminal_progress(show: bool) -> Iterator[Progress | None]:
    """A callback that draws a transient rich bar per stage on stderr; None when not shown.

    The bars disappear when the work is done, leaving only the command's own result lines.
    """
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr, force_terminal=True)
    bars = _Bars(console, SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                 MofNCompleteColumn(), TimeElapsedColumn())
    with bars.progress:
        yield bars.update


class _Bars:
    """One rich task per stage, created when the stage first reports."""

    def __init__(self, console: Any, *columns: Any) -> None:
        from rich.progress import Progress as RichProgress

        self.progress = RichProgress(*columns, console=console, transient=True)
        self.tasks: dict[str, Any] = {}

    def update(self, done: int, total: int, what: str) -> None:
        if what not in self.tasks:
            self.tasks[what] = self.progress.add_task(what, total=total)
        self.progress.update(self.tasks[what], completed=done, total=total)
