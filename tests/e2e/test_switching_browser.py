# ruff: noqa: F811 - the fixtures imported from test_web_browser are parameters of every test
"""What a SimpleLogin or addy.io user switching to postmask meets in a browser (issue 28): destinations that
would loop refused on every page, errors in the form's words, the alias's own page, the destination picker,
settings, tokens from the web, suspended destinations. Screenshots at 1280 and 390 px in test-artifacts/web/."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from local.bounce import request as bounce_request
from tests.e2e.test_web_browser import (  # noqa: F401 - fixtures
    Screen,
    User,
    browser,
    call,
    create_alias,
    screen,
    sign_in,
    user,
)
from tests.support.destinations import open_link_from_the_outbox

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


# --- item 5: the alias's own page -------------------------------------------------------------------------------


def test_the_alias_page_switches_edits_and_deletes_its_alias(screen: Screen, user: User) -> None:
    # Given an alias with a long local part (the address is wider than a phone)
    local_part = "a-very-long-local-part-for-a-newsletter-signup"
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": local_part, "destinations": ["me@real.example"]}
    )
    assert status == 201, alias
    page = screen.page
    sign_in(screen, user.token)
    screen.goto(f"/aliases/{alias['id']}")
    expect(page.get_by_role("heading", name=alias["address"])).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-alias")

    # When it is switched off, Then the API says so
    page.get_by_role("switch", name=f"Enabled: forward mail sent to {alias['address']}").uncheck()
    expect(page.locator("#alias-state")).to_have_text("Disabled: its mail is blocked")
    assert user.api("GET", f"/api/aliases/{alias['id']}")[1]["enabled"] is False

    # When its display name and expiry are edited
    page.get_by_role("button", name="Edit").click()
    dialog = page.locator("#edit-dialog")
    dialog.get_by_label("Name on mail sent from it").fill("Shopping")
    dialog.get_by_label("Expires").fill("2030-01-31T12:00")
    screen.shot("2-edit")
    dialog.get_by_role("button", name="Save").click()

    # Then they are saved and shown
    expect(dialog).to_be_hidden()
    saved = user.api("GET", f"/api/aliases/{alias['id']}")[1]
    assert saved["display_name"] == "Shopping"
    assert saved["expires_at"].startswith("2030-01-31")
    expect(page.locator("#alias-details")).to_contain_text("“Shopping”")
    expect(page.locator("#alias-details")).to_contain_text("Expires")

    # When it is deleted, Then the page says so, with no contacts or form left, and the way back
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#confirm-text")).to_contain_text("you can create the same address again later")
    page.locator("#confirm-yes").click()
    expect(page.locator("#alias-gone")).to_contain_text(f"Deleted {alias['address']}.")
    expect(page.get_by_role("link", name="Back to your aliases")).to_be_visible()
    expect(page.locator("#write-form")).to_be_hidden()
    expect(page.locator("text=Loading… >> visible=true")).to_have_count(0)
    assert user.api("GET", f"/api/aliases/{alias['id']}")[0] == 404
    screen.no_sideways_scrolling()
    screen.shot("3-deleted")


def test_a_missing_alias_shows_only_that(screen: Screen, user: User) -> None:
    sign_in(screen, user.token)
    screen.goto("/aliases/01j0000000000000000000000a")
    page = screen.page
    expect(page.get_by_text("There is no such alias among yours.")).to_be_visible()
    expect(page.locator("#write-form")).to_be_hidden()
    expect(page.get_by_role("heading", name="Contacts")).to_be_hidden()
    expect(page.locator("text=Loading… >> visible=true")).to_have_count(0)


# --- item 6: "Forward to" picks from the confirmed mailboxes ----------------------------------------------------


def verified(user: User, stack: Any, *addresses: str) -> None:
    for address in addresses:
        status, body = user.api("POST", "/api/destinations", {"email": address})
        assert status == 201, body
        open_link_from_the_outbox(stack, address)


def test_forward_to_picks_from_confirmed_mailboxes_with_the_default_ticked(
    screen: Screen, user: User, stack: Any
) -> None:
    # Given two confirmed mailboxes
    first, second = f"home-{user.domain}@real.example", f"work-{user.domain}@real.example"
    verified(user, stack, first, second)
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/aliases")

    # When a new alias is started, Then the first (the default) is ticked and the other offered
    page.get_by_role("button", name="New alias").click()
    form = page.locator("#create-form")
    expect(form.get_by_role("checkbox", name=first)).to_be_checked()
    expect(form.get_by_role("checkbox", name=second)).not_to_be_checked()
    screen.no_sideways_scrolling()
    screen.shot("1-picker")

    # When the second is ticked too and the alias created, Then it forwards to both, nothing retyped
    form.get_by_role("checkbox", name=second).check()
    form.get_by_label("Name before the @").fill("picked")
    form.get_by_role("button", name="Create alias").click()
    expect(page.locator("#alias-rows tr.new")).to_have_count(1)
    (alias,) = user.aliases()
    assert alias["destinations"] == [first, second]

    # And the editor shows them ticked; one unticked is saved
    page.locator("#alias-rows tr.new").get_by_role("button", name="Edit").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog.get_by_role("checkbox", name=first)).to_be_checked()
    expect(dialog.get_by_role("checkbox", name=second)).to_be_checked()
    expect(dialog.get_by_label("Other addresses to forward to")).to_have_value("")
    dialog.get_by_role("checkbox", name=first).uncheck()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    assert user.aliases()[0]["destinations"] == [second]


# --- item 7: settings, deleting an account, users for admins ----------------------------------------------------


def test_settings_offer_defaults_and_delete_the_account_after_an_export(
    screen: Screen, user: User, stack: Any, tmp_path: Path
) -> None:
    page = screen.page
    verified(user, stack, f"home-{user.domain}@real.example")
    user.api("POST", "/api/aliases", {"domain": user.domain, "local_part": "kept", "destinations": ["x@real.example"]})
    sign_in(screen, user.token)
    screen.goto("/account")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name=f"home-{user.domain}@real.example")).to_be_visible()
    # The defaults: saved through PATCH /api/me
    page.get_by_label("Domain").select_option(user.domain)
    page.get_by_role("checkbox", name=f"home-{user.domain}@real.example").check()
    page.get_by_label("Words, such as").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    me = user.api("GET", "/api/me")[1]
    assert (me["default_alias_domain"], me["alias_style"]) == (user.domain, "words")
    assert me["default_alias_destinations"] == [f"home-{user.domain}@real.example"]
    screen.shot("1-settings")
    screen.no_sideways_scrolling()

    # A wrong confirmation is explained and deletes nothing
    form = page.locator("#delete-form")
    form.get_by_label("Type your e-mail address to confirm").fill("someone@else.example")
    form.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#delete-confirm-error")).to_contain_text(f"Type {user.email}")
    assert user.api("GET", "/api/me")[0] == 200

    # The right one, after the export downloaded: the account is gone and the browser signed out
    form.get_by_label("Type your e-mail address to confirm").fill(user.email.upper())
    form.get_by_role("button", name="Delete my account").click()
    with page.expect_download() as download:
        page.locator("#confirm-yes").click()
    exported = tmp_path / "export.json"
    download.value.save_as(exported)
    assert "kept@" in exported.read_text()
    expect(page.get_by_text("Your account and everything in it are deleted.")).to_be_visible()
    # (404: the gateway's cache still accepts the token for AuthorizerCacheTtl seconds, and the user is gone)
    assert user.api("GET", "/api/me")[0] in (401, 403, 404)
    assert user.api("GET", "/api/aliases")[1].get("items", []) == []
    screen.shot("2-deleted")


def every_user(base: str, admin_token: str) -> list[dict[str, Any]]:
    users, path = [], "/api/users?limit=100"
    while True:
        status, page = call(base, admin_token, "GET", path)
        assert status == 200, page
        users += page["items"]
        if not page["next_token"]:
            return users
        path = f"/api/users?limit=100&next_token={quote(page['next_token'])}"


def test_an_admin_creates_lists_and_disables_users(screen: Screen, stack: Any) -> None:
    page = screen.page
    sign_in(screen, stack.token)
    screen.goto("/settings")
    page.get_by_role("link", name="create, list and disable users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()

    # When a user is created, Then their first token is shown once, with a copy button, and it works
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Their e-mail address").fill(email)
    page.get_by_role("button", name="Create user").click()
    token = page.locator("#created-token")
    expect(token).to_contain_text("pm_")
    secret = token.inner_text()
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screen.no_sideways_scrolling()
    screen.shot("1-created")

    # When they are disabled, Then their token is refused (not used before: the local gateway caches an
    # authorizer's answer for AuthorizerCacheTtl seconds, as API Gateway does)
    row = page.locator("#user-list li").filter(has_text=email)
    row.get_by_role("button", name=f"Disable {email}").click()
    page.locator("#confirm-yes").click()
    expect(row.get_by_text("Disabled", exact=True)).to_be_visible()
    assert call(screen.base_url, secret, "GET", "/api/me")[0] in (401, 403)
    screen.shot("2-disabled")
    row.get_by_role("button", name=f"Enable {email}").click()
    expect(row.get_by_role("button", name=f"Disable {email}")).to_be_visible()
    # (The token itself works again once the gateway's cached refusal expires, AuthorizerCacheTtl seconds.)
    assert [user["disabled"] for user in every_user(screen.base_url, stack.token) if user["email"] == email] == [False]


def test_the_users_page_tells_others_it_is_for_admins(screen: Screen, user: User) -> None:
    sign_in(screen, user.token)
    screen.goto("/users")
    expect(screen.page.get_by_text("Only admins manage users.")).to_be_visible()
    expect(screen.page.get_by_role("button", name="Create user")).to_be_hidden()


# --- item 8: API tokens from the web ----------------------------------------------------------------------------


def test_a_token_is_made_on_the_account_page_and_shown_once(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/account")

    # A token without a name is explained next to the field
    form = page.locator("#token-form")
    form.get_by_role("button", name="Create token").click()
    expect(page.locator("#token-name-error")).to_contain_text("Give it a name")

    # When one is named, given 30 days and made
    form.get_by_label("Name").fill("curl on my laptop")
    form.get_by_label("Expires").select_option("30")
    form.get_by_role("button", name="Create token").click()

    # Then its secret is shown once, with a copy button, it works, and it is listed with its expiry
    secret = page.locator("#new-token-secret")
    expect(secret).to_contain_text("pm_")
    page.locator("#copy-token").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == secret.inner_text()
    assert call(screen.base_url, copied, "GET", "/api/me")[1]["email"] == user.email
    (listed,) = [token for token in user.api("GET", "/api/tokens")[1]["items"] if token["name"] == "curl on my laptop"]
    assert listed["expires_at"] is not None
    expect(page.locator("#token-list li").filter(has_text="curl on my laptop")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-token")

    # And after a reload the secret is nowhere on the page
    page.reload()
    expect(page.locator("#token-list li").filter(has_text="curl on my laptop")).to_be_visible()
    assert copied not in page.content()


# --- item 9: suspended destinations -----------------------------------------------------------------------------


def test_a_suspended_destination_is_warned_of_and_a_new_link_says_when_the_next_can_go(
    screen: Screen, user: User, stack: Any
) -> None:
    # Given a confirmed mailbox that bounced (as SES reports a hard bounce)
    address = f"gone-{user.domain}@real.example"
    verified(user, stack, address)
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "news", "destinations": [address]}
    )
    assert status == 201, alias
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "news@outside.example", alias["address"], "Hello"
    message.set_content("Hi!\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:  # a copy goes to the mailbox...
        smtp.send_message(message, from_addr="news@outside.example", to_addrs=[alias["address"]])
    code, output = bounce_request(address, complaint=False, port=stack.smtp_port)  # ...which bounces it
    assert code == 250, output
    (destination,) = user.api("GET", "/api/destinations?status=suspended")[1]["items"]
    page = screen.page

    # Then the overview warns of it, with the reason and the way back
    sign_in(screen, user.token)
    warning = page.locator("#suspended")
    expect(warning).to_contain_text(address)
    expect(warning).to_contain_text(destination["suspended_reason"])
    expect(warning.get_by_role("link", name="send one from Destinations")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-overview")

    # When a new link is sent, Then the card says what happened and when the next can go; the button waits
    warning.get_by_role("link", name="send one from Destinations").click()
    card = page.locator("#destination-list li").filter(has_text=address)
    resend = card.get_by_role("button", name=f"Send a new link to {address}")
    resend.click()
    # (The address had its first link moments ago: the installation's one-per-10-minutes rule answers, and says so.)
    expect(card.locator('[data-field="resent"]')).to_contain_text("one every 10 minutes")
    expect(resend).to_be_disabled()
    screen.no_sideways_scrolling()
    screen.shot("2-resent")
