"""A user disabled by an admin (issue 28, item 7): the forwarder blocks their mail, counted as blocked, from the
BatchGetItem it already makes of the owner's destinations; enabled again, mail flows."""

from __future__ import annotations

from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import BLOCKED_ONCE, MESSAGE, counts, new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder


def test_a_disabled_users_mail_is_not_forwarded(
    admin: Client, alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    alice_id = alice.get("/api/me").json()["id"]

    assert admin.patch(f"/api/users/{alice_id}", {"disabled": True}).status == 200
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"])

    assert summary["blocked"] == ["shop@alice.example"]
    assert sent.sent == []
    assert admin.patch(f"/api/users/{alice_id}", {"disabled": False}).status == 200
    assert counts(alice, alias) == BLOCKED_ONCE  # readable again: her token works once she is enabled
    assert mailroom.deliver(MESSAGE, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
