"""The console's web application (Starlette): pages, forms, jobs and downloads.

Each page is a form whose POST starts a job (jobs.py) on the same API call the command line
makes, then returns to the page, which polls the job and shows its result. Safety: a token on
every request when the server is not on loopback; a session cookie and a CSRF field on every
form; a cap on each request's size; files only in the tab's workspace (workspace.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from sheetnet.web import pages, workspace
from sheetnet.web.jobs import Jobs
from sheetnet.web.words import WORDS, choose_language

HERE = Path(__file__).parent
SESSION_COOKIE, TOKEN_COOKIE, LANG_COOKIE = "sheetnet_session", "sheetnet_token", "sheetnet_lang"
PAGES = ("build", "exercise", "class", "grade", "check")
# No framing (clickjacking), no sniffing, no Referer (the first address carries the token), and
# nothing loaded from elsewhere.
SAFE_HEADERS = {
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


class Console:
    """What the routes share: the workspaces, the jobs, the CSRF key and the optional token."""

    def __init__(self, token: str | None, max_upload: int) -> None:
        self.store = workspace.Store()
        self.jobs = Jobs()
        self.token = token
        self.max_upload = max_upload
        self.key = secrets.token_bytes(32)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.has_libreoffice = pages.libreoffice_installed()

    def csrf(self, session: str) -> str:
        return hmac.new(self.key, session.encode(), hashlib.sha256).hexdigest()

    def clean(self, message: str) -> str:
        """A message without the server's temporary folders: a file is named by its name alone."""
        return re.sub(re.escape(str(self.store.root)) + r"(/[^/\s:'\"]+)*/", "", message)


def create_app(
    *, token: str | None = None, max_upload: int = workspace.MAX_UPLOAD_BYTES, hosts: list[str] | None = None
) -> Starlette:
    """The application; its temporary folder is removed when it shuts down (lifespan).

    hosts: the Host names a request may name (`serve` on loopback: the loopback names, so a web
    page whose name was rebound to 127.0.0.1 gets nothing); None: any.
    """
    console = Console(token, max_upload)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        try:
            yield
        finally:
            console.jobs.cancel_all()
            console.store.close()

    routes = [
        Route("/", lambda request: RedirectResponse("/build", 303)),
        *[Route(f"/{page}", _page_view(console, page)) for page in PAGES],
        *[Route(f"/{page}/run", _run_view(console, page), methods=["POST"]) for page in PAGES],
        Route("/build/load", _load_view(console), methods=["POST"]),
        Route("/exercise/load", _load_view(console, "exercise"), methods=["POST"]),
        Route("/grade/student", _student_view(console)),
        Route("/jobs/{job}", _job_view(console)),
        Route("/jobs/{job}/cancel", _cancel_view(console), methods=["POST"]),
        Route("/download/{name}", _download_view(console)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)] if hosts else []
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[*middleware, Middleware(_Guard, console=console)])
    app.state.console = console
    return app


class _Guard(BaseHTTPMiddleware):
    """The token (when there is one), the request size cap, the session and language cookies."""

    def __init__(self, app: Any, console: Console) -> None:
        super().__init__(app)
        self.console = console

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        console = self.console
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or \
            request.headers.get("x-sheetnet-token")
        if console.token and not (given and secrets.compare_digest(given, console.token)):
            return PlainTextResponse("sheetnet: this console needs its token: open the address "
                                     "`sheetnet serve` printed (…/?token=…)", 403)
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return PlainTextResponse("sheetnet: a form must say its length", 411)
            if int(length) > console.max_upload:
                cap = console.max_upload // 2**20
                return PlainTextResponse(f"sheetnet: the upload is larger than {cap} MiB; send fewer "
                                         "or smaller files", 413)
        session = request.cookies.get(SESSION_COOKIE) or ""
        new_session = not session
        if new_session:
            session = secrets.token_urlsafe(24)
        request.state.session = session
        request.state.lang = choose_language(
            request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language", ""))
        response = await call_next(request)
        response.headers.update(SAFE_HEADERS)
        if new_session:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        if console.token and request.query_params.get("token"):
            response.set_cookie(TOKEN_COOKIE, console.token, httponly=True, samesite="strict")
        if request.query_params.get("lang") in WORDS:
            response.set_cookie(LANG_COOKIE, request.state.lang, samesite="strict")
        return response


def _space(
    console: Console, request: Request, wid: str | None, *, create: bool = True
) -> workspace.Workspace | None:
    space = console.store.get(wid, request.state.session)
    if space is None and create:
        space = console.store.new(request.state.session)
    return space


async def _form(console: Console, request: Request) -> tuple[FormData, workspace.Workspace]:
    """The posted form, once its CSRF field matches this session and its workspace is this session's."""
    try:
        form = await request.form(max_files=workspace.MAX_FILES, max_part_size=1024 * 1024)
    except Exception as exc:  # the multipart parser's own limits (too many files or fields)
        raise _Refused(400, f"sheetnet: the form was refused ({exc})") from None
    token = str(form.get("csrf") or "")
    if not secrets.compare_digest(token, console.csrf(request.state.session)):
        raise _Refused(403, "sheetnet: the form is stale or came from another site (CSRF); reload the page")
    space = _space(console, request, str(form.get("ws") or ""), create=False)
    if space is None:
        raise _Refused(403, "sheetnet: this page's workspace is gone; reload the page")
    return form, space


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def _render(console: Console, request: Request, page: str, space: workspace.Workspace,
            status: int = 200, **context: Any) -> Response:
    lang = request.state.lang
    base = {"request": request, "page": page, "pages": PAGES, "ws": space.id, "lang": lang,
            "w": WORDS[lang], "other_lang": "zh" if lang == "en" else "en",
            "csrf": console.csrf(request.state.session), "has_libreoffice": console.has_libreoffice}
    return console.templates.TemplateResponse(request, f"{page}.html", {**base, **context},
                                              status_code=status)


def _page_view(console: Console, page: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        space = _space(console, request, request.query_params.get("ws"))
        assert space is not None
        job = console.jobs.get(request.query_params.get("job", ""), space.id)
        context = pages.context(page, space, dict(request.query_params), job)
        return _render(console, request, page, space, **context)

    return view


def _run_view(console: Console, page: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        try:
            form, space = await _form(console, request)
            work = await pages.prepare(page, form, space, console.clean)
        except _Refused as exc:
            return PlainTextResponse(exc.text, exc.status)
        except pages.FormErrors as exc:  # shown beside the fields, nothing started
            space = _space(console, request, str(form.get("ws") or ""))
            assert space is not None
            return _render(console, request, page, space, 400,
                           **pages.context(page, space, exc.values, None, errors=exc.errors))
        space.results.pop(page, None)
        job = console.jobs.start(space.id, page, work, console.clean)
        return RedirectResponse(f"/{page}?ws={space.id}&job={job.id}", 303)

    return view


def _load_view(console: Console, page: str = "build") -> Callable[[Request], Awaitable[Response]]:
    """A spec TOML or a CSV data file uploaded into the Build form (no job: it only reads)."""
    async def view(request: Request) -> Response:
        try:
            form, space = await _form(console, request)
        except _Refused as exc:
            return PlainTextResponse(exc.text, exc.status)
        values, errors = await pages.load_upload(form, space, console.clean)
        return _render(console, request, page, space, 400 if errors else 200,
                       **pages.context(page, space, values, None, errors=errors))

    return view


def _student_view(console: Console) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        space = _space(console, request, request.query_params.get("ws"), create=False)
        grades = space.results.get("grade", {}).get("grades") if space else None
        try:
            n = int(request.query_params.get("n", ""))
            result = grades.results[n]  # type: ignore[union-attr]
        except (ValueError, IndexError, AttributeError):
            return PlainTextResponse("sheetnet: no such student in this page's gradebook", 404)
        assert space is not None
        return _render(console, request, "student", space, result=result,
                       marks=pages.feedback_rows(result))

    return view


def _job_view(console: Console) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        space = _space(console, request, request.query_params.get("ws"), create=False)
        job = console.jobs.get(request.path_params["job"], space.id) if space else None
        if job is None:
            return JSONResponse({"error": "no such job in this page"}, 404)
        return JSONResponse(job.status())

    return view


def _cancel_view(console: Console) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        try:
            _, space = await _form(console, request)
        except _Refused as exc:
            return PlainTextResponse(exc.text, exc.status)
        job = console.jobs.get(request.path_params["job"], space.id)
        if job is None:
            return JSONResponse({"error": "no such job in this page"}, 404)
        job.cancel.set()
        return JSONResponse({"state": "cancelling"})

    return view


def _download_view(console: Console) -> Callable[[Request], Awaitable[Response]]:
    """A file the page's job made, under the fixed name the job gave it (never a user's text)."""
    async def view(request: Request) -> Response:
        space = _space(console, request, request.query_params.get("ws"), create=False)
        name = request.path_params["name"]
        path = pages.download_path(space, name) if space else None
        if path is None or not path.is_file():
            return PlainTextResponse("sheetnet: no such file in this page's workspace", 404)
        return FileResponse(path, filename=name)

    return view

