"""The contacts API (contract: "Contacts and replies") and the alias's display_name, through the handlers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from postmask.store import contacts
from tests.support.api import Client

REPLY_ADDRESS = re.compile(r"reply-[a-z0-9]{20}@alice\.example")


@pytest.fixture
def alias(alice: Client, alice_domain: str) -> dict[str, Any]:
    response = alice.post(
        "/api/aliases", {"domain": alice_domain, "local_part": "shop", "destinations": ["alice@real.example"]}
    )
    assert response.status == 201, response.body
    found: dict[str, Any] = response.json()
    return found


def contacts_of(alias: dict[str, Any]) -> str:
    return f"/api/aliases/{alias['id']}/contacts"


def test_a_new_contact_gets_an_unguessable_reply_address_on_the_alias_domain(
    alice: Client, alias: dict[str, Any]
) -> None:
    response = alice.post(contacts_of(alias), {"email": "Jane@Example.COM", "name": "Jane Doe"})

    assert response.status == 201, response.body
    contact = response.json()
    assert response.header("Location") == f"{contacts_of(alias)}/{contact['id']}"
    assert contact["email"] == "Jane@example.com"
    assert contact["name"] == "Jane Doe"
    assert contact["alias_id"] == alias["id"]
    assert REPLY_ADDRESS.fullmatch(contact["reply_address"])
    assert contact["blocked"] is False
    counts = ("received_count", "sent_count", "blocked_count", "last_received_at", "last_sent_at")
    assert [contact[name] for name in counts] == [0, 0, 0, None, None]
    assert alice.get(f"{contacts_of(alias)}/{contact['id']}").json() == contact
    # The reply path finds it from its reply address alone, in one read.
    target = contacts.reply_target(contact["reply_address"])
    assert target is not None
    assert (target.alias_address, target.email, target.contact_id) == (
        "shop@alice.example",
        "Jane@example.com",
        contact["id"],
    )
    # A second contact gets another address.
    other = alice.post(contacts_of(alias), {"email": "joe@example.com"}).json()
    assert other["reply_address"] != contact["reply_address"]


def test_the_same_address_twice_is_a_conflict_whatever_its_case(alice: Client, alias: dict[str, Any]) -> None:
    assert alice.post(contacts_of(alias), {"email": "jane@example.com"}).status == 201
    response = alice.post(contacts_of(alias), {"email": "JANE@example.com"})
    assert response.status == 409
    assert response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not an address"},
        {"email": "a@example.com", "name": "bell\x07"},
        {"email": "a@example.com", "name": "x" * 101},
        {"email": "a@example.com", "blocked": True},
    ],
)
def test_an_invalid_contact_is_a_422(alice: Client, alias: dict[str, Any], body: dict[str, Any]) -> None:
    response = alice.post(contacts_of(alias), body)
    assert response.status == 422
    assert response.json()["detail"]


def test_contacts_list_newest_first_with_filters_and_pages(alice: Client, alias: dict[str, Any]) -> None:
    made = [
        alice.post(contacts_of(alias), {"email": f"c{n}@example.com", "name": f"Person {n}"}).json() for n in range(5)
    ]
    alice.patch(f"{contacts_of(alias)}/{made[1]['id']}", {"blocked": True})

    listed = alice.get(contacts_of(alias)).json()
    assert [c["id"] for c in listed["items"]] == [c["id"] for c in reversed(made)]
    assert listed["next_token"] is None
    first = alice.get(contacts_of(alias), query={"limit": "2"}).json()
    rest = alice.get(contacts_of(alias), query={"limit": "10", "next_token": first["next_token"]}).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == [c["id"] for c in reversed(made)]
    assert [c["email"] for c in alice.get(contacts_of(alias), query={"blocked": "true"}).json()["items"]] == [
        "c1@example.com"
    ]
    assert [c["email"] for c in alice.get(contacts_of(alias), query={"q": "PERSON 3"}).json()["items"]] == [
        "c3@example.com"
    ]
    assert alice.get(contacts_of(alias), query={"next_token": "nonsense"}).status == 400


def test_block_rename_and_delete(alice: Client, alias: dict[str, Any]) -> None:
    contact = alice.post(contacts_of(alias), {"email": "jane@example.com", "name": "Jane"}).json()
    path = f"{contacts_of(alias)}/{contact['id']}"

    blocked = alice.patch(path, {"blocked": True})
    assert blocked.status == 200
    assert blocked.json()["blocked"] is True
    assert blocked.json()["name"] == "Jane"
    renamed = alice.patch(path, {"name": None}).json()
    assert (renamed["blocked"], renamed["name"]) == (True, None)
    assert alice.get(path).json() == renamed
    assert alice.patch(path, {"blocked": None}).status == 422
    assert alice.patch(path, {"reply_address": "x@alice.example"}).status == 422

    assert alice.delete(path).status == 204
    assert alice.get(path).status == 404
    assert alice.delete(path).status == 404
    assert contacts.reply_target(contact["reply_address"]) is None  # its reply address stops working
    # The address can be a contact again, with a new reply address.
    again = alice.post(contacts_of(alias), {"email": "jane@example.com"}).json()
    assert again["reply_address"] != contact["reply_address"]


def test_another_users_alias_and_contacts_are_not_there(alice: Client, bob: Client, alias: dict[str, Any]) -> None:
    contact = alice.post(contacts_of(alias), {"email": "jane@example.com"}).json()
    path = f"{contacts_of(alias)}/{contact['id']}"
    assert bob.get(contacts_of(alias)).status == 404
    assert bob.post(contacts_of(alias), {"email": "joe@example.com"}).status == 404
    assert bob.get(path).status == 404
    assert bob.patch(path, {"blocked": True}).status == 404
    assert bob.delete(path).status == 404
    assert alice.get(path).json() == contact
    # Unknown ids, and ids that could never have been issued, are 404 too.
    for unknown in ("01j0000000000000000000000", "..", "x" * 300):
        assert alice.get(f"/api/aliases/{unknown}/contacts").status == 404
        assert alice.get(f"{contacts_of(alias)}/{unknown}").status == 404


def test_a_deleted_alias_takes_its_contacts_out_of_reach(alice: Client, alias: dict[str, Any]) -> None:
    contact = alice.post(contacts_of(alias), {"email": "jane@example.com"}).json()
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204
    assert alice.get(contacts_of(alias)).status == 404
    assert alice.get(f"{contacts_of(alias)}/{contact['id']}").status == 404


def test_an_alias_has_a_display_name_for_mail_sent_from_it(alice: Client, alice_domain: str) -> None:
    made = alice.post(
        "/api/aliases",
        {"domain": alice_domain, "local_part": "news", "destinations": ["a@real.example"], "display_name": "Alice"},
    ).json()
    assert made["display_name"] == "Alice"
    path = f"/api/aliases/{made['id']}"
    assert alice.patch(path, {"display_name": "A. Liddell"}).json()["display_name"] == "A. Liddell"
    assert alice.patch(path, {"note": "x"}).json()["display_name"] == "A. Liddell"
    assert alice.patch(path, {"display_name": None}).json()["display_name"] is None
    full = {"destinations": ["a@real.example"], "note": "", "enabled": True, "expires_at": None}
    assert alice.put(path, {**full, "display_name": "Back"}).status == 204
    assert alice.get(path).json()["display_name"] == "Back"
    assert alice.put(path, full).status == 204  # PUT: an absent display_name is none
    assert alice.get(path).json()["display_name"] is None
    for bad in ("new\nline", "x" * 101):
        assert alice.patch(path, {"display_name": bad}).status == 422


@pytest.mark.parametrize("local_part", ["reply-abc", "Reply-x", "reply-aaaaaaaaaaaaaaaaaaaa"])
def test_the_reply_address_namespace_is_no_alias(alice: Client, alice_domain: str, local_part: str) -> None:
    response = alice.post(
        "/api/aliases", {"domain": alice_domain, "local_part": local_part, "destinations": ["a@real.example"]}
    )
    assert response.status == 422
    assert "reserved" in response.json()["detail"][0]["msg"]
