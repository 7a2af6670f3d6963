"""Leak detection and the activity log through `make run`'s stack, over SMTP and HTTP: the first sender names the
alias's site, its subdomains are not foreign, a foreign sender is a leak noticed once (the notice lands in the
outbox), blocking foreign senders blocks them, and every decision is in GET /api/activity."""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.test_destinations_e2e import local_command
from tests.support.outbox import messages_to, wait_for_messages
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def send(stack: Stack, sender: str, alias: str, subject: str) -> None:
    """One message from `sender` to `alias` over SMTP; the 250 comes once the forwarder has run."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = alias
    message["Subject"] = subject
    message.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=[alias])


def test_a_leak_is_seen_noticed_once_and_blocked_and_every_decision_is_in_the_activity(stack: Stack) -> None:
    tag = secrets.token_hex(4)
    owner_email, destination = f"owner-{tag}@real.example", f"inbox-{tag}@real.example"
    created = stack.request("POST", "/api/users", body={"email": owner_email})
    assert created.status == 201, created.body
    token = created.json()["token"]

    def api(method: str, path: str, **kwargs: Any) -> Any:
        response = stack.request(method, path, token=token, **kwargs)
        assert response.status < 300, response.body
        return response.json() if response.body else None

    domain = f"leak-{tag}.example"
    api("POST", "/api/domains", body={"name": domain})
    alias = api("POST", "/api/aliases", body={"domain": domain, "local_part": "shop", "destinations": [destination]})
    verified = local_command(stack, "verify", destination)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    address = alias["address"]

    # Given mail from the shop: the alias's site becomes the shop's registrable domain
    send(stack, "Shop <news@shop.example>", address, f"welcome {tag}")
    assert api("GET", f"/api/aliases/{alias['id']}")["site"] == "shop.example"

    # When the shop's mailer writes from a subdomain: not foreign
    send(stack, "offers@mailer.shop.example", address, f"offers {tag}")
    assert api("GET", f"/api/aliases/{alias['id']}")["leak"]["suspected"] is False

    # When someone else writes: a suspected leak, and one notice to the owner, naming alias, site and sender
    send(stack, "spam@elsewhere.example", address, f"spam {tag}")
    leak = api("GET", f"/api/aliases/{alias['id']}")["leak"]
    assert (leak["suspected"], leak["foreign_senders"]) == (True, 1)
    (notice,) = wait_for_messages(stack.outbox, owner_email, 1)
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for named in (address, "shop.example", "spam@elsewhere.example"):
        assert named in text
    assert f"/aliases/{alias['id']}" in text
    leaked = api("GET", "/api/aliases", query={"leaked": "true"})["items"]
    assert [item["id"] for item in leaked] == [alias["id"]]

    # And a second foreign sender is counted without another notice
    send(stack, "more@another.example", address, f"more {tag}")
    assert api("GET", f"/api/aliases/{alias['id']}")["leak"]["foreign_senders"] == 2
    assert len(messages_to(stack.outbox, owner_email)) == 1

    # When the owner accepts mail from the site only: the next foreign mail is blocked, the shop's still arrives
    api("PATCH", f"/api/aliases/{alias['id']}", body={"block_foreign_senders": True})
    send(stack, "spam@elsewhere.example", address, f"blocked {tag}")
    send(stack, "news@shop.example", address, f"still {tag}")

    # Then every decision is in the activity, newest first, with its reason
    events = api("GET", "/api/activity", query={"alias_id": alias["id"]})["items"]
    assert [(event["outcome"], event["reason"], event["subject"]) for event in reversed(events)] == [
        ("forwarded", None, f"welcome {tag}"),
        ("forwarded", None, f"offers {tag}"),
        ("forwarded", "foreign_sender", f"spam {tag}"),
        ("forwarded", "foreign_sender", f"more {tag}"),
        ("blocked", "foreign_sender", f"blocked {tag}"),
        ("forwarded", None, f"still {tag}"),
    ]
    blocked = api("GET", "/api/activity", query={"outcome": "blocked"})["items"]
    assert [event["sender"] for event in blocked] == ["spam@elsewhere.example"]
    day = api("GET", "/api/stats", query={"days": 1})["days"][0]
    assert (day["forwarded"], day["blocked"]) == (5, 1)
    # Another user sees none of it.
    assert stack.request("GET", "/api/activity", query={"alias_id": alias["id"]}).status == 404
