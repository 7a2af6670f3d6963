"""Call the API in-process exactly as API Gateway would: route from template.yaml, run the authorizer where
the route has one, build a payload-2.0 event, read the result back as an HTTP response."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from local import sam_template
from local.events import HttpResponse, authorizer_event, http_event, read_result
from local.functions import FakeLambdaContext, load_handler

_AUTHORIZER = sam_template.ROOT / "functions" / "authorizer"


def route_for(method: str, path: str) -> tuple[sam_template.Route, dict[str, str]] | None:
    for route in sam_template.routes():
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


def invoke(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    raw_body: bytes | str | None = None,
    query: dict[str, Any] | None = None,
    query_string: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """`query` is encoded for you; `query_string` is sent exactly as given (the WSGI adapter passes it on)."""
    found = route_for(method, path)
    if found is None:
        return HttpResponse(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
    route, params = found
    all_headers = {"host": "api.test", "user-agent": "pytest", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    if body is not None:
        raw_body = json.dumps(body)
        all_headers.setdefault("content-type", "application/json")
    if query_string is None:
        query_string = urlencode({k: v for k, v in (query or {}).items() if v is not None})
    event = http_event(
        method,
        path,
        query_string=query_string,
        headers=all_headers,
        body=raw_body,
        path_parameters=params,
        route_key=route.key,
    )
    if not route.public:
        if "authorization" not in event["headers"]:
            return HttpResponse(401, [("Content-Type", "application/json")], b'{"message":"Unauthorized"}')
        decision = load_handler(_AUTHORIZER, "app.lambda_handler")(authorizer_event(event), FakeLambdaContext())
        if not decision.get("isAuthorized"):
            return HttpResponse(403, [("Content-Type", "application/json")], b'{"message":"Forbidden"}')
        event["requestContext"]["authorizer"] = {"lambda": decision.get("context", {})}
    result = load_handler(route.code_dir, route.handler)(event, FakeLambdaContext(route.function))
    return read_result(result)


class Client:
    """A user's view of the API: `client.get("/api/aliases", query={...})`."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        return invoke(method, path, token=self.token, **kwargs)

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, body=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)
