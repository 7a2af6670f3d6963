"""Swagger UI in a real browser (Debian's Chromium through Playwright), served with no internet access:
every operation of the document is on the page, and a pasted token makes "Try it out" work."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from postmask.store import users
from scripts.openapi import DOCUMENT, ROOT
from tests.support.browser import chromium
from tests.support.wsgi import serve

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def docs_page(table: str, browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page on the in-process API; any request that leaves 127.0.0.1 is refused and recorded, and so is
    anything the page's Content-Security-Policy blocked (which must be nothing: Swagger UI works under it)."""
    with serve() as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        left_the_machine: list[str] = []
        blocked_by_policy: list[str] = []

        def local_only(route: Route) -> None:
            if route.request.url.startswith(base_url + "/"):
                route.continue_()
            else:
                left_the_machine.append(route.request.url)
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                blocked_by_policy.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{base_url}/api/docs")
        yield page, left_the_machine
        assert blocked_by_policy == []
        context.close()


def documented_operations() -> set[tuple[str, str]]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_swagger_ui_lists_every_operation_without_internet(docs_page: tuple[Page, list[str]]) -> None:
    page, left_the_machine = docs_page
    expected = documented_operations()

    page.locator(".opblock").nth(len(expected) - 1).wait_for()
    shown = {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in page.locator(".opblock").all()
    }
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)

    assert shown == expected
    assert page.get_by_text("postmask API").first.is_visible()
    assert left_the_machine == []


def test_a_pasted_token_makes_try_it_out_work(docs_page: tuple[Page, list[str]]) -> None:
    page, left_the_machine = docs_page
    token = users.create("swagger@example.org", is_admin=False).token

    # Given the token pasted into "Authorize"
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux #auth-bearer-value").fill(token)
    # The bearer scheme's form (the SimpleLogin key's, for the compatible route, has its own buttons)
    bearer = page.locator(".modal-ux form").filter(has=page.locator("#auth-bearer-value"))
    bearer.get_by_role("button", name="Apply credentials").click()
    page.locator(".modal-ux").get_by_role("button", name="Close").first.click()

    # When GET /api/me is tried out
    operation = page.locator("#operations-Users-getMe")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    # Then the API answers for the token's user
    response = operation.locator(".live-responses-table .response").first
    response.locator(".response-col_status").get_by_text("200").wait_for()
    assert "swagger@example.org" in response.locator(".response-col_description").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    operation.screenshot(path=str(ARTIFACTS / "api-docs-try-it-out.png"))
    assert left_the_machine == []
