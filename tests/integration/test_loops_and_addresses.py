"""Destinations that would loop, and addresses in one canonical form (issue 13, items 4 and 5).

A destination on any domain registered in postmask (the alias's own domain included, and another user's) is
a 422 on create, PUT and PATCH of an alias and on a domain's catch-all: every hop of a loop is a new SES
message, billed, forever. Destinations and domains are stored in one canonical ASCII form, and what SES cannot
deliver to is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Client


def create(client: Client, domain: str, destinations: list[str], **fields: Any) -> Any:
    return client.post("/api/aliases", {"domain": domain, "destinations": destinations, **fields})


def assert_loop_refused(response: Any, destination: str) -> None:
    assert response.status == 422, response.body
    body = response.json()
    assert destination.lower() in body["message"].lower()
    assert "postmask" in body["message"]
    assert body["detail"]
    assert all({"loc", "msg", "type"} <= set(issue) for issue in body["detail"])


# --- 4. no destination inside postmask --------------------------------------------------------------------


@pytest.mark.parametrize(
    "destination",
    ["shop@alice.example", "other@alice.example", "Other@ALICE.Example", "someone@bob.example"],
    ids=["itself", "its own domain", "its own domain in capitals", "another user's domain"],
)
def test_an_alias_cannot_forward_into_postmask(alice: Client, bob: Client, alice_domain: str, destination: str) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201

    response = create(alice, alice_domain, ["me@real.example", destination], local_part="shop")

    assert_loop_refused(response, destination)
    assert alice.get("/api/aliases").json()["items"] == []


def test_put_and_patch_refuse_it_too_and_change_nothing(alice: Client, alice_domain: str) -> None:
    alias = create(alice, alice_domain, ["me@real.example"], local_part="shop").json()
    path = f"/api/aliases/{alias['id']}"

    patched = alice.patch(path, {"destinations": ["me@real.example", "loop@alice.example"]})
    replaced = alice.put(
        path, {"destinations": ["shop@alice.example"], "note": "", "enabled": True, "expires_at": None}
    )

    assert_loop_refused(patched, "loop@alice.example")
    assert_loop_refused(replaced, "shop@alice.example")
    assert alice.get(path).json()["destinations"] == ["me@real.example"]


def test_a_patch_without_destinations_does_not_check_them(alice: Client, alice_domain: str) -> None:
    alias = create(alice, alice_domain, ["me@real.example"], local_part="shop").json()
    assert alice.patch(f"/api/aliases/{alias['id']}", {"note": "still fine"}).status == 200


@pytest.mark.parametrize("catch_all", ["anything@alice.example", "someone@bob.example"])
def test_a_catch_all_cannot_point_into_postmask(alice: Client, bob: Client, catch_all: str) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201

    created = alice.post("/api/domains", {"name": "alice.example", "catch_all_destination": catch_all})
    assert_loop_refused(created, catch_all)
    assert alice.get("/api/domains/alice.example").status == 404

    assert alice.post("/api/domains", {"name": "alice.example"}).status == 201
    patched = alice.patch("/api/domains/alice.example", {"catch_all_destination": catch_all})
    assert_loop_refused(patched, catch_all)
    assert alice.get("/api/domains/alice.example").json()["catch_all_destination"] is None


@pytest.mark.parametrize("address", ["me@alice.example", "Me@ALICE.example", "someone@bob.example"])
def test_a_destination_of_its_own_cannot_be_inside_postmask(alice: Client, bob: Client, address: str) -> None:
    # Issue 28, item 2: the Destinations page took it (and mailed it a link) while an alias refused it.
    assert alice.post("/api/domains", {"name": "alice.example"}).status == 201
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201

    response = alice.post("/api/destinations", {"email": address})

    assert response.status == 422, response.body
    assert_loop_refused(response, address)
    assert response.json()["detail"][0]["loc"] == ["body", "email"]
    assert alice.get("/api/destinations").json()["items"] == []


def test_destinations_outside_postmask_are_fine(alice: Client, alice_domain: str) -> None:
    assert create(alice, alice_domain, ["me@real.example", "me@alice.example.net"]).status == 201
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "me@real.example"}).status == 200


# --- 5. one canonical ASCII form --------------------------------------------------------------------------


def test_destinations_are_stored_in_their_ascii_form(alice: Client, alice_domain: str) -> None:
    look_alike = "a@xn--80ak6aa92e.com"  # not Apple: Cyrillic letters
    alias = create(alice, alice_domain, [look_alike, "b@B\u00fccher.Example"]).json()
    assert alias["destinations"] == ["a@xn--80ak6aa92e.com", "b@xn--bcher-kva.example"]

    domain = alice.patch(
        f"/api/domains/{alice_domain}", {"catch_all_destination": "c@\u0430\u0440\u0440\u04cf\u0435.com"}
    )
    assert domain.json()["catch_all_destination"] == "c@xn--80ak6aa92e.com"


@pytest.mark.parametrize("destination", ["j\u00f6rg@real.example", "a@xn--zz.example", "\u4f8b@real.example"])
def test_a_destination_ses_cannot_send_to_is_422(alice: Client, alice_domain: str, destination: str) -> None:
    assert create(alice, alice_domain, [destination]).status == 422
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": destination}).status == 422


@pytest.mark.parametrize("name", ["xn--zz.example", "xn--a.example", "XN--ZZ.example"])
def test_a_domain_in_invalid_punycode_is_refused_like_its_unicode_form_would_be(alice: Client, name: str) -> None:
    assert alice.post("/api/domains", {"name": name}).status == 422


def test_a_domain_in_punycode_and_in_unicode_is_the_same_domain(alice: Client, bob: Client) -> None:
    assert alice.post("/api/domains", {"name": "b\u00fccher.example"}).json()["name"] == "xn--bcher-kva.example"
    assert bob.post("/api/domains", {"name": "XN--BCHER-KVA.example"}).status == 409
