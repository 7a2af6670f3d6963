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
    for gone in ("Received", "User-Agent", "Disposition-Notification-To", "Reply-To"):
        assert out.header(gone) is None, gone
    assert out.header("X-Postmask-Hop") is not None  # the loop marker (issue 25)
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


def answer_a_contact(
    client: Client, domain: str, mailroom: Mailroom, verdicts: Verdicts
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(the alias, its new contact, the forwarder's summary) of the destination answering the contact with SES's
    `verdicts`."""
    alias = new_alias(client, domain, "shop", [DESTINATION])
    contact = client.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]),
        [contact["reply_address"]],
        sender=DESTINATION,
        verdicts=verdicts,
    )
    return alias, contact, summary


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [
        (Verdicts(dmarc="FAIL", dmarc_policy="NONE"), "unauthenticated_reply"),
        (Verdicts(spf="FAIL", dkim="FAIL", dmarc="GRAY"), "unauthenticated_reply"),
        (Verdicts(spf="GRAY", dkim="PROCESSING_FAILED", dmarc="GRAY"), "unauthenticated_reply"),
        # Signed by the attacker's own domain (DKIM PASS), envelope and From forged to the destination, whose
        # domain publishes no DMARC record (GRAY) or whose record SES could not read: issue 25's attack.
        (Verdicts(spf="FAIL", dkim="PASS", dmarc="GRAY"), "unauthenticated_reply"),
        (Verdicts(spf="FAIL", dkim="PASS", dmarc="PROCESSING_FAILED"), "unauthenticated_reply"),
        (Verdicts(spf="GRAY", dkim="PASS", dmarc="GRAY"), "unauthenticated_reply"),
        (Verdicts(spam="FAIL"), "spam"),
        (Verdicts(virus="FAIL"), "virus"),
    ],
)
def test_a_reply_ses_did_not_authenticate_is_refused_and_nothing_is_sent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, verdicts: Verdicts, reason: str
) -> None:
    alias, _contact, summary = answer_a_contact(alice, alice_domain, mailroom, verdicts)

    assert refused(summary) == [reason]
    assert sent.sent == []
    assert sent.system == []  # no bounce, no notice: nothing at all
    assert the_contact(alice, alias)["sent_count"] == 0


@pytest.mark.parametrize(
    "verdicts",
    [Verdicts(spf="FAIL", dkim="FAIL", dmarc="PASS"), Verdicts(spf="PASS", dkim="FAIL", dmarc="GRAY")],
)
def test_dmarc_pass_or_spf_pass_for_the_envelope_sender_sends(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, verdicts: Verdicts
) -> None:
    _alias, contact, summary = answer_a_contact(alice, alice_domain, mailroom, verdicts)

    assert summary["replied"] == [contact["reply_address"]]


def test_an_unauthenticated_reply_tells_the_owner_what_the_domain_must_publish(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    answer_a_contact(alice, alice_domain, mailroom, Verdicts(spf="FAIL", dkim="PASS", dmarc="GRAY"))

    (event,) = alice.get("/api/activity").json()["items"]
    assert (event["outcome"], event["reason"]) == ("refused", "unauthenticated_reply")
    (hint,) = event["notes"]
    assert "real.example must publish a DMARC record" in hint
    assert "spf=FAIL dkim=PASS dmarc=GRAY" in hint


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


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"enabled": False}, "alias_disabled"), ({"expires_at": "2020-01-01T00:00:00Z"}, "alias_expired")],
)
def test_a_disabled_or_expired_alias_sends_no_reply(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    change: dict[str, Any],
    reason: str,
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    assert alice.patch(f"/api/aliases/{alias['id']}", change).status == 200

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION
    )

    assert refused(summary) == [reason]
    assert sent.sent == []
    assert the_contact(alice, alias)["sent_count"] == 0


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
    # The reply address, the alias's route, the sender's status; the thread records the reply names; the loop
    # marker, the claim and the message's ACCOUNTED record; the claim's completion; the new thread pair; the count;
    # the activity event (sent).
    assert dict(recorded.counts()) == {
        "GetItem": 2,
        "BatchGetItem": 2,
        "PutItem": 3,
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


REAL = "alice.real@realmail.example"


def fixture_reply(name: str, reply_address: str) -> bytes:
    from tests.support.mail import FIXTURES

    return (FIXTURES / "replies" / name).read_bytes().replace(b"REPLY@alice.example", reply_address.encode())


@pytest.mark.parametrize(
    ("fixture", "removed"),
    [
        ("smime-signed-openssl.eml", "application/x-pkcs7-signature"),
        ("thunderbird-openpgp-key.eml", "application/pgp-keys"),
    ],
)
def test_identity_parts_leave_the_reply_and_the_event_says_so(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, fixture: str, removed: str
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [REAL])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()

    to = contact["reply_address"]

    summary = mailroom.deliver(fixture_reply(fixture, to), [to], sender=REAL)

    assert summary["replied"] == [contact["reply_address"]]
    (out,) = sent.sent
    assert b"realmail" not in out.raw.lower()
    for gone in (b"pkcs7", b"PGP PUBLIC KEY", b"Autocrypt", b"This is a"):
        assert gone not in out.raw, gone
    assert [content_type for content_type, _ in leaf_payloads(as_email(out.raw))] == ["text/plain"]
    assert header_problems(out.raw, "shop@alice.example") == []
    (event,) = alice.get("/api/activity").json()["items"]
    assert (event["outcome"], event["notes"]) == ("sent", [f"removed {removed}"])


def test_a_calendar_invitation_reaches_the_contact_without_the_mailbox(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [REAL])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()
    invitation = fixture_reply("google-calendar-invitation.eml", contact["reply_address"])

    mailroom.deliver(invitation, [contact["reply_address"]], sender=REAL)

    (out,) = sent.sent
    assert b"realmail" not in out.raw.lower()
    for content_type, payload in leaf_payloads(as_email(out.raw)):
        assert b"realmail" not in payload.replace(b"\r\n ", b"").lower(), content_type
    calendars = [payload for content_type, payload in leaf_payloads(as_email(out.raw)) if "calendar" in content_type]
    assert b"ORGANIZER;CN=Alice Real:mailto:shop@alice.example" in calendars[0]


# --- issue 25 item 4: loops through contacts -------------------------------------------------------------------


def vacation_reply(to: str) -> bytes:
    """An auto-responder's answer (RFC 3834): Auto-Submitted and Precedence say no responder may answer it."""
    return (
        f"From: Alice Liddell <{DESTINATION}>\r\nTo: {to}\r\nSubject: Out of office\r\n"
        "Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\nMessage-ID: <vacation1@mail.real.example>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nI am away until Monday.\r\n"
    ).encode()


def test_reply_copies_carry_the_loop_marker_and_keep_auto_submitted(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": STRANGER}).json()

    mailroom.deliver(vacation_reply(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION)

    (out,) = sent.sent
    assert out.header("Auto-Submitted") == "auto-replied"
    assert out.header("Precedence") == "bulk"
    assert re.fullmatch(r"[0-9a-z]+\.[0-9a-f]{32}", out.header("X-Postmask-Hop") or "")


def test_two_postmask_users_write_to_each_other_and_a_copy_come_back_to_a_reply_address_is_refused(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    new_alias(bob, "bob.example", "friends", ["bob@real.example"])
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": "friends@bob.example"}).json()

    # Alice writes to Bob's alias from hers: one hop, delivered.
    mailroom.deliver(reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION)
    (reply_copy,) = sent.sent
    summary = mailroom.deliver(reply_copy.raw, ["friends@bob.example"], sender="shop@alice.example")
    assert summary["forwarded"] == ["friends@bob.example"]
    assert sent.sent[-1].destinations == ["bob@real.example"]

    # Any copy of postmask's that reaches a reply address again (a forwarding rule, an auto-forward) is a loop.
    forwarded_copy = sent.sent[-1].raw
    for came_back in (reply_copy.raw, forwarded_copy):
        summary = mailroom.deliver(came_back, [contact["reply_address"]], sender=DESTINATION)
        assert refused(summary) == ["loop"]
    assert len(sent.sent) == 2


@pytest.mark.parametrize("email", ["shop@alice.example", "SHOP@Alice.Example", "reply-abcdefghij0123456789@x.example"])
def test_a_contact_is_never_the_alias_itself_nor_a_reply_address(alice: Client, alice_domain: str, email: str) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])

    response = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": email})

    assert response.status == 422, response.body
    assert "loop" in response.json()["message"]
    assert alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"] == []


def test_a_contact_that_became_a_loop_is_refused_on_the_reply_path(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [DESTINATION])
    # The forwarder makes contacts of senders: a forged sender can be the alias itself.
    mailroom.deliver(first_mail().replace(STRANGER.encode(), b"shop@alice.example"), ["shop@alice.example"])
    contact = the_contact(alice, alias, "shop@alice.example")

    summary = mailroom.deliver(
        reply_from_destination(contact["reply_address"]), [contact["reply_address"]], sender=DESTINATION
    )

    assert refused(summary) == ["loop"]
    assert sent.sent[1:] == []
