"""Domains through the API: every status the contract lists for /api/domains."""

from __future__ import annotations

import pytest

from tests.support.api import Client


def test_register_a_domain_returns_it_lower_case_with_a_location(alice: Client) -> None:
    response = alice.post("/api/domains", {"name": "Mail.Example.ORG"})

    assert response.status == 201
    body = response.json()
    assert body["name"] == "mail.example.org"
    assert body["alias_count"] == 0
    assert body["catch_all_destination"] is None
    assert body["created_at"].endswith("Z")
    assert response.header("Location") == "/api/domains/mail.example.org"


def test_an_internationalised_name_is_stored_as_punycode(alice: Client) -> None:
    response = alice.post("/api/domains", {"name": "Bücher.example"})

    assert response.status == 201
    assert response.json()["name"] == "xn--bcher-kva.example"
    assert alice.get("/api/domains/b%C3%BCcher.example").status == 200  # as an HTTP client sends it
    assert alice.get("/api/domains/xn--bcher-kva.example").status == 200


@pytest.mark.parametrize(
    "name",
    ["localhost", "-bad.example", "bad-.example", "a..example", f"{'x' * 64}.example", "exa_mple.org", "10.0.0.1", ""],
)
def test_an_invalid_domain_name_is_422(alice: Client, name: str) -> None:
    response = alice.post("/api/domains", {"name": name})

    assert response.status == 422
    body = response.json()
    assert body["message"]
    assert body["detail"][0]["loc"][:2] == ["body", "name"]
    assert body["detail"][0]["msg"]


def test_a_domain_is_registered_once_in_the_whole_installation(alice: Client, bob: Client) -> None:
    assert alice.post("/api/domains", {"name": "shared.example"}).status == 201

    again = alice.post("/api/domains", {"name": "shared.example"})
    by_bob = bob.post("/api/domains", {"name": "SHARED.example"})

    assert again.status == 409
    assert by_bob.status == 409
    assert "already registered" in by_bob.json()["message"]


def test_unknown_fields_and_bad_catch_all_are_422(alice: Client) -> None:
    assert alice.post("/api/domains", {"name": "a.example", "owner": "me"}).status == 422
    assert alice.post("/api/domains", {"name": "a.example", "catch_all_destination": "nope"}).status == 422
    assert alice.get("/api/domains").json()["items"] == []


def test_get_returns_the_domain_and_404_for_unknown(alice: Client, alice_domain: str) -> None:
    assert alice.get(f"/api/domains/{alice_domain}").json()["name"] == alice_domain
    assert alice.get("/api/domains/unknown.example").status == 404


def test_catch_all_can_be_set_and_cleared(alice: Client, alice_domain: str) -> None:
    set_response = alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "me@real.example"})
    assert set_response.status == 200
    assert set_response.json()["catch_all_destination"] == "me@real.example"
    assert alice.get(f"/api/domains/{alice_domain}").json()["catch_all_destination"] == "me@real.example"

    cleared = alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": None})
    assert cleared.status == 200
    assert cleared.json()["catch_all_destination"] is None


def test_patch_validates_and_404s(alice: Client, alice_domain: str) -> None:
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "x"}).status == 422
    assert alice.patch(f"/api/domains/{alice_domain}", {}).status == 422  # the field is required (null clears)
    assert alice.patch("/api/domains/unknown.example", {"catch_all_destination": None}).status == 404


def test_alias_count_follows_creates_and_deletes(alice: Client, alice_domain: str) -> None:
    ids = [
        alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["me@real.example"]}).json()["id"]
        for _ in range(3)
    ]
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 3

    assert alice.delete(f"/api/aliases/{ids[0]}").status == 204

    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 2
    assert alice.get("/api/domains").json()["items"][0]["alias_count"] == 2


def test_a_domain_with_aliases_cannot_be_deleted(alice: Client, alice_domain: str) -> None:
    alias_id = alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["me@real.example"]}).json()["id"]

    refused = alice.delete(f"/api/domains/{alice_domain}")

    assert refused.status == 409
    assert "aliases" in refused.json()["message"]
    assert alice.get(f"/api/domains/{alice_domain}").status == 200
    assert alice.delete(f"/api/aliases/{alias_id}").status == 204
    assert alice.delete(f"/api/domains/{alice_domain}").status == 204
    assert alice.get(f"/api/domains/{alice_domain}").status == 404
    assert alice.delete(f"/api/domains/{alice_domain}").status == 404


def test_a_deleted_domain_can_be_registered_again_by_anyone(alice: Client, bob: Client, alice_domain: str) -> None:
    assert alice.delete(f"/api/domains/{alice_domain}").status == 204
    assert bob.post("/api/domains", {"name": alice_domain}).status == 201


def test_list_filters_by_name_and_pages(alice: Client) -> None:
    names = [f"d{i:02d}.example" for i in range(7)] + ["other.test"]
    for name in names:
        assert alice.post("/api/domains", {"name": name}).status == 201

    seen: list[str] = []
    next_token = None
    while True:
        page = alice.get("/api/domains", query={"limit": 3, "next_token": next_token}).json()
        assert len(page["items"]) <= 3
        seen += [item["name"] for item in page["items"]]
        next_token = page["next_token"]
        if next_token is None:
            break
    assert seen == sorted(names)

    filtered = alice.get("/api/domains", query={"name": "OTHER"}).json()
    assert [item["name"] for item in filtered["items"]] == ["other.test"]


def test_list_rejects_a_bad_next_token_and_limits(alice: Client) -> None:
    assert alice.get("/api/domains", query={"next_token": "not-a-token"}).status == 400
    assert alice.get("/api/domains", query={"limit": 0}).status == 422
    assert alice.get("/api/domains", query={"limit": 101}).status == 422
    assert alice.get("/api/domains", query={"limit": "ten"}).status == 422
