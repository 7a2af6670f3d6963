"""The forwarder makes exactly the DynamoDB calls per message that the key design promises
(layers/common/postmask/store/__init__.py); the routes' counts are in tests/integration/test_call_counts.py."""

from __future__ import annotations

from bench.calls import CallRecorder
from postmask.store import _dynamo
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder

NEW = (
    b"From: Ann <ann@example.org>\r\nTo: list@alice.example\r\nSubject: plans\r\n"
    b"Message-ID: <m1@example.org>\r\n\r\nx\r\n"
)
REPLY = NEW.replace(b"<m1@example.org>", b"<m2@example.org>\r\nIn-Reply-To: <m1@example.org>")


def forwarder_calls(mailroom: Mailroom, content: bytes, recipients: list[str], **kwargs: object) -> dict[str, int]:
    event = mailroom.receive(content, recipients, **kwargs)  # type: ignore[arg-type]
    with CallRecorder(_dynamo.client()) as recorded:
        mailroom.forward(event)
    return dict(recorded.counts())


def test_the_forwarder_makes_the_promised_calls_per_message(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    # Aliases whose site is known (the first sender names it otherwise: one transaction, once; see below).
    new_alias(alice, alice_domain, "list", ["one@real.example", "two@real.example"], site="example.org")
    new_alias(alice, alice_domain, "old", ["one@real.example"], enabled=False, site="example.org")

    # A new message to an alias with two verified destinations, from someone who never wrote to it: the route;
    # the destinations' status and the sender's contact (one BatchGetItem); the loop marker; the new contact (one
    # transaction); per destination a claim and its completion; the thread records of both copies; the count; and
    # per copy its activity event (event, alias's copy, day's count: one transaction); and, every message, its
    # ACCOUNTED record (one PutItem: what the daily reconciliation looks for, decision 0026).
    assert forwarder_calls(mailroom, NEW, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "PutItem": 3 + 1,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 2 + 2,
    }
    # A reply from the same sender: the same but the contact, which exists now (found in the same BatchGetItem),
    # and one more BatchGetItem for the ids its destinations received.
    assert forwarder_calls(mailroom, REPLY, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 2,
        "PutItem": 3 + 1,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 1 + 2,
    }
    # A copy that comes back: the route, the destinations' status and the marker's record; nothing sent, only its
    # activity event (dropped, loop) written.
    (copy, *_) = sent.sent
    assert forwarder_calls(mailroom, copy.raw, ["list@alice.example"]) == {
        "GetItem": 2,
        "BatchGetItem": 1,
        "PutItem": 1,
        "TransactWriteItems": 1,
    }
    # Blocked: the route, the count and the event. Unknown address: the route and the domain's marker (no
    # catch-all), and the event (dropped, no_alias) for the domain's owner.
    blocked = {"GetItem": 1, "PutItem": 1, "TransactWriteItems": 2}
    assert forwarder_calls(mailroom, NEW, ["old@alice.example"]) == blocked
    assert forwarder_calls(mailroom, NEW, ["nobody@alice.example"]) == {
        "GetItem": 2,
        "PutItem": 1,
        "TransactWriteItems": 1,
    }
    # A blocked contact: the route, the destinations' status and the contact (one BatchGetItem), the count (the
    # alias's and the contact's, one transaction), the event.
    (alias,) = [a for a in alice.get("/api/aliases").json()["items"] if a["local_part"] == "list"]
    (contact,) = alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"]
    alice.patch(f"/api/aliases/{alias['id']}/contacts/{contact['id']}", {"blocked": True})
    assert forwarder_calls(mailroom, NEW, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "PutItem": 1,
        "TransactWriteItems": 2,
    }


def test_leak_detection_costs_calls_once_per_alias_or_sender(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["one@real.example"])
    steady = {"GetItem": 1, "BatchGetItem": 1, "PutItem": 2 + 1, "UpdateItem": 1, "BatchWriteItem": 1}
    # Every message: the count and the copy's event; a new sender also their contact (decision 0110).
    counted_and_recorded, new_contact = 2, 1

    # The first sender names the site: one transaction more (the alias and its route), once.
    first = forwarder_calls(mailroom, NEW, ["shop@alice.example"])
    assert first == steady | {"TransactWriteItems": new_contact + 1 + counted_and_recorded}
    assert forwarder_calls(mailroom, NEW, ["shop@alice.example"]) == steady | {
        "TransactWriteItems": counted_and_recorded
    }

    # A foreign sender: one transaction to count them; a new one claims the alias's notice (UpdateItem), and the
    # first, which gets it, reads the owner's e-mail (GetItem) to send it.
    foreign = NEW.replace(b"ann@example.org", b"spam@elsewhere.example")
    assert forwarder_calls(mailroom, foreign, ["shop@alice.example"]) == steady | {
        "GetItem": 2,
        "UpdateItem": 2,
        "TransactWriteItems": new_contact + 1 + counted_and_recorded,
    }
    # Another new foreign sender: counted, and the notice's claim refused by its condition (one per alias).
    other = NEW.replace(b"ann@example.org", b"more@another.example")
    assert forwarder_calls(mailroom, other, ["shop@alice.example"]) == steady | {
        "UpdateItem": 2,
        "TransactWriteItems": new_contact + 1 + counted_and_recorded,
    }
    # One already counted: the same transaction, refused by its condition (the sender counts once).
    assert forwarder_calls(mailroom, other, ["shop@alice.example"]) == steady | {
        "TransactWriteItems": 1 + counted_and_recorded
    }
