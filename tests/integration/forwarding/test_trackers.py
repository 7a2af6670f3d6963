"""Trackers out of forwarded HTML, per alias (contract: "Trackers"): the copy, the activity event, the totals."""

from __future__ import annotations

from email import message_from_bytes

from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.mail import leaf_payloads
from tests.support.ses import SesRecorder

HTML = (
    '<p>Your order</p><img src="https://us1.list-manage.com/track/open.php?u=1" width="1" height="1">'
    '<a href="https://click.pstmrk.it/2/?url=https%3A%2F%2Fshop.example%2Fo%2F7%3Futm_source%3Dmail">See it</a>'
)
MESSAGE = (
    "From: Shop <orders@shop.example>\r\nTo: x@alice.example\r\nSubject: Shipped\r\nMessage-ID: <t1@shop.example>\r\n"
    'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nYour order: https://click.pstmrk.it/2/?url=x\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    + HTML.replace("=", "=3D")
    + "\r\n--b--\r\n"
).encode()


def _html_sent(sent: SesRecorder, destination: str) -> bytes:
    (mail,) = [mail for mail in sent.sent if destination in mail.destinations]
    return dict(leaf_payloads(message_from_bytes(mail.raw)))["text/html"]


def test_each_alias_gets_its_own_mode_its_event_counts_and_its_totals(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    default = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    links = new_alias(alice, alice_domain, "news", ["alice@backup.example"], trackers="pixels_and_links")
    off = new_alias(alice, alice_domain, "raw", ["alice@third.example"], trackers="off")
    assert (default["trackers"], default["trackers_removed"]) == ("pixels", {"pixels": 0, "links": 0})

    mailroom.deliver(MESSAGE, ["shop@alice.example", "news@alice.example", "raw@alice.example"])

    without_pixel = HTML.split("<img")[0] + HTML.split('height="1">')[1]
    assert _html_sent(sent, "alice@real.example") == without_pixel.encode()
    assert _html_sent(sent, "alice@backup.example") == b'<p>Your order</p><a href="https://shop.example/o/7">See it</a>'
    assert _html_sent(sent, "alice@third.example") == HTML.encode()
    totals = {
        alias["id"]: alice.get(f"/api/aliases/{alias['id']}").json()["trackers_removed"]
        for alias in (default, links, off)
    }
    assert totals == {
        default["id"]: {"pixels": 1, "links": 0},
        links["id"]: {"pixels": 1, "links": 1},
        off["id"]: {"pixels": 0, "links": 0},
    }
    events = {
        event["alias_id"]: event["trackers_removed"]
        for event in alice.get("/api/activity", query_string="outcome=forwarded").json()["items"]
    }
    assert events == totals


def test_the_mode_is_changed_with_patch_and_checked(alice: Client, alice_domain: str) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    changed = alice.patch(f"/api/aliases/{alias['id']}", {"trackers": "off"})
    assert changed.status == 200, changed.body
    assert changed.json()["trackers"] == "off"
    refused = alice.patch(f"/api/aliases/{alias['id']}", {"trackers": "everything"})
    assert refused.status == 422
    assert "message" in refused.json()
