"""Tokens are never logged: a whole session's log output holds no secret (nor its hash)."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest

from postmask.store import tokens, users
from tests.support.api import Client, invoke


def test_a_full_session_logs_no_token_secret(
    table: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Our own logs at their most verbose (LogLevel=DEBUG is a deploy parameter); botocore's wire-level
    # DEBUG logging is off in Lambda unless someone turns it on, and would show key values, not secrets.
    caplog.set_level(logging.DEBUG, logger="postmask")
    admin_secret = users.create("root@example.org", is_admin=True).token
    admin = Client(admin_secret)

    created = admin.post("/api/users", {"email": "user@example.org"}).json()
    user = Client(created["token"])
    extra = user.post("/api/tokens", {"name": "ci", "expires_at": "2040-01-01T00:00:00Z"}).json()
    user.post("/api/domains", {"name": "logs.example"})
    alias = user.post("/api/aliases", {"domain": "logs.example", "destinations": ["me@real.example"]}).json()
    user.patch(f"/api/aliases/{alias['id']}", {"note": "n"})
    user.get("/api/aliases", query={"q": "n"})
    Client(extra["token"]).get("/api/me")
    user.delete(f"/api/tokens/{extra['id']}")
    Client(extra["token"]).get("/api/me")  # revoked: refused, and the refusal is logged
    guessed = tokens.new_secret()  # made here, not written in this file: a traceback shows source lines
    basic = base64.b64encode(tokens.new_secret().encode()).decode()
    invoke("GET", "/api/me", headers={"authorization": f"Bearer {guessed}"})
    invoke("GET", "/api/me", headers={"authorization": f"Basic {basic}"})

    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "token accepted" in logged, "the session produced no logs: this test would prove nothing"
    assert "token refused" in logged
    secrets = [admin_secret, created["token"], extra["token"], guessed, basic]
    for secret in secrets:
        assert secret not in logged
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert digest not in logged, [line for line in logged.splitlines() if digest in line]
