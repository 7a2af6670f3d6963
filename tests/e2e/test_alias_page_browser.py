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


def test_an_aliases_contacts_and_writing_to_someone_new(screen: Screen, user: User, stack: Any) -> None:  # noqa: F811
    # Given an alias with a verified destination, and a stranger who wrote to it
    destination = f"me-{user.domain}@real.example"
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "shop", "destinations": [destination]}
    )
    assert status == 201, alias
    open_link_from_the_outbox(stack, destination)
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
