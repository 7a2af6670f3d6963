"""Signing in with a link by e-mail, end to end against `make run`'s stack: the link lands in the outbox, is
redeemed for a session token, works once; unknown addresses and the sixth link of an hour get the same answer
and no mail; signing out stops the token; no code or token is ever logged.

The stack here runs with AuthorizerCacheTtl=0 (POSTMASK_PARAMETERS, as the README shows): a revoked token
then stops at once. With the default (60), it stops within that window, as in AWS.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.resources import DEV_ADMIN_EMAIL
from local.sam_template import ROOT
from tests.support.outbox import link_in, messages_to, wait_for_messages
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

DONE = re.compile(r"SignInMailerFunction, invoked asynchronously: done")
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack(POSTMASK_PARAMETERS="AuthorizerCacheTtl=0") as running:
        yield running


def mailer_runs(stack: Stack) -> int:
    """How many asynchronous runs of the sign-in mailer are over (the stack prints a line for each)."""
    return len(DONE.findall(stack.output()))


def wait_for_mailer_runs(stack: Stack, count: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while mailer_runs(stack) < count and time.monotonic() < deadline:
        time.sleep(0.1)  # the interval between polls
    return mailer_runs(stack)


def ask(stack: Stack, email: str) -> Any:
    return stack.request("POST", "/api/sessions", token=None, body={"email": email})


def redeem(stack: Stack, code: str) -> Any:
    return stack.request(
        "POST", "/api/sessions/redeem", token=None, body={"code": code}, headers={"User-Agent": BROWSER}
    )


def new_user(stack: Stack) -> str:
    email = f"signin-{uuid.uuid4().hex[:10]}@example.org"
    assert stack.request("POST", "/api/users", body={"email": email}).status == 201
    return email


def code_of(link: str) -> str:
    return link.partition("#")[2]


def test_the_dev_admin_signs_in_with_the_link_in_the_outbox_once(stack: Stack) -> None:
    # Given the dev admin asks for a link
    asked = ask(stack, DEV_ADMIN_EMAIL)
    assert asked.status == 202

    # Then it lands in the outbox, pointing at this stack's /signin page
    (message,) = wait_for_messages(stack.outbox, DEV_ADMIN_EMAIL, 1)
    assert message["Subject"] == "Your postmask sign-in link"
    assert message["From"].addresses[0].addr_spec == "postmask@localhost"
    link = link_in(message, "/signin")
    assert link.startswith(f"{stack.base_url}/signin#")

    # When it is redeemed, Then the session token works on /api/me, as the dev admin
    redeemed = redeem(stack, code_of(link))
    assert redeemed.status == 201, redeemed.body
    token = redeemed.json()["token"]
    me = stack.request("GET", "/api/me", token=token).json()
    assert (me["email"], me["is_admin"]) == (DEV_ADMIN_EMAIL, True)
    tokens = stack.request("GET", "/api/tokens", token=token).json()["items"]
    assert [(t["name"], t["kind"]) for t in tokens if t["id"] == redeemed.json()["id"]] == [
        ("Safari on macOS", "session")
    ]

    # And the same link again is a 400
    again = redeem(stack, code_of(link))
    assert again.status == 400
    assert again.json()["message"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(stack: Stack) -> None:
    known = new_user(stack)
    unknown = f"nobody-{uuid.uuid4().hex[:10]}@example.org"
    runs = mailer_runs(stack)

    for_known, for_unknown = ask(stack, known), ask(stack, unknown)

    assert (for_known.status, for_known.body) == (for_unknown.status, for_unknown.body) == (202, ask(stack, known).body)
    assert wait_for_mailer_runs(stack, runs + 3) == runs + 3, "the mailer ran for each request"
    assert len(wait_for_messages(stack.outbox, known, 2)) == 2
    assert messages_to(stack.outbox, unknown) == []


def test_the_sixth_link_in_an_hour_is_answered_alike_and_not_sent(stack: Stack) -> None:
    email = new_user(stack)
    runs = mailer_runs(stack)

    answers = [ask(stack, email) for _ in range(6)]

    assert {(answer.status, answer.body) for answer in answers} == {(202, answers[0].body)}
    # The sixth was refused before the mailer was asked: five runs, five messages, and no more to come.
    assert wait_for_mailer_runs(stack, runs + 5) == runs + 5
    assert len(wait_for_messages(stack.outbox, email, 5)) == 5
    create_log = (stack.logs / "SessionsCreateFunction.log").read_text()
    assert "sign-in link not sent: the address had its links for this hour" in create_log
    assert mailer_runs(stack) == runs + 5


def test_signing_out_stops_the_session_token(stack: Stack) -> None:
    email = new_user(stack)
    ask(stack, email)
    (message,) = wait_for_messages(stack.outbox, email, 1)
    token = redeem(stack, code_of(link_in(message, "/signin"))).json()["token"]
    assert stack.request("GET", "/api/me", token=token).status == 200

    signed_out = stack.request("DELETE", "/api/sessions/current", token=token)

    assert (signed_out.status, signed_out.body) == (204, b"")
    assert stack.request("GET", "/api/me", token=token).status == 403  # AuthorizerCacheTtl=0: at once
    assert stack.request("DELETE", "/api/sessions/current", token=None).status == 401


def test_no_code_or_token_is_in_any_log(stack: Stack) -> None:
    # Given a whole sign-in: ask, mail, redeem, use, redeem again, sign out
    email = new_user(stack)
    ask(stack, email)
    (message,) = wait_for_messages(stack.outbox, email, 1)
    code = code_of(link_in(message, "/signin"))
    token = redeem(stack, code).json()["token"]
    stack.request("GET", "/api/me", token=token)
    redeem(stack, code)
    stack.request("DELETE", "/api/sessions/current", token=token)

    # Then no function's log, nor the stack's own output, holds the code or the token, nor their hashes
    logs = {path.name: path.read_text(errors="replace") for path in stack.logs.glob("*.log")}
    logs["stack output"] = stack.output()
    assert "SessionsRedeemFunction.log" in logs
    assert "SignInMailerFunction.log" in logs
    assert "sign-in link sent" in logs["SignInMailerFunction.log"], (
        "the logs are the mailer's: this test proves something"
    )
    for secret in (code, token):
        for value in (secret, hashlib.sha256(secret.encode()).hexdigest()):
            assert [name for name, text in logs.items() if value in text] == []


def test_the_local_signin_command_asks_for_a_link_and_prints_it(stack: Stack) -> None:
    """`python -m local.signin --ask` (the README's local sign-in): a new link, printed whole, that works."""
    email = new_user(stack)
    port = urlsplit(stack.base_url).port
    command = [sys.executable, "-m", "local.signin", email, "--ask", f"--port={port}", f"--outbox={stack.outbox}"]

    printed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert printed.returncode == 0, printed.stdout + printed.stderr
    link = printed.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{stack.base_url}/signin#")
    assert redeem(stack, code_of(link)).status == 201
