"""Quarantine (postmask.quarantine, decision 0025): a copy given up is kept, told once an hour per alias, listed,
resent at most once per destination through the delivery ledger, and deleted; never another user's."""

from __future__ import annotations

from typing import Any

import boto3

from postmask import clock, quarantine
from postmask.settings import get_settings
from postmask.store import deliveries
from postmask.store import quarantine as store
from tests.integration.forwarding.conftest import BUCKET, Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.integration.forwarding.test_verified_destinations import user_id
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.ses import SesRecorder

MESSAGE = (
    b"From: Shop <news@shop.example>\r\nTo: shop@alice.example\r\nSubject: Your order\r\n"
    b"Message-ID: <o1@shop.example>\r\n\r\nYour parcel is on its way.\r\n"
)


def held_copy(
    mailroom: Mailroom,
    client: Client,
    alias: dict[str, Any],
    destination: str = "alice@real.example",
    message: bytes = MESSAGE,
) -> quarantine.Copy:
    """A message SES stored for the alias, as one of its copies that could not be delivered."""
    event = mailroom.receive(message, [alias["address"]])
    mail = event["Records"][0]["ses"]["mail"]
    return quarantine.Copy(
        user_id=user_id(client),
        message_id=mail["messageId"],
        address=alias["address"],
        alias_id=alias["id"],
        destination=destination,
        at=clock.now_iso(),
        sender="news@shop.example",
        envelope_sender="sender@example.net",
        subject="Your order",
    )


def listed(client: Client, query: str = "") -> list[dict[str, Any]]:
    path, _, query_string = f"/api/quarantine{query}".partition("?")
    response = client.get(path, query_string=query_string)
    assert response.status == 200, response.body
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_held_copy_is_kept_listed_recorded_and_told_once_an_hour(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    first, second = held_copy(mailroom, alice, alias), held_copy(mailroom, alice, alias)

    assert quarantine.hold(first, quarantine.Reason.REJECTED) is True
    assert quarantine.hold(first, quarantine.Reason.REJECTED) is False  # a retry: the same copy, once
    assert quarantine.hold(second, quarantine.Reason.TOO_LARGE) is True

    items = sorted(listed(alice), key=lambda item: item["reason"], reverse=True)  # both arrived at the same time
    assert [(item["reason"], item["destination"], item["alias_id"]) for item in items] == [
        ("too_large", "alice@real.example", alias["id"]),
        ("rejected_by_ses", "alice@real.example", alias["id"]),
    ]
    assert (items[0]["subject"], items[0]["resent_to"]) == ("Your order", [])
    assert items[0]["size"] > len(MESSAGE)  # SES's own header fields on top
    kept = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"quarantine/{user_id(alice)}/{items[0]['id']}")
    assert kept["Body"].read().endswith(MESSAGE)
    outcomes = [(e["outcome"], e["reason"]) for e in alice.get("/api/activity").json()["items"]]
    assert sorted(outcomes) == [("quarantined", "rejected_by_ses"), ("quarantined", "too_large")]
    notices = sent.system_to("alice@example.org")
    assert len(notices) == 1, "one notice per alias per hour"
    assert notices[0].tags["postmask-mail"] == "quarantine_notice"
    assert b"https://postmask.test/quarantine" in notices[0].raw


def test_resend_goes_once_per_destination_through_the_ledger(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    verify_destinations_of(alice, ["alice@other.example"])
    copy = held_copy(mailroom, alice, alias)
    claim = deliveries.claim(copy.message_id, copy.address, copy.destination, lease_seconds=10)
    assert isinstance(claim, deliveries.Claim)
    deliveries.complete(claim, deliveries.Status.REJECTED, reason="MessageRejected")  # what the forwarder recorded
    quarantine.hold(copy, quarantine.Reason.REJECTED)
    (item,) = listed(alice)

    first = alice.post(f"/api/quarantine/{item['id']}/resend", {})
    again = alice.post(f"/api/quarantine/{item['id']}/resend")
    other = alice.post(f"/api/quarantine/{item['id']}/resend", {"destination": "alice@other.example"})
    other_again = alice.post(f"/api/quarantine/{item['id']}/resend", {"destination": "ALICE@other.example"})

    assert (first.status, again.status, other.status, other_again.status) == (202, 409, 202, 409), (
        first.body,
        again.body,
        other.body,
    )
    assert "message" in again.json()
    copies = [(mail.destinations, mail.sender) for mail in sent.sent]
    assert copies == [(["alice@real.example"], "shop@alice.example"), (["alice@other.example"], "shop@alice.example")]
    resent = sent.sent[0]
    assert resent.addresses("Reply-To")[0][1].startswith("reply-")  # answering goes back through postmask
    assert resent.body.endswith(b"Your parcel is on its way.\r\n")
    resent_to = alice.get(f"/api/quarantine/{item['id']}").json()["resent_to"]
    assert resent_to == ["alice@real.example", "alice@other.example"]


def test_resend_refuses_what_cannot_go(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    alice.post("/api/destinations", {"email": "alice@pending.example"})
    copy = held_copy(mailroom, alice, alias)
    quarantine.hold(copy, quarantine.Reason.REJECTED)
    (item,) = listed(alice)
    path = f"/api/quarantine/{item['id']}/resend"

    pending = alice.post(path, {"destination": "alice@pending.example"})
    unknown = alice.post(path, {"destination": "someone@else.example"})
    invalid = alice.post(path, {"destination": "not an address"})
    not_bobs = bob.post(path, {})
    garbage = alice.post(path, raw_body="{", headers={"content-type": "application/json"})

    assert (pending.status, unknown.status, invalid.status, not_bobs.status) == (422, 422, 422, 404)
    assert 400 <= garbage.status < 500
    assert "verified" in pending.json()["message"]
    assert sent.sent == []

    huge = store.get(user_id(alice), item["id"])
    boto3.client("dynamodb").update_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": store.pk(huge.user_id)}, "sk": {"S": f"MSG#{huge.quarantine_id}"}},
        UpdateExpression="SET #size = :big",
        ExpressionAttributeNames={"#size": "size"},
        ExpressionAttributeValues={":big": {"N": str(41 * 1024 * 1024)}},
    )
    too_large = alice.post(path, {})
    assert (too_large.status, "40 MB" in too_large.json()["message"]) == (413, True)


def test_list_filters_pages_and_isolation(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    news = new_alias(alice, alice_domain, "news", ["alice@real.example"])
    quarantine.hold(held_copy(mailroom, alice, shop), quarantine.Reason.REJECTED)
    quarantine.hold(held_copy(mailroom, alice, news), quarantine.Reason.DESTINATION_SUSPENDED)
    quarantine.hold(held_copy(mailroom, alice, news), quarantine.Reason.RETRIES_EXHAUSTED)

    assert len(listed(alice)) == 3
    assert {item["alias_id"] for item in listed(alice, f"?alias_id={news['id']}")} == {news["id"]}
    assert [item["reason"] for item in listed(alice, "?reason=destination_suspended")] == ["destination_suspended"]
    first = alice.get("/api/quarantine", query={"limit": 2}).json()
    rest = alice.get("/api/quarantine", query={"limit": 2, "next_token": first["next_token"]}).json()
    assert (len(first["items"]), len(rest["items"]), rest["next_token"]) == (2, 1, None)
    assert listed(bob) == []
    assert bob.get("/api/quarantine", query={"alias_id": shop["id"]}).status == 404
    assert alice.get("/api/quarantine", query={"reason": "nonsense"}).status == 422
    assert alice.get("/api/quarantine", query={"next_token": "bogus"}).status == 400
    some_id = listed(alice)[0]["id"]
    assert bob.get(f"/api/quarantine/{some_id}").status == 404
    assert bob.delete(f"/api/quarantine/{some_id}").status == 404
    assert alice.get("/api/quarantine/" + "x" * 2000).status == 404


def test_delete_removes_the_item_and_the_stored_message(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    quarantine.hold(held_copy(mailroom, alice, alias), quarantine.Reason.REJECTED)
    (item,) = listed(alice)

    assert alice.delete(f"/api/quarantine/{item['id']}").status == 204
    assert alice.get(f"/api/quarantine/{item['id']}").status == 404
    assert alice.delete(f"/api/quarantine/{item['id']}").status == 404
    left = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="quarantine/").get("KeyCount")
    assert left == 0
