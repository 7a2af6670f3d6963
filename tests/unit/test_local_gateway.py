"""The local gateway does what API Gateway (HTTP API, payload 2.0) does, on template.yaml's own routes.

Functions are replaced by a recording fake, so each test sees exactly the events API Gateway would send and
what it makes of the answers."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.functions import FunctionError
from local.gateway import Gateway, GatewayServer

ALLOW = {"isAuthorized": True, "context": {"user_id": "u1", "is_admin": False}}


def ok(body: Any = None) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body or {})}


class FakeFunctions:
    """Answers for each function (a value, or a callable of the event); records every invocation."""

    def __init__(self, **answers: Any) -> None:
        self.answers: dict[str, Any] = {"AuthorizerFunction": ALLOW, **answers}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append((function, event))
        answer = self.answers.get(function, ok())
        if isinstance(answer, Exception):
            raise answer
        return answer(event) if callable(answer) else answer

    def events(self, function: str) -> list[dict[str, Any]]:
        return [event for name, event in self.calls if name == function]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(functions: FakeFunctions, **options: Any) -> Gateway:
    return Gateway.from_template(functions, **options)


AUTH = [("Authorization", "Bearer pm_secret")]


# --- routing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nothing"), ("GET", "/api/aliases/"), ("PUT", "/api/health"), ("POST", "/"), ("GET", "/api")],
)
def test_an_unknown_route_is_a_404_json_and_runs_nothing(method: str, path: str) -> None:
    functions = FakeFunctions()

    response = make(functions).dispatch(method, path, headers=AUTH)

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}
    assert response.header("content-type") == "application/json"
    assert functions.calls == []


def test_a_path_is_routed_and_passed_on_decoded_as_http_apis_do() -> None:
    functions = FakeFunctions()

    response = make(functions).dispatch("GET", "/api/domains/b%C3%BCcher.example", headers=AUTH)

    assert response.status == 200
    event = functions.events("DomainsGetFunction")[0]
    assert event["rawPath"] == "/api/domains/bücher.example"
    assert event["pathParameters"] == {"domain": "bücher.example"}
    assert event["routeKey"] == "GET /api/domains/{domain}"


def test_a_path_is_decoded_once_only() -> None:
    functions = FakeFunctions()

    make(functions).dispatch("GET", "/api/aliases/a%2541", headers=AUTH)

    assert functions.events("AliasesGetFunction")[0]["pathParameters"] == {"alias_id": "a%41"}


def test_the_event_is_payload_2_0_as_api_gateway_builds_it() -> None:
    functions = FakeFunctions()
    headers = [
        ("Host", "127.0.0.1:3000"),
        ("User-Agent", "curl/8"),
        ("X-Thing", "a"),
        ("X-Thing", "b"),
        ("Cookie", "a=1; b=2"),
        ("Content-Type", "application/json"),
        *AUTH,
    ]

    make(functions).dispatch(
        "POST", "/api/aliases", query_string="x=1&x=2&y=", headers=headers, body=b'{"k": "v"}', source_ip="10.1.2.3"
    )

    event = functions.events("AliasesCreateFunction")[0]
    assert event["version"] == "2.0"
    assert event["headers"]["x-thing"] == "a,b"
    assert event["headers"]["user-agent"] == "curl/8"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["body"] == '{"k": "v"}'
    assert event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/api/aliases",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.1.2.3",
        "userAgent": "curl/8",
    }
    assert event["requestContext"]["requestId"]
    assert event["requestContext"]["timeEpoch"] > 0
    assert event["requestContext"]["authorizer"] == {"lambda": ALLOW["context"]}


def test_a_binary_body_arrives_base64_encoded() -> None:
    functions = FakeFunctions()
    body = b"\xff\xfe\x00binary"

    make(functions).dispatch("POST", "/api/domains", headers=[*AUTH, ("Content-Type", "application/json")], body=body)

    event = functions.events("DomainsCreateFunction")[0]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_a_body_over_10_mb_is_a_413_and_runs_nothing() -> None:
    functions = FakeFunctions()

    response = make(functions).dispatch("POST", "/api/domains", headers=AUTH, body=b"x" * (10 * 1024 * 1024 + 1))

    assert response.status == 413
    assert response.json()["message"]
    assert functions.calls == []


# --- the authorizer step ------------------------------------------------------------------------------------


def test_no_authorization_header_is_a_401_before_any_function_runs() -> None:
    functions = FakeFunctions()

    response = make(functions).dispatch("GET", "/api/me", headers=[("Authorization", "")])

    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}
    assert functions.calls == []


def test_a_refusing_authorizer_is_a_403_and_the_route_never_runs() -> None:
    functions = FakeFunctions(AuthorizerFunction={"isAuthorized": False})

    response = make(functions).dispatch("GET", "/api/me", headers=AUTH)

    assert response.status == 403
    assert response.json() == {"message": "Forbidden"}
    assert [name for name, _ in functions.calls] == ["AuthorizerFunction"]


def test_the_authorizer_gets_the_request_and_its_identity_source() -> None:
    functions = FakeFunctions()

    make(functions).dispatch("GET", "/api/aliases/01abc", query_string="q=1", headers=AUTH)

    event = functions.events("AuthorizerFunction")[0]
    assert event["type"] == "REQUEST"
    assert event["identitySource"] == ["Bearer pm_secret"]
    assert event["headers"]["authorization"] == "Bearer pm_secret"
    assert event["routeKey"] == "GET /api/aliases/{alias_id}"
    assert event["pathParameters"] == {"alias_id": "01abc"}
    assert event["routeArn"].endswith("/GET/api/aliases/01abc")


def test_public_routes_run_no_authorizer() -> None:
    functions = FakeFunctions(AuthorizerFunction={"isAuthorized": False})

    response = make(functions).dispatch("GET", "/api/health")

    assert response.status == 200
    assert [name for name, _ in functions.calls] == ["HealthFunction"]


@pytest.mark.parametrize(
    "answer",
    [FunctionError("AuthorizerFunction", "Sandbox.Timedout", "late"), {"isAuthorized": "yes"}, "allow", {"x": 1}],
    ids=["fails", "not-a-boolean", "not-an-object", "no-decision"],
)
def test_an_authorizer_that_fails_or_answers_nonsense_is_a_500(answer: Any) -> None:
    functions = FakeFunctions(AuthorizerFunction=answer)

    response = make(functions).dispatch("GET", "/api/me", headers=AUTH)

    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert functions.events("MeFunction") == []


def test_answers_are_cached_per_identity_for_reauthorize_every_seconds() -> None:
    functions = FakeFunctions()
    clock = Clock()
    gateway = make(functions, clock=clock)  # template.yaml: ReauthorizeEvery = AuthorizerCacheTtl = 60

    def authorizer_calls() -> int:
        return len(functions.events("AuthorizerFunction"))

    gateway.dispatch("GET", "/api/me", headers=AUTH)
    clock.now += 59
    gateway.dispatch("GET", "/api/aliases", headers=AUTH)  # another route, same identity: cached
    assert authorizer_calls() == 1
    gateway.dispatch("GET", "/api/me", headers=[("Authorization", "Bearer pm_other")])
    assert authorizer_calls() == 2
    clock.now += 2
    gateway.dispatch("GET", "/api/me", headers=AUTH)
    assert authorizer_calls() == 3
    # Cached context still reaches the function.
    assert functions.events("AliasesListFunction")[0]["requestContext"]["authorizer"]["lambda"]["user_id"] == "u1"


def test_a_refusal_is_cached_too_and_a_zero_ttl_caches_nothing() -> None:
    functions = FakeFunctions(AuthorizerFunction={"isAuthorized": False})
    gateway = make(functions)
    assert gateway.dispatch("GET", "/api/me", headers=AUTH).status == 403
    functions.answers["AuthorizerFunction"] = ALLOW
    assert gateway.dispatch("GET", "/api/me", headers=AUTH).status == 403  # as API Gateway: until the TTL

    uncached = make(FakeFunctions(), parameters={"AuthorizerCacheTtl": "0"})
    for _ in range(3):
        uncached.dispatch("GET", "/api/me", headers=AUTH)
    assert len(uncached.invoker.events("AuthorizerFunction")) == 3  # type: ignore[attr-defined]


# --- reading the function's result ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "status", "body", "content_type"),
    [
        ({"statusCode": 201, "headers": {"Content-Type": "text/plain"}, "body": "made"}, 201, b"made", "text/plain"),
        ({"statusCode": 204}, 204, b"", None),
        (
            {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True},
            200,
            b"\x00\xff",
            "application/json",
        ),
        ({"status": "ok"}, 200, b'{"status": "ok"}', "application/json"),  # no statusCode: a bare JSON body
        ("hello", 200, b"hello", "application/json"),
    ],
    ids=["full", "empty", "base64", "bare-dict", "bare-string"],
)
def test_results_are_read_as_api_gateway_reads_them(
    result: Any, status: int, body: bytes, content_type: str | None
) -> None:
    response = make(FakeFunctions(HealthFunction=result)).dispatch("GET", "/api/health")

    assert response.status == status
    assert response.body == body
    assert response.header("content-type") == content_type
    assert response.header("apigw-requestid")


def test_cookies_and_multi_value_headers_come_back() -> None:
    result = {
        "statusCode": 200,
        "body": "",
        "cookies": ["a=1", "b=2; Path=/"],
        "multiValueHeaders": {"X-V": ["1", "2"]},
    }

    response = make(FakeFunctions(HealthFunction=result)).dispatch("GET", "/api/health")

    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2; Path=/"]
    assert [value for name, value in response.headers if name == "X-V"] == ["1", "2"]


@pytest.mark.parametrize(
    "failure",
    [FunctionError("HealthFunction", "Runtime.ExitError", "exit status 1"), {"statusCode": "two hundred"}],
    ids=["function-error", "unreadable-result"],
)
def test_a_failed_function_or_unreadable_result_is_a_500_json(failure: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "local.gateway")

    response = make(FakeFunctions(HealthFunction=failure)).dispatch("GET", "/api/health")

    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert "HealthFunction" in caplog.text


# --- over HTTP ----------------------------------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[[FakeFunctions], GatewayServer]]:
    servers: list[GatewayServer] = []

    def start(functions: FakeFunctions) -> GatewayServer:
        server = GatewayServer(make(functions), port=0)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def request(
    server: GatewayServer, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_http_requests_reach_the_function_with_forwarding_headers_and_one_log_line(
    serve: Callable[[FakeFunctions], GatewayServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "local.gateway")
    functions = FakeFunctions(MeFunction=ok({"me": 1}))
    server = serve(functions)

    status, headers, body = request(server, "GET", "/api/me?verbose=1", headers={"Authorization": "Bearer pm_secret"})

    assert (status, json.loads(body)) == (200, {"me": 1})
    assert headers["content-length"] == str(len(body))
    event = functions.events("MeFunction")[0]
    assert event["rawQueryString"] == "verbose=1"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-port"] == str(server.port)
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    lines = [record.getMessage() for record in caplog.records if record.name == "local.gateway"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /api/me 200 ")
    assert lines[0].endswith(" ms")
    assert "pm_secret" not in caplog.text


def test_a_chunked_body_is_read_whole(serve: Callable[[FakeFunctions], GatewayServer]) -> None:
    functions = FakeFunctions()
    server = serve(functions)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(
        "POST",
        "/api/domains",
        body=iter([b'{"name": ', b'"chunked.example"}']),
        headers={"Authorization": "Bearer x", "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    assert connection.getresponse().status == 200
    connection.close()

    assert functions.events("DomainsCreateFunction")[0]["body"] == '{"name": "chunked.example"}'


def test_an_oversized_body_gets_a_413_the_client_can_read(serve: Callable[[FakeFunctions], GatewayServer]) -> None:
    functions = FakeFunctions()
    server = serve(functions)

    status, _, body = request(server, "POST", "/api/domains", body=b"x" * (10 * 1024 * 1024 + 1))

    assert status == 413
    assert json.loads(body)["message"]
    assert functions.calls == []


def test_head_gets_headers_without_a_body(serve: Callable[[FakeFunctions], GatewayServer]) -> None:
    server = serve(FakeFunctions())

    status, headers, body = request(server, "HEAD", "/api/health")

    assert (status, body) == (404, b"")  # no HEAD route: HTTP APIs do not map HEAD to GET
    assert int(headers["content-length"]) > 0


def test_requests_are_served_concurrently(serve: Callable[[FakeFunctions], GatewayServer]) -> None:
    """Eight requests are inside the function at the same moment, or the barrier breaks."""
    inside = threading.Barrier(8, timeout=20)

    def wait_for_the_others(event: dict[str, Any]) -> dict[str, Any]:
        inside.wait()
        return ok({"path": event["rawPath"]})

    server = serve(FakeFunctions(HealthFunction=wait_for_the_others))
    results: list[int] = []

    def call() -> None:
        results.append(request(server, "GET", "/api/health")[0])

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == [200] * 8


# --- CORS (CorsAllowOrigins) --------------------------------------------------------------------------------

ORIGINS = "https://app.example.org,https://ext.example.net"


def preflight(gateway: Gateway, origin: str, path: str = "/api/aliases") -> Any:
    headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "PATCH"),
        ("Access-Control-Request-Headers", "authorization,if-match"),
    ]
    return gateway.dispatch("OPTIONS", path, headers=headers)


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway_itself() -> None:
    functions = FakeFunctions()
    gateway = make(functions, parameters={"CorsAllowOrigins": ORIGINS})

    response = preflight(gateway, "https://ext.example.net", "/api/aliases/abc")

    assert response.status == 204
    assert response.header("access-control-allow-origin") == "https://ext.example.net"
    assert {"PATCH", "DELETE"} <= set(response.header("access-control-allow-methods").split(","))
    assert {"authorization", "if-match", "idempotency-key"} <= set(
        response.header("access-control-allow-headers").split(",")
    )
    assert functions.calls == []  # before any route and any authorizer


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://app.example.org.evil.example", "http://app.example.org", "null"]
)
def test_a_preflight_from_another_origin_is_not_allowed(origin: str) -> None:
    response = preflight(make(FakeFunctions(), parameters={"CorsAllowOrigins": ORIGINS}), origin)

    assert response.header("access-control-allow-origin") is None
    assert response.header("access-control-allow-headers") is None


def test_without_origins_no_browser_is_allowed() -> None:
    response = preflight(make(FakeFunctions()), "https://app.example.org")

    assert response.header("access-control-allow-origin") is None


def test_an_allowed_origins_request_gets_the_headers_and_a_functions_own_are_dropped() -> None:
    own = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "ETag": '"3"', "Access-Control-Allow-Origin": "*"},
        "body": "{}",
    }
    functions = FakeFunctions(AliasesGetFunction=own)
    gateway = make(functions, parameters={"CorsAllowOrigins": ORIGINS})
    headers = [*AUTH, ("Origin", "https://app.example.org")]

    allowed = gateway.dispatch("GET", "/api/aliases/abc", headers=headers)
    other = gateway.dispatch("GET", "/api/aliases/abc", headers=[*AUTH, ("Origin", "https://evil.example")])

    assert allowed.status == 200
    assert [value for name, value in allowed.headers if name.lower() == "access-control-allow-origin"] == [
        "https://app.example.org"
    ]
    assert "etag" in allowed.header("access-control-expose-headers").split(",")
    assert other.status == 200
    assert other.header("access-control-allow-origin") is None  # the browser keeps the answer from the page
