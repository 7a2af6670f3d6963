"""The reply path through the forwarder (S3 in, SES out): contacts' reply addresses, authenticated by SES's verdicts
and the alias's verified destinations only, rebuilt, scrubbed of the destination's address, threaded both ways."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest

from local.ses import Verdicts
from postmask.store import contacts
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.mail import as_email, header_problems, leaf_payloads
from tests.support.ses import SentMail, SesRecorder

DESTINATION = "alice@real.example"
STRANGER = "stranger@outside.example"
PDF = b"%PDF-1.4\n% alice@real.example is in here, and must stay: attachments are untouched\n" + bytes(range(256))
REGION_HOST = "eu-west-1.amazonses.com"  # the tests' region (SES's Message-IDs name it)


def first_mail(subject: str = "Hello", message_id: str = "<s1@outside.example>") -> bytes:
    return (
        f"From: Sam Stranger <{STRANGER}>\r\nTo: shop@alice.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHi there, who are you?\r\n"
    ).encode()


def reply_from_destination(
    to: str,
    *,
    in_reply_to: str | None = None,
    cc: str | None = None,
    sender: str = DESTINATION,
    message_id: str = "<CAreply1@mail.real.example>",
) -> bytes:
    """What a destination's mail client sends when its person answers: quoting what they answer, naming their own
    address, with an attachment."""
    message = EmailMessage()
    message["From"] = f"Alice Liddell <{sender}>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = f"Re: Hello (from {sender})"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["User-Agent"] = "RealMail/1.0"
    message["Disposition-Notification-To"] = sender
    message.set_content(
        f"Hello Sam,\n\nwrite to me at {sender.upper()} any time.\n\n"
        f"On Monday, Alice Liddell <{sender}> wrote:\n> earlier\n",
        cte="quoted-printable",
    )
    message.add_alternative(
        f'<p>Hello Sam, <a href="mailto:{sender}">mail me</a> or {sender.replace("@", "&#64;")}</p>', subtype="html"
    )
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="notes.pdf")
    raw = message.as_bytes()
    return b"Received: from mail.real.example (10.1.2.3) by smtp.real.example\r\n" + raw.replace(
        b"\n", b"\r\n"
    ).replace(b"\r\r\n", b"\r\n")


def the_contact(client: Client, alias: dict[str, Any], email: str = STRANGER) -> dict[str, Any]:
    (found,) = [c for c in client.get(f"/api/aliases/{alias['id']}/contacts").json()["items"] if c["email"] == email]
    return found


def no_trace_of(mail: SentMail, address: str) -> None:
    assert address.encode() not in mail.raw.lower()
    for content_type, payload in leaf_payloads(as_email(mail.raw)):
        if content_type.startswith("text/"):
            assert address.encode() not in payload.lower(), content_type


def test_a_conversation_through_the_alias_never_shows_the_destination(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION], display_name="Alice at Shop")

    # A stranger writes: the copy's Reply-To is the stranger's reply address on the alias's domain.
    mailroom.deliver(first_mail(), ["shop@alice.example"])
    (copy,) = sent.sent
    contact = the_contact(alice, alias)
    assert re.fullmatch(r"reply-[a-z0-9]{20}@alice\.example", contact["reply_address"])
    assert copy.addresses("Reply-To") == [(f"Sam Stranger ({STRANGER})", contact["reply_address"])]
    received_id = f"<recorded-1@{REGION_HOST}>"  # what SES made the copy's Message-ID

    # The destination answers it, as its mail client would.
    answer = reply_from_destination(f'"Sam Stranger" <{contact["reply_address"]}>', in_reply_to=received_id)
    summary = mailroom.deliver(answer, [contact["reply_address"]], sender=DESTINATION)

    assert summary["replied"] == [contact["reply_address"]]
    (_, out) = sent.sent
    assert out.sender == "shop@alice.example"
    assert out.destinations == [STRANGER]
    assert out.addresses("From") == [("Alice at Shop", "shop@alice.example")]
    assert out.addresses("To") == [("Sam Stranger", STRANGER)]  # the contact's name, from their first mail
    assert out.header("In-Reply-To") == "<s1@outside.example>"
    assert out.header("References") == "<s1@outside.example>"
    assert out.header("Subject") == "Re: Hello (from shop@alice.example)"
    for gone in ("Received", "User-Agent", "Disposition-Notification-To", "Reply-To", "X-Postmask-Hop"):
        assert out.header(gone) is None, gone
    no_trace_of(out, DESTINATION)
    assert header_problems(out.raw, "shop@alice.example") == []
    # The text parts say the alias instead; the attachment is byte for byte what was attached.
    leaves = dict(leaf_payloads(as_email(out.raw)))
    assert b"write to me at shop@alice.example any time" in leaves["text/plain"]
    assert b"Alice Liddell <shop@alice.example> wrote" in leaves["text/plain"]
    assert b"mailto:shop@alice.example" in leaves["text/html"]
    assert leaves["application/pdf"] == PDF
    assert the_contact(alice, alias)["sent_count"] == 1

    # The stranger answers the reply: the destination's copy names the destination's own message.
    stranger_again = first_mail("Re: Hello", "<s2@outside.example>").replace(
        b"\r\n\r\n", f"\r\nIn-Reply-To: <recorded-2@{REGION_HOST}>\r\n\r\n".encode(), 1
    )
    mailroom.deliver(stranger_again, ["shop@alice.example"])
    assert sent.sent[-1].header("In-Reply-To") == "<CAreply1@mail.real.example>"

    # The destination follows up on its own sent message (SimpleLogin #2608): the contact's copy names the reply
    # the contact received, not the destination's id.
    follow_up = reply_from_destination(
        contact["reply_address"], in_reply_to="<CAreply1@mail.real.example>", message_id="<CAreply2@mail.real.example>"
    )
    mailroom.deliver(follow_up, [contact["reply_address"]], sender=DESTINATION)
    assert sent.sent[-1].destinations == [STRANGER]
    assert sent.sent[-1].header("In-Reply-To") == f"<recorded-2@{REGION_HOST}>"
    no_trace_of(sent.sent[-1], DESTINATION)


def test_a_retried_reply_is_sent_once(alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    event = mailroom.receive(
        reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION
    )

    mailroom.forward(event)
    mailroom.forward(event)

    assert len(sent.sent) == 1
    assert the_contact(alice, alias)["sent_count"] == 1


def test_writing_first_to_a_new_contact(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": "new@outside.example", "name": "New"}).json()

    mailroom.deliver(reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION)

    (out,) = sent.sent
    assert out.destinations == ["new@outside.example"]
    assert out.addresses("To") == [("New", "new@outside.example")]
    assert out.addresses("From") == [("", "shop@alice.example")]
    assert out.header("In-Reply-To") is None
    no_trace_of(out, DESTINATION)


def test_reply_all_reaches_every_contact_named_and_the_aliass_own_copy_is_dropped(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    mailroom.deliver(
        first_mail().replace(b"To: shop@alice.example", b"To: shop@alice.example, Bea <bea@outside.example>"),
        ["shop@alice.example"],
    )
    (copy,) = sent.sent
    sam, bea = the_contact(alice, alias), the_contact(alice, alias, "bea@outside.example")
    # "Reply all" stays inside postmask: To shows Bea's reply address, not Bea.
    assert copy.addresses("To") == [("", "shop@alice.example"), ("Bea (bea@outside.example)", bea["reply_address"])]

    answer = reply_from_destination(sam["reply_address"], cc=f"shop@alice.example, {bea['reply_address']}")
    summary = mailroom.deliver(
        answer, [sam["reply_address"], "shop@alice.example", bea["reply_address"]], sender=DESTINATION
    )

    assert sorted(summary["replied"]) == sorted([sam["reply_address"], bea["reply_address"]])
    assert summary["dropped"] == ["shop@alice.example"]
    to_sam, to_bea = sent.to(STRANGER), sent.to("bea@outside.example")
    assert len(to_sam) == len(to_bea) == 1
    for out in (to_sam[0], to_bea[0]):
        assert out.addresses("To") == [("Sam Stranger", STRANGER)]
        assert out.addresses("Cc") == [("Bea", "bea@outside.example")]
        no_trace_of(out, DESTINATION)


def refused(summary: dict[str, Any]) -> list[str]:
    return [found["reason"] for found in summary["replies_refused"]]


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [
        (Verdicts(dmarc="FAIL", dmarc_policy="NONE"), "unauthenticated_reply"),
        (Verdicts(spf="FAIL", dkim="FAIL"), "unauthenticated_reply"),
        (Verdicts(spf="GRAY", dkim="PROCESSING_FAILED"), "unauthenticated_reply"),
        (Verdicts(spam="FAIL"), "spam"),
        (Verdicts(virus="FAIL"), "virus"),
    ],
)
def test_a_reply_ses_did_not_authenticate_is_refused_and_nothing_is_sent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, verdicts: Verdicts, reason: str
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]),
        [contact["reply_address"]],
        sender=DESTINATION,
        verdicts=verdicts,
    )

    assert refused(summary) == [reason]
    assert sent.sent == []
    assert sent.system == []  # no bounce, no notice: nothing at all
    assert the_contact(alice, alias)["sent_count"] == 0


def test_only_a_destination_of_the_alias_may_reply_envelope_and_from_alike(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    new_alias(alice, alice_domain, "other", ["other@real.example"])  # verified, but another alias's destination
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    to = contact["reply_address"]

    stranger = mailroom.deliver(
        reply_from_destination(to, sender="mallory@evil.example"), [to], sender="mallory@evil.example"
    )
    other = mailroom.deliver(reply_from_destination(to, sender="other@real.example"), [to], sender="other@real.example")
    # The destination's envelope with someone else's From, and the other way round.
    from_forged = mailroom.deliver(reply_from_destination(to, sender="mallory@evil.example"), [to], sender=DESTINATION)
    envelope_forged = mailroom.deliver(reply_from_destination(to), [to], sender="mallory@evil.example")
    bounce = mailroom.deliver(reply_from_destination(to), [to], sender="")

    assert (
        refused(stranger) == refused(other) == refused(from_forged) == refused(envelope_forged) == ["not_a_destination"]
    )
    assert refused(bounce) == ["null_sender"]
    assert sent.sent == []
    assert sent.system == []


def test_a_pending_destination_may_not_reply(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    response = alice.patch(f"/api/aliases/{alias['id']}", {"destinations": [DESTINATION, "new@real.example"]})
    assert response.status == 200
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"], sender="new@real.example"),
        [contact["reply_address"]],
        sender="new@real.example",
    )

    assert refused(summary) == ["destination_unverified"]
    assert sent.sent == []


def test_a_reply_that_also_goes_to_someone_outside_is_refused_whole(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    other = new_alias(alice, alice_domain, "other", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    elsewhere = alice.post(f"/api/aliases/{other['id']}/contacts", {"email": "x@outside.example"}).json()
    to = contact["reply_address"]

    outside = mailroom.deliver(reply_from_destination(to, cc="friend@outside.example"), [to], sender=DESTINATION)
    other_alias = mailroom.deliver(reply_from_destination(to, cc=elsewhere["reply_address"]), [to], sender=DESTINATION)
    unknown = mailroom.deliver(
        reply_from_destination(to, cc="reply-aaaaaaaaaaaaaaaaaaaa@alice.example"), [to], sender=DESTINATION
    )

    assert refused(outside) == refused(other_alias) == refused(unknown) == ["foreign_recipient"]
    assert sent.sent == []


def test_a_deleted_contacts_reply_address_sends_nothing(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    assert alice.delete(f"/api/aliases/{alias['id']}/contacts/{contact['id']}").status == 204

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION
    )
    never = mailroom.deliver(
        reply_from_destination("reply-zzzzzzzzzzzzzzzzzzzz@alice.example"),
        ["reply-zzzzzzzzzzzzzzzzzzzz@alice.example"],
        sender=DESTINATION,
    )

    assert refused(summary) == refused(never) == ["no_contact"]
    assert sent.sent == []


def test_a_deleted_alias_takes_its_reply_addresses_with_it(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204
    new_alias(alice, alice_domain, "shop", [DESTINATION])  # the address again: a new alias, no contacts

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION
    )

    assert refused(summary) == ["no_alias"]
    assert sent.sent == []
    assert contacts.reply_target(contact["reply_address"]) is not None  # still there, but it leads nowhere


def test_a_blocked_contacts_mail_is_blocked_and_counted_on_both(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    mailroom.deliver(first_mail(), ["shop@alice.example"])
    contact = the_contact(alice, alias)
    alice.patch(f"/api/aliases/{alias['id']}/contacts/{contact['id']}", {"blocked": True})

    summary = mailroom.deliver(first_mail("again", "<s9@outside.example>"), ["shop@alice.example"])

    assert summary["blocked"] == ["shop@alice.example"]
    assert len(sent.sent) == 1  # the first message only
    current = alice.get(f"/api/aliases/{alias['id']}").json()
    assert (current["forwarded_count"], current["blocked_count"]) == (1, 1)
    after = the_contact(alice, alias)
    assert (after["received_count"], after["blocked_count"]) == (1, 1)
    # Unblocked, their mail flows again.
    alice.patch(f"/api/aliases/{alias['id']}/contacts/{contact['id']}", {"blocked": False})
    assert mailroom.deliver(first_mail("third", "<s10@outside.example>"), ["shop@alice.example"])["forwarded"]


def test_the_reply_path_makes_the_promised_calls(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    from bench.calls import CallRecorder
    from postmask.store import _dynamo

    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    event = mailroom.receive(
        reply_from_destination(contact["reply_address"], in_reply_to="<x@y>"),
        [contact["reply_address"]],
        sender=DESTINATION,
    )
    with CallRecorder(_dynamo.client()) as recorded:
        mailroom.forward(event)
    # The reply address, the alias's route, the sender's status; the thread records the reply names; the claim
    # and its completion; the new thread pair; the count; the activity event (sent); the message's ACCOUNTED record.
    assert dict(recorded.counts()) == {
        "GetItem": 2,
        "BatchGetItem": 2,
        "PutItem": 1 + 1,
        "UpdateItem": 1,
        "BatchWriteItem": 1,
        "TransactWriteItems": 2,
    }


def test_a_bounced_reply_suspends_no_destination(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    from tests.integration.forwarding.test_verified_destinations import feedback

    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    # A contact whose address is also one of the user's destinations: its reply's bounce must not suspend it.
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": DESTINATION}).json()
    mailroom.deliver(reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION)
    (out,) = sent.sent
    assert out.tags["postmask-mail"] == "reply"

    outcome = feedback("bounce", DESTINATION, out.tags)

    assert outcome["suspended"] == []
    assert alice.get("/api/destinations").json()["items"][0]["status"] == "verified"
