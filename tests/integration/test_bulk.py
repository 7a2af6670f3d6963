"""POST /api/aliases/bulk: per-id results, nothing of another user's touched, counts kept, no alias half done."""

from __future__ import annotations

from typing import Any

import pytest

from postmask.store import _dynamo, quota, routes
from tests.support.api import Client


def create(client: Client, domain: str, local_part: str, destinations: list[str] | None = None) -> dict[str, Any]:
    body = {"domain": domain, "local_part": local_part, "destinations": destinations or ["me@real.example"]}
    response = client.post("/api/aliases", body)
    assert response.status == 201, response.body
    alias: dict[str, Any] = response.json()
    return alias


@pytest.fixture
def bob_alias(bob: Client) -> dict[str, Any]:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    return create(bob, "bob.example", "bobs")


def test_a_mix_of_own_foreign_missing_and_malformed_ids(
    alice: Client, alice_domain: str, bob: Client, bob_alias: dict[str, Any]
) -> None:
    own = [create(alice, alice_domain, f"a{n}") for n in range(3)]
    missing = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    ids = [own[0]["id"], bob_alias["id"], own[1]["id"], missing, "not an id", own[2]["id"]]

    response = alice.post("/api/aliases/bulk", {"action": "disable", "ids": ids})

    assert response.status == 200, response.body
    assert response.json() == {
        "succeeded": [own[0]["id"], own[1]["id"], own[2]["id"]],
        "failed": [
            {"id": bob_alias["id"], "message": "Alias not found"},
            {"id": missing, "message": "Alias not found"},
            {"id": "not an id", "message": "Alias not found"},
        ],
    }
    for alias in own:
        assert alice.get(f"/api/aliases/{alias['id']}").json()["enabled"] is False
        route = routes.get(alias["address"])
        assert route is not None
        assert route.enabled is False
    assert bob.get(f"/api/aliases/{bob_alias['id']}").json() == bob_alias  # untouched, not even updated_at
    bobs_route = routes.get(bob_alias["address"])
    assert bobs_route is not None
    assert bobs_route.enabled is True


def test_enable_again_and_ids_given_twice(alice: Client, alice_domain: str) -> None:
    alias = create(alice, alice_domain, "twice")

    response = alice.post("/api/aliases/bulk", {"action": "enable", "ids": [alias["id"], alias["id"]]})

    assert response.json() == {"succeeded": [alias["id"]], "failed": []}
    assert alice.get(f"/api/aliases/{alias['id']}").json() == alias  # already enabled: nothing written


def test_delete_frees_the_addresses_and_counts_everything_off(alice: Client, alice_domain: str) -> None:
    # Over 100 actions' worth: the deletes take more than one transaction.
    kept = create(alice, alice_domain, "kept", ["one@real.example"])
    doomed = [create(alice, alice_domain, f"d{n}", ["one@real.example", "two@real.example"]) for n in range(60)]

    response = alice.post("/api/aliases/bulk", {"action": "delete", "ids": [alias["id"] for alias in doomed]})

    assert response.json() == {"succeeded": [alias["id"] for alias in doomed], "failed": []}
    assert alice.get("/api/aliases").json()["items"] == [kept]
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 1
    counts = {d["email"]: d["alias_count"] for d in alice.get("/api/destinations").json()["items"]}
    assert counts == {"one@real.example": 1, "two@real.example": 0}
    assert quota.usage(_user_id(alice)).count == 1
    for alias in doomed:
        assert routes.get(alias["address"]) is None
    assert create(alice, alice_domain, "d0")["address"] == doomed[0]["address"]  # the address is free again


def test_an_alias_changed_meanwhile_is_done_alone_and_the_others_still_succeed(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = create(alice, alice_domain, "first"), create(alice, alice_domain, "second")
    batch_get = _dynamo.batch_get

    def read_then_someone_edits(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        found = batch_get(*args, **kwargs)
        # Between the bulk's read and its transaction, the owner edits the first alias in another tab.
        assert alice.patch(f"/api/aliases/{first['id']}", {"note": "edited meanwhile"}).status == 200
        return found

    monkeypatch.setattr(_dynamo, "batch_get", read_then_someone_edits)
    response = alice.post("/api/aliases/bulk", {"action": "delete", "ids": [first["id"], second["id"]]})

    assert response.json() == {"succeeded": [first["id"], second["id"]], "failed": []}
    assert alice.get("/api/aliases").json()["items"] == []
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 0
    assert quota.usage(_user_id(alice)).count == 0


@pytest.mark.parametrize(
    "body",
    [
        {"action": "disable", "ids": []},
        {"action": "disable", "ids": ["x"] * 101},
        {"action": "archive", "ids": ["x"]},
        {"action": "disable"},
        {"action": "disable", "ids": [""]},
        {"action": "disable", "ids": ["x"], "extra": 1},
    ],
)
def test_a_request_out_of_bounds_is_422(alice: Client, body: dict[str, Any]) -> None:
    response = alice.post("/api/aliases/bulk", body)
    assert response.status == 422
    assert response.json()["message"]
    assert response.json()["detail"]


def test_without_a_token_it_is_401(table: str) -> None:
    assert Client(None).post("/api/aliases/bulk", {"action": "delete", "ids": ["x"]}).status == 401


def _user_id(client: Client) -> str:
    user_id: str = client.get("/api/me").json()["id"]
    return user_id
