"""Leak detection: an alias's site, inferred or set; foreign senders counted; one notice; blocking them."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from tests.integration.forwarding.conftest import PUBLIC_URL, Mailroom
from tests.integration.forwarding.test_activity import events, get
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder


def mail_from(address: str, to: str = "shop@alice.example") -> bytes:
    return (
        f"From: Someone <{address}>\r\nTo: {to}\r\nSubject: hello\r\nMessage-ID: <m@x.example>\r\n\r\nhi\r\n"
    ).encode()


def alias(client: Client, alias_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/api/aliases/{alias_id}").json()
    return found


def test_the_first_sender_names_the_site_and_a_foreign_one_is_a_leak_noticed_once(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    assert (shop["site"], shop["block_foreign_senders"]) == (None, False)
    assert shop["leak"] == {"suspected": False, "foreign_senders": 0, "first_foreign_at": None}

    mailroom.deliver(mail_from("news@shop.example"), ["shop@alice.example"])
    assert alias(alice, shop["id"])["site"] == "shop.example"

    mailroom.deliver(mail_from("offers@mailer.shop.example"), ["shop@alice.example"])  # the same site
    assert alias(alice, shop["id"])["leak"]["suspected"] is False
    assert sent.system == []

    mailroom.deliver(mail_from("spam@elsewhere.example"), ["shop@alice.example"])
    leak = alias(alice, shop["id"])["leak"]
    assert (leak["suspected"], leak["foreign_senders"]) == (True, 1)
    assert leak["first_foreign_at"] is not None
    (notice,) = sent.system
    assert notice.tags["postmask-mail"] == "leak_notice"
    assert notice.destinations == ["alice@example.org"]  # the owner's account e-mail
    assert notice.sender == f"postmask@{alice_domain}"
    text = email.message_from_bytes(notice.raw, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for named in ("shop@alice.example", "shop.example", "spam@elsewhere.example"):
        assert named in text
    assert f"{PUBLIC_URL}/aliases/{shop['id']}" in text
    # The mail itself is still forwarded (blocking is the owner's choice), recorded as from a foreign sender.
    assert len(sent.sent) == 3
    assert events(alice)[0]["reason"] == "foreign_sender"

    # A second foreign sender is counted, not noticed again; a sender counts once however often they write.
    mailroom.deliver(mail_from("more@another.example"), ["shop@alice.example"])
    mailroom.deliver(mail_from("more@another.example"), ["shop@alice.example"])
    mailroom.deliver(mail_from("spam@elsewhere.example"), ["shop@alice.example"])
    leak = alias(alice, shop["id"])["leak"]
    assert leak["foreign_senders"] == 2
    assert len(sent.system) == 1


def test_block_foreign_senders_blocks_them_with_its_reason(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"], site="shop.example")
    response = alice.patch(f"/api/aliases/{shop['id']}", {"block_foreign_senders": True})
    assert response.json()["block_foreign_senders"] is True

    summary = mailroom.deliver(mail_from("spam@elsewhere.example"), ["shop@alice.example"])
    assert summary["blocked"] == ["shop@alice.example"]
    no_from = b"To: shop@alice.example\r\nSubject: who?\r\n\r\nhi\r\n"  # no From at all: not from the site either
    assert mailroom.deliver(no_from, ["shop@alice.example"])["blocked"] == ["shop@alice.example"]
    assert mailroom.deliver(mail_from("news@www.shop.example"), ["shop@alice.example"])["forwarded"] == [
        "shop@alice.example"
    ]

    assert [(event["outcome"], event["reason"]) for event in events(alice)] == [
        ("forwarded", None),
        ("blocked", "foreign_sender"),
        ("blocked", "foreign_sender"),
    ]
    current = alias(alice, shop["id"])
    assert current["blocked_count"] == 2
    assert current["leak"]["suspected"] is True  # blocked, and still a leak: the address got out


def test_only_leaked_aliases_are_listed_with_leaked_true(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    leaked = new_alias(alice, alice_domain, "leaked", ["alice@real.example"], site="shop.example")
    clean = new_alias(alice, alice_domain, "clean", ["alice@real.example"], site="shop.example")
    mailroom.deliver(mail_from("spam@elsewhere.example", "leaked@alice.example"), ["leaked@alice.example"])

    def listed(query: str) -> list[str]:
        return [item["id"] for item in get(alice, f"/api/aliases?{query}").json()["items"]]

    assert listed("leaked=true") == [leaked["id"]]
    assert listed("leaked=false") == [clean["id"]]
    assert listed("") == [clean["id"], leaked["id"]]
    assert get(alice, "/api/aliases?leaked=maybe").status == 422


@pytest.mark.parametrize(
    ("given", "site", "same", "foreign"),
    [
        ("https://www.shop.example.co.uk/account", "example.co.uk", "news@mail.example.co.uk", "x@other.co.uk"),
        ("user.github.io", "user.github.io", "me@www.user.github.io", "x@other.github.io"),  # a private suffix
        ("bücher.example", "xn--bcher-kva.example", "news@BÜCHER.example", "x@buecher.example"),  # IDN
        ("Shop.Example.", "shop.example", "a@shop.example", "a@shop.example.evil.example"),
    ],
)
def test_a_site_set_by_the_owner_is_a_registrable_domain(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    given: str,
    site: str,
    same: str,
    foreign: str,
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"], site=given, block_foreign_senders=True)
    assert shop["site"] == site

    assert mailroom.deliver(mail_from(same), ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    assert mailroom.deliver(mail_from(foreign), ["shop@alice.example"])["blocked"] == ["shop@alice.example"]


@pytest.mark.parametrize("bad", ["co.uk", "github.io", "com", "not a domain", "me@shop.example", "https://", ""])
def test_a_public_suffix_or_no_domain_is_no_site(alice: Client, alice_domain: str, bad: str) -> None:
    body = {"domain": alice_domain, "destinations": ["alice@real.example"], "site": bad}
    response = alice.post("/api/aliases", body)
    assert response.status == 422, response.body
    assert response.json()["detail"][0]["loc"] == ["body", "site"]


def test_the_owners_site_wins_and_put_without_it_clears_it(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"], site="shop.example")
    mailroom.deliver(mail_from("news@other.example"), ["shop@alice.example"])  # foreign, not a new site
    assert alias(alice, shop["id"])["site"] == "shop.example"

    body = {"destinations": ["alice@real.example"], "note": "", "enabled": True, "expires_at": None}
    assert alice.put(f"/api/aliases/{shop['id']}", body).status == 204
    assert (alias(alice, shop["id"])["site"], alias(alice, shop["id"])["block_foreign_senders"]) == (None, False)
    # No site: the next sender names it again.
    mailroom.deliver(mail_from("news@new.example"), ["shop@alice.example"])
    assert alias(alice, shop["id"])["site"] == "new.example"
    assert alice.patch(f"/api/aliases/{shop['id']}", {"site": None}).json()["site"] is None
    assert alice.patch(f"/api/aliases/{shop['id']}", {"block_foreign_senders": None}).status == 422


def test_spam_never_names_the_site(alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder) -> None:
    from local.ses import Verdicts

    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(mail_from("spam@spammer.example"), ["shop@alice.example"], verdicts=Verdicts(spam="FAIL"))
    assert alias(alice, shop["id"])["site"] is None
