"""Call the API in-process exactly as API Gateway would: the local gateway's own routing from template.yaml,
authorizer step, payload-2.0 event and result reading (local/gateway.py), with the handlers run in this
process against the test's moto."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import urlencode

from local import sam_template
from local.events import HttpResponse
from local.functions import InProcessInvoker
from local.gateway import Gateway


@cache
def gateway() -> Gateway:
    handlers = {name: (spec.code_dir, spec.handler) for name, spec in sam_template.function_specs().items()}
    # No authorizer cache: each test has a fresh table, and checks a revocation at once.
    return Gateway.from_template(InProcessInvoker(handlers), cache_authorizations=False)


def route_for(method: str, path: str) -> tuple[sam_template.Route, dict[str, str]] | None:
    return gateway().route_for(method, path)


def invoke(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    raw_body: bytes | str | None = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    all_headers = {"host": "api.test", "user-agent": "pytest", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    if body is not None:
        raw_body = json.dumps(body)
        all_headers.setdefault("content-type", "application/json")
    query_string = urlencode({k: v for k, v in (query or {}).items() if v is not None})
    data = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body or b""
    return gateway().dispatch(method, path, query_string=query_string, headers=all_headers, body=data)


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
