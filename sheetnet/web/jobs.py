"""Long work off the request thread: a job runs in a thread, reports progress, can be cancelled.

The library calls progress(done, total, what) now and then (sheetnet.progress); a cancelled
job's callback raises Cancelled there, so the work stops at its next report and, since every
file is written through atomic.py, leaves nothing half-written.
"""

from __future__ import annotations

import secrets
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sheetnet.errors import SheetnetError


class Cancelled(BaseException):
    """Raised inside a job's progress callback once it is cancelled (BaseException: no
    `except Exception` on the way up may swallow it)."""


@dataclass
class Job:
    id: str
    workspace: str
    page: str
    done: int = 0
    total: int = 0
    what: str = ""
    state: str = "running"  # running, done, failed, cancelled
    error: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int, what: str) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self.done, self.total, self.what = done, total, what

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "done": self.done, "total": self.total, "what": self.what,
                "error": self.error}


class Jobs:
    """The jobs of this server, by id; one running job per workspace page at a time is enough."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, workspace: str, page: str, work: Callable[[Job], None],
              clean: Callable[[str], str] = str) -> Job:
        """Run work(job) in a thread; a SheetnetError becomes the job's one-line error (clean
        takes the server's temporary paths out of it)."""
        job = Job(secrets.token_urlsafe(12), workspace, page)
        with self._lock:
            self._jobs[job.id] = job

        def run() -> None:
            try:
                work(job)
                job.state = "done"
            except Cancelled:
                job.state = "cancelled"
            except SheetnetError as exc:
                job.error, job.state = clean(str(exc)), "failed"
            except Exception as exc:  # a bug: say so in one line, keep the traceback for the terminal
                traceback.print_exc()
                job.error, job.state = clean(f"unexpected error: {type(exc).__name__}: {exc}"), "failed"

        threading.Thread(target=run, name=f"sheetnet-job-{page}", daemon=True).start()
        return job

    def get(self, jid: str, workspace: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(jid)
        return job if job is not None and job.workspace == workspace else None

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
