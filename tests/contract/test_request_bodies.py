"""Bodies no route can read are refused with a documented 4xx and the contract's error body."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local import sam_template
from postmask.store import users
from tests.support.api import Client


@pytest.fixture
def client(table: str) -> Client:
    return Client(users.create("bodies@example.org", is_admin=False).token)


def test_a_body_that_is_not_utf_8_is_invalid_json(client: Client) -> None:
    response = client.post(
        "/api/tokens", raw_body=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )

    assert response.status == 422
    assert response.json() == {
        "message": "The body is not valid JSON",
        "detail": [{"loc": ["body"], "msg": "JSON text must be UTF-8", "type": "json_invalid"}],
    }


def test_a_body_that_is_not_json_syntax_is_invalid_json(client: Client) -> None:
    response = client.post("/api/tokens", raw_body='{"name": ', headers={"content-type": "application/json"})

    assert response.status == 422
    assert response.json()["message"] == "The body is not valid JSON"
    assert [issue["type"] for issue in response.json()["detail"]] == ["json_invalid"]


def test_a_body_in_another_media_type_is_415(client: Client) -> None:
    response = client.post("/api/tokens", raw_body="name=laptop", headers={"content-type": "text/plain"})

    assert response.status == 415
    assert response.json() == {"message": "Send the body as application/json"}


# --- issue 13, item 11: nesting deep enough to exhaust the stack -------------------------------------------

BODY_ROUTES = sorted(
    {(route.method, route.path) for route in sam_template.routes() if route.method in ("POST", "PUT", "PATCH")}
)
NESTED = {
    "array": "[" * 10_000 + "]" * 10_000,
    "object": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "in a field": '{"name": ' + "[" * 10_000 + "]" * 10_000 + "}",
}


def concrete(path: str) -> str:
    """A request path for a route's template path: every `{parameter}` filled in."""
    return re.sub(r"\{[^}]+\}", "01JD0000000000000000000000", path).replace(
        "/api/domains/01JD0000000000000000000000", "/api/domains/nested.example"
    )


def test_every_route_with_a_body_is_covered() -> None:
    assert len(BODY_ROUTES) >= 6  # users, tokens, domains (POST, PATCH), aliases (POST, PUT, PATCH)


@pytest.mark.parametrize("shape", NESTED)
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_deeply_nested_json_is_a_4xx_for_every_route(client: Client, method: str, path: str, shape: str) -> None:
    response = client.request(
        method, concrete(path), raw_body=NESTED[shape], headers={"content-type": "application/json"}
    )

    assert 400 <= response.status < 500, response.body
    body = response.json()
    if path == "/api/alias/random/new":  # SimpleLogin's error shape (decision 0003)
        assert body["error"]
    elif path == "/api/v1/aliases":  # addy.io's (Laravel's)
        assert body["message"]
        assert response.status != 422 or body["errors"]
    else:
        assert body["message"]
        assert response.status != 422 or body["detail"]


def test_brackets_inside_strings_are_text_not_nesting(client: Client) -> None:
    name = '\\"' + "[{" * 40  # an escaped quote first: the string does not end there
    response = client.post("/api/tokens", {"name": name})
    assert response.status == 201, response.body
    assert response.json()["name"] == name


# --- issue 13, item 12: a response that carries a secret is never cached ----------------------------------

SECRET_BODIES = {
    ("POST", "/api/tokens"): {"name": "laptop"},
    ("POST", "/api/users"): {"email": "new-user@example.org"},
}
# Routes whose secret needs more than a body to be shown, and the test that checks their no-store.
SECRET_ROUTES_TESTED_ELSEWHERE = {
    ("POST", "/api/sessions/redeem"): "tests/integration/test_sessions.py::"
    "test_a_link_for_an_account_signs_in_once_with_a_session_token",
}


def routes_returning_a_token() -> set[tuple[str, str]]:
    """Every operation whose success response (per the OpenAPI document) has a `token` property, at any depth."""
    import json

    from scripts.openapi import DOCUMENT

    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    schemas = document.get("components", {}).get("schemas", {})

    def has_token(schema: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
        reference = schema.get("$ref", "")
        if reference:
            name = reference.rsplit("/", 1)[-1]
            return name not in seen and has_token(schemas[name], seen | {name})
        if "token" in schema.get("properties", {}):
            return True
        children = [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("allOf", [])]
        if "items" in schema:
            children.append(schema["items"])
        return any(has_token(child, seen) for child in children)

    found = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                if status.startswith("2") and has_token(content.get("schema", {})):
                    found.add((method.upper(), path))
    return found


def test_every_route_that_returns_a_token_is_covered_below() -> None:
    assert routes_returning_a_token() == set(SECRET_BODIES) | set(SECRET_ROUTES_TESTED_ELSEWHERE)


@pytest.mark.parametrize(("method", "path"), sorted(SECRET_BODIES))
def test_a_response_carrying_a_secret_is_never_stored_by_a_cache(table: str, method: str, path: str) -> None:
    admin = Client(users.create("admin-no-store@example.org", is_admin=True).token)
    response = admin.request(method, path, body=SECRET_BODIES[(method, path)])
    assert response.status == 201, response.body
    assert "token" in response.body.decode()
    assert response.header("Cache-Control") == "no-store"


def test_responses_without_a_secret_may_be_cached_as_before(client: Client) -> None:
    assert client.get("/api/me").header("Cache-Control") != "no-store"
