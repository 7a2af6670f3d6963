"""Encrypted forwarding in a real browser against the local stack: an OpenPGP key pasted on /destinations, the
alias page's switch, mail sent over SMTP arriving in the outbox as PGP/MIME that GnuPG decrypts, and the activity
log's "encrypted" badge. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_web_browser import Screen, User, browser, screen, sign_in, user  # noqa: F401 - fixtures
from tests.support.destinations import open_link_from_the_outbox
from tests.support.gnupg import GPG, GnuPG, gnupg_home
from tests.support.outbox import wait_for_messages

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(GPG is None, reason="gpg is not installed (apt-get install gnupg)"),
]


@pytest.fixture(scope="module")
def gpg() -> Iterator[GnuPG]:
    with gnupg_home() as home:
        yield home


def test_a_key_added_on_the_destinations_page_encrypts_the_aliases_mail(
    screen: Screen,  # noqa: F811
    user: User,  # noqa: F811
    stack: Any,
    gpg: GnuPG,
) -> None:
    # Given an alias with a verified destination, and the destination's owner's OpenPGP key
    destination = f"me-{user.domain}@real.example"
    armored = gpg.generate(f"Me <{destination}>", "future-default", expiry="2y")
    status, alias = user.api(
        "POST", "/api/aliases", {"domain": user.domain, "local_part": "secret", "destinations": [destination]}
    )
    assert status == 201, alias
    open_link_from_the_outbox(stack, destination)

    # When the owner pastes the key on the destinations page
    page = screen.page
    sign_in(screen, user.token)
    screen.goto("/destinations")
    card = page.locator("#destination-list li").filter(has_text=destination)
    card.get_by_text("Encryption key").click()
    card.get_by_label("Public key").fill(armored)
    screen.shot("1-pasting")
    card.get_by_role("button", name="Save key").click()

    # Then the card shows the key, and the API has it
    fingerprint = gpg.fingerprint(destination)
    expect(card.get_by_text("Encrypted", exact=True)).to_be_visible()
    expect(card.locator('[data-field="pgp_fingerprint"]')).to_have_text(
        " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4))
    )
    _, shown = user.api("GET", f"/api/destinations/{destination_id(user, destination)}/pgp")
    assert shown["fingerprint"] == fingerprint
    screen.no_sideways_scrolling()
    screen.shot("2-key")

    # And the alias's page has its switch on
    screen.goto(f"/aliases/{alias['id']}")
    expect(page.get_by_role("switch", name="Encrypt its mail to destinations that have an OpenPGP key")).to_be_checked()

    # When someone writes to the alias
    message = EmailMessage()
    message["From"] = "Sam Stranger <sam@outside.example>"
    message["To"] = alias["address"]
    message["Subject"] = "The launch date"
    message.set_content("It is the 14th.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr="sam@outside.example", to_addrs=[alias["address"]])

    # Then the copy is PGP/MIME whose outside says nothing of it, and GnuPG reads the real subject inside
    encrypted = [
        m for m in wait_for_messages(stack.outbox, destination, 2) if m.get_content_type() == "multipart/encrypted"
    ]
    assert len(encrypted) == 1
    assert encrypted[0]["Subject"] == "..."
    assert "sam" not in str(encrypted[0]["From"]).lower()
    _, plain = gpg.decrypt_pgp_mime(encrypted[0].as_bytes())
    assert b"Subject: The launch date" in plain
    assert b"It is the 14th." in plain

    # And the activity log marks it encrypted
    screen.goto("/activity")
    row = page.locator("tr.event").filter(has_text="The launch date")
    expect(row.get_by_text("encrypted", exact=True)).to_be_visible()
    screen.shot("3-activity")

    # When the owner switches encryption off for the alias, the API says so
    screen.goto(f"/aliases/{alias['id']}")
    page.get_by_role("switch", name="Encrypt its mail to destinations that have an OpenPGP key").uncheck()
    expect(page.get_by_role("status").filter(has_text="sent unencrypted")).to_be_visible()
    assert user.api("GET", f"/api/aliases/{alias['id']}")[1]["encrypt"] is False

    # And removing the key on the destinations page takes it off
    screen.goto("/destinations")
    card.get_by_role("button", name=f"Remove the encryption key of {destination}").click()
    page.get_by_role("dialog", name="Are you sure?").get_by_role("button", name="Remove key").click()
    expect(card.get_by_text("Encryption key")).to_be_visible()
    assert user.api("GET", f"/api/destinations/{destination_id(user, destination)}")[1]["pgp"] is None


def test_a_key_that_cannot_encrypt_is_explained_next_to_it(
    screen: Screen,  # noqa: F811
    user: User,  # noqa: F811
    gpg: GnuPG,
) -> None:
    destination = f"signer-{user.domain}@real.example"
    user.api("POST", "/api/destinations", {"email": destination})
    signing_only = gpg.generate(f"Signer <{destination}>", "ed25519", "sign")

    sign_in(screen, user.token)
    screen.goto("/destinations")
    card = screen.page.locator("#destination-list li").filter(has_text=destination)
    card.get_by_text("Encryption key").click()
    card.get_by_label("Public key").fill(signing_only)
    card.get_by_role("button", name="Save key").click()

    expect(card.locator(".field-error").filter(has_text="encryption")).to_be_visible()
    screen.shot("refused")


def destination_id(owner: User, email: str) -> str:
    _, listed = owner.api("GET", "/api/destinations")
    return next(item["id"] for item in listed["items"] if item["email"] == email)
