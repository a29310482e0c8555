"""`sheetnet serve`: run the console with uvicorn on loopback, or with a token elsewhere."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import webbrowser

from sheetnet.errors import SheetnetError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console_token(host: str, token: str | None) -> str | None:
    """The token every request must carry: none on loopback unless given; elsewhere the given
    one or a new one (printed with the address)."""
    if token is not None and len(token) < 16:
        raise SheetnetError("--token must be at least 16 characters (or leave it out: one is made)")
    if is_loopback(host):
        return token
    return token or secrets.token_urlsafe(24)


def check_free(host: str, port: int) -> None:
    """A port taken (another console, another server) is one line, before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SheetnetError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    family, kind, proto, _, where = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is free
        try:
            probe.bind(where)
        except OSError as exc:
            raise SheetnetError(f"cannot listen on {host}:{port} ({exc.strerror}); is a console already "
                                "running there? Give another --port") from None


def address(host: str, port: int, token: str | None) -> str:
    """The address to open; listening on every interface, the machine's own name (a browser
    elsewhere cannot open 0.0.0.0)."""
    host = socket.gethostname() if host in ("0.0.0.0", "::") else host
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(host: str, port: int, token: str | None, open_browser: bool, echo: object = print) -> None:
    """Serve until Ctrl-C; the temporary folder of every upload is removed on the way out."""
    import uvicorn

    from sheetnet.web.app import create_app

    if not 0 < port < 65536:
        raise SheetnetError(f"--port must be between 1 and 65535, got {port}")
    token = console_token(host, token)
    check_free(host, port)
    url = address(host, port, token)
    loopback = ["127.0.0.1", "localhost", "::1", "[::1]"] if is_loopback(host) and token is None else None
    app = create_app(token=token, hosts=loopback)
    echo(f"sheetnet console: open {url}  (Ctrl-C stops it)")  # type: ignore[operator]
    if open_browser:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    try:  # the access log would print the token of the first request's address
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        app.state.console.store.close()
