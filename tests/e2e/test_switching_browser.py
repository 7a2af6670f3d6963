# ruff: noqa: F811 - the fixtures imported from test_web_browser are parameters of every test
"""What a SimpleLogin or addy.io user switching to postmask meets in a browser (issue 28): destinations that
would loop refused on every page, errors in the form's words, the alias's own page, the destination picker,
settings, tokens from the web, suspended destinations. Screenshots at 1280 and 390 px in test-artifacts/web/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_web_browser import (  # noqa: F401 - fixtures
    Screen,
    User,
    browser,
    create_alias,
    screen,
    sign_in,
    user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


# --- item 2: a destination on one's own postmask domain ---------------------------------------------------------


def test_a_destination_on_a_postmask_domain_is_refused_on_the_destinations_page(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/destinations")
    address = f"me@{user.domain}"

    form = page.locator("#add-form")
    form.get_by_label("E-mail address").fill(address)
    form.get_by_role("button", name="Add destination").click()

    # Then the address is named as typed (not capitalised) next to the field, and nothing is created or mailed
    error = page.locator("#add-email-error")
    expect(error).to_have_text(f"{address} is an address on a domain registered in postmask: mail to it would loop.")
    expect(form.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    assert user.api("GET", "/api/destinations")[1]["items"] == []
    screen.no_sideways_scrolling()
    screen.shot("1-loop-refused")


# --- item 4: errors people can read -----------------------------------------------------------------------------


def test_errors_are_said_in_the_forms_words(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/aliases")

    # A bad local part: the rule in words, checked before anything is sent (never a regular expression)
    create_alias(page, user.domain, local_part="two..dots", destinations="me@real.example")
    error = page.locator("#create-local_part-error")
    expect(error).to_contain_text("Use only letters, digits and . _ + -")
    expect(error).not_to_contain_text("^")
    assert user.aliases() == []
    screen.shot("1-local-part")

    # A domain name from the server keeps its spelling: "co.uk", not "Co.uk"
    screen.goto("/domains")
    form = page.locator("#add-form")
    form.get_by_label("Domain name").fill("co.uk")
    form.get_by_role("button", name="Add domain").click()
    domain_error = page.locator("#add-name-error")
    expect(domain_error).not_to_be_empty()
    expect(domain_error).not_to_contain_text("Co.uk")
    screen.shot("2-public-suffix")
