"""API Gateway HTTP API, payload format 2.0: requests in, Lambda results out, as API Gateway does them.

Used by the local gateway and by the tests (one event factory for the whole suite).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
)


def _is_text(content_type: str, body: bytes) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    if not (kind.startswith(_TEXT_TYPES) or kind.endswith("+json") or kind.endswith("+xml")):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def http_event(
    method: str,
    path: str,
    *,
    query_string: str = "",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    body: bytes | str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    route_key: str | None = None,
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
) -> dict[str, Any]:
    """A payload-2.0 event. Header names are lower-cased and repeated headers joined with commas;
    `Cookie` headers become `cookies`; a binary body is base64-encoded."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[lower] = f"{joined[lower]},{value}" if lower in joined else value

    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": joined.get("host", "127.0.0.1"),
            "domainPrefix": joined.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key or f"{method.upper()} {path}",
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"lambda": dict(authorizer)}
    if raw_body:
        if _is_text(joined.get("content-type", ""), raw_body):
            event["body"] = raw_body.decode("utf-8")
        else:
            event["body"] = base64.b64encode(raw_body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def authorizer_event(
    event: Mapping[str, Any],
    route_arn: str = "arn:aws:execute-api:local:123456789012:local/$default",
    identity_source: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The REQUEST authorizer's event (payload 2.0) for a request event. `identity_source` is the values of
    the authorizer's identity sources; by default, the Authorization header."""
    if identity_source is None:
        identity_source = [event["headers"]["authorization"]] if "authorization" in event["headers"] else []
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"{route_arn}/{event['requestContext']['http']['method']}{event['rawPath']}",
        "identitySource": list(identity_source),
        "routeKey": event["routeKey"],
        "rawPath": event["rawPath"],
        "rawQueryString": event["rawQueryString"],
        "headers": event["headers"],
        "queryStringParameters": event.get("queryStringParameters", {}),
        "pathParameters": event.get("pathParameters", {}),
        "requestContext": event["requestContext"],
        **({"cookies": event["cookies"]} if "cookies" in event else {}),
    }


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def read_result(result: Any) -> HttpResponse:
    """Read a Lambda result the way API Gateway (payload 2.0) does: a dict with `statusCode` is a full
    response; anything else (a dict without it, a string, a number) is a 200 JSON body."""
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], text.encode("utf-8"))
    headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    headers.extend(("Set-Cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers) and body:
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, body)
