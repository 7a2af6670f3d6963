"""The in-process API as a WSGI application: HTTP clients that speak WSGI (schemathesis, a local
`wsgiref` server for the browser) reach the functions exactly as `invoke` does, through template.yaml's
routes, the authorizer and payload-2.0 events, with no network and no subprocess."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from tests.support.api import invoke

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
# WSGI names these two without the HTTP_ prefix.
_UNPREFIXED = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def _text(wsgi_string: str) -> str:
    # PEP 3333 hands paths over as bytes decoded with latin-1; the gateway sees the UTF-8 the client sent.
    return wsgi_string.encode("latin-1").decode("utf-8", errors="replace")


def api_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    headers = {
        (_UNPREFIXED.get(key) or key[5:].replace("_", "-").lower()): value
        for key, value in environ.items()
        # A header sent empty is still sent (`Idempotency-Key:` is a 422); WSGI's CONTENT_* are "" when absent.
        if key.startswith("HTTP_") or (key in _UNPREFIXED and value)
    }
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    response = invoke(
        environ["REQUEST_METHOD"],
        _text(environ.get("PATH_INFO") or "/"),
        raw_body=body or None,
        query_string=_text(environ.get("QUERY_STRING", "")),
        headers=headers,
    )
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    start_response(f"{response.status} {reason}", response.headers)
    return [response.body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The test output has no use for an access log."""


@contextmanager
def serve(app: Callable[..., Iterable[bytes]] = api_app) -> Iterator[str]:
    """Serve `app` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL, stops on exit.

    moto's mock is process-wide, so a test's moto world is the server thread's too."""
    # One request at a time, as the functions are not meant to share a process across threads.
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="wsgi-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
