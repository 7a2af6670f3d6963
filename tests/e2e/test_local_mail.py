"""Mail through `make run`'s stack: real SMTP in, the forwarder in its worker, an .eml out, the count up."""

from __future__ import annotations

import email
import email.policy
import secrets
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.destinations import open_link_from_the_outbox
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def wait_for_files(directory: Path, count: int, timeout: float = 30.0) -> list[Path]:
    """The outbox's .eml files once there are `count` of them (polled: the forwarder runs after SMTP's 250)."""
    deadline = time.monotonic() + timeout
    while True:
        found = sorted(directory.glob("*.eml")) if directory.is_dir() else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_smtp_to_an_alias_lands_in_the_outbox_and_counts(stack: Stack) -> None:
    # Given an alias with two destinations
    domain = f"mail-{secrets.token_hex(4)}.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    created = stack.request(
        "POST",
        "/api/aliases",
        body={"domain": domain, "local_part": "news", "destinations": ["one@real.example", "two@real.example"]},
    )
    assert created.status == 201, created.body
    alias = created.json()
    for address in ("one@real.example", "two@real.example"):  # only verified destinations receive mail
        open_link_from_the_outbox(stack, address)
    already = len(list(stack.outbox.glob("*.eml"))) if stack.outbox.is_dir() else 0

    # When a message with an attachment arrives over SMTP
    message = EmailMessage()
    message["From"] = "Shop <offers@shop.example>"
    message["To"] = alias["address"]
    message["Subject"] = "Größte Angebote"
    message.set_content("Hello from the shop.\n")
    attachment = secrets.token_bytes(4096)
    message.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="data.bin")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr="bounce@shop.example", to_addrs=[alias["address"]])

    # Then one .eml per destination, from the alias, with the attachment byte-identical
    files = wait_for_files(stack.outbox, already + 2)
    assert len(files) == already + 2
    forwarded = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files[already:]]
    for copy in forwarded:
        assert alias["address"] in str(copy["From"])
        assert "offers@shop.example" in str(copy["From"])
        assert str(copy["Subject"]) == "Größte Angebote"
        assert str(copy["X-Postmask-Alias"]) == alias["address"]
        parts = list(copy.iter_attachments())
        assert parts[0].get_payload(decode=True) == attachment
    # And the alias's forwarded_count rose through the API
    counted = stack.request("GET", f"/api/aliases/{alias['id']}").json()
    assert counted["forwarded_count"] == 1
    assert counted["last_forwarded_at"] is not None


def test_mail_to_a_disabled_alias_is_blocked_and_counted(stack: Stack) -> None:
    domain = f"block-{secrets.token_hex(4)}.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    alias = stack.request(
        "POST", "/api/aliases", body={"domain": domain, "destinations": ["me@real.example"], "enabled": False}
    ).json()

    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.sendmail("spam@spammer.example", [alias["address"]], b"Subject: buy\r\n\r\nnow\r\n")

    # SMTP answers after the forwarder ran (the ingress invokes it before replying 250)
    counted = stack.request("GET", f"/api/aliases/{alias['id']}").json()
    assert counted["blocked_count"] == 1
    assert counted["forwarded_count"] == 0
