"""Verified destinations through `make run`'s stack, over HTTP and SMTP: mail reaches a destination only once its
owner opened the link mailed to it (from the outbox), stops when it bounces, and starts again when verified
again."""

from __future__ import annotations

import os
import secrets
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from local.sam_template import ROOT
from local.verify import newest_secret
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def send(stack: Stack, alias: str, subject: str) -> None:
    """One message to `alias` over SMTP; the 250 comes once the forwarder has run."""
    message = EmailMessage()
    message["From"] = "Shop <offers@shop.example>"
    message["To"] = alias
    message["Subject"] = subject
    message.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.send_message(message, from_addr="bounce@shop.example", to_addrs=[alias])


def forwarded(stack: Stack, subject: str) -> list[Path]:
    """The outbox's copies of the message with `subject`."""
    return [path for path in stack.outbox.glob("*.eml") if f"Subject: {subject}".encode() in path.read_bytes()]


def local_command(stack: Stack, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m local.<module>` as the banner tells a user to run it, against this stack."""
    env = {
        **os.environ,
        "PORT": stack.base_url.rsplit(":", 1)[1],
        "SMTP_PORT": str(stack.smtp_port),
        "POSTMASK_OUTBOX": str(stack.outbox),
    }
    return subprocess.run(
        [sys.executable, "-m", f"local.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def status_of(stack: Stack, address: str) -> dict[str, object]:
    listed = stack.request("GET", "/api/destinations", query={"limit": 100}).json()["items"]
    (found,) = [item for item in listed if item["email"] == address]
    return found


def test_mail_goes_only_to_a_verified_destination_and_stops_when_it_bounces(stack: Stack) -> None:
    tag = secrets.token_hex(4)
    domain, address = f"verify-{tag}.example", f"me-{tag}@real.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    created = stack.request(
        "POST", "/api/aliases", body={"domain": domain, "local_part": "news", "destinations": [address]}
    )
    assert created.status == 201, created.body
    alias = created.json()["address"]

    # Given an alias to an address nobody verified: its mail is not forwarded
    send(stack, alias, f"first {tag}")
    assert forwarded(stack, f"first {tag}") == []
    assert status_of(stack, address)["status"] == "pending"

    # When its owner opens the link mailed to it (the outbox has it), as the /verify page does
    secret = newest_secret(stack.outbox, address)
    assert secret is not None
    opened = stack.request("POST", "/api/destinations/verify", token=None, body={"token": secret})
    assert (opened.status, opened.json()) == (200, {"email": address, "status": "verified"})

    # Then the next message is forwarded
    send(stack, alias, f"second {tag}")
    assert len(forwarded(stack, f"second {tag}")) == 1

    # When its mailbox bounces a message (a hard bounce, as SES reports it), it is suspended
    bounced = local_command(stack, "bounce", address)
    assert bounced.returncode == 0, bounced.stdout + bounced.stderr
    assert f"suspended {address}" in bounced.stdout
    suspended = status_of(stack, address)
    assert suspended["status"] == "suspended"
    assert "Hard bounce" in str(suspended["suspended_reason"])
    send(stack, alias, f"third {tag}")
    assert forwarded(stack, f"third {tag}") == []

    # A new link is not mailed within 10 minutes of the last one to the address, whoever asks (issue 25, decision
    # 0112): 429 with Retry-After. (The resend after the wait, and the mail forwarded again once it is opened, are
    # tests/integration/test_destinations.py's, which can move the clock.)
    resent = stack.request("POST", f"/api/destinations/{suspended['id']}/resend")
    assert resent.status == 429, resent.body
    assert 0 < int(resent.header("Retry-After") or 0) <= 600
    assert "resend" in resent.json()["message"]

    # And no link's secret is in any function's log
    function_logs = "".join(path.read_text(errors="replace") for path in stack.logs.glob("*.log"))
    assert "destination skipped" in function_logs
    assert "destination suspended" in function_logs
    new_secret = newest_secret(stack.outbox, address)
    for mailed in (secret, new_secret):
        assert mailed
        assert mailed not in function_logs
        assert mailed not in stack.output()


def test_a_bounce_for_an_address_nothing_was_sent_to_is_refused_and_said_so(stack: Stack) -> None:
    result = local_command(stack, "bounce", f"never-{secrets.token_hex(4)}@real.example")
    assert result.returncode == 1
    assert "nothing was sent to" in result.stdout


def test_the_banner_says_how_to_verify_and_to_bounce(stack: Stack) -> None:
    output = stack.output()
    assert "python -m local.verify <address>" in output
    assert "python -m local.bounce <address>" in output
    assert f"SMTP_PORT={stack.smtp_port}" in output
