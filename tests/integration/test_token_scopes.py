"""A token's scope: `aliases:create` (a password manager's) creates aliases and does nothing else; `all` anything.

Over every protected route of template.yaml, so that a new route cannot forget to refuse a limited token.
"""

from __future__ import annotations

from typing import Any

import pytest

from local import sam_template
from postmask.store import _dynamo
from tests.integration.test_auth import concrete
from tests.support.api import Client, invoke

# The routes a token limited to creating aliases may call: postmask's own and the compatible ones.
ALIASES_CREATE_ROUTES = {"POST /api/aliases", "POST /api/alias/random/new", "POST /api/v1/aliases"}
PROTECTED = [route for route in sam_template.routes() if not route.public]
REFUSED = [route for route in PROTECTED if route.key not in ALIASES_CREATE_ROUTES]


def scoped_token(client: Client, scope: str = "aliases:create") -> dict[str, Any]:
    created = client.post("/api/tokens", {"name": "Bitwarden", "scope": scope})
    assert created.status == 201, created.body
    return created.json()


def test_scope_is_stored_returned_and_listed(alice: Client) -> None:
    limited = scoped_token(alice)
    full = alice.post("/api/tokens", {"name": "laptop"}).json()

    assert limited["scope"] == "aliases:create"
    assert full["scope"] == "all"
    listed = {item["id"]: item for item in alice.get("/api/tokens").json()["items"]}
    assert listed[limited["id"]]["scope"] == "aliases:create"
    assert listed[full["id"]]["scope"] == "all"
    assert all("token" not in item for item in listed.values())


@pytest.mark.parametrize("scope", ["ALL", "aliases", "aliases:delete", "", None, ["all"]])
def test_an_unknown_scope_is_422(alice: Client, scope: object) -> None:
    response = alice.post("/api/tokens", {"name": "x", "scope": scope})

    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["body", "scope"]


def test_a_limited_token_creates_aliases(alice: Client, alice_domain: str) -> None:
    limited = Client(scoped_token(alice)["token"])

    created = limited.post("/api/aliases", {"domain": alice_domain, "destinations": ["me@mailbox.example"]})

    assert created.status == 201, created.body
    assert alice.get(f"/api/aliases/{created.json()['id']}").status == 200


@pytest.mark.parametrize("route", REFUSED, ids=lambda r: r.key)
def test_a_limited_token_is_refused_everywhere_else(alice: Client, route: sam_template.Route) -> None:
    limited = scoped_token(alice)["token"]
    body = {} if route.method in {"POST", "PUT", "PATCH"} else None

    response = invoke(route.method, concrete(route.path), token=limited, body=body)

    assert response.status == 403
    assert "may only create aliases" in response.json()["message"]


def test_a_limited_token_cannot_make_itself_a_full_one(alice: Client) -> None:
    limited = Client(scoped_token(alice)["token"])

    assert limited.post("/api/tokens", {"name": "escalate", "scope": "all"}).status == 403
    assert limited.post("/api/tokens", {"name": "escalate"}).status == 403
    assert [item["name"] for item in alice.get("/api/tokens").json()["items"]].count("escalate") == 0


def test_a_token_stored_before_scopes_may_do_anything(alice: Client) -> None:
    old = alice.post("/api/tokens", {"name": "old"}).json()
    user_id = alice.get("/api/me").json()["id"]
    # As a token written before scopes existed: neither of its items has one.
    client = _dynamo.client()
    for key in (_dynamo.key(f"USER#{user_id}", f"TOKEN#{old['id']}"), _lookup_key(old["token"])):
        client.update_item(
            TableName=_dynamo.table(), Key=key, UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "scope"}
        )

    assert Client(old["token"]).get("/api/me").status == 200
    listed = {item["id"]: item for item in alice.get("/api/tokens").json()["items"]}
    assert listed[old["id"]]["scope"] == "all"


def _lookup_key(secret: str) -> dict[str, Any]:
    from postmask.store import tokens

    return tokens._lookup_key(secret)
