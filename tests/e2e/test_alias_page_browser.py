"""An alias's page (/aliases/<id>) in a real browser against the local stack: its contacts with their reply
addresses (copied), counts and block switches, and "write to someone new". Screenshots at 1280 and 390 px."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_web_browser import Screen, User, browser, screen, sign_in, user  # noqa: F401 - fixtures
from tests.support.destinations import open_link_from_the_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def alias_to_a_confirmed_mailbox(user: User, stack: Any, local_part: str) -> dict[str, Any]:  # noqa: F811
    """A new alias of the user's, forwarding to a mailbox confirmed by the link mailed to it."""
    destination = f"me-{user.domain}@real.example"
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": local_part, "destinations": [destination]}
    )
    assert status == 201, alias
    open_link_from_the_outbox(stack, destination)
    return dict(alias)


def test_an_aliases_contacts_and_writing_to_someone_new(screen: Screen, user: User, stack: Any) -> None:  # noqa: F811
    # Given an alias with a verified destination, and a stranger who wrote to it
    alias = alias_to_a_confirmed_mailbox(user, stack, "shop")
    message = EmailMessage()
    message["From"] = "Sam Stranger <sam@outside.example>"
    message["To"] = alias["address"]
    message["Subject"] = "Hello"
    message.set_content("Hi!\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr="sam@outside.example", to_addrs=[alias["address"]])
    _, listed = user.api("GET", f"/api/aliases/{alias['id']}/contacts")
    (sam,) = listed["items"]

    # When the owner opens the alias from the list
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/aliases")
    page.get_by_role("link", name=alias["address"]).click()
    expect(page.get_by_role("heading", name=alias["address"])).to_be_visible()

    # Then its contact shows with its reply address and counts
    card = page.locator("#contact-list li").filter(has_text="sam@outside.example")
    expect(card).to_contain_text(sam["reply_address"])
    expect(card).to_contain_text("1 received")
    expect(card).to_contain_text("Sam Stranger")
    screen.no_sideways_scrolling()
    screen.shot("1-contacts")
    card.get_by_role("button", name="Copy the reply address of sam@outside.example").click()
    assert page.evaluate("navigator.clipboard.readText()") == sam["reply_address"]

    # When they are blocked, Then the API says so
    card.get_by_role("switch", name="Block sam@outside.example").check()
    expect(page.get_by_role("status").filter(has_text="sam@outside.example blocked")).to_be_visible()
    assert user.api("GET", f"/api/aliases/{alias['id']}/contacts/{sam['id']}")[1]["blocked"] is True

    # When the owner writes to someone new
    form = page.locator("#write-form")
    form.get_by_label("Their e-mail address").fill("new@outside.example")
    form.get_by_label("Their name").fill("Nia New")
    form.get_by_role("button", name="Get their reply address").click()

    # Then the address to write to is shown, and the new contact is listed first
    expect(page.locator("#write-result")).to_be_visible()
    _, after = user.api("GET", f"/api/aliases/{alias['id']}/contacts")
    newest = after["items"][0]
    assert (newest["email"], newest["name"]) == ("new@outside.example", "Nia New")
    expect(page.locator("#write-address")).to_have_text(newest["reply_address"])
    expect(page.locator("#contact-list li").first).to_contain_text("new@outside.example")
    screen.no_sideways_scrolling()
    screen.shot("2-written")

    # A second time is explained next to the address
    form.get_by_label("Their e-mail address").fill("new@outside.example")
    form.get_by_role("button", name="Get their reply address").click()
    expect(form.locator(".field-error, .form-error").filter(has_text="already has a contact")).to_be_visible()


def test_an_alias_that_is_not_yours_says_so(screen: Screen, user: User) -> None:  # noqa: F811
    sign_in(screen, user.token)
    screen.goto("/aliases/01j0000000000000000000000a")
    expect(screen.page.get_by_text("There is no such alias among yours.")).to_be_visible()
    screen.shot("missing")


# A shop's newsletter as ESPs send it: an open pixel (1x1, remote) and a link carrying campaign parameters.
NEWSLETTER_HTML = """<html><body><p>Our <a href="https://shop.example/sale?utm_source=news&amp;utm_medium=email&amp;item=7">spring
sale</a> is on.</p><img src="https://shop.example/o/open.gif?id=4f2a" width="1" height="1" alt=""></body></html>
"""


def test_an_aliass_trackers_are_chosen_and_counted(screen: Screen, user: User, stack: Any) -> None:  # noqa: F811
    # Given an alias with a verified destination, which removes pixels (the default)
    alias = alias_to_a_confirmed_mailbox(user, stack, "news")
    page = screen.page
    sign_in(screen, user.token)
    screen.goto(f"/aliases/{alias['id']}")
    card = page.locator("section.alias-trackers")
    expect(card).to_contain_text("Nothing removed from its mail yet.")
    expect(card.get_by_role("radio", name="Remove tracking pixels (recommended)")).to_be_checked()

    # When the owner chooses pixels and links and saves
    card.get_by_role("radio", name="Remove tracking pixels and tracked links").check()
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Tracking pixels and tracked links are removed")).to_be_visible()

    # Then the API holds it, and a reload shows it kept
    assert user.api("GET", f"/api/aliases/{alias['id']}")[1]["trackers"] == "pixels_and_links"
    page.reload()
    expect(card.get_by_role("radio", name="Remove tracking pixels and tracked links")).to_be_checked()
    screen.no_sideways_scrolling()
    screen.shot("1-trackers-chosen")

    # When a newsletter with an open pixel and a tracked link arrives over SMTP (the ingress answers 250 once
    # the forwarder has run)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Shop <news@shop.example>", alias["address"], "Sale"
    message.set_content("Our spring sale is on: https://shop.example/sale\n")
    message.add_alternative(NEWSLETTER_HTML, subtype="html")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr="bounce@shop.example", to_addrs=[alias["address"]])

    # Then the alias's page counts them, and its activity row says what was removed from that message
    page.reload()
    expect(card).to_contain_text("Removed from its mail so far: 1 tracking pixel and 1 tracked link.")
    row = page.locator("#alias-activity tr.event").filter(has_text="Sale")
    expect(row).to_contain_text("1 tracking pixel and 1 tracked link removed")
    assert user.api("GET", f"/api/aliases/{alias['id']}")[1]["trackers_removed"] == {"pixels": 1, "links": 1}
    screen.no_sideways_scrolling()
    screen.shot("2-trackers-counted")

    # And the editor shows the mode too, where the alias's other options are set, and saves a change
    page.locator("#edit-alias").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog.get_by_role("radio", name="Remove tracking pixels and tracked links")).to_be_checked()
    dialog.get_by_role("radio", name="Leave them").check()
    screen.shot("3-editor")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(card.get_by_role("radio", name="Leave them")).to_be_checked()
    assert user.api("GET", f"/api/aliases/{alias['id']}")[1]["trackers"] == "off"


def test_a_new_alias_takes_its_trackers_mode_from_the_create_form(screen: Screen, user: User) -> None:  # noqa: F811
    sign_in(screen, user.token)
    screen.goto("/aliases")
    page = screen.page
    page.get_by_role("button", name="New alias").click()
    form = page.locator("#create-form")
    expect(form.get_by_role("radio", name="Remove tracking pixels (recommended)")).to_be_checked()
    form.get_by_label("Name before the @").fill("quiet")
    form.get_by_label("Other addresses to forward to").fill(f"me-{user.domain}@real.example")
    form.get_by_role("radio", name="Leave them").check()
    screen.shot("create-form")
    form.get_by_role("button", name="Create alias").click()
    expect(page.get_by_role("status").filter(has_text=f"Created quiet@{user.domain}")).to_be_visible()
    (created,) = user.api("GET", "/api/aliases")[1]["items"]
    assert created["trackers"] == "off"
