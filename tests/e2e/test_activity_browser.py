"""The activity in a real browser: the overview (suspected leaks first, the chart of the last 30 days whose
numbers are GET /api/stats's, the latest events), the leak badge on the aliases list, the Activity page with
its outcome filter, and one alias's activity with its leak state and the "only accept mail from" switch."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_destinations_e2e import local_command
from tests.e2e.test_web_browser import Screen, User, alias_row, browser, screen, sign_in, user  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def send(stack: Any, sender: str, alias: str, subject: str, verdicts: str = "") -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = alias
    message["Subject"] = subject
    if verdicts:
        message["X-Postmask-Local-Verdicts"] = verdicts  # the local stack's SES verdicts (contract: Local mode)
    message.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=60) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=[alias])


def test_activity_leaks_and_the_overview_chart(screen: Screen, user: User, stack: Any) -> None:  # noqa: F811
    page = screen.page
    destination = f"inbox-{user.domain}@real.example"
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "shop", "destinations": [destination]}
    )
    assert status == 201, alias
    assert local_command(stack, "verify", destination).returncode == 0
    status, quiet = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "quiet", "destinations": [destination]}
    )
    assert status == 201, quiet
    address = alias["address"]
    send(stack, "Shop <news@shop.example>", address, "Your order has shipped")
    send(stack, "Spammer <deals@elsewhere.example>", address, "You won a prize")
    send(stack, "news@shop.example", address, "Cheap pills", verdicts="spam=FAIL")
    send(stack, "news@shop.example", f"nobody@{user.domain}", "To nobody")

    # The overview: the leak first, the chart, the latest events.
    sign_in(screen, user.token)
    leaks = page.locator("#leaks")
    expect(leaks).to_be_visible()
    card = leaks.locator(".leak-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(address)
    expect(card).to_contain_text("1 sender from outside shop.example")
    status, stats = user.api("GET", "/api/stats?days=30")
    assert status == 200
    legend = page.locator("#chart .legend")
    for key in ("forwarded", "sent", "blocked", "refused"):
        expect(legend.locator(f'[data-total="{key}"]')).to_have_text(str(sum(day[key] for day in stats["days"])))
    today = stats["days"][-1]
    assert (today["forwarded"], today["blocked"]) == (2, 1)
    bar_day = page.locator(f'#chart g.day[data-date="{today["date"]}"]')
    expect(bar_day).to_have_attribute("data-forwarded", "2")
    expect(bar_day).to_have_attribute("data-blocked", "1")
    expect(page.locator("#chart g.day")).to_have_count(30)
    latest = page.locator("#latest tbody tr")
    expect(latest).to_have_count(4)
    expect(latest.first).to_contain_text("To nobody")
    expect(page.locator("#latest").get_by_text("the sender is not the alias's site (possible leak)")).to_be_visible()
    screen.shot("1-overview")
    screen.no_sideways_scrolling()

    # One click: only mail from the site.
    card.get_by_role("switch", name="Only accept mail from shop.example").check()
    expect(page.get_by_role("status").filter(has_text="now accepts mail from shop.example only")).to_be_visible()
    status, current = user.api("GET", f"/api/aliases/{alias['id']}")
    assert current["block_foreign_senders"] is True

    # The aliases list marks the leak, and filters on it.
    page.get_by_role("link", name="Aliases", exact=True).click()
    row = alias_row(page, address)
    badge = row.get_by_role("link", name=f"Possible leak of {address}")
    expect(badge).to_be_visible()
    expect(alias_row(page, quiet["address"]).locator(".badge.leak")).to_be_hidden()
    page.get_by_label("Leaks").select_option("true")
    expect(page.locator("#alias-rows tr")).to_have_count(1)
    screen.shot("2-aliases-with-a-leak")
    screen.no_sideways_scrolling()

    # The badge leads to the alias's activity, with its leak state.
    badge.click()
    expect(page).to_have_url(f"{user.base_url}/activity?alias_id={alias['id']}")
    expect(page.locator("#alias-filter")).to_contain_text(address)
    expect(page.locator("#alias-leak .leak-card").get_by_role("switch")).to_be_checked()
    events = page.locator("#events tbody tr")
    expect(events).to_have_count(3)
    screen.shot("3-one-aliases-activity")
    screen.no_sideways_scrolling()

    # The alias's own page: its leak state with the switch, and its recent activity.
    screen.goto(f"/aliases/{alias['id']}")
    expect(page.locator("#alias-leak .leak-card")).to_contain_text("1 sender from outside shop.example")
    expect(page.locator("#alias-leak").get_by_role("switch", name="Only accept mail from shop.example")).to_be_checked()
    recent = page.locator("#alias-activity tbody tr")
    expect(recent).to_have_count(3)
    expect(recent.first).to_contain_text("Cheap pills")
    expect(
        page.locator("#alias-activity").get_by_text("the sender is not the alias's site (possible leak)")
    ).to_be_visible()
    screen.shot("3b-alias-page")
    screen.no_sideways_scrolling()
    page.get_by_role("link", name="All of its activity").click()
    expect(page).to_have_url(f"{user.base_url}/activity?alias_id={alias['id']}")

    # The Activity page, filtered by outcome.
    page.get_by_role("link", name="Show all aliases").click()
    expect(events).to_have_count(4)
    page.get_by_label("What happened").select_option("blocked")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Amazon SES found spam")
    expect(events.first).to_contain_text("Cheap pills")
    expect(page).to_have_url(f"{user.base_url}/activity?outcome=blocked")
    page.get_by_label("What happened").select_option("dropped")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("no alias has this address")
    screen.shot("4-activity-dropped")
    screen.no_sideways_scrolling()
