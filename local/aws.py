"""Embedded AWS: moto in server mode on loopback, in this process, for every function's boto3 to call.

This is `moto.server.ThreadedMotoServer` plus one lock. DynamoDB applies each request atomically (a
conditional transaction and a counter update never interleave); moto's backends do not lock, so
concurrent requests could lose updates or pass conditions they should fail. Serving one AWS request at a
time gives every request the atomicity DynamoDB gives it; a request takes moto a few milliseconds.

And one leak plugged: moto keeps every model instance it ever made (`instances_tracked`), and deep-copies every
table a TransactWriteItems touches (its rollback point): each transaction kept a copy of the whole table for
as long as the process ran, and a long session held millions of objects and took a minute to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Credentials moto accepts; with these and no profile, nothing can reach a real AWS account.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class _OneAtATime:
    """A WSGI app that lets one request at a time through to `app`, body read and response produced."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedAws:
    """Moto's server on `host:port` (0: a free port), serving every AWS service moto has."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        _stop_tracking_dynamodb_models()
        from werkzeug.serving import make_server

        from local.dynamodb import item_level_rollback

        item_level_rollback()  # a transaction costs its items, not the whole table (local/dynamodb.py)

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per AWS call on the console
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(*self._address, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None


class _Untracked(list[Any]):
    """A model class's `instances_tracked` that keeps nothing."""

    def append(self, instance: Any) -> None:
        pass


def _stop_tracking_dynamodb_models() -> None:
    """moto keeps every model instance it ever made in its class's `instances_tracked` (for its dashboard); for
    DynamoDB that is every item ever written or copied, and every table copy a TransactWriteItems makes as its
    rollback point. Nothing here reads them (S3 does read its own: its models keep being tracked)."""
    import moto.dynamodb.models  # noqa: F401 - registers the DynamoDB model classes
    from moto.core.model_instances import model_data

    for model in model_data["dynamodb"].values():
        model.instances_tracked = _Untracked()  # type: ignore[attr-defined]
