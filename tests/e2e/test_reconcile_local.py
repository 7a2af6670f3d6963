"""`python -m local.reconcile` against `make run`'s stack: every message SMTP brought in is accounted for."""

from __future__ import annotations

import json
import secrets
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

from local.sam_template import ROOT
from tests.support.destinations import open_link_from_the_outbox
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_the_local_reconciliation_accounts_for_every_message(stack: Stack) -> None:
    domain = f"reconcile-{secrets.token_hex(4)}.example"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 201
    body = {"domain": domain, "local_part": "shop", "destinations": ["rec@real.example"]}
    alias = stack.request("POST", "/api/aliases", body=body).json()
    open_link_from_the_outbox(stack, "rec@real.example")
    message = EmailMessage()
    message["From"] = "Shop <offers@shop.example>"
    message["To"] = alias["address"]
    message["Subject"] = "Reconciled"
    message.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:  # 250 once the forwarder ran
        smtp.send_message(message, from_addr="bounce@shop.example", to_addrs=[alias["address"]])

    deadline = time.monotonic() + 30
    while True:  # the forwarder writes its ACCOUNTED record last
        done = subprocess.run(
            [sys.executable, "-m", "local.reconcile", "--state", str(stack.logs.parent)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        report = json.loads(done.stdout)
        if report["pending"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["stored"] >= 1
    assert (report["pending"], report["unaccounted"]) == (0, 0)
    assert report["outcomes"].get("forwarded", 0) >= 1
