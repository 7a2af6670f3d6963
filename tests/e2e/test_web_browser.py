"""The web front end in a real browser (Debian's Chromium, driven by Playwright) against the local stack.

Every journey runs at a desktop and a phone width, as a fresh user with a domain of their own, and leaves
screenshots in test-artifacts/web/. A page error or a Content-Security-Policy violation fails the test.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from local.verify import newest_link
from tests.support.browser import chromium
from tests.support.outbox import link_in, wait_for_messages

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
TOKEN_KEY = "postmask.token"
# What a page does waits as long as its actions may (context.set_default_timeout below): on a loaded 2-core
# machine, a function's first request in a worker (a cold start that renders and sends mail) can take 5 s.
expect.set_options(timeout=15_000)


# --- the API, for setting up and checking what the browser did ------------------------------------------------


def call(base_url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    # base_url is the local stack's http://127.0.0.1:<port>
    request = Request(f"{base_url}{path}", method=method, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def base_url(stack: Any) -> str:
    url: str = stack.base_url
    return url.rstrip("/")


@dataclass
class User:
    base_url: str
    email: str
    token: str
    domain: str

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call(self.base_url, self.token, method, path, body)

    def aliases(self) -> list[dict[str, Any]]:
        status, page = self.api("GET", "/api/aliases?limit=100")
        assert status == 200, page
        return list(page["items"])


@pytest.fixture
def user(stack: Any) -> User:
    """A new user (made by the stack's admin) with one domain, so tests never see each other's data."""
    suffix = uuid.uuid4().hex[:10]
    email = f"web-{suffix}@example.org"
    status, created = call(base_url(stack), stack.token, "POST", "/api/users", {"email": email})
    assert status == 201, created
    domain = f"web-{suffix}.example"
    status, body = call(base_url(stack), created["token"], "POST", "/api/domains", {"name": domain})
    assert status == 201, body
    return User(base_url(stack), email, created["token"], domain)


# --- the browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@dataclass
class Screen:
    """One browser tab at one width, which fails the test on a script error or a CSP violation."""

    page: Page
    width_name: str
    base_url: str
    test_name: str
    dialogs: list[str]

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{self.width_name}-{self.test_name}-{step}.png", full_page=True)

    def no_sideways_scrolling(self) -> None:
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the {self.width_name} screen"


@pytest.fixture(params=list(VIEWPORTS))
def screen(request: pytest.FixtureRequest, browser: Browser, stack: Any) -> Iterator[Screen]:
    context = browser.new_context(**VIEWPORTS[request.param])
    context.set_default_timeout(15_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url(stack))
    page = context.new_page()
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Chromium reports a blocked inline script, style or connection on the console.
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )

    def record_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record_dialog)
    name = request.node.originalname.removeprefix("test_")
    yield Screen(page, request.param, base_url(stack), name, dialogs)
    context.close()
    assert problems == []


def paste_token(page: Page, token: str) -> None:
    """The developers' way in: "Or paste an API token", then sign in with it."""
    details = page.locator("#token-sign-in")
    if details.get_attribute("open") is None:
        page.get_by_text("Or paste an API token").click()
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(screen: Screen, token: str) -> None:
    screen.goto("/")
    paste_token(screen.page, token)
    expect(screen.page.get_by_role("heading", name="Overview")).to_be_visible()


def alias_row(page: Page, address: str) -> Locator:
    return page.locator("#alias-rows tr").filter(
        has=page.locator(".address", has_text=re.compile(f"^{re.escape(address)}$"))
    )


def create_alias(page: Page, domain: str, *, local_part: str = "", destinations: str, note: str = "") -> None:
    page.get_by_role("button", name="New alias").click()
    form = page.locator("#create-form")
    form.get_by_label("Domain").select_option(domain)
    form.get_by_label("Name before the @").fill(local_part)
    form.get_by_label("Forward to").fill(destinations)
    form.get_by_label("Note").fill(note)
    form.get_by_role("button", name="Create alias").click()


def newest_address(page: Page) -> str:
    address = page.locator("#alias-rows tr.new .address").first
    expect(address).to_be_visible()
    return address.inner_text().strip()


def token_in_storage(page: Page) -> str | None:
    value: str | None = page.evaluate(f"localStorage.getItem({TOKEN_KEY!r})")
    return value


# --- the journeys -----------------------------------------------------------------------------------------------


def test_sign_in_overview_and_sign_out(screen: Screen, user: User) -> None:
    page = screen.page
    # Given the sign-in page
    screen.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-sign-in")

    # When a wrong token is pasted, Then the error is next to the token field and nobody is signed in
    paste_token(page, "pm_not_a_real_token")
    expect(page.locator('[data-error-for="token"]')).to_contain_text("This token was not accepted")
    expect(page.get_by_label("API token")).to_have_attribute("aria-invalid", "true")
    assert token_in_storage(page) is None
    screen.shot("2-wrong-token")

    # When the right one is pasted, Then the overview shows who is signed in and what they have
    paste_token(page, user.token)
    expect(page.get_by_text(f"Signed in as {user.email}.")).to_be_visible()
    expect(page.locator('[data-field="domain_count"]')).to_have_text("1")
    expect(page.locator('[data-field="alias_count"]')).to_have_text("0")
    assert token_in_storage(page) == user.token
    screen.no_sideways_scrolling()
    screen.shot("3-overview")

    # When they sign out, Then the token is gone and the pages send them back to sign in; a pasted API token is
    # forgotten, not revoked (a program may use it)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert token_in_storage(page) is None
    assert user.api("GET", "/api/me")[0] == 200
    screen.goto("/aliases")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "next=%2Faliases" in page.url


def lines(locator: Locator) -> set[float]:
    """The vertical middles of the elements a locator finds: one value when they share a line."""
    boxes = [element.bounding_box() for element in locator.all()]
    return {round(box["y"] + box["height"] / 2) for box in boxes if box}


def test_activity_is_in_the_navigation_and_the_header_keeps_its_lines(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    # Highlighted as the page one is on; the intro says how far back the list goes (the stack's 30 days)
    expect(navigation.get_by_role("link", name="Activity")).to_have_attribute("aria-current", "page")
    expect(navigation.locator('[aria-current="page"]')).to_have_count(1)
    expect(page.locator("p.intro")).to_contain_text("in the last 30 days")
    # The five pages on one line, at a phone's width too; the brand, Account and Sign out on one line above
    # it (or beside it), none of them cut or wrapped
    assert len(lines(navigation.get_by_role("link"))) == 1
    header_items = page.locator(".site-header .brand, .site-header .account-link, #sign-out")
    assert len(lines(header_items)) == 1
    for item in page.locator(".site-header .account-link, #sign-out, .site-header nav a").all():
        assert item.evaluate("e => e.scrollWidth <= e.clientWidth && e.getClientRects().length === 1")
    screen.no_sideways_scrolling()
    screen.shot("1-activity")


def ask_for_a_link(screen: Screen, email: str) -> None:
    page = screen.page
    screen.goto("/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()


def sign_in_by_link(screen: Screen, stack: Any, email: str, *, links_before: int = 0) -> None:
    """Ask for a link on the sign-in page, then open the link that lands in the local outbox."""
    ask_for_a_link(screen, email)
    messages = wait_for_messages(stack.outbox, email, links_before + 1)
    assert len(messages) == links_before + 1, "the link is in the outbox"
    screen.page.goto(link_in(messages[-1], "/signin"))
    expect(screen.page.get_by_text(f"Signed in as {email}.")).to_be_visible()


def kind_in_storage(page: Page) -> str | None:
    value: str | None = page.evaluate("localStorage.getItem('postmask.token-kind')")
    return value


def test_sign_in_by_link_then_a_second_tab_is_signed_in_and_sign_out_ends_both(
    screen: Screen, user: User, stack: Any
) -> None:
    page = screen.page
    # Given the sign-in page, When the user asks for a link, Then they are told to check their mail
    ask_for_a_link(screen, user.email)
    expect(page.get_by_text(f"If {user.email} belongs to a postmask account")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-check-your-mail")

    # When they open the link from the outbox, Then they are signed in and the code is gone from the address
    (message,) = wait_for_messages(stack.outbox, user.email, 1)
    page.goto(link_in(message, "/signin"))
    expect(page.get_by_text(f"Signed in as {user.email}.")).to_be_visible()
    assert page.url == f"{screen.base_url}/"
    assert kind_in_storage(page) == "session"
    screen.shot("2-signed-in")
    status, tokens = user.api("GET", "/api/tokens")
    assert status == 200
    sessions = [token for token in tokens["items"] if token["kind"] == "session"]
    assert len(sessions) == 1

    # When a second tab opens a page, Then it is signed in too, and knows this browser's session
    second = page.context.new_page()
    second.goto(f"{screen.base_url}/account")
    expect(second.get_by_role("heading", name="Account")).to_be_visible()
    expect(second.get_by_text(f"Signed in as {user.email}.")).to_be_visible()
    this_browser = second.locator("#session-list li").filter(has_text="This browser")
    expect(this_browser).to_have_count(1)
    assert this_browser.get_attribute("data-id") == sessions[0]["id"]
    second.screenshot(path=ARTIFACTS / f"{screen.width_name}-{screen.test_name}-3-second-tab.png", full_page=True)

    # When they sign out in the second tab, Then both tabs are signed out and the session is revoked
    second.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(second.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert token_in_storage(page) is None
    status, tokens = user.api("GET", "/api/tokens")
    assert [token["kind"] for token in tokens["items"]] == ["api"]


def test_a_spent_link_says_so_and_offers_a_new_one(screen: Screen, user: User, stack: Any) -> None:
    page = screen.page
    sign_in_by_link(screen, stack, user.email)
    (message,) = wait_for_messages(stack.outbox, user.email, 1)
    page.evaluate("localStorage.clear()")

    page.goto(link_in(message, "/signin"))

    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("used already")
    assert "#" not in page.url, "the code left the address bar"
    screen.no_sideways_scrolling()
    screen.shot("1-spent-link")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_label("E-mail address")).to_be_focused()


def test_the_account_page_revokes_tokens_and_signs_out_everywhere(screen: Screen, user: User, stack: Any) -> None:
    page = screen.page
    # Given a session elsewhere (a phone), a script's token, and this browser signed in by link
    status, _ = call(screen.base_url, "", "POST", "/api/sessions", {"email": user.email})
    assert status == 202
    (elsewhere,) = wait_for_messages(stack.outbox, user.email, 1)
    phone = Request(  # noqa: S310 - the local stack's http:// URL
        f"{screen.base_url}/api/sessions/redeem",
        method="POST",
        data=json.dumps({"code": link_in(elsewhere, "/signin").partition("#")[2]}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (Linux; Android 14) Firefox/128.0"},
    )
    with urlopen(phone, timeout=30) as response:  # noqa: S310
        phone_token = json.load(response)["token"]
    status, script = user.api("POST", "/api/tokens", {"name": "backup script"})
    assert status == 201
    sign_in_by_link(screen, stack, user.email, links_before=1)

    # When they open the account page, Then both sessions and both API tokens are listed
    page.get_by_role("banner").get_by_role("link", name="Account").click()
    sessions, tokens = page.locator("#session-list li"), page.locator("#token-list li")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="Firefox on Android")).to_have_count(1)
    expect(tokens).to_have_count(2)
    expect(tokens.filter(has_text="backup script")).to_have_count(1)
    screen.no_sideways_scrolling()
    screen.shot("1-account")

    # When the script's token is revoked (after confirming), Then it is gone here and in the API
    page.get_by_role("button", name="Revoke backup script").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Revoke token").click()
    expect(tokens).to_have_count(1)
    assert call(screen.base_url, script["token"], "GET", "/api/me")[0] in (401, 403)

    # When they sign out everywhere, Then this browser is signed out and the phone's session is revoked too
    page.get_by_role("button", name="Sign out everywhere").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You are signed out everywhere")).to_be_visible()
    status, left = user.api("GET", "/api/tokens")
    assert [token["name"] for token in left["items"]] == ["first token"]
    assert call(screen.base_url, phone_token, "GET", "/api/tokens")[0] in (401, 403)


def test_a_tab_signed_in_before_the_upgrade_stays_signed_in(screen: Screen, user: User) -> None:
    """A token pasted before the session moved to localStorage is in the tab's sessionStorage: carried over."""
    page = screen.page
    screen.goto("/")
    page.evaluate(f"localStorage.clear(); sessionStorage.setItem({TOKEN_KEY!r}, {user.token!r})")

    page.reload()

    expect(page.get_by_text(f"Signed in as {user.email}.")).to_be_visible()
    assert token_in_storage(page) == user.token
    assert page.evaluate(f"sessionStorage.getItem({TOKEN_KEY!r})") is None


def test_a_refused_token_returns_to_sign_in_and_back(screen: Screen, user: User) -> None:
    page = screen.page
    # Given a tab whose stored token the API refuses (revoked, expired)
    screen.goto("/")
    page.evaluate(f"localStorage.setItem({TOKEN_KEY!r}, 'pm_revoked_token')")

    # When a page calls the API, Then the user lands on the sign-in form, told why
    screen.goto("/aliases?q=shop")
    expect(page.get_by_text("Your sign-in was refused")).to_be_visible()
    assert token_in_storage(page) is None

    # When they sign in again, Then they are back where they were
    paste_token(page, user.token)
    expect(page.get_by_role("heading", name="Aliases")).to_be_visible()
    assert page.url.endswith("/aliases?q=shop")
    expect(page.get_by_label("Search")).to_have_value("shop")


def test_manage_aliases(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Aliases").click()
    expect(page.get_by_text("No aliases yet.")).to_be_visible()

    # When an alias is created with no local part, Then the service picked a random one
    create_alias(page, user.domain, destinations="me@mail.example")
    random_address = newest_address(page)
    assert re.fullmatch(rf"[a-z0-9._+-]{{8,}}@{re.escape(user.domain)}", random_address), random_address
    expect(page.get_by_role("status").filter(has_text=f"Created {random_address}.")).to_be_visible()
    # (the first alias on the page brings the bar that acts on a selection)
    expect(page.get_by_role("group", name="Selected aliases")).to_be_visible()

    # When one is created with a local part, two destinations and a note
    create_alias(
        page, user.domain, local_part="Shop", destinations="me@mail.example\nyou@mail.example", note="Web shop"
    )
    shop = f"shop@{user.domain}"
    row = alias_row(page, shop)
    expect(row).to_be_visible()
    # (both are new destinations: pending until the links mailed to them are opened)
    expect(row.locator('[data-field="destinations"] li')).to_have_text(
        ["me@mail.example pending", "you@mail.example pending"]
    )
    expect(row.locator('[data-field="note"]')).to_have_text("Web shop")
    expect(row.get_by_role("switch")).to_be_checked()
    screen.no_sideways_scrolling()
    screen.shot("1-created")

    # Its copy button puts the address on the clipboard
    row.get_by_role("button", name=f"Copy {shop}").click()
    expect(row.get_by_role("button", name=f"Copy {shop}")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == shop

    # When searching, Then only the matching alias is listed, and the search is in the address bar
    page.get_by_label("Search").fill("SHOP")
    expect(page.locator("#alias-rows tr")).to_have_count(1)
    expect(alias_row(page, shop)).to_be_visible()
    assert "q=SHOP" in page.url
    screen.shot("2-search")
    page.get_by_label("Search").fill("")
    expect(page.locator("#alias-rows tr")).to_have_count(2)

    # When it is switched off, Then it stays off after a reload, and the API agrees
    alias_row(page, shop).get_by_role("switch").uncheck()
    expect(page.get_by_role("status").filter(has_text="disabled")).to_be_visible()
    page.reload()
    expect(alias_row(page, shop).get_by_role("switch")).not_to_be_checked()
    assert [alias["enabled"] for alias in user.aliases() if alias["address"] == shop] == [False]
    page.get_by_label("Status").select_option("false")
    expect(page.locator("#alias-rows tr")).to_have_count(1)
    expect(alias_row(page, shop)).to_be_visible()
    screen.shot("3-disabled-filter")
    page.get_by_label("Status").select_option("")
    expect(page.locator("#alias-rows tr")).to_have_count(2)

    # When its note is edited, Then the row and the stored alias have the new note
    alias_row(page, shop).get_by_role("button", name=f"Edit {shop}").click()
    dialog = page.get_by_role("dialog", name=f"Edit {shop}")
    expect(dialog.get_by_label("Forward to")).to_have_value("me@mail.example\nyou@mail.example")
    dialog.get_by_label("Note").fill("Web shop, 2026 order")
    screen.shot("4-edit")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(alias_row(page, shop).locator('[data-field="note"]')).to_have_text("Web shop, 2026 order")
    page.reload()
    expect(alias_row(page, shop).locator('[data-field="note"]')).to_have_text("Web shop, 2026 order")

    # When it is deleted (after confirming), Then it is gone from the page and from the API
    alias_row(page, shop).get_by_role("button", name=f"Delete {shop}").click()
    confirm = page.get_by_role("dialog", name="Are you sure?")
    expect(confirm).to_contain_text(f"Delete {shop}?")
    screen.shot("5-confirm-delete")
    confirm.get_by_role("button", name="Delete alias").click()
    expect(alias_row(page, shop)).to_have_count(0)
    assert [alias["address"] for alias in user.aliases()] == [random_address]
    screen.no_sideways_scrolling()


def test_cancelling_a_delete_keeps_the_alias(screen: Screen, user: User) -> None:
    page = screen.page
    status, alias = user.api("POST", "/api/aliases", {"domain": user.domain, "destinations": ["me@mail.example"]})
    assert status == 201, alias
    sign_in(screen, user.token)
    screen.goto("/aliases")

    alias_row(page, alias["address"]).get_by_role("button", name=f"Delete {alias['address']}").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("dialog", name="Are you sure?")).to_be_hidden()
    expect(alias_row(page, alias["address"])).to_be_visible()
    assert len(user.aliases()) == 1


def test_an_invalid_destination_is_explained_next_to_its_field(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/aliases")

    create_alias(page, user.domain, local_part="typo", destinations="me@mail.example\nnot-an-address")

    error = page.locator("#create-destinations-error")
    expect(error).to_have_text(re.compile(r"“not-an-address” is not a valid e-mail address\..+"))
    destinations = page.locator("#create-form").get_by_label("Forward to")
    expect(destinations).to_have_attribute("aria-invalid", "true")
    expect(destinations).to_be_focused()
    assert user.aliases() == [], "nothing is created"
    screen.shot("1-error")

    # When it is corrected, Then the error goes and the alias is created
    destinations.fill("me@mail.example")
    page.locator("#create-form").get_by_role("button", name="Create alias").click()
    expect(alias_row(page, f"typo@{user.domain}")).to_be_visible()
    expect(error).to_be_empty()


def test_a_taken_address_is_explained_next_to_the_local_part(screen: Screen, user: User) -> None:
    page = screen.page
    status, _ = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "taken", "destinations": ["a@b.example"]}
    )
    assert status == 201
    sign_in(screen, user.token)
    screen.goto("/aliases")

    create_alias(page, user.domain, local_part="taken", destinations="me@mail.example")

    expect(page.locator("#create-local_part-error")).to_contain_text("already taken")
    assert len(user.aliases()) == 1


def test_a_note_with_html_is_shown_as_text_and_runs_nothing(screen: Screen, user: User) -> None:
    page = screen.page
    note = "<img src=x onerror=alert(1)>"
    sign_in(screen, user.token)
    screen.goto("/aliases")

    create_alias(page, user.domain, local_part="xss", destinations="me@mail.example", note=note)
    row = alias_row(page, f"xss@{user.domain}")
    expect(row.locator('[data-field="note"]')).to_have_text(note)
    page.reload()  # and once more from the list, not from the create answer

    row = alias_row(page, f"xss@{user.domain}")
    expect(row.locator('[data-field="note"]')).to_have_text(note)
    assert page.locator("main img").count() == 0, "the note became an element"
    row.get_by_role("button", name=f"Edit xss@{user.domain}").click()
    expect(page.get_by_role("dialog").get_by_label("Note")).to_have_value(note)
    page.keyboard.press("Escape")
    assert screen.dialogs == [], "a script from the note ran"
    screen.shot("1-note-as-text")


def test_load_more_pages_through_the_list(screen: Screen, user: User) -> None:
    page = screen.page
    for number in range(27):  # the page asks for 25 at a time
        status, body = user.api(
            "POST",
            "/api/aliases",
            {"domain": user.domain, "local_part": f"a{number:02}", "destinations": ["a@b.example"]},
        )
        assert status == 201, body
    sign_in(screen, user.token)
    screen.goto("/aliases")

    expect(page.locator("#alias-rows tr")).to_have_count(25)
    expect(page.get_by_text("25 aliases shown so far.")).to_be_visible()
    page.get_by_role("button", name="Load more").click()

    expect(page.locator("#alias-rows tr")).to_have_count(27)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    addresses = page.locator("#alias-rows .address").all_inner_texts()
    assert addresses == [alias["address"] for alias in user.aliases()], "all of them, once each, in the API's order"
    assert len(set(addresses)) == 27


def test_the_domain_filter_and_links_from_the_domains_page(screen: Screen, user: User) -> None:
    page = screen.page
    other = f"other-{user.domain}"
    assert user.api("POST", "/api/domains", {"name": other})[0] == 201
    for domain, local_part in [(user.domain, "here"), (other, "there")]:
        status, _ = user.api(
            "POST", "/api/aliases", {"domain": domain, "local_part": local_part, "destinations": ["a@b.example"]}
        )
        assert status == 201
    sign_in(screen, user.token)
    screen.goto("/domains")

    page.locator("li.domain", has=page.get_by_role("heading", name=other)).get_by_role("link", name="1 alias").click()

    expect(page.get_by_role("heading", name="Aliases")).to_be_visible()
    expect(page.locator("#filters").get_by_label("Domain")).to_have_value(other)
    expect(page.locator("#alias-rows .address")).to_have_text([f"there@{other}"])


def test_manage_domains(screen: Screen, user: User) -> None:
    page = screen.page
    status, _ = user.api("POST", "/api/aliases", {"domain": user.domain, "destinations": ["a@b.example"]})
    assert status == 201
    sign_in(screen, user.token)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Domains").click()
    mine = page.locator("li.domain", has=page.get_by_role("heading", name=user.domain))
    expect(mine).to_contain_text("1 alias")
    screen.shot("1-list")

    # An invalid name is explained next to the name field
    form = page.locator("#add-form")
    form.get_by_label("Domain name").fill("not a domain")
    form.get_by_role("button", name="Add domain").click()
    expect(form.locator('[data-error-for="name"]')).to_have_text(
        re.compile(r"^This is not a valid domain name\. A domain looks like example\.org")
    )
    expect(form.get_by_label("Domain name")).to_have_attribute("aria-invalid", "true")
    screen.shot("2-invalid-name")

    # A new domain, with a catch-all address
    new = f"new-{user.domain}"
    form.get_by_label("Domain name").fill(new.upper())
    form.get_by_label("Catch-all address").fill("all@mail.example")
    form.get_by_role("button", name="Add domain").click()
    card = page.locator("li.domain", has=page.get_by_role("heading", name=new, exact=True))
    expect(card).to_be_visible()
    expect(card.get_by_label("Catch-all address")).to_have_value("all@mail.example")
    expect(form.locator('[data-error-for="name"]')).to_be_empty()

    # The catch-all: a bad address is refused next to it; a good one and an empty one are kept
    # (The new domain's DNS records opened with it: their DMARC form has a Save button too.)
    save = card.locator('[data-form="catch-all"]').get_by_role("button", name="Save")
    card.get_by_label("Catch-all address").fill("nobody")
    save.click()
    expect(card.locator('[data-error-for="catch_all_destination"]')).to_contain_text("not a valid e-mail address")
    card.get_by_label("Catch-all address").fill("")
    save.click()
    expect(page.get_by_role("status").filter(has_text=f"on {new} is now dropped")).to_be_visible()
    page.reload()
    card = page.locator("li.domain", has=page.get_by_role("heading", name=new, exact=True))
    expect(card.get_by_label("Catch-all address")).to_have_value("")
    assert user.api("GET", f"/api/domains/{new}")[1]["catch_all_destination"] is None
    screen.no_sideways_scrolling()
    screen.shot("3-catch-all")

    # A domain that still has aliases cannot be deleted: the reason is shown on its card
    mine = page.locator("li.domain", has=page.get_by_role("heading", name=user.domain, exact=True))
    mine.get_by_role("button", name=f"Delete {user.domain}").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Delete domain").click()
    expect(mine.locator('[data-field="error"]')).to_have_text("This domain still has aliases; delete them first")
    screen.shot("4-delete-refused")

    # An empty one can
    card.get_by_role("button", name=f"Delete {new}").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Delete domain").click()
    expect(card).to_have_count(0)
    assert user.api("GET", f"/api/domains/{new}")[0] == 404


def test_dns_records_and_verification_status_are_shown_with_copy_buttons(screen: Screen, user: User) -> None:
    page = screen.page
    # Given a domain as the contract describes it once SES setup is known (answered here by the browser,
    # so the page is held to the contract whatever the local stack knows about SES): a page of domains has no
    # MAIL FROM status, the domain itself has one
    bounce = f"bounce.{user.domain}"
    records = [
        {
            "type": "MX",
            "name": user.domain,
            "value": "inbound-smtp.eu-west-1.amazonaws.com",
            "priority": 10,
            "purpose": "inbound",
        },
        {
            "type": "CNAME",
            "name": f"abc._domainkey.{user.domain}",
            "value": "abc.dkim.amazonses.com",
            "purpose": "DKIM",
            "status": "pending",
        },
        {
            "type": "MX",
            "name": bounce,
            "value": "feedback-smtp.eu-west-1.amazonses.com",
            "priority": 10,
            "purpose": "MAIL FROM",
        },
        {"type": "TXT", "name": bounce, "value": "v=spf1 include:amazonses.com ~all", "purpose": "SPF"},
        {"type": "TXT", "name": f"_dmarc.{user.domain}", "value": "v=DMARC1; p=none; <b>x</b>", "purpose": "DMARC"},
    ]
    status, domain = user.api("GET", f"/api/domains/{user.domain}")
    assert status == 200, domain
    listed = {**domain, "verification": {"status": "pending"}, "dns_records": records}
    with_mail_from = [{**r, "status": "failed"} if r["type"] == "MX" and r["name"] == bounce else r for r in records]
    page.route(
        re.compile(r".*/api/domains\?.*"),
        lambda route: route.fulfill(json={"items": [listed], "next_token": None}),
    )
    page.route(
        re.compile(rf".*/api/domains/{re.escape(user.domain)}$"),
        lambda route: (
            route.fulfill(json={**listed, "dns_records": with_mail_from})
            if route.request.method == "GET"
            else route.fallback()
        ),
    )
    sign_in(screen, user.token)
    screen.goto("/domains")

    card = page.locator("li.domain", has=page.get_by_role("heading", name=user.domain, exact=True))
    expect(card.get_by_text("Waiting for DNS")).to_be_visible()
    card.get_by_text("DNS records to publish").click()
    rows = card.locator("table.dns-records tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(0).locator('[data-field="type"]')).to_have_text("MX 10")
    expect(rows.nth(4).locator('[data-field="value"]')).to_have_text("v=DMARC1; p=none; <b>x</b>")
    # Each record SES checks says what SES found; opening the records asked for the MAIL FROM's status
    expect(rows.nth(0).locator('[data-field="record_status"]')).to_be_hidden()
    expect(rows.nth(1).locator('[data-field="record_status"]')).to_have_text("Not found yet")
    expect(rows.nth(2).locator('[data-field="record_status"]')).to_have_text("Not found")
    expect(rows.nth(3).locator('[data-field="record_status"]')).to_be_hidden()
    # The DMARC policies explained, with when to move from none to quarantine
    expect(card.get_by_text("Move to it once a few weeks of reports show")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-dns")

    rows.nth(3).get_by_role("button", name="Copy the value of the TXT record").click()
    assert page.evaluate("navigator.clipboard.readText()") == "v=spf1 include:amazonses.com ~all"


def test_a_new_domain_opens_its_records_and_its_status_is_checked_again(screen: Screen, user: User) -> None:
    page = screen.page
    # Given SES's answers decided by the browser (the local stack verifies a domain at once): the new domain is
    # pending when added, verified when next asked, then failed
    new = f"fresh-{user.domain}"
    record = {"type": "TXT", "name": f"_dmarc.{new}", "value": "v=DMARC1; p=none", "purpose": "DMARC"}
    answers = iter(["verified", "failed"])

    def domain(status: str) -> dict[str, Any]:
        return {
            "name": new,
            "created_at": "2026-12-06T04:00:00Z",
            "alias_count": 0,
            "catch_all_destination": None,
            "verification": {"status": status},
            "dns_records": [record],
        }

    page.route(
        re.compile(r".*/api/domains$"),
        lambda route: (
            route.fulfill(status=201, json=domain("pending")) if route.request.method == "POST" else route.fallback()
        ),
    )
    page.route(
        re.compile(rf".*/api/domains/{re.escape(new)}$"),
        lambda route: route.fulfill(json=domain(next(answers))),
    )
    sign_in(screen, user.token)
    screen.goto("/domains")

    form = page.locator("#add-form")
    form.get_by_label("Domain name").fill(new)
    form.get_by_role("button", name="Add domain").click()
    card = page.locator("li.domain", has=page.get_by_role("heading", name=new, exact=True))
    # Its records are open, what to do next; asking for them refreshed the status the add returned
    expect(card.locator("table.dns-records")).to_be_visible()
    expect(card.locator('[data-field="status"]')).to_have_text("Verified")
    screen.no_sideways_scrolling()
    screen.shot("1-added")

    card.get_by_role("button", name=f"Check {new} again").click()
    expect(card.locator('[data-field="status"]')).to_have_text("Verification failed")
    expect(page.get_by_role("status").filter(has_text=f"{new}: Verification failed.")).to_be_visible()
    screen.shot("2-checked-again")


def test_a_toast_does_not_cover_the_control_just_used(screen: Screen, user: User) -> None:
    page = screen.page
    for number in range(4):  # a page long enough to scroll at both widths
        assert user.api("POST", "/api/domains", {"name": f"more{number}-{user.domain}"})[0] == 201
    sign_in(screen, user.token)
    screen.goto("/domains")
    card = page.locator("li.domain", has=page.get_by_role("heading", name=user.domain, exact=True))
    save = card.locator('[data-form="catch-all"]').get_by_role("button", name="Save")
    card.get_by_label("Catch-all address").fill("all@mail.example")
    # Given the Save button at the very bottom of the screen, where the toast appears
    save.evaluate("button => window.scrollBy(0, button.getBoundingClientRect().bottom - window.innerHeight + 4)")
    assert save.evaluate("button => window.innerHeight - button.getBoundingClientRect().bottom") < 20
    save.click()
    toast = page.locator("#status")
    expect(toast).to_contain_text("now goes to all@mail.example")
    expect(toast).to_have_class(re.compile(r"\bvisible\b"))
    # Then the page moved it up, clear of the toast
    button_bottom = save.evaluate("button => button.getBoundingClientRect().bottom")
    toast_top = toast.evaluate("toast => window.innerHeight - toast.offsetHeight - 16")
    assert button_bottom <= toast_top, (button_bottom, toast_top)
    # (What the screen shows, not the whole page: the toast is fixed to the screen.)
    page.screenshot(path=ARTIFACTS / f"{screen.width_name}-a_toast_does_not_cover_the_control_just_used.png")


# Each visible badge and button of a card beside a copy of it on its own: its width and height in the card.
SQUEEZED = """cards => cards.flatMap(card => [...card.querySelectorAll('.badge, .button')])
  .filter(element => element.offsetParent !== null)
  .flatMap(element => {
    const alone = element.cloneNode(true);
    alone.style.position = "absolute";
    document.body.append(alone);
    const [inCard, own] = [element.getBoundingClientRect(), alone.getBoundingClientRect()];
    alone.remove();
    const same = Math.abs(inCard.width - own.width) < 1 && Math.abs(inCard.height - own.height) < 1;
    const sizes = `${inCard.width}x${inCard.height}, alone ${own.width}x${own.height}`;
    return same ? [] : [`${element.textContent.trim()}: ${sizes}`];
  })"""


def test_cards_keep_their_buttons_and_badges_at_their_size(screen: Screen, user: User) -> None:
    page = screen.page
    # Given cards with long names beside their badges and buttons: a domain waiting for DNS, an alias and a
    # destination waiting for their link
    long_domain = f"a-rather-long-subdomain-name.{user.domain}"
    assert user.api("POST", "/api/domains", {"name": long_domain})[0] == 201
    page.route(
        re.compile(r".*/api/domains\?.*"),
        lambda route: route.fulfill(
            json={
                "items": [
                    {**route.fetch().json()["items"][0], "name": long_domain, "verification": {"status": "pending"}}
                ],
                "next_token": None,
            }
        ),
    )
    local_part = "a-long-local-part-for-a-shop"
    status, _ = user.api(
        "POST",
        "/api/aliases",
        {"domain": user.domain, "local_part": local_part, "destinations": ["a-long-mailbox-name@mail.example"]},
    )
    assert status == 201
    sign_in(screen, user.token)
    for path, card in (("/domains", "li.card"), ("/aliases", "tr.alias"), ("/destinations", "li.card")):
        screen.goto(path)
        cards = page.locator(card)
        expect(cards.first.locator(".badge:not([hidden])").first).to_be_visible()
        # Then none is squeezed (narrower, or taller by wrapping) or stretched
        assert cards.evaluate_all(SQUEEZED) == [], path
        screen.no_sideways_scrolling()
        screen.shot(f"1-{path.strip('/')}")


def test_the_dmarc_report_address_is_saved_from_the_domain_page(screen: Screen, user: User) -> None:
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/domains")
    card = page.locator("li.domain", has=page.get_by_role("heading", name=user.domain, exact=True))
    card.get_by_text("DNS records to publish").click()
    dmarc_row = card.locator("table.dns-records tbody tr", has_text=f"_dmarc.{user.domain}")
    expect(dmarc_row.locator('[data-field="value"]')).to_have_text("v=DMARC1; p=none")

    field = card.get_by_label("DMARC reports to")
    field.fill("not an address")
    card.locator('[data-form="dmarc-report"]').get_by_role("button", name="Save").click()
    expect(card.locator('[data-error-for="dmarc_report_address"]')).not_to_be_empty()

    field.fill(f"dmarc@{user.domain}")
    card.locator('[data-form="dmarc-report"]').get_by_role("button", name="Save").click()
    expect(dmarc_row.locator('[data-field="value"]')).to_have_text(f"v=DMARC1; p=none; rua=mailto:dmarc@{user.domain}")
    assert user.api("GET", f"/api/domains/{user.domain}")[1]["dmarc_report_address"] == f"dmarc@{user.domain}"


def test_an_alias_can_be_created_and_deleted_with_the_keyboard_alone(screen: Screen, user: User) -> None:
    page = screen.page
    keyboard = page.keyboard
    sign_in(screen, user.token)
    screen.goto("/aliases")
    expect(page.get_by_text("No aliases yet.")).to_be_visible()

    # The first Tab reaches the skip link, which leads to the content
    keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    page.get_by_role("button", name="New alias").focus()
    keyboard.press("Enter")
    expect(page.locator("#create-form").get_by_label("Domain")).to_be_focused()
    keyboard.press("Tab")
    keyboard.type("keys")
    keyboard.press("Tab")
    keyboard.type("me@mail.example")
    keyboard.press("Tab")
    keyboard.type("typed")
    keyboard.press("Tab")
    expect(page.locator("#create-form").get_by_label("Website")).to_be_focused()  # optional: left empty
    keyboard.press("Tab")  # the trackers' choices are one stop, at the chosen one (the default)
    expect(page.get_by_role("radio", name="Remove tracking pixels (recommended)")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create alias")).to_be_focused()
    keyboard.press("Enter")

    address = f"keys@{user.domain}"
    expect(page.get_by_role("button", name=f"Copy {address}")).to_be_focused()
    # Tab on to the switch, and Space turns it off
    keyboard.press("Tab")
    expect(page.get_by_role("switch", name=f"Enabled: {address}")).to_be_focused()
    keyboard.press("Space")
    expect(page.get_by_role("switch", name=f"Enabled: {address}")).not_to_be_checked()
    expect(page.get_by_role("status").filter(has_text="disabled")).to_be_visible()

    page.get_by_role("button", name=f"Delete {address}").focus()
    keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Cancel")).to_be_focused()
    keyboard.press("Tab")
    keyboard.press("Enter")
    expect(alias_row(page, address)).to_have_count(0)
    assert user.aliases() == []


def test_add_a_destination_and_confirm_it_with_the_link_mailed_to_it(screen: Screen, user: User, stack: Any) -> None:
    page = screen.page
    address = f"dest-{uuid.uuid4().hex[:8]}@real.example"
    sign_in(screen, user.token)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Destinations").click()
    expect(page.get_by_text("No destinations yet.")).to_be_visible()

    # When a destination is added, Then it waits for its link to be opened
    page.get_by_label("E-mail address").fill(address)
    page.get_by_role("button", name="Add destination").click()
    card = page.locator("li.destination", has=page.get_by_role("heading", name=address, exact=True))
    expect(card.locator('[data-field="status"]')).to_have_text("Waiting for confirmation")
    expect(card.get_by_role("button", name=f"Send a new link to {address}")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-pending")

    # When the link mailed to it (the local outbox has the mail) is opened, Then the page says it is verified
    link = newest_link(stack.outbox, address)
    assert link is not None
    assert link.startswith(f"{screen.base_url}/verify#")
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirmed")).to_be_visible()
    expect(page.get_by_text(f"{address} is verified.")).to_be_visible()
    assert "#" not in page.url, "the secret must leave the address bar"
    screen.no_sideways_scrolling()
    screen.shot("2-verified")

    # And the destinations page shows it verified
    page.get_by_role("link", name="See your destinations").click()
    expect(card.locator('[data-field="status"]')).to_have_text("Verified")
    expect(card.get_by_role("button", name=f"Send a new link to {address}")).to_be_hidden()
    screen.shot("3-list")

    # Opening the same link again is harmless; an unknown one is refused and says why, nothing more
    page.goto(link)
    expect(page.get_by_text(f"{address} is verified.")).to_be_visible()
    page.goto(f"{screen.base_url}/verify#{'x' * 43}")
    expect(page.get_by_role("heading", name="Not confirmed")).to_be_visible()
    expect(page.get_by_text("This link is not valid.")).to_be_visible()
    screen.shot("4-unknown-link")


def test_an_aliass_destinations_show_which_are_pending(screen: Screen, user: User) -> None:
    page = screen.page
    # Addresses of this run's own: one outside address gets one link per 10 minutes, whoever asks (decision 0112).
    known, fresh = (f"{name}-{secrets.token_hex(4)}@real.example" for name in ("known", "fresh"))
    status, _ = user.api("POST", "/api/destinations", {"email": known})
    assert status == 201
    sign_in(screen, user.token)
    screen.goto("/aliases")
    expect(page.get_by_text("No aliases yet.")).to_be_visible()

    create_alias(page, user.domain, local_part="news", destinations=f"{known}\n{fresh}")

    row = alias_row(page, f"news@{user.domain}")
    pending = row.locator('[data-field="destinations"] li').filter(has=page.locator(".badge"))
    expect(pending).to_have_count(2)
    expect(pending.first.locator(".badge")).to_have_text("pending")
    expect(page.get_by_role("status").filter(has_text="until the link mailed there is opened")).to_be_visible()
    screen.no_sideways_scrolling()
    screen.shot("1-pending-destinations")


def test_select_three_aliases_and_disable_them_at_once(screen: Screen, user: User) -> None:
    page = screen.page
    addresses = []
    for name in ("alpha", "bravo", "charlie", "delta"):
        body = {"domain": user.domain, "local_part": name, "destinations": ["me@mail.example"]}
        status, alias = user.api("POST", "/api/aliases", body)
        assert status == 201, alias
        addresses.append(alias["address"])
    chosen, kept = addresses[:3], addresses[3]
    sign_in(screen, user.token)
    screen.goto("/aliases")
    bar = page.get_by_role("group", name="Selected aliases")
    expect(bar.get_by_role("button", name="Disable")).to_be_disabled()

    # A row's checkbox and its address are two controls: ticking the box stays on the list, and the address is
    # a link of its own, outside any label (a link inside the box's label fights it for the click)
    box = alias_row(page, kept).get_by_role("checkbox", name=f"Select {kept}")
    box.check()
    expect(bar.locator("#selected-count")).to_have_text("1 alias selected")
    expect(page).to_have_url(re.compile(r"/aliases$"))
    box.uncheck()
    link = alias_row(page, kept).get_by_role("link", name=kept, exact=True)
    assert link.evaluate("link => link.closest('label') === null")

    # When three aliases are ticked, Then the bar counts them
    for address in chosen:
        alias_row(page, address).get_by_role("checkbox", name=f"Select {address}").check()
    expect(bar.locator("#selected-count")).to_have_text("3 aliases selected")
    screen.no_sideways_scrolling()
    screen.shot("1-selected")

    # When they are disabled together, Then their switches, the API and a reload agree; the fourth is untouched
    bar.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status").filter(has_text="Disabled 3 aliases.")).to_be_visible()
    for address in chosen:
        expect(alias_row(page, address).get_by_role("switch")).not_to_be_checked()
    expect(alias_row(page, kept).get_by_role("switch")).to_be_checked()
    expect(bar.locator("#selected-count")).to_have_text("None selected")
    assert {alias["address"]: alias["enabled"] for alias in user.aliases()} == {
        **dict.fromkeys(chosen, False),
        kept: True,
    }
    screen.shot("2-disabled")
    page.reload()
    for address in chosen:
        expect(alias_row(page, address).get_by_role("switch")).not_to_be_checked()

    # When an address is clicked, Then its page opens (its checkbox is not what the click reaches)
    alias_row(page, kept).get_by_role("link", name=kept, exact=True).click()
    expect(page).to_have_url(re.compile(r"/aliases/[0-9A-Za-z]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(kept)
    page.go_back()
    expect(alias_row(page, kept).get_by_role("checkbox", name=f"Select {kept}")).not_to_be_checked()

    # When all shown are selected and deleted (after confirming), Then none is left
    bar.get_by_label("All shown").check()
    expect(bar.locator("#selected-count")).to_have_text("4 aliases selected")
    bar.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Are you sure?")
    expect(confirm).to_contain_text("Delete 4 aliases?")
    confirm.get_by_role("button", name="Delete aliases").click()
    expect(page.locator("#alias-rows tr")).to_have_count(0)
    assert user.aliases() == []


def test_import_a_simplelogin_file_through_the_page_then_export(screen: Screen, user: User, tmp_path: Path) -> None:
    page = screen.page
    status, had = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "had", "destinations": ["me@mail.example"]}
    )
    assert status == 201, had
    export = tmp_path / "simplelogin-aliases.csv"
    export.write_text(
        "alias,note,enabled,mailboxes\r\n"
        f'news@{user.domain},"Weekly, news",True,me@mail.example\r\n'
        f"shop@{user.domain},,False,me@mail.example other@mail.example\r\n"
        f"had@{user.domain},,True,me@mail.example\r\n"
        "someone@not-mine.example,,True,me@mail.example\r\n",
        encoding="utf-8",
    )
    sign_in(screen, user.token)
    screen.goto("/aliases")
    page.get_by_role("button", name="Import / export").click()
    section = page.get_by_role("region", name="Import and export")

    # When the file is checked, Then the page says what would happen, and nothing has happened yet
    section.get_by_label("File").set_input_files(export)
    section.get_by_role("button", name="Check file").click()
    summary = section.locator("#import-summary")
    expect(summary).to_have_text(
        "2 aliases will be created. 1 alias you have already: skipped. 1 row will not be imported:"
    )
    expect(section.locator("#import-problems")).to_contain_text("Row 5: not-mine.example is not one of your domains")
    expect(section.locator("#import-problems")).to_contain_text("other@mail.example")  # a new mailbox to confirm
    assert [alias["address"] for alias in user.aliases()] == [had["address"]]
    screen.no_sideways_scrolling()
    screen.shot("1-checked")

    # When the import is confirmed, Then the aliases are listed, as the file has them
    section.get_by_role("button", name="Import 2 aliases").click()
    expect(summary).to_have_text("Imported 2 aliases. 1 alias you have already: skipped. 1 row was not imported:")
    expect(alias_row(page, f"news@{user.domain}")).to_be_visible()
    expect(alias_row(page, f"shop@{user.domain}").get_by_role("switch")).not_to_be_checked()
    imported = {alias["address"]: alias for alias in user.aliases()}
    assert set(imported) == {had["address"], f"news@{user.domain}", f"shop@{user.domain}"}
    assert imported[f"news@{user.domain}"]["note"] == "Weekly, news"
    assert imported[f"shop@{user.domain}"]["destinations"] == ["me@mail.example", "other@mail.example"]
    screen.shot("2-imported")

    # When the export is downloaded, Then it is postmask's JSON with all three
    with page.expect_download() as download:
        section.get_by_role("button", name="Download JSON").click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["format"] == "postmask/1"
    assert {alias["address"] for alias in document["aliases"]} == set(imported)
    with page.expect_download() as download:
        section.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("address,destinations,note,enabled")
