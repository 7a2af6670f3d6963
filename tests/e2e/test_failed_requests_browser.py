"""A page whose requests fail says so and stops loading (issue 28, the web audit): every page, at both widths,
with every API read answered 500 (or the network gone), shows an error and no "Loading…" is left on it."""

# ruff: noqa: F811 - the fixtures imported from test_web_browser are parameters of every test
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from tests.e2e.test_accessibility_browser import with_data
from tests.e2e.test_web_browser import Screen, User, browser, screen, sign_in, user  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGES = ["/", "/aliases", "/activity", "/domains", "/destinations", "/quarantine", "/account", "/settings"]
FAILED = re.compile(r"Something went wrong on our side \(error 500\)|Could not reach postmask")


def fail_reads(screen: Screen, *, offline: bool = False) -> None:
    """Every GET of the API fails from now on: a 500 (or no answer at all); writes are not made by these pages."""

    def answer(route: Route) -> None:
        if route.request.method != "GET":
            route.continue_()
        elif offline:
            route.abort("internetdisconnected")
        else:
            route.fulfill(status=500, content_type="application/json", body='{"message": "Internal Server Error"}')

    screen.page.route(re.compile(r".*/api/.*"), answer)


def settled_with_an_error(screen: Screen, path: str) -> None:
    screen.goto(path)
    page = screen.page
    page.wait_for_load_state("networkidle")
    screen.shot(f"failed-{path.strip('/').replace('/', '-') or 'home'}")  # before the checks: look at it if one fails
    shown = page.locator("[role=alert]:visible, .form-error:visible, .notice:visible").filter(has_text=FAILED)
    expect(shown.first, f"{path}: no error shown").to_be_visible()
    expect(page.locator("text=Loading… >> visible=true"), f"{path}: still loading").to_have_count(0)


def test_every_page_says_its_requests_failed_and_stops_loading(screen: Screen, user: User, stack: Any) -> None:
    alias_id = with_data(user, stack)
    sign_in(screen, user.token)
    fail_reads(screen)
    for path in [*PAGES, f"/aliases/{alias_id}"]:
        settled_with_an_error(screen, path)


def test_the_admins_users_page_says_its_requests_failed(screen: Screen, stack: Any) -> None:
    sign_in(screen, stack.token)
    fail_reads(screen, offline=True)
    settled_with_an_error(screen, "/users")
