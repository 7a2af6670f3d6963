"""Encrypted forwarding through the whole forwarder (S3 in, SES out), decrypted by GnuPG: a destination with an
OpenPGP key receives RFC 3156 PGP/MIME whose outside names neither the sender nor the subject; the alias's
`encrypt`, the key's `fallback` when it cannot be used, the expiry notice, the activity log's `encrypted`, and the
thread record written as for a clear copy."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest

from postmask import openpgp
from postmask.mail.headers import mailboxes
from postmask.mail.message import RawMessage
from postmask.store import destinations, pgp_keys, threads
from tests.integration.forwarding.conftest import PUBLIC_URL, Mailroom
from tests.integration.forwarding.test_activity import events
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.gnupg import GPG, GnuPG, gnupg_home
from tests.support.mail import corpus
from tests.support.ses import SesRecorder

pytestmark = pytest.mark.skipif(GPG is None, reason="gpg is not installed (apt-get install gnupg)")

ME = "me@real.example"
OUTER = {"from", "to", "date", "message-id", "subject", "mime-version", "content-type"}
SECRET_SUBJECT = "Quarterly numbers, do not share"


@pytest.fixture(scope="module")
def gpg() -> Iterator[GnuPG]:
    with gnupg_home() as home:
        home.generate("Me <me@real.example>", "future-default", expiry="2y")
        home.generate("Soon <soon@real.example>", "future-default", expiry="10d")
        home.generate_expired("Old <old@real.example>")
        yield home


def message(subject: str = SECRET_SUBJECT, message_id: str = "<q1@outside.example>") -> bytes:
    return (
        "From: Sam Stranger <sam@outside.example>\r\nTo: box@alice.example\r\nCc: pat@outside.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Sun, 06 Dec 2026 03:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Revenue is up 12 % — keep it quiet.\r\n"
    ).encode()


def user_id(client: Client) -> str:
    found: str = client.get("/api/me").json()["id"]
    return found


def add_key(client: Client, email_address: str, armored: str, **extra: Any) -> None:
    dest_id = destinations.destination_id(user_id(client), email_address)
    response = client.put(f"/api/destinations/{dest_id}/pgp", {"public_key": armored, **extra})
    assert response.status == 200, response.body


def store_key_unchecked(client: Client, email_address: str, armored: str, fallback: str) -> None:
    """A key that expired after it was added (PUT refuses an expired one): written as PUT writes it."""
    import pysequoia

    cert = pysequoia.Cert.from_bytes(armored.encode())
    info = openpgp.KeyInfo(cert.fingerprint.upper(), "ed25519", cert.expiration, ("Old",), bytes(cert))
    owner = user_id(client)
    pgp_keys.put(owner, destinations.destination_id(owner, email_address), info, fallback)  # type: ignore[arg-type]


def test_a_copy_to_a_destination_with_a_key_is_pgp_mime_that_gnupg_decrypts(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    alias = new_alias(alice, alice_domain, "box", [ME, "plain@real.example"])
    add_key(alice, ME, gpg.public_key(ME))

    mailroom.deliver(message(), ["box@alice.example"])

    (encrypted,) = sent.to(ME)
    (clear,) = sent.to("plain@real.example")  # a destination without a key gets the clear copy
    outer, plain = gpg.decrypt_pgp_mime(encrypted.raw)
    assert {name.lower() for name in outer} == OUTER
    assert outer["Subject"] == "..."
    assert outer["From"] == "box@alice.example"
    assert outer["To"] == ME
    outer_block = encrypted.raw.partition(b"\r\n\r\n")[0].lower()
    for hidden in (b"sam", b"pat@", b"quarterly", b"reply-", b"q1@outside", b"x-postmask"):
        assert hidden not in outer_block

    inner = RawMessage.parse(plain)
    # Inside: the clear copy as it was sent to the other destination (its own Message-ID and Date aside).
    assert bytes(inner.body) == clear.body
    assert inner.first("subject").text() == SECRET_SUBJECT  # type: ignore[union-attr]
    shown_from = mailboxes(inner.first("from").raw_value)  # type: ignore[union-attr]
    assert shown_from[0].address == "box@alice.example"
    assert "Sam Stranger" in shown_from[0].name
    reply_to = mailboxes(inner.first("reply-to").raw_value)[0].address  # type: ignore[union-attr]
    assert reply_to.startswith("reply-")
    assert reply_to == clear.addresses("Reply-To")[0][1]
    parsed = email.message_from_bytes(plain, policy=email.policy.default)
    assert parsed.get_param("hp", header="content-type") == "cipher"
    assert "Revenue is up 12 % — keep it quiet." in parsed.get_content()  # type: ignore[attr-defined]
    assert "HP-Outer" in parsed

    by_destination = {event["destination"]: event for event in events(alice)}
    assert by_destination[ME]["outcome"] == "forwarded"
    assert by_destination[ME]["encrypted"] is True
    assert by_destination["plain@real.example"]["encrypted"] is False
    # The thread record, as for a clear copy: the original id and the one the destination received.
    inside = threads.inside_ids("box@alice.example", [ME, "plain@real.example"], ["<q1@outside.example>"])
    received = {destination: ids["<q1@outside.example>"] for destination, ids in inside.items()}
    assert set(received) == {ME, "plain@real.example"}
    assert received[ME] != received["plain@real.example"]  # each its own SES id
    assert alias["encrypt"] is True


def test_an_alias_that_does_not_encrypt_sends_in_clear(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    alias = new_alias(alice, alice_domain, "box", [ME])
    add_key(alice, ME, gpg.public_key(ME))
    assert alice.patch(f"/api/aliases/{alias['id']}", {"encrypt": False}).status == 200

    mailroom.deliver(message(), ["box@alice.example"])

    (copy,) = sent.to(ME)
    assert copy.header("Subject") == SECRET_SUBJECT
    assert b"multipart/encrypted" not in copy.raw
    assert events(alice)[0]["encrypted"] is False


def test_an_expired_key_with_fallback_quarantine_never_sends_in_clear(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    new_alias(alice, alice_domain, "box", [ME])
    refused = alice.put(
        f"/api/destinations/{destinations.destination_id(user_id(alice), ME)}/pgp",
        {"public_key": gpg.public_key("old@real.example")},
    )
    assert refused.status == 422  # PUT refuses it; it stands for a key that expired after it was added
    store_key_unchecked(alice, ME, gpg.public_key("old@real.example"), "quarantine")

    event = mailroom.receive(message(), ["box@alice.example"])
    summary = mailroom.forward(event)

    assert sent.to(ME) == []
    (recorded,) = [e for e in events(alice) if e["destination"] == ME]
    assert (recorded["outcome"], recorded["reason"]) == ("quarantined", "pgp_key_unusable")
    assert (summary["forwarded"], summary["held"]) == ([], 1)
    # Kept in quarantine with its reason, to be resent once the key is renewed (contract: Quarantine).
    (kept,) = alice.get("/api/quarantine").json()["items"]
    assert (kept["reason"], kept["destination"]) == ("pgp_key_unusable", ME)
    # A retry of the same event finds the copy closed: it holds nothing again and sends nothing.
    again = mailroom.forward(event)
    assert (again["held"], again["sent"]) == (0, 0)
    assert sent.to(ME) == []
    assert len(events(alice)) == 1


def test_an_expired_key_with_fallback_plain_sends_the_clear_copy(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    new_alias(alice, alice_domain, "box", [ME])
    store_key_unchecked(alice, ME, gpg.public_key("old@real.example"), "plain")

    mailroom.deliver(message(), ["box@alice.example"])

    (copy,) = sent.to(ME)
    assert copy.header("Subject") == SECRET_SUBJECT
    (event,) = events(alice)
    assert (event["outcome"], event["reason"], event["encrypted"]) == ("forwarded", "pgp_key_unusable", False)


def test_a_key_expiring_within_14_days_earns_one_notice(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    new_alias(alice, alice_domain, "box", [ME])
    add_key(alice, ME, gpg.public_key("soon@real.example"))

    mailroom.deliver(message(), ["box@alice.example"])
    mailroom.deliver(message("again", "<q2@outside.example>"), ["box@alice.example"])

    assert len(sent.to(ME)) == 2  # still encrypted: the key works until it expires
    assert all(b"multipart/encrypted" in mail.raw for mail in sent.to(ME))
    (notice,) = sent.system
    assert notice.tags["postmask-mail"] == "pgp_key_expiry"
    assert notice.destinations == ["alice@example.org"]
    text = email.message_from_bytes(notice.raw, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert gpg.fingerprint("soon@real.example") in text
    assert ME in text
    assert f"{PUBLIC_URL}/destinations" in text

    # A new key is a new notice's business; the same key never twice.
    add_key(alice, ME, gpg.public_key("soon@real.example"))
    mailroom.deliver(message("third", "<q3@outside.example>"), ["box@alice.example"])
    assert len(sent.system) == 2


@pytest.mark.parametrize(
    "name", ["attachments.eml", "latin1-8bit.eml", "multipart-alternative.eml", "cpython-msg_02.eml"]
)
def test_corpus_messages_arrive_encrypted_with_their_parts_intact(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG, name: str
) -> None:
    new_alias(alice, alice_domain, "box", [ME, "plain@real.example"])
    add_key(alice, ME, gpg.public_key(ME))

    mailroom.deliver(corpus()[name], ["box@alice.example"])

    (encrypted,) = sent.to(ME)
    (clear,) = sent.to("plain@real.example")
    _, plain = gpg.decrypt_pgp_mime(encrypted.raw)
    assert bytes(RawMessage.parse(plain).body) == clear.body
