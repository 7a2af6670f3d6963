"""A conversation through an alias over SMTP against `make run`'s stack: a stranger writes, the destination answers
through the stranger's reply address, and every refusal of the contract sends nothing (contract: "Contacts and
replies", "Local mode": SES's verdicts played by `X-Postmask-Local-Verdicts`)."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.support.destinations import open_link_from_the_outbox
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

ATTACHMENT = secrets.token_bytes(3000) + b" destination@real.example inside a binary attachment stays"


def outbox_to(stack: Stack, address: str) -> list[Path]:
    """The outbox's messages to `address`, oldest first (the forwarder has run once SMTP answered 250)."""
    return sorted(stack.outbox.glob(f"*-{address}.eml")) if stack.outbox.is_dir() else []


def copies_to(stack: Stack, address: str) -> list[Path]:
    """Forwarded copies only (not the verification mail postmask sent the destination)."""
    return [path for path in outbox_to(stack, address) if b"X-Postmask-Alias:" in path.read_bytes()]


def send(stack: Stack, message: EmailMessage, envelope_sender: str, recipients: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr=envelope_sender, to_addrs=recipients)


def parsed(path: Path) -> email.message.EmailMessage:
    found = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(found, email.message.EmailMessage)
    return found


@pytest.fixture
def setting(stack: Stack) -> dict[str, Any]:
    """A fresh domain, an alias with a verified destination, and a stranger who wrote to it once."""
    tag = secrets.token_hex(4)
    domain = f"replies-{tag}.example"
    destination = f"me-{tag}@real.example"
    stranger = f"sam-{tag}@outside.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    alias = stack.request(
        "POST",
        "/api/aliases",
        body={"domain": domain, "local_part": "shop", "destinations": [destination], "display_name": "Shop Me"},
    ).json()
    open_link_from_the_outbox(stack, destination)

    first = EmailMessage()
    first["From"] = f"Sam <{stranger}>"
    first["To"] = alias["address"]
    first["Subject"] = "Hello"
    first["Message-ID"] = f"<first-{tag}@outside.example>"
    first.set_content("Who are you?\n")
    send(stack, first, stranger, [alias["address"]])
    (copy_path,) = copies_to(stack, destination)
    return {"alias": alias, "destination": destination, "stranger": stranger, "copy": parsed(copy_path), "tag": tag}


def answer(setting: dict[str, Any], to: str, *, cc: str | None = None, sender: str | None = None) -> EmailMessage:
    sender = sender or setting["destination"]
    copy = setting["copy"]
    message = EmailMessage()
    message["From"] = f"Me Myself <{sender}>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = "Re: Hello"
    message["Message-ID"] = f"<answer-{secrets.token_hex(4)}@real.example>"
    message["In-Reply-To"] = copy["Message-ID"]
    message.set_content(f"I am {sender}, really.\n\nOn Monday, Sam wrote:\n> Who are you?\n")
    message.add_attachment(ATTACHMENT, maintype="application", subtype="octet-stream", filename="data.bin")
    return message


def test_a_stranger_and_a_destination_talk_through_the_alias(stack: Stack, setting: dict[str, Any]) -> None:
    alias, destination, stranger = setting["alias"], setting["destination"], setting["stranger"]
    copy = setting["copy"]
    (reply_to,) = copy["Reply-To"].addresses
    assert re.fullmatch(rf"reply-[a-z0-9]{{20}}@{re.escape(alias['domain'])}", reply_to.addr_spec)

    send(stack, answer(setting, reply_to.addr_spec), destination, [reply_to.addr_spec])

    (out_path,) = outbox_to(stack, stranger)
    raw = out_path.read_bytes()
    assert destination.encode() not in raw.lower()
    out = parsed(out_path)
    assert out["From"].addresses[0].addr_spec == alias["address"]
    assert out["From"].addresses[0].display_name == "Shop Me"
    assert out["To"].addresses[0].addr_spec == stranger
    assert out["In-Reply-To"] == f"<first-{setting['tag']}@outside.example>"
    text = out.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"I am {alias['address']}, really." in text
    (attached,) = list(out.iter_attachments())
    assert attached.get_content() == ATTACHMENT
    contact = stack.request("GET", f"/api/aliases/{alias['id']}/contacts").json()["items"][0]
    assert (contact["email"], contact["received_count"], contact["sent_count"]) == (stranger, 1, 1)


@pytest.mark.parametrize(
    "case",
    ["not a destination", "dmarc fail", "spf and dkim fail", "dkim pass alone", "cc outside", "deleted contact"],
)
def test_refused_replies_send_nothing(stack: Stack, setting: dict[str, Any], case: str) -> None:
    alias, destination, stranger = setting["alias"], setting["destination"], setting["stranger"]
    (reply_to,) = setting["copy"]["Reply-To"].addresses
    to = reply_to.addr_spec
    sender = destination
    message = answer(setting, to)
    if case == "not a destination":
        sender = f"mallory-{setting['tag']}@evil.example"
        message = answer(setting, to, sender=sender)
    elif case == "dmarc fail":
        message["X-Postmask-Local-Verdicts"] = "dmarc=FAIL dmarc-policy=NONE"
    elif case == "spf and dkim fail":
        message["X-Postmask-Local-Verdicts"] = "spf=FAIL dkim=FAIL dmarc=GRAY"
    elif case == "dkim pass alone":  # signed by the attacker's own domain, no DMARC record: issue 25
        message["X-Postmask-Local-Verdicts"] = "spf=FAIL dkim=PASS dmarc=GRAY"
    elif case == "cc outside":
        message = answer(setting, to, cc="friend@outside.example")
    else:
        contact = stack.request("GET", f"/api/aliases/{alias['id']}/contacts").json()["items"][0]
        assert stack.request("DELETE", f"/api/aliases/{alias['id']}/contacts/{contact['id']}").status == 204
    before = sorted(stack.outbox.glob("*.eml"))

    send(stack, message, sender, [to])

    assert sorted(stack.outbox.glob("*.eml")) == before  # nothing to the contact, no bounce to anyone
    assert outbox_to(stack, stranger) == []
    assert outbox_to(stack, "friend@outside.example") == []


def test_a_blocked_contacts_mail_is_blocked_and_counted(stack: Stack, setting: dict[str, Any]) -> None:
    alias, destination, stranger = setting["alias"], setting["destination"], setting["stranger"]
    (contact,) = stack.request("GET", f"/api/aliases/{alias['id']}/contacts").json()["items"]
    path = f"/api/aliases/{alias['id']}/contacts/{contact['id']}"
    assert stack.request("PATCH", path, body={"blocked": True}).json()["blocked"] is True

    again = EmailMessage()
    again["From"] = stranger
    again["To"] = alias["address"]
    again["Subject"] = "again"
    again.set_content("hello?\n")
    send(stack, again, stranger, [alias["address"]])

    assert len(copies_to(stack, destination)) == 1  # the first message only
    assert stack.request("GET", path).json()["blocked_count"] == 1
    assert stack.request("GET", f"/api/aliases/{alias['id']}").json()["blocked_count"] == 1


def test_writing_first_from_the_alias_to_someone_new(stack: Stack, setting: dict[str, Any]) -> None:
    alias, destination = setting["alias"], setting["destination"]
    newcomer = f"new-{setting['tag']}@outside.example"
    created = stack.request("POST", f"/api/aliases/{alias['id']}/contacts", body={"email": newcomer, "name": "Neu"})
    assert created.status == 201, created.body
    to = created.json()["reply_address"]

    message = answer(setting, to)
    del message["In-Reply-To"]
    send(stack, message, destination, [to])

    (out_path,) = outbox_to(stack, newcomer)
    out = parsed(out_path)
    assert out["From"].addresses[0].addr_spec == alias["address"]
    assert out["To"].addresses[0].display_name == "Neu"
    assert destination.encode() not in out_path.read_bytes().lower()
