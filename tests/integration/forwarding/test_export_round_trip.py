"""Export -> delete -> import keeps every field a user set on an alias and its contacts, and a re-imported alias's
reply addresses keep working (issue 28, item 1: leak protection was silently reset by a round trip)."""

from __future__ import annotations

import json
from typing import Any

from postmask.store import contacts
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.integration.forwarding.test_replies import DESTINATION, reply_from_destination
from tests.support.api import Client
from tests.support.ses import SesRecorder

SENDER = "Orders Desk <orders@mail.shop.example>"
# What an import cannot carry over: the new alias's identity and dates, and what mail did to it (counts, leak).
ALIAS_NOT_CARRIED = {
    "id",
    "created_at",
    "updated_at",
    "forwarded_count",
    "blocked_count",
    "last_forwarded_at",
    "last_blocked_at",
    "leak",
}
CONTACT_NOT_CARRIED = {
    "id",
    "alias_id",
    "created_at",
    "last_received_at",
    "last_sent_at",
    "received_count",
    "sent_count",
    "blocked_count",
}


def carried(item: dict[str, Any], not_carried: set[str]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in not_carried}


def contacts_of(client: Client, alias_id: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/aliases/{alias_id}/contacts").json()["items"]
    return sorted((carried(contact, CONTACT_NOT_CARRIED) for contact in items), key=lambda c: c["email"])


def first_mail() -> bytes:
    return (
        f"From: {SENDER}\r\nTo: shop@alice.example\r\nSubject: Your order\r\n"
        "Message-ID: <o1@mail.shop.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nShipped.\r\n"
    ).encode()


def test_every_field_a_user_set_survives_export_delete_import_and_replies_still_work(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    # Given an alias with every field set, protected from foreign senders, and one with the rest
    shop = new_alias(
        alice,
        alice_domain,
        "shop",
        [DESTINATION, "second@real.example"],
        note="the shoe shop",
        display_name="Alice at Shop",
        expires_at="2031-05-01T12:00:00Z",
        site="https://www.shop.example/account",
        block_foreign_senders=True,
    )
    off = new_alias(alice, alice_domain, "old", [DESTINATION], enabled=False, note="")
    # ... contacts: the shop wrote (the forwarder made its contact), one added by hand and named, one blocked
    mailroom.deliver(first_mail(), ["shop@alice.example"])
    path = f"/api/aliases/{shop['id']}/contacts"
    assert alice.post(path, {"email": "friend@outside.example", "name": "A Friend"}).status == 201
    pest = alice.post(path, {"email": "pest@outside.example"}).json()
    assert alice.patch(f"{path}/{pest['id']}", {"blocked": True}).status == 200
    aliases_before = {a["address"]: a for a in (alice.get(f"/api/aliases/{x['id']}").json() for x in (shop, off))}
    contacts_before = contacts_of(alice, shop["id"])
    assert len(contacts_before) == 3
    assert aliases_before["shop@alice.example"]["site"] == "shop.example"

    # When they are exported, deleted, and the export imported
    exported = alice.get("/api/export")
    assert exported.status == 200
    for alias in (shop, off):
        assert alice.delete(f"/api/aliases/{alias['id']}").status == 204
    imported = alice.post(
        "/api/import", raw_body=exported.body.decode(), headers={"content-type": "application/json"}
    ).json()

    # Then each alias is back with every field its owner set, and its contacts with their reply addresses
    assert (imported["created"], imported["errors"]) == (2, [])
    after = {a["address"]: a for a in alice.get("/api/aliases").json()["items"]}
    assert {address: carried(a, ALIAS_NOT_CARRIED) for address, a in after.items()} == {
        address: carried(a, ALIAS_NOT_CARRIED) for address, a in aliases_before.items()
    }
    new_shop = after["shop@alice.example"]
    assert new_shop["id"] != shop["id"]
    assert contacts_of(alice, new_shop["id"]) == contacts_before

    # ... and answering the shop's mail through its old reply address still reaches the shop, from the alias
    (shop_contact,) = [c for c in contacts_before if c["email"] == "orders@mail.shop.example"]
    answer = reply_from_destination(shop_contact["reply_address"])
    summary = mailroom.deliver(answer, [shop_contact["reply_address"]], sender=DESTINATION)
    assert summary["replied"] == [shop_contact["reply_address"]]
    out = sent.sent[-1]
    assert out.destinations == ["orders@mail.shop.example"]
    assert out.addresses("From") == [("Alice at Shop", "shop@alice.example")]
    # ... and leak protection still holds: a foreign sender is blocked on the re-imported alias
    before_blocked = alice.get(f"/api/aliases/{new_shop['id']}").json()["blocked_count"]
    spam = first_mail().replace(b"orders@mail.shop.example", b"spammer@elsewhere.example")
    mailroom.deliver(spam, ["shop@alice.example"])
    assert alice.get(f"/api/aliases/{new_shop['id']}").json()["blocked_count"] == before_blocked + 1


def test_a_reply_address_of_someone_else_is_never_taken_by_an_import(
    alice: Client, alice_domain: str, bob: Client, mailroom: Mailroom
) -> None:
    """An export edited to name another alias's reply address (another user's, or another of one's own aliases')
    imports with a new one: an import gives back only what was this address's."""
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    bobs = new_alias(bob, "bob.example", "b", ["bob@real.example"])
    bobs_contact = bob.post(f"/api/aliases/{bobs['id']}/contacts", {"email": "x@outside.example"}).json()
    other = new_alias(alice, alice_domain, "other", [DESTINATION])
    others_contact = alice.post(f"/api/aliases/{other['id']}/contacts", {"email": "y@outside.example"}).json()
    document = {
        "format": "postmask/1",
        "exported_at": "2026-11-23T00:00:00Z",
        "domains": [],
        "destinations": [],
        "aliases": [
            {
                "address": "new@alice.example",
                "destinations": [DESTINATION],
                "contacts": [
                    {"email": "x@outside.example", "reply_address": bobs_contact["reply_address"]},
                    {"email": "y@outside.example", "reply_address": others_contact["reply_address"]},
                    {"email": "z@outside.example", "reply_address": "reply-aaaaaaaaaaaaaaaaaaaa@bob.example"},
                ],
            }
        ],
    }

    result = alice.post("/api/import", raw_body=json.dumps(document), headers={"content-type": "application/json"})

    assert result.status == 200, result.body
    new = next(a for a in alice.get("/api/aliases").json()["items"] if a["address"] == "new@alice.example")
    made = {c["email"]: c["reply_address"] for c in alice.get(f"/api/aliases/{new['id']}/contacts").json()["items"]}
    assert set(made) == {"x@outside.example", "y@outside.example", "z@outside.example"}
    assert made["x@outside.example"] != bobs_contact["reply_address"]
    assert made["y@outside.example"] != others_contact["reply_address"]
    assert all(address.endswith("@alice.example") for address in made.values())
    # The others' reply addresses still lead where they did.
    assert (
        bob.get(f"/api/aliases/{bobs['id']}/contacts/{bobs_contact['id']}").json()["reply_address"]
        == (bobs_contact["reply_address"])
    )
    targets = contacts.reply_targets([bobs_contact["reply_address"], others_contact["reply_address"]])
    assert targets[bobs_contact["reply_address"]].alias_id == bobs["id"]
    assert targets[others_contact["reply_address"]].alias_id == other["id"]
