"""API Gateway (HTTP API, payload format 2.0) for the local stack, driven by template.yaml.

`Gateway.dispatch` is everything API Gateway does with one request, with no transport: match a route, run
its authorizer, build the event, invoke the function, read its result back. `GatewayServer` serves it over
HTTP on loopback; the tests' in-process client (tests/support/api.py) calls it directly. The two differ
only in their invoker (local/functions.py).
"""

from __future__ import annotations

import binascii
import contextlib
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from local import sam_template
from local.events import HttpResponse, authorizer_event, http_event, read_result
from local.functions import FunctionError, Invoker
from local.sam_template import Authorizer, Cors, Route

log = logging.getLogger("local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's limit on a request's payload


def error(status: int, message: str | None = None) -> HttpResponse:
    """API Gateway's own error responses: JSON with a `message`."""
    body = json.dumps({"message": message or HTTPStatus(status).phrase}).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


class Gateway:
    """Routes, authorizers and functions of one HttpApi.

    `cache_authorizations`: reuse an authorizer's answer for the same identity for the authorizer's
    `ReauthorizeEvery`, as API Gateway does (so a revoked token keeps working until then). The in-process
    test client turns it off: each test has a fresh database, and checks a revocation at once.

    `cors`: the API's CorsConfiguration (CorsAllowOrigins), applied as API Gateway applies it: it answers
    preflights itself (before any route or authorizer), adds its headers to the answers to an allowed origin,
    and drops CORS headers a function returns.
    """

    def __init__(
        self,
        routes: Iterable[Route],
        invoker: Invoker,
        *,
        cache_authorizations: bool = True,
        clock: Callable[[], float] = time.monotonic,
        max_body_bytes: int = MAX_BODY_BYTES,
        cors: Cors | None = None,
    ) -> None:
        self.routes = list(routes)
        self.cors = cors
        self.invoker = invoker
        self._cache_authorizations = cache_authorizations
        self._clock = clock
        self.max_body_bytes = max_body_bytes
        self._answers: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any] | None]] = {}
        self._answers_lock = threading.Lock()

    @classmethod
    def from_template(
        cls,
        invoker: Invoker,
        *,
        template: dict[str, Any] | None = None,
        parameters: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Gateway:
        options.setdefault("cors", sam_template.cors(template, parameters))
        return cls(sam_template.routes(template, parameters), invoker, **options)

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The first route (most specific first) that matches, with its path parameters."""
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None

    def dispatch(
        self,
        method: str,
        path: str,
        *,
        query_string: str = "",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        """One request, as API Gateway answers it. `path` is as received (percent-encoded); HTTP APIs
        route on, and pass on, the decoded path."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        origin = next((value for name, value in pairs if name.lower() == "origin"), None)
        if self.cors is not None and origin is not None:
            if method.upper() == "OPTIONS" and any(
                name.lower() == "access-control-request-method" for name, _ in pairs
            ):
                return self._preflight(origin)
            return self._with_cors(self._dispatch(method, path, query_string, pairs, body, source_ip), origin)
        return self._dispatch(method, path, query_string, pairs, body, source_ip)

    def _dispatch(
        self, method: str, path: str, query_string: str, pairs: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> HttpResponse:
        if len(body) > self.max_body_bytes:
            return error(413)
        decoded_path = unquote(path)
        found = self.route_for(method, decoded_path)
        if found is None:
            return error(404)  # also a known path with another method: HTTP APIs have no 405
        route, params = found
        event = http_event(
            method,
            decoded_path,
            query_string=query_string,
            headers=[*pairs, ("X-Amzn-Trace-Id", _trace_id())],
            body=body,
            path_parameters=params,  # from the decoded path: decoded once, not twice
            route_key=route.key,
            source_ip=source_ip,
        )
        request_id = event["requestContext"]["requestId"]
        if route.authorizer is not None:
            refusal = self._authorize(route.authorizer, event)
            if refusal is not None:
                return self._stamped(refusal, request_id)
        try:
            result = self.invoker.invoke(route.function, event)
        except FunctionError as exc:
            log.warning("%s failed: %s: %s", exc.function, exc.error_type, exc.message)
            return self._stamped(error(500), request_id)
        try:
            response = read_result(result)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            log.warning("%s returned a response API Gateway cannot read: %s", route.function, exc)
            return self._stamped(error(500), request_id)
        return self._stamped(response, request_id)

    # --- CORS (API Gateway's, from the template's CorsConfiguration) ------------------------------------------

    def _preflight(self, origin: str) -> HttpResponse:
        """API Gateway's own answer to a preflight: 204; the CORS headers only for an allowed origin (another
        origin's browser then refuses to send the request)."""
        assert self.cors is not None
        response = HttpResponse(204, [], b"")
        if self.cors.allows(origin):
            response.headers += self._allow_origin(origin)
            if self.cors.allow_methods:
                response.headers.append(("Access-Control-Allow-Methods", ",".join(self.cors.allow_methods)))
            if self.cors.allow_headers:
                response.headers.append(("Access-Control-Allow-Headers", ",".join(self.cors.allow_headers)))
            if self.cors.max_age is not None:
                response.headers.append(("Access-Control-Max-Age", str(self.cors.max_age)))
        return response

    def _with_cors(self, response: HttpResponse, origin: str) -> HttpResponse:
        assert self.cors is not None
        response.headers = [
            (name, value) for name, value in response.headers if not name.lower().startswith("access-control-")
        ]
        if self.cors.allows(origin):
            response.headers += self._allow_origin(origin)
            if self.cors.expose_headers:
                response.headers.append(("Access-Control-Expose-Headers", ",".join(self.cors.expose_headers)))
        return response

    def _allow_origin(self, origin: str) -> list[tuple[str, str]]:
        assert self.cors is not None
        return [("Access-Control-Allow-Origin", "*" if "*" in self.cors.allow_origins else origin), ("Vary", "Origin")]

    @staticmethod
    def _stamped(response: HttpResponse, request_id: str) -> HttpResponse:
        response.headers.append(("Apigw-Requestid", request_id))
        return response

    # --- the authorizer step -------------------------------------------------------------------------------

    def _authorize(self, authorizer: Authorizer, event: dict[str, Any]) -> HttpResponse | None:
        """None when the request may go on (the authorizer's context is then in the event); else the refusal."""
        query = event.get("queryStringParameters") or {}
        identity = [event["headers"].get(name, "") for name in authorizer.identity_headers]
        identity += [query.get(name, "") for name in authorizer.identity_query_strings]
        if not all(identity):
            return error(401, "Unauthorized")  # API Gateway's answer: the authorizer is not even called
        key = (authorizer.name, tuple(identity))
        context = self._cached_answer(key)
        if context is _NOT_CACHED:
            try:
                answer = self.invoker.invoke(authorizer.function, authorizer_event(event, identity_source=identity))
                context = _decision(answer, authorizer.simple_responses)
            except FunctionError as exc:
                log.warning("authorizer %s failed: %s: %s", exc.function, exc.error_type, exc.message)
                return error(500)
            except ValueError as exc:
                log.warning("authorizer %s gave an answer API Gateway cannot read: %s", authorizer.function, exc)
                return error(500)
            if self._cache_authorizations and authorizer.cache_seconds > 0:
                with self._answers_lock:
                    self._answers[key] = (self._clock() + authorizer.cache_seconds, context)
        if context is None:
            return error(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": context}
        return None

    def _cached_answer(self, key: tuple[str, tuple[str, ...]]) -> Any:
        with self._answers_lock:
            cached = self._answers.get(key)
            if cached is None:
                return _NOT_CACHED
            if cached[0] <= self._clock():
                del self._answers[key]
                return _NOT_CACHED
            return cached[1]


_NOT_CACHED = object()


def _decision(answer: Any, simple: bool) -> dict[str, Any] | None:
    """The authorizer's context if it allows the request, None if it refuses. ValueError: unreadable."""
    if not isinstance(answer, dict):
        raise ValueError(f"expected an object, got {type(answer).__name__}")
    if simple:
        allowed = answer.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise ValueError("isAuthorized must be a boolean")
    else:  # an IAM policy: allowed if some statement allows and none denies
        statements = (answer.get("policyDocument") or {}).get("Statement") or []
        effects = {str(statement.get("Effect", "")).lower() for statement in statements}
        allowed = "allow" in effects and "deny" not in effects
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    return context if allowed else None


# --- HTTP -----------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a burst of connections waits in the backlog rather than being retried

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections too, so no handler thread outlives the server."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    server_version = "postmask-local"
    sys_version = ""
    timeout = 60  # seconds a connection may sit idle or stall mid-request before it is closed
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_serve` logs one line per request, and malformed requests are logged by log_error."""

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, PROPFIND, ...) goes through the gateway too: no route has it, so the answer is
        # API Gateway's 404 JSON, not http.server's 501 HTML page (a 5xx for a client's mistake).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if isinstance(body, HttpResponse):
            response = body
        else:
            port = self.server.server_address[1]
            forwarded_for = ", ".join(filter(None, [self.headers.get("X-Forwarded-For"), self.client_address[0]]))
            headers = [
                *((name, value) for name, value in self.headers.items() if name.lower() not in _NOT_FORWARDED),
                ("X-Forwarded-For", forwarded_for),
                ("X-Forwarded-Port", str(port)),
                ("X-Forwarded-Proto", "http"),
            ]
            try:
                response = self.server.gateway.dispatch(
                    self.command, path, query_string=query, headers=headers, body=body, source_ip=self.client_address[0]
                )
            except Exception:
                log.exception("the local gateway failed on %s %s", self.command, path)
                response = error(500)
        # Logged before the client can see the answer: whoever reads the log after a response finds its line.
        log.info("%s %s %d %.0f ms", self.command, path, response.status, (time.perf_counter() - started) * 1000)
        self._send(response)

    def _read_body(self) -> bytes | HttpResponse:
        limit = self.server.gateway.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            return error(400, "Bad Request: Content-Length")
        if length > limit:
            self._discard(length)
            return error(413)
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes | HttpResponse:
        body = bytearray()
        too_large = False
        try:
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                        pass
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline(1024)  # the CRLF after the chunk
                too_large = too_large or len(body) + len(chunk) > limit
                if not too_large:
                    body += chunk
        except ValueError:
            self.close_connection = True
            return error(400, "Bad Request: chunked encoding")
        return error(413) if too_large else bytes(body)

    def _discard(self, length: int) -> None:
        """Read and drop an oversized body so the client gets the 413 rather than a reset connection;
        beyond a few times the limit, stop reading and close instead."""
        if length > 4 * self.server.gateway.max_body_bytes:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in _NOT_RETURNED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


# Hop-by-hop headers are about one connection, not the request; a response's length is recomputed here.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade"}
_NOT_RETURNED = _NOT_FORWARDED | {"content-length"}


class GatewayServer:
    """The gateway over HTTP on `host:port` (port 0: any free port), one thread per connection."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.gateway = gateway
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind (OSError if the port is taken) and serve in a background thread."""
        self._server = _Server(self._address, self.gateway)
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
