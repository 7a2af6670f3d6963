"""Every page audited with axe-core (issue 28, item 11): at 1280 and 390 px, signed in and out, with data and
empty. No serious or critical violation; the others are printed (`pytest -s` shows them)."""

# ruff: noqa: F811 - the fixtures imported from test_web_browser are parameters of every test
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_web_browser import Screen, User, browser, screen, sign_in, user  # noqa: F401 - fixtures
from tests.support.axe import FAILING_IMPACTS, describe, violations
from tests.support.destinations import open_link_from_the_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SIGNED_OUT = ["/", "/verify", "/signin"]
SIGNED_IN = [
    "/",
    "/aliases",
    "/activity",
    "/domains",
    "/destinations",
    "/quarantine",
    "/account",
    "/settings",
    "/users",
]


def audit(screen: Screen, path: str, state: str, shown: str | None = None) -> list[str]:
    """The page's serious and critical violations (printed with the rest), audited once the page's requests are
    answered and, when given, what the `shown` selector names is visible."""
    screen.goto(path)
    page = screen.page
    page.wait_for_load_state("load")
    # What the page lists is there (a first request may be a cold start on a loaded machine: up to 30 s). A part
    # shown only once a request is answered (the admin's user list, the chart, an alias's parts) has no "Loading…"
    # of its own to wait for: the page's requests are waited for too, then what `shown` names.
    expect(page.locator("text=Loading… >> visible=true")).to_have_count(0, timeout=30_000)
    page.wait_for_load_state("networkidle", timeout=30_000)
    if shown:
        expect(page.locator(shown).first).to_be_visible(timeout=30_000)
    found = violations(page)
    for violation in found:
        print(f"{screen.width_name} {state} {path}: {describe(violation)}")
    screen.shot(f"{state}-{path.strip('/').replace('/', '-') or 'home'}")
    return [f"{path}: {describe(violation)}" for violation in found if violation["impact"] in FAILING_IMPACTS]


def with_data(user: User, stack: Any) -> str:
    """A domain, a confirmed mailbox, an alias with a contact and its mail: every page has something to list."""
    mailbox = f"me-{user.domain}@real.example"
    assert user.api("POST", "/api/destinations", {"email": mailbox})[0] == 201
    open_link_from_the_outbox(stack, mailbox)
    status, alias = user.api(
        "POST",
        "/api/aliases",
        {"domain": user.domain, "local_part": "shop", "destinations": [mailbox], "note": "A shop"},
    )
    assert status == 201, alias
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Sam <sam@outside.example>", alias["address"], "Hello"
    message.set_content("Hi!\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr="sam@outside.example", to_addrs=[alias["address"]])
    user.api("POST", "/api/tokens", {"name": "curl"})
    return str(alias["id"])


def test_signed_out_pages_have_no_serious_violations(screen: Screen) -> None:
    problems = [problem for path in SIGNED_OUT for problem in audit(screen, path, "signed-out")]
    assert problems == []


def test_empty_pages_have_no_serious_violations(screen: Screen, user: User) -> None:
    sign_in(screen, user.token)
    problems = [problem for path in SIGNED_IN for problem in audit(screen, path, "empty")]
    assert problems == []


def test_pages_with_data_have_no_serious_violations(screen: Screen, user: User, stack: Any) -> None:
    alias_id = with_data(user, stack)
    sign_in(screen, user.token)
    paths = [*SIGNED_IN, f"/aliases/{alias_id}"]
    shown = {
        "/": "#chart svg",
        "/users": "#not-admin",  # a user who is not an admin is told so on /users
        f"/aliases/{alias_id}": "#alias-summary",  # its parts, once the alias is read
    }
    problems = [problem for path in paths for problem in audit(screen, path, "data", shown.get(path))]
    assert problems == []


def test_the_charts_axis_counts_in_whole_numbers(screen: Screen, user: User, stack: Any) -> None:
    # Issue 28, item 10: one message made the axis read "0, 1, 1".
    with_data(user, stack)
    sign_in(screen, user.token)
    axis = screen.page.locator("#chart svg text.axis")
    expect(axis.first).to_be_visible()
    labels = axis.all_text_contents()[:3]  # (SVG text has no innerText)
    assert labels == ["0", "1", "2"], labels


def test_the_admins_users_page_has_no_serious_violations(screen: Screen, stack: Any) -> None:
    sign_in(screen, stack.token)
    assert audit(screen, "/users", "admin", shown="#user-list li") == []


def test_the_audit_finds_what_it_should(screen: Screen) -> None:
    # An image without a text alternative and an unlabelled field, put on the sign-in page: critical both.
    screen.goto("/")
    screen.page.evaluate(
        """() => {
          const image = document.createElement("img");
          image.src = "/static/icon.svg";
          const field = document.createElement("input");
          document.querySelector("main").append(image, field);
        }"""
    )
    found = {violation["id"]: violation["impact"] for violation in violations(screen.page)}
    assert found.get("image-alt") == "critical"
    assert found.get("label") == "critical"
