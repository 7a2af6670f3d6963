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
    new_alias(alice, alice_domain, "list", ["one@real.example", "two@real.example"])
    new_alias(alice, alice_domain, "old", ["one@real.example"], enabled=False)

    # A new message to an alias with two verified destinations, from someone who never wrote to it: the route;
    # the destinations' status and the sender's contact (one BatchGetItem); the loop marker; the new contact (one
    # transaction); per destination a claim and its completion; the thread records of both copies; the count.
    assert forwarder_calls(mailroom, NEW, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "PutItem": 3,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 2,
    }
    # A reply from the same sender: the same but the contact, which exists now (found in the same BatchGetItem),
    # and one more BatchGetItem for the ids its destinations received.
    assert forwarder_calls(mailroom, REPLY, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 2,
        "PutItem": 3,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 1,
    }
    # A copy that comes back: the route, the destinations' status and the marker's record; nothing sent, nothing
    # written.
    (copy, *_) = sent.sent
    assert forwarder_calls(mailroom, copy.raw, ["list@alice.example"]) == {"GetItem": 2, "BatchGetItem": 1}
    # Blocked: the route and the count. Unknown address: the route and the domain's marker (no catch-all).
    assert forwarder_calls(mailroom, NEW, ["old@alice.example"]) == {"GetItem": 1, "TransactWriteItems": 1}
    assert forwarder_calls(mailroom, NEW, ["nobody@alice.example"]) == {"GetItem": 2}
    # A blocked contact: the route, the destinations' status and the contact (one BatchGetItem), the count (the
    # alias's and the contact's, one transaction).
    (alias,) = [a for a in alice.get("/api/aliases").json()["items"] if a["local_part"] == "list"]
    (contact,) = alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"]
    alice.patch(f"/api/aliases/{alias['id']}/contacts/{contact['id']}", {"blocked": True})
    assert forwarder_calls(mailroom, NEW, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
    }
