"""A quarantined copy's header fields (GET one), and a resend made as the forwarder makes a copy: trackers out per
the alias's mode, encrypted to the destination's OpenPGP key (422 while it cannot be used, the copy kept), and 409
once the stored message is gone (decision 0025)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from postmask import quarantine
from postmask.mail import inbox
from tests.integration.forwarding.conftest import BUCKET, Mailroom
from tests.integration.forwarding.test_encrypted_forwarding import add_key, store_key_unchecked
from tests.integration.forwarding.test_forwarder import new_alias
from tests.integration.forwarding.test_forwarding_safety import BROKEN_ENCODED_WORDS
from tests.integration.forwarding.test_quarantine import held_copy, listed
from tests.integration.forwarding.test_trackers import HTML
from tests.integration.forwarding.test_verified_destinations import user_id
from tests.support.api import Client
from tests.support.gnupg import GPG, GnuPG, gnupg_home
from tests.support.mail import leaf_payloads
from tests.support.ses import SesRecorder

ME = "alice@real.example"

# A display name and a subject in RFC 2047 encoded words, the subject folded over two lines (and two words), a
# field with a control character (BEL) and one with a right-to-left override hidden in an encoded word.
HOSTILE = (
    b"From: =?utf-8?q?Caf=C3=A9_Shop?= <news@shop.example>\r\n"
    b"To: shop@alice.example\r\n"
    b"Subject: =?utf-8?b?WW91ciBvcmRlciDinJM=?=\r\n =?utf-8?q?_has_shipped?=\r\n"
    b"X-Note: ring\x07the bell\r\n"
    b"X-Trick: =?utf-8?q?invoice=E2=80=AEfdp.exe?=\r\n"
    b"Message-ID: <h1@shop.example>\r\n"
    b"\r\n"
    b"Hidden: not a header, the body\r\n"
)
TRACKED = (
    "From: Shop <orders@shop.example>\r\nTo: shop@alice.example\r\nSubject: Shipped\r\n"
    'Message-ID: <t1@shop.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nYour order\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    + HTML.replace("=", "=3D")
    + "\r\n--b--\r\n"
).encode()


@pytest.fixture(scope="module")
def gpg() -> Iterator[GnuPG]:
    if GPG is None:
        pytest.skip("gpg is not installed (apt-get install gnupg)")
    with gnupg_home() as home:
        home.generate(f"Me <{ME}>", "future-default", expiry="2y")
        home.generate_expired("Old <old@real.example>")
        yield home


def quarantined(
    mailroom: Mailroom, client: Client, alias: dict[str, Any], message: bytes, reason: str = "rejected_by_ses"
) -> dict[str, Any]:
    """`message` stored for the alias and quarantined; its listed item."""
    assert quarantine.hold(held_copy(mailroom, client, alias, ME, message), reason)
    (item,) = listed(client)
    return item


def test_get_one_shows_the_header_fields_decoded_unfolded_and_without_control_characters(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, HOSTILE)

    assert item["headers"] is None  # the list stays one Query: no stored message read per item
    found = alice.get(f"/api/quarantine/{item['id']}")

    assert found.status == 200, found.body
    fields = [(field["name"], field["value"]) for field in found.json()["headers"]]
    own = fields[[name for name, _ in fields].index("From") :]  # SES's trace fields come first, as SES stores them
    assert own == [
        ("From", "Café Shop <news@shop.example>"),
        ("To", "shop@alice.example"),
        ("Subject", "Your order ✓ has shipped"),
        ("X-Note", "ring the bell"),
        ("X-Trick", "invoicefdp.exe"),  # the right-to-left override removed: it would show "invoiceexe.pdf"
        ("Message-ID", "<h1@shop.example>"),
    ]
    assert any(name == "Return-Path" for name, _ in fields)  # what SES wrote before the message is shown too
    assert all(char >= " " for _, value in fields for char in value)
    assert found.json()["size"] == item["size"]


def test_headers_of_a_message_whose_header_block_outgrows_the_read_end_with_its_last_whole_field(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    many = b"".join(b"X-Filler-%04d: %s\r\n" % (number, b"f" * 80) for number in range(1000))  # ~100 KB
    item = quarantined(mailroom, alice, alias, b"From: news@shop.example\r\n" + many + b"\r\nbody\r\n")

    fields = alice.get(f"/api/quarantine/{item['id']}").json()["headers"]

    fillers = [field for field in fields if field["name"].startswith("X-Filler-")]
    assert 500 < len(fillers) < 1000  # as far as 64 KiB hold them
    assert all(field["value"] == "f" * 80 for field in fillers)  # none cut off


def test_a_stored_message_gone_has_no_headers_and_cannot_be_resent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, HOSTILE)
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=f"quarantine/{user_id(alice)}/{item['id']}")  # expired

    found = alice.get(f"/api/quarantine/{item['id']}")
    resent = alice.post(f"/api/quarantine/{item['id']}/resend", {})

    assert (found.status, found.json()["headers"]) == (200, None)
    assert resent.status == 409, resent.body
    assert "gone" in resent.json()["message"]
    assert sent.sent == []
    assert alice.get(f"/api/quarantine/{item['id']}").json()["resent_to"] == []
    assert alice.delete(f"/api/quarantine/{item['id']}").status == 204  # and it can still be deleted


class _Denied:
    """S3 as it answers a function without s3:ListBucket for a key that does not exist: 403 AccessDenied."""

    def get_object(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    @staticmethod
    def cache_clear() -> None:
        """Stands in for the cached client factory it replaces (the mailroom clears it when it is done)."""


def test_access_denied_is_a_stored_message_gone(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, HOSTILE)
    monkeypatch.setattr(quarantine, "_s3", _Denied)
    monkeypatch.setattr(inbox, "s3", _Denied)

    found = alice.get(f"/api/quarantine/{item['id']}")
    resent = alice.post(f"/api/quarantine/{item['id']}/resend", {})

    assert (found.status, found.json()["headers"]) == (200, None)
    assert (resent.status, "gone" in resent.json()["message"]) == (409, True)
    assert sent.sent == []


def resent_html(alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, trackers: str) -> bytes:
    """The HTML part of TRACKED as resent from quarantine for an alias with this `trackers` mode."""
    alias = new_alias(alice, alice_domain, "shop", [ME], trackers=trackers)
    item = quarantined(mailroom, alice, alias, TRACKED)

    assert alice.post(f"/api/quarantine/{item['id']}/resend", {}).status == 202

    (copy,) = sent.to(ME)
    return dict(leaf_payloads(email.message_from_bytes(copy.raw)))["text/html"]


def test_resend_removes_trackers_per_the_aliases_mode(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    html = resent_html(alice, alice_domain, mailroom, sent, "pixels_and_links")

    assert b"list-manage.com" not in html  # the pixel
    assert b"pstmrk.it" not in html  # the click-tracking redirect, unwrapped
    assert b'href="https://shop.example/o/7"' in html  # to where it led, without its utm_ parameter
    assert b"<p>Your order</p>" in html


def test_resend_leaves_trackers_when_the_alias_says_off(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    assert resent_html(alice, alice_domain, mailroom, sent, "off") == HTML.encode()


def test_resend_encrypts_to_the_destinations_key(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    add_key(alice, ME, gpg.public_key(ME))
    item = quarantined(mailroom, alice, alias, HOSTILE)

    assert alice.post(f"/api/quarantine/{item['id']}/resend", {}).status == 202

    (copy,) = sent.to(ME)
    assert b"multipart/encrypted" in copy.raw
    assert b"Caf" not in copy.raw  # nothing of it in clear
    assert b"Hidden: not a header" not in copy.raw
    outer, plain = gpg.decrypt_pgp_mime(copy.raw)
    assert outer["From"] == "shop@alice.example"
    inner = email.message_from_bytes(plain, policy=email.policy.default)
    assert inner["Subject"] == "Your order ✓ has shipped"
    assert plain.endswith(b"Hidden: not a header, the body\r\n")


def test_resend_while_the_key_cannot_be_used_is_a_422_and_the_copy_stays(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    store_key_unchecked(alice, ME, gpg.public_key("old@real.example"), "quarantine")
    item = quarantined(mailroom, alice, alias, HOSTILE, "pgp_key_unusable")
    path = f"/api/quarantine/{item['id']}/resend"

    refused = alice.post(path, {})

    assert refused.status == 422, refused.body
    assert "OpenPGP key" in refused.json()["message"]
    assert "stays quarantined" in refused.json()["message"]
    assert sent.sent == []
    (kept,) = listed(alice)
    assert (kept["id"], kept["resent_to"]) == (item["id"], [])
    # The key replaced: the same copy goes, encrypted (the refusal claimed nothing in the delivery ledger).
    add_key(alice, ME, gpg.public_key(ME))
    assert alice.post(path, {}).status == 202
    (copy,) = sent.to(ME)
    assert b"multipart/encrypted" in copy.raw
    assert alice.get(f"/api/quarantine/{item['id']}").json()["resent_to"] == [ME]


def test_resend_with_an_unusable_key_whose_fallback_is_plain_sends_in_clear(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, gpg: GnuPG
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    store_key_unchecked(alice, ME, gpg.public_key("old@real.example"), "plain")
    item = quarantined(mailroom, alice, alias, HOSTILE)

    assert alice.post(f"/api/quarantine/{item['id']}/resend", {}).status == 202

    (copy,) = sent.to(ME)
    assert b"multipart/encrypted" not in copy.raw
    assert copy.body.endswith(b"Hidden: not a header, the body\r\n")


def test_encoded_words_the_decoder_chokes_on_are_shown_as_written_and_resent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, BROKEN_ENCODED_WORDS)

    found = alice.get(f"/api/quarantine/{item['id']}")
    resent = alice.post(f"/api/quarantine/{item['id']}/resend", {})

    assert found.status == 200, found.body
    assert ("Subject", "=?utf-8?b?A===?=") in [(field["name"], field["value"]) for field in found.json()["headers"]]
    assert resent.status == 202, resent.body
    assert len(sent.to(ME)) == 1


def test_a_copy_to_an_alias_deleted_since_is_not_resent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, HOSTILE)
    assert alice.request("DELETE", f"/api/aliases/{alias['id']}").status == 204

    resent = alice.post(f"/api/quarantine/{item['id']}/resend", {})

    assert resent.status == 409, resent.body
    assert "no longer an address of yours" in resent.json()["message"]
    assert sent.sent == []


def test_a_copy_is_not_resent_from_an_address_someone_else_has_now(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    # Alice's alias and domain go; Bob registers the domain and makes the same address his.
    alias = new_alias(alice, alice_domain, "shop", [ME])
    item = quarantined(mailroom, alice, alias, HOSTILE)
    assert alice.request("DELETE", f"/api/aliases/{alias['id']}").status == 204
    assert alice.request("DELETE", f"/api/domains/{alice_domain}").status == 204
    assert bob.post("/api/domains", {"name": alice_domain}).status == 201
    new_alias(bob, alice_domain, "shop", ["bob@real.example"])

    resent = alice.post(f"/api/quarantine/{item['id']}/resend", {})

    assert resent.status == 409, resent.body
    assert sent.to(ME) == []
    assert sent.to("bob@real.example") == []
