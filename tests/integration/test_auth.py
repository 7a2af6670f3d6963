"""Authentication and tenancy over every protected route of template.yaml (a new route cannot be forgotten)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local import sam_template
from postmask.store import _dynamo, tokens, users
from tests.support.api import Client, invoke

PROTECTED = [route for route in sam_template.routes() if not route.public]
SAMPLE_PARAMS = {
    "domain": "alice.example",
    "alias_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
    "token_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
    "destination_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
    "contact_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
    "user_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
    "quarantine_id": "01m84x6vvyzqxfrp2xb1ewbbjh",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], path)


def test_the_template_has_protected_routes_for_every_resource() -> None:
    keys = {route.key for route in PROTECTED}
    assert {"GET /api/me", "POST /api/users", "GET /api/aliases", "DELETE /api/tokens/{token_id}"} <= keys


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.key)
def test_no_authorization_header_is_401(table: str, route: sam_template.Route) -> None:
    response = invoke(route.method, concrete(route.path), body={} if route.method in {"POST", "PUT", "PATCH"} else None)

    # SimpleLogin's route takes its key from either of two headers, so API Gateway cannot require one: its
    # authorizer is called without, and refuses (403, decision 0003).
    assert response.status == (403 if route.key == "POST /api/alias/random/new" else 401)
    assert response.json()["message"]


def expired_token(user_id: str) -> str:
    actions, created = tokens.put_actions(user_id, False, "old", datetime.now(UTC) - timedelta(seconds=1))
    _dynamo.transact(actions)
    return created.token


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.key)
@pytest.mark.parametrize("kind", ["wrong", "malformed", "expired", "revoked", "not-bearer"])
def test_a_bad_token_is_refused(alice: Client, route: sam_template.Route, kind: str) -> None:
    me = alice.get("/api/me").json()
    if kind == "wrong":
        headers = {"authorization": "Bearer pm_" + "A" * 43}
    elif kind == "malformed":
        headers = {"authorization": "Bearer"}
    elif kind == "expired":
        headers = {"authorization": f"Bearer {expired_token(me['id'])}"}
    elif kind == "revoked":
        spare = alice.post("/api/tokens", {"name": "spare"}).json()
        assert alice.delete(f"/api/tokens/{spare['id']}").status == 204
        headers = {"authorization": f"Bearer {spare['token']}"}
    else:
        headers = {"authorization": f"Basic {alice.token}"}

    response = invoke(route.method, concrete(route.path), headers=headers)

    assert response.status in (401, 403)
    assert response.json()["message"]


def test_a_token_works_until_it_is_revoked(alice: Client) -> None:
    created = alice.post("/api/tokens", {"name": "laptop"})
    assert created.status == 201
    secret = created.json()["token"]
    laptop = Client(secret)
    assert laptop.get("/api/me").json() == alice.get("/api/me").json()

    assert alice.delete(f"/api/tokens/{created.json()['id']}").status == 204

    assert laptop.get("/api/me").status == 403
    assert alice.get("/api/me").status == 200
    assert alice.delete(f"/api/tokens/{created.json()['id']}").status == 404


def test_token_list_never_shows_a_secret(alice: Client) -> None:
    created = alice.post("/api/tokens", {"name": "phone", "expires_at": "2040-01-01T00:00:00Z"}).json()
    assert created["token"].startswith("pm_")
    assert len(created["token"]) >= 40
    assert created["expires_at"] == "2040-01-01T00:00:00.000Z"

    listing = alice.get("/api/tokens")

    assert listing.status == 200
    assert created["token"] not in listing.body.decode()
    assert alice.token not in listing.body.decode()
    items = listing.json()["items"]
    assert [item["name"] for item in items] == ["phone", "first token"]  # newest first
    fields = {"id", "name", "kind", "created_at", "last_used_at", "expires_at", "scope"}
    assert all(set(item) == fields for item in items)
    assert [item["kind"] for item in items] == ["api", "api"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 101}, {"name": "t", "expires_at": "2001-01-01T00:00:00Z"}, {"name": "t", "x": 1}],
)
def test_token_create_validates(alice: Client, body: dict[str, Any]) -> None:
    assert alice.post("/api/tokens", body).status == 422


def test_last_used_at_is_kept_without_a_write_on_every_request(alice: Client) -> None:
    writes: list[str] = []

    def count_writes(event_name: str, **_: Any) -> None:
        writes.append(event_name)

    events = _dynamo.client().meta.events
    alice.get("/api/me")  # the first use stamps last_used_at
    events.register("before-call.dynamodb.TransactWriteItems", count_writes)
    events.register("before-call.dynamodb.UpdateItem", count_writes)
    try:
        for _ in range(5):
            assert alice.get("/api/me").status == 200
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", count_writes)
        events.unregister("before-call.dynamodb.UpdateItem", count_writes)

    assert writes == []
    first = alice.get("/api/tokens").json()["items"][-1]
    assert first["last_used_at"] is not None


def test_me_describes_the_caller(alice: Client, admin: Client) -> None:
    me = alice.get("/api/me").json()
    assert me["email"] == "alice@example.org"
    assert me["is_admin"] is False
    assert set(me) == {
        "id",
        "email",
        "is_admin",
        "created_at",
        "default_alias_domain",
        "default_alias_destinations",
        "alias_style",
    }
    assert admin.get("/api/me").json()["is_admin"] is True


def test_only_an_admin_creates_users(admin: Client, alice: Client) -> None:
    refused = alice.post("/api/users", {"email": "carol@example.org"})
    assert refused.status == 403
    assert refused.json()["message"]

    created = admin.post("/api/users", {"email": "carol@example.org"})

    assert created.status == 201
    body = created.json()
    assert body["user"]["email"] == "carol@example.org"
    assert body["user"]["is_admin"] is False
    carol = Client(body["token"])
    assert carol.get("/api/me").json() == body["user"]
    assert carol.post("/api/users", {"email": "dave@example.org"}).status == 403


def test_user_emails_are_unique_and_validated(admin: Client) -> None:
    assert admin.post("/api/users", {"email": "carol@example.org"}).status == 201
    assert admin.post("/api/users", {"email": "Carol@Example.org"}).status == 409
    assert admin.post("/api/users", {"email": "not-an-email"}).status == 422
    assert admin.post("/api/users", {}).status == 422


def test_store_refuses_unknown_and_oversized_secrets(table: str) -> None:
    users.create("x@example.org", is_admin=False)
    assert tokens.authenticate("pm_unknown") is None
    assert tokens.authenticate("x" * 10_000) is None
    assert tokens.authenticate("") is None
