"""Deleting an account deletes its stored mail (decision 0042): the user's quarantined copies, and the raw
messages SES stored that were theirs alone once accounted for; a message another user also received stays."""

from __future__ import annotations

import boto3

from tests.integration.forwarding.conftest import BUCKET, Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.integration.forwarding.test_verified_destinations import user_id
from tests.integration.test_accounts import everything_of
from tests.support.api import Client
from tests.support.ses import SesRecorder

MESSAGE = (
    b"From: Shop <news@shop.example>\r\nTo: undisclosed-recipients:;\r\nSubject: Your order\r\n"
    b"Message-ID: <o1@shop.example>\r\n\r\nYour parcel is on its way.\r\n"
)


def stored(prefix: str) -> set[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents") or []
    return {str(item["Key"]) for item in listed}


def delivered(mailroom: Mailroom, recipients: list[str]) -> str:
    """The SES message id of a message SES stored for `recipients` and the forwarder then handled."""
    event = mailroom.receive(MESSAGE, recipients)
    mailroom.forward(event)
    found: str = event["Records"][0]["ses"]["mail"]["messageId"]
    return found


def test_deleting_an_account_deletes_its_stored_mail_and_keeps_the_others(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, table: str
) -> None:
    # Given mail forwarded to Alice alone, to Bob alone and to both; and one copy each quarantined (SES refused it)
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    held = new_alias(alice, alice_domain, "held", ["alice@real.example"])
    news = new_alias(bob, "bob.example", "news", ["bob@real.example"])
    bobs_held = new_alias(bob, "bob.example", "held", ["bob@real.example"])
    alice_id, bob_id = user_id(alice), user_id(bob)

    alices = delivered(mailroom, [shop["address"]])
    sent.fail_next(400, "MessageRejected", "Email address is not verified.")
    alices_quarantined = delivered(mailroom, [held["address"]])
    both = delivered(mailroom, [shop["address"], news["address"]])
    bobs = delivered(mailroom, [news["address"]])
    sent.fail_next(400, "MessageRejected", "Email address is not verified.")
    bobs_quarantined = delivered(mailroom, [bobs_held["address"]])
    # Stored, but the forwarder has not handled it yet: not accounted for, so it stays (the lifecycle expires it).
    pending = mailroom.receive(MESSAGE, [shop["address"]])["Records"][0]["ses"]["mail"]["messageId"]
    assert len([mail for mail in sent.sent if mail.destinations != ["alice@example.org"]]) >= 4
    assert len(stored(f"quarantine/{alice_id}/")) == 1
    assert len(stored(f"quarantine/{bob_id}/")) == 1
    assert len(alice.get("/api/quarantine").json()["items"]) == 1

    # When Alice deletes her account
    response = alice.request("DELETE", "/api/me", body={"confirm": "alice@example.org"})

    # Then her quarantined copies and the messages that were hers alone are gone, with her items
    assert response.status == 204, response.body
    assert stored(f"quarantine/{alice_id}/") == set()
    inbound = stored("inbound/")
    assert f"inbound/{alices}" not in inbound
    assert f"inbound/{alices_quarantined}" not in inbound
    left = everything_of(table, alice_id, [alice_domain, shop["id"], held["id"], "alice@"])
    # The tree's version counter is shared by every registration under alice.example, anyone's: it stays; so does
    # the record that the message to both was accounted for (Bob's too), which names her alias until its TTL.
    assert sorted(item["pk"]["S"] + "/" + item["sk"]["S"] for item in left) == [
        f"MAIL#{both}/ACCOUNTED",
        f"TREE#{alice_domain}/DOMAIN",
    ]
    # And Bob's mail, the message they both received, and the one not yet accounted for stay
    assert {f"inbound/{both}", f"inbound/{bobs}", f"inbound/{bobs_quarantined}", f"inbound/{pending}"} <= inbound
    assert len(stored(f"quarantine/{bob_id}/")) == 1
    (bobs_copy,) = bob.get("/api/quarantine").json()["items"]
    assert bobs_copy["reason"] == "rejected_by_ses"
    assert len(bob.get("/api/activity").json()["items"]) >= 3
    bobs_record = {"pk": {"S": f"MAIL#{both}"}, "sk": {"S": f"SEND#{news['address']}#bob@real.example"}}
    assert "Item" in boto3.client("dynamodb").get_item(TableName=table, Key=bobs_record)


def test_stored_mail_deletes_the_prefix_the_quarantine_writes_under() -> None:
    # stored_mail does not import postmask.quarantine (it would bring the mail path into DELETE /api/me): the two
    # names of the prefix must stay one, or a deleted account's quarantined copies would outlive it.
    from postmask import quarantine, stored_mail

    assert stored_mail.QUARANTINE_PREFIX == quarantine.PREFIX
    assert stored_mail.quarantine_prefix("u1") == f"{quarantine.PREFIX}u1/"
