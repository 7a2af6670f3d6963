"""Mail to an address with no alias on a domain with a catch-all creates that alias on first receipt (decision
0046): it forwards to the catch-all's destination, its copy's Reply-To is a reply address (never the sender's),
it can be switched off; past `CatchAllNewPerDay` a day the catch-all copy goes as before; two messages racing to
the same new address end with one alias and each forwarded once."""

from __future__ import annotations

from typing import Any

import pytest

from postmask.settings import get_settings
from postmask.store import aliases
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import MESSAGE
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.ses import SesRecorder

DESTINATION = "alice@real.example"


@pytest.fixture
def catch_all(alice: Client, alice_domain: str) -> str:
    verify_destinations_of(alice, [DESTINATION])
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": DESTINATION}).status == 200
    return DESTINATION


def aliases_of(client: Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/api/aliases").json()["items"]
    return found


def test_first_receipt_creates_the_alias_and_its_copy_replies_through_a_reply_address(
    alice: Client, catch_all: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    mailroom.deliver(MESSAGE, ["newshop@alice.example"])

    [alias] = [a for a in aliases_of(alice) if a["address"] == "newshop@alice.example"]
    assert alias["note"] == aliases.FIRST_RECEIPT_NOTE
    assert alias["destinations"] == [catch_all]
    [mail] = sent.sent
    assert mail.destinations == [catch_all]
    [(_, reply_to)] = mail.addresses("Reply-To")
    contacts = alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"]
    assert reply_to in {contact["reply_address"] for contact in contacts}  # not the sender's own Reply-To

    mailroom.deliver(MESSAGE, ["newshop@alice.example"])  # the second reuses it
    assert len([a for a in aliases_of(alice) if a["address"] == "newshop@alice.example"]) == 1
    assert len(sent.sent) == 2
    assert alice.get(f"/api/aliases/{alias['id']}").json()["forwarded_count"] == 2


def test_a_disabled_alias_created_on_first_receipt_blocks(
    alice: Client, catch_all: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    mailroom.deliver(MESSAGE, ["newshop@alice.example"])
    [alias] = [a for a in aliases_of(alice) if a["address"] == "newshop@alice.example"]
    assert alice.patch(f"/api/aliases/{alias['id']}", {"enabled": False}).status == 200

    mailroom.deliver(MESSAGE, ["newshop@alice.example"])

    assert len(sent.sent) == 1
    assert alice.get(f"/api/aliases/{alias['id']}").json()["blocked_count"] == 1


def test_past_the_days_cap_the_catch_all_copy_goes(
    alice: Client, catch_all: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATCH_ALL_NEW_PER_DAY", "1")
    get_settings.cache_clear()

    mailroom.deliver(MESSAGE, ["first@alice.example"])
    mailroom.deliver(MESSAGE, ["second@alice.example"])

    assert sorted(a["address"] for a in aliases_of(alice)) == ["first@alice.example"]
    assert [mail.destinations for mail in sent.sent] == [[catch_all], [catch_all]]


def test_two_messages_racing_to_a_new_address_end_with_one_alias_each_forwarded_once(
    alice: Client, catch_all: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second message's transaction runs after the first created the alias, though it read no route before
    (as when both read at once): its Put of the route fails, and it takes the winner's alias."""
    from postmask.store import routes

    real_get = routes.get
    calls = {"n": 0}

    def no_route_on_first_read(address: str) -> routes.Route | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_get(address)

    mailroom.deliver(MESSAGE, ["racer@alice.example"])
    monkeypatch.setattr(routes, "get", no_route_on_first_read)
    mailroom.deliver(MESSAGE, ["racer@alice.example"])

    [alias] = [a for a in aliases_of(alice) if a["address"] == "racer@alice.example"]
    assert len(sent.sent) == 2
    assert alice.get(f"/api/aliases/{alias['id']}").json()["forwarded_count"] == 2
