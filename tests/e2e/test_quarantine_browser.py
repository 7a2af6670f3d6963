"""Quarantine in a real browser against the local stack (decision 0025): mail to a suspended mailbox is kept; the
overview counts it; /quarantine lists it with its header fields; Resend (refused while the mailbox is suspended,
said on the card), Resend to… another verified mailbox (it arrives), Delete. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_destinations_e2e import local_command
from tests.e2e.test_web_browser import Screen, User, browser, screen, sign_in, user  # noqa: F401 - fixtures
from tests.support.axe import FAILING_IMPACTS, describe, violations
from tests.support.destinations import open_link_from_the_outbox
from tests.support.outbox import wait_for_messages

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def send(stack: Any, alias: str, subject: str) -> None:
    """A message whose Subject is an RFC 2047 encoded word (`subject` in UTF-8), folded over two lines."""
    import base64

    encoded = base64.b64encode(subject.encode()).decode()
    raw = (
        "From: =?utf-8?q?Caf=C3=A9_Shop?= <news@shop.example>\r\n"
        f"To: {alias}\r\nSubject: =?utf-8?b?{encoded}?=\r\n =?utf-8?q?_today?=\r\n"
        "X-Campaign: spring\r\n\r\nYour parcel is on its way.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.sendmail("news@shop.example", [alias], raw.encode())


def test_quarantined_mail_is_counted_listed_shown_resent_and_deleted(
    screen: Screen,  # noqa: F811
    user: User,  # noqa: F811
    stack: Any,
) -> None:
    # Given an alias whose mailbox bounced (suspended), and another verified mailbox of the owner's
    mailbox, other = f"box-{user.domain}@real.example", f"other-{user.domain}@real.example"
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "shop", "destinations": [mailbox]}
    )
    assert status == 201, alias
    open_link_from_the_outbox(stack, mailbox)
    assert user.api("POST", "/api/destinations", {"email": other})[0] == 201
    open_link_from_the_outbox(stack, other)
    send(stack, alias["address"], "Welcome")
    wait_for_messages(stack.outbox, mailbox, 2)  # the link, then the copy
    bounced = local_command(stack, "bounce", mailbox)
    assert bounced.returncode == 0, bounced.stdout + bounced.stderr

    # When two more messages come: each is quarantined, not lost
    send(stack, alias["address"], "Your order ✓")
    send(stack, alias["address"], "Last chance")
    status, listed = user.api("GET", "/api/quarantine")
    assert status == 200, listed
    assert [item["reason"] for item in listed["items"]] == ["destination_suspended"] * 2

    # Then the overview counts them, and links to the page
    page = screen.page
    sign_in(screen, user.token)
    stat = page.locator("#quarantine-stat")
    expect(stat).to_be_visible()
    expect(stat).to_contain_text("2 messages not delivered")
    screen.shot("1-overview")
    stat.get_by_role("link").click()
    expect(page).to_have_url(f"{screen.base_url}/quarantine")

    # And Activity says what became of each, in words, with the way to it
    screen.goto("/activity")
    page.get_by_label("What happened").select_option("quarantined")
    expect(page.locator("tr.event")).to_have_count(2)  # the welcome forwarded and the bounce are not listed
    held = page.locator("tr.event", has_text="Your order ✓")
    expect(held.locator('[data-field="outcome"]')).to_have_text("Quarantined")
    expect(held).to_contain_text("this mailbox bounced or complained, and is suspended")
    screen.shot("1b-activity")
    held.get_by_role("link", name="Resend or delete it").click()

    # And the page lists them, each with its headers (decoded, unfolded) one click away
    expect(page).to_have_url(f"{screen.base_url}/quarantine")
    cards = page.locator("#quarantine-list li.quarantined")
    expect(cards).to_have_count(2)
    order = cards.filter(has_text="Your order ✓ today")
    expect(order.get_by_text("Mailbox suspended")).to_be_visible()
    order.get_by_text("Headers", exact=True).click()
    fields = order.locator('[data-field="header_fields"]')
    expect(fields.locator("dt").filter(has_text="Subject")).to_have_count(1)
    expect(fields.locator("dd").filter(has_text="Your order ✓ today")).to_have_count(1)
    expect(fields.locator("dd").filter(has_text="Café Shop <news@shop.example>")).to_have_count(1)
    expect(fields.locator("dd").filter(has_text="spring")).to_have_count(1)
    screen.no_sideways_scrolling()
    serious = [describe(found) for found in violations(page) if found["impact"] in FAILING_IMPACTS]
    assert serious == [], serious  # axe-core, with the header fields open
    screen.shot("2-headers")

    # When Resend is pressed while the mailbox is still suspended: the card says why, nothing is sent
    order.get_by_role("button", name="Resend", exact=True).click()
    expect(order.locator('[data-field="error"]')).to_contain_text("suspended")

    # When it is resent to the other mailbox: it arrives there, and the card says so
    order.get_by_label("Resend to").select_option(other)
    order.get_by_role("button", name="Resend to…").click()
    expect(order.get_by_text(f"Resent to {other}")).to_be_visible()
    arrived = wait_for_messages(stack.outbox, other, 2)  # the link, then the resent copy
    assert "Your order" in str(arrived[-1]["Subject"])
    assert alias["address"] in str(arrived[-1]["From"])  # from the alias, as the forwarder sends it
    screen.shot("3-resent")

    # When the other one is deleted: it is gone, from the page and the API
    last = cards.filter(has_text="Last chance today")
    last.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete message").click()
    expect(cards).to_have_count(1)
    status, left = user.api("GET", "/api/quarantine")
    assert [item["subject"] for item in left["items"]] == ["Your order ✓ today"]
    screen.no_sideways_scrolling()
    screen.shot("4-deleted")
