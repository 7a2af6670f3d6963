"""One user never sees or changes another's data: another user's resource is indistinguishable from none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Client


@pytest.fixture
def alice_world(alice: Client, alice_domain: str) -> dict[str, Any]:
    alias = alice.post(
        "/api/aliases",
        {"domain": alice_domain, "local_part": "private", "destinations": ["a@real.example"], "note": "secret note"},
    ).json()
    token = alice.post("/api/tokens", {"name": "second"}).json()
    return {"domain": alice_domain, "alias": alias, "token": token}


def test_bob_gets_404_for_each_of_alices_resources(alice: Client, bob: Client, alice_world: dict[str, Any]) -> None:
    domain, alias_id, token_id = alice_world["domain"], alice_world["alias"]["id"], alice_world["token"]["id"]
    replacement = {"destinations": ["bob@evil.example"], "note": "", "enabled": False, "expires_at": None}
    attempts = [
        bob.get(f"/api/domains/{domain}"),
        bob.patch(f"/api/domains/{domain}", {"catch_all_destination": "bob@evil.example"}),
        bob.delete(f"/api/domains/{domain}"),
        bob.get(f"/api/aliases/{alias_id}"),
        bob.put(f"/api/aliases/{alias_id}", replacement),
        bob.patch(f"/api/aliases/{alias_id}", {"destinations": ["bob@evil.example"]}),
        bob.delete(f"/api/aliases/{alias_id}"),
        bob.delete(f"/api/tokens/{token_id}"),
        bob.post("/api/aliases", {"domain": domain, "local_part": "bobs", "destinations": ["bob@evil.example"]}),
    ]

    assert [response.status for response in attempts] == [404] * len(attempts)
    # Alice's data is untouched.
    assert alice.get(f"/api/aliases/{alias_id}").json() == alice_world["alias"]
    assert alice.get(f"/api/domains/{domain}").json()["catch_all_destination"] is None
    assert alice.get(f"/api/domains/{domain}").json()["alias_count"] == 1
    assert Client(alice_world["token"]["token"]).get("/api/me").status == 200


def test_bobs_lists_hold_nothing_of_alices(bob: Client, alice_world: dict[str, Any]) -> None:
    for path in ("/api/domains", "/api/aliases", "/api/tokens"):
        body = bob.get(path).body.decode()
        assert alice_world["domain"] not in body
        assert alice_world["alias"]["id"] not in body
        assert alice_world["token"]["id"] not in body
    assert bob.get("/api/aliases", query={"q": "secret"}).json()["items"] == []
    assert bob.get("/api/aliases", query={"domain": alice_world["domain"]}).json()["items"] == []


def test_a_next_token_from_alices_list_shows_bob_nothing_of_hers(
    alice: Client, bob: Client, alice_world: dict[str, Any]
) -> None:
    for i in range(3):
        alice.post(
            "/api/aliases", {"domain": alice_world["domain"], "local_part": f"p{i}", "destinations": ["a@real.example"]}
        )
    token = alice.get("/api/aliases", query={"limit": 1}).json()["next_token"]
    assert token

    response = bob.get("/api/aliases", query={"next_token": token})

    assert response.status in (200, 400)
    if response.status == 200:
        assert response.json()["items"] == []
