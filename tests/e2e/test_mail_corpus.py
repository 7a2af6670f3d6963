"""The whole mail corpus over SMTP through `make run`'s stack (issue 13): every message forwarded, its body
byte-identical (decoded-identical where a line over 998 bytes had to be re-encoded), its header block free of
defects with one From, the alias; and SES's DMARC verdict, played by the local verdict header, obeyed."""

from __future__ import annotations

import re
import secrets
import smtplib
import time
from pathlib import Path

import pytest

from postmask.mail.message import RawMessage
from tests.support.destinations import open_link_from_the_outbox
from tests.support.mail import as_email, corpus, header_problems, leaf_payloads, long_lines, over_smtp
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def outbox_for(outbox: Path, destination: str) -> list[Path]:
    return sorted(outbox.glob(f"*-{destination}.eml")) if outbox.is_dir() else []


def copies_for(outbox: Path, destination: str, timeout: float = 30.0) -> list[Path]:
    """The outbox files for `destination` but its verification mail, the first (polled: the listener answers once
    the forwarder ran, the files are written right after)."""
    deadline = time.monotonic() + timeout
    while True:
        found = outbox_for(outbox, destination)[1:]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def alias_to_a_verified_destination(stack: Stack, domain: str, local_part: str, destination: str) -> dict[str, str]:
    """A new alias whose destination's owner opened the link mailed to it (only verified destinations get mail)."""
    created = stack.request(
        "POST", "/api/aliases", body={"domain": domain, "local_part": local_part, "destinations": [destination]}
    )
    assert created.status == 201, created.body
    open_link_from_the_outbox(stack, destination)
    assert len(outbox_for(stack.outbox, destination)) == 1  # the verification mail, the only one so far
    return dict(created.json())


@pytest.fixture(scope="module")
def corpus_domain(stack: Stack) -> str:
    domain = f"corpus-{secrets.token_hex(4)}.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    return domain


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.removesuffix(".eml").lower()).strip("-")


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_corpus_message_is_forwarded_intact_over_smtp(stack: Stack, corpus_domain: str, name: str) -> None:
    # Given an alias of its own, forwarding to a destination named after the message
    local_part = slug(name)[:60]
    destination = f"{local_part}@real.example"
    alias = alias_to_a_verified_destination(stack, corpus_domain, local_part, destination)["address"]
    original = over_smtp(corpus()[name])

    # When the message arrives over SMTP
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        assert smtp.sendmail("sender@corpus.example", [alias], original) == {}

    # Then exactly one copy reaches the destination, as SES would send it
    (path,) = copies_for(stack.outbox, destination)
    copy = path.read_bytes()
    assert header_problems(copy, alias) == []
    body = bytes(RawMessage.parse(original).body)
    if long_lines(body):
        assert long_lines(copy) == 0
        assert leaf_payloads(as_email(copy)) == leaf_payloads(as_email(original))
    else:
        assert bytes(RawMessage.parse(copy).body) == body
    assert re.fullmatch(r"<[0-9a-f-]+@[a-z0-9-]+\.amazonses\.com>", str(as_email(copy)["Message-ID"]))


@pytest.mark.parametrize(("policy", "blocked"), [("REJECT", True), ("QUARANTINE", True), ("NONE", False)])
def test_a_dmarc_failure_is_blocked_under_reject_and_quarantine(
    stack: Stack, corpus_domain: str, policy: str, blocked: bool
) -> None:
    local_part = f"dmarc-{policy.lower()}"
    destination = f"{local_part}-{secrets.token_hex(3)}@real.example"
    alias = alias_to_a_verified_destination(stack, corpus_domain, local_part, destination)
    message = (
        f"X-Postmask-Local-Verdicts: spf=FAIL dkim=FAIL dmarc=FAIL dmarc-policy={policy}\r\n"
        "From: Bank <security@bank.example>\r\nTo: x@example.org\r\nSubject: verify your account\r\n\r\nClick.\r\n"
    ).encode()

    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.sendmail("attacker@evil.example", [alias["address"]], message)

    counted = stack.request("GET", f"/api/aliases/{alias['id']}").json()
    assert (counted["blocked_count"], counted["forwarded_count"]) == ((1, 0) if blocked else (0, 1))
    copies = copies_for(stack.outbox, destination, timeout=0 if blocked else 30)
    assert len(copies) == (0 if blocked else 1)
    assert all(b"X-Postmask-Local-Verdicts" not in path.read_bytes() for path in copies)
