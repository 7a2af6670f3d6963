"""The activity log: every decision of the forwarder and the feedback function, in GET /api/activity with its
reason, filterable by alias and outcome, paged, never another user's; per-day counts in GET /api/stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bench.calls import CallRecorder
from local.events import HttpResponse
from local.feedback import feedback_event
from local.functions import FakeLambdaContext, load_handler
from local.ses import Verdicts
from postmask import ses
from postmask.clock import iso
from postmask.settings import get_settings
from postmask.store import _dynamo
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.integration.forwarding.test_verified_destinations import FEEDBACK, alias_to, feedback, user_id
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.ses import SesRecorder, ses_says

SHOP = (
    b"From: Shop <news@shop.example>\r\nTo: shop@alice.example\r\nSubject: Your order\r\n"
    b"Message-ID: <o1@shop.example>\r\n\r\nThe body is never stored.\r\n"
)


def from_(address: str, subject: str = "Hello") -> bytes:
    return SHOP.replace(b"news@shop.example", address.encode()).replace(b"Your order", subject.encode())


def get(client: Client, url: str) -> HttpResponse:
    """GET a URL with its query string, as a browser would send it."""
    path, _, query = url.partition("?")
    return client.get(path, query_string=query)


def events(client: Client, query: str = "") -> list[dict[str, Any]]:
    response = get(client, f"/api/activity{query}")
    assert response.status == 200, response.body
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """(outcome, reason, destination), oldest first; the events of one message (the same `at`: when SES received
    it) in the order of these fields, which is as good as any."""
    in_order = sorted(items, key=lambda e: (e["at"], e["outcome"], e["reason"] or "", e["destination"] or ""))
    return [(event["outcome"], event["reason"], event["destination"]) for event in in_order]


def table_calls(recorded: CallRecorder) -> dict[str, int]:
    """The calls a route made, without the authorizer's read of the token."""
    counted: dict[str, int] = {}
    for call in recorded.calls:
        if call.operation == "GetItem" and call.params["Key"]["pk"]["S"].startswith("TOKEN#"):
            continue
        counted[call.operation] = counted.get(call.operation, 0) + 1
    return counted


def today(client: Client) -> dict[str, Any]:
    days: list[dict[str, Any]] = get(client, "/api/stats?days=1").json()["days"]
    return days[-1]


def test_every_forwarder_outcome_is_an_event_with_its_reason(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"], site="shop.example")
    off = new_alias(alice, alice_domain, "off", ["alice@real.example"], enabled=False)
    old = new_alias(alice, alice_domain, "old", ["alice@real.example"], expires_at="2020-01-01T00:00:00Z")
    strict = new_alias(alice, alice_domain, "strict", ["alice@real.example"], site="shop.example")
    alice.patch(f"/api/aliases/{strict['id']}", {"block_foreign_senders": True})
    pending = alias_to(alice, alice_domain, "pending", ["new@real.example", "alice@real.example"])

    mailroom.deliver(SHOP, ["shop@alice.example"])  # forwarded
    mailroom.deliver(SHOP, ["off@alice.example"])  # blocked, alias_disabled
    mailroom.deliver(SHOP, ["old@alice.example"])  # blocked, alias_expired
    mailroom.deliver(SHOP, ["shop@alice.example"], verdicts=Verdicts(spam="FAIL"))  # blocked, spam
    mailroom.deliver(SHOP, ["shop@alice.example"], verdicts=Verdicts(virus="FAIL"))  # blocked, virus
    dmarc = Verdicts(dmarc="FAIL", dmarc_policy="REJECT")
    mailroom.deliver(SHOP, ["shop@alice.example"], verdicts=dmarc)  # blocked, dmarc_fail
    mailroom.deliver(from_("spam@elsewhere.example"), ["strict@alice.example"])  # blocked, foreign_sender
    mailroom.deliver(SHOP, ["nobody@alice.example"])  # dropped, no_alias
    mailroom.deliver(SHOP, ["shop@alice.example"], sender="<>")  # dropped, null_sender
    mailroom.deliver(SHOP, ["pending@alice.example"])  # one copy; the pending destination dropped
    (copy, *_) = sent.sent
    mailroom.deliver(copy.raw, ["shop@alice.example"], sender="alice@real.example")  # dropped, loop
    sent.fail_next(400, "MessageRejected", "Email address is not verified.")
    mailroom.deliver(SHOP, ["shop@alice.example"])  # quarantined, rejected_by_ses (decision 0025)
    ses_says(alice_domain, "PENDING")
    ses.forget_verifications()  # the forwarder asks SES once every few minutes: now
    mailroom.deliver(SHOP, ["shop@alice.example"], store=False)  # refused, domain_unverified

    assert summary(events(alice, "?limit=100")) == [
        ("forwarded", None, "alice@real.example"),
        ("blocked", "alias_disabled", None),
        ("blocked", "alias_expired", None),
        ("blocked", "spam", None),
        ("blocked", "virus", None),
        ("blocked", "dmarc_fail", None),
        ("blocked", "foreign_sender", None),
        ("dropped", "no_alias", None),
        ("dropped", "null_sender", None),
        # The same message: the verified destination's copy, and the pending one's skip.
        *sorted([("forwarded", None, "alice@real.example"), ("dropped", "destination_unverified", "new@real.example")]),
        ("dropped", "loop", None),
        ("quarantined", "rejected_by_ses", "alice@real.example"),
        ("refused", "domain_unverified", None),
    ]
    # Each event says which alias, which address, who sent it and what it was about; never the body.
    (first, *_) = reversed(events(alice, f"?alias_id={shop['id']}&limit=100"))
    assert first["alias_id"] == shop["id"]
    assert first["address"] == "shop@alice.example"
    assert first["direction"] == "inbound"
    assert (first["sender"], first["subject"]) == ("news@shop.example", "Your order")
    assert "never stored" not in str(events(alice, "?limit=100"))
    by_alias = {alias["id"]: events(alice, f"?alias_id={alias['id']}") for alias in (off, old, pending)}
    assert [summary(found) for found in by_alias.values()] == [
        [("blocked", "alias_disabled", None)],
        [("blocked", "alias_expired", None)],
        sorted([("forwarded", None, "alice@real.example"), ("dropped", "destination_unverified", "new@real.example")]),
    ]
    unknown = [event for event in events(alice, "?outcome=dropped") if event["reason"] == "no_alias"]
    assert [(event["alias_id"], event["address"]) for event in unknown] == [(None, "nobody@alice.example")]


def test_bounces_and_complaints_are_events_of_the_alias_the_copy_was_for(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(SHOP, ["shop@alice.example"])
    (copy,) = sent.sent
    assert copy.tags["postmask-alias"] == shop["id"]

    feedback("complaint", "Alice@real.example", copy.tags)
    bounce = feedback_event(
        "bounce",
        recipient="Alice@real.example",
        message_id="0100018c-bounced",
        source="shop@alice.example",
        tags=copy.tags,
        configuration_set="postmask-mail",
        region="eu-west-1",
    )
    for _ in range(2):  # EventBridge delivers at least once: the same event twice is one activity event
        load_handler(FEEDBACK, "app.lambda_handler")(bounce, FakeLambdaContext("FeedbackFunction"))

    assert summary(events(alice, f"?alias_id={shop['id']}"))[1:] == [
        ("complained", "complaint", "alice@real.example"),
        ("bounced", "hard_bounce", "alice@real.example"),
    ]


def test_filtered_by_outcome_and_alias_paged_newest_first(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"], site="shop.example")
    new_alias(alice, alice_domain, "news", ["alice@real.example"], site="shop.example")
    for number in range(5):
        mailroom.deliver(from_("news@shop.example", f"shop {number}"), ["shop@alice.example"])
        mailroom.deliver(from_("news@shop.example", f"news {number}"), ["news@alice.example"])
        mailroom.deliver(
            from_("news@shop.example", f"spam {number}"), ["shop@alice.example"], verdicts=Verdicts(spam="FAIL")
        )

    subjects: list[str] = []
    token = None
    while True:
        query = f"?alias_id={shop['id']}&outcome=forwarded&limit=2" + (f"&next_token={token}" if token else "")
        page = get(alice, f"/api/activity{query}").json()
        assert len(page["items"]) <= 2
        subjects.extend(event["subject"] for event in page["items"])
        token = page["next_token"]
        if token is None:
            break
    assert subjects == [f"shop {number}" for number in reversed(range(5))]
    assert {event["outcome"] for event in events(alice, "?outcome=blocked&limit=100")} == {"blocked"}
    assert len(events(alice, "?limit=100")) == 15
    assert get(alice, "/api/activity?next_token=not-a-token").status == 400
    assert get(alice, "/api/activity?outcome=lost").status == 422
    assert get(alice, "/api/activity?limit=0").status == 422


def test_never_another_users_events(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(SHOP, ["shop@alice.example"])
    assert len(events(alice)) == 1

    assert events(bob) == []
    assert get(bob, f"/api/activity?alias_id={shop['id']}").json() == {"message": "Alias not found"}
    assert get(bob, f"/api/activity?alias_id={shop['id']}").status == 404
    assert get(bob, "/api/activity?alias_id=not-an-id").status == 404
    assert today(bob)["forwarded"] == 0
    # Alice's own alias with no events yet: an empty list, not a 404.
    quiet = new_alias(alice, alice_domain, "quiet", ["alice@real.example"])
    assert get(alice, f"/api/activity?alias_id={quiet['id']}").json() == {"items": [], "next_token": None}


def test_a_retried_event_is_recorded_and_counted_once(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    new_alias(alice, alice_domain, "off", ["alice@real.example"], enabled=False)
    event = mailroom.receive(SHOP, ["shop@alice.example", "off@alice.example", "nobody@alice.example"])

    mailroom.forward(event)
    mailroom.forward(event)  # Lambda retries, SES redelivers: the same decisions

    assert sorted(summary(events(alice))) == [
        ("blocked", "alias_disabled", None),
        ("dropped", "no_alias", None),
        ("forwarded", None, "alice@real.example"),
    ]
    assert {key: today(alice)[key] for key in ("forwarded", "blocked", "dropped", "refused", "sent")} == {
        "forwarded": 1,
        "blocked": 1,
        "dropped": 1,
        "refused": 0,
        "sent": 0,
    }


def test_a_transient_failure_then_the_retry_that_sends(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    event = mailroom.receive(SHOP, ["shop@alice.example"])
    sent.fail_next(500, "InternalFailure", "try again")
    with pytest.raises(Exception, match="retried"):
        mailroom.forward(event)
    mailroom.forward(event)

    # Both at the time SES received the message: which of the two is listed first is not defined.
    assert sorted(summary(events(alice))) == [
        ("failed", "send_error", "alice@real.example"),
        ("forwarded", None, "alice@real.example"),
    ]


def test_stats_count_each_day_in_one_query_zeros_included(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    yesterday = iso(datetime.now(UTC) - timedelta(days=1))
    for when in (yesterday, None, None):
        event = mailroom.receive(SHOP, ["shop@alice.example", "nobody@alice.example"])
        if when:
            event["Records"][0]["ses"]["mail"]["timestamp"] = when
        mailroom.forward(event)
    mailroom.deliver(SHOP, ["shop@alice.example"], verdicts=Verdicts(spam="FAIL"))

    with CallRecorder(_dynamo.client()) as recorded:
        response = get(alice, "/api/stats?days=3")
    assert table_calls(recorded) == {"Query": 1}
    days = response.json()["days"]
    now = datetime.now(UTC).date()
    assert [day["date"] for day in days] == [str(now - timedelta(days=offset)) for offset in (2, 1, 0)]
    zero = {"forwarded": 0, "sent": 0, "blocked": 0, "refused": 0, "dropped": 0}
    assert [{key: day[key] for key in zero} for day in days] == [
        zero,
        zero | {"forwarded": 1, "dropped": 1},
        zero | {"forwarded": 2, "dropped": 2, "blocked": 1},
    ]
    assert len(alice.get("/api/stats").json()["days"]) == 30
    assert len(get(alice, "/api/stats?days=90").json()["days"]) == 90
    for bad in ("0", "91", "x"):
        assert get(alice, f"/api/stats?days={bad}").status == 422


def test_one_aliass_events_are_one_query_of_its_own_partition(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    new_alias(alice, alice_domain, "busy", ["alice@real.example"])
    mailroom.deliver(SHOP, ["shop@alice.example"])
    for _ in range(30):
        mailroom.deliver(SHOP, ["busy@alice.example"])

    with CallRecorder(_dynamo.client()) as recorded:
        found = events(alice, f"?alias_id={shop['id']}&limit=10")
    assert table_calls(recorded) == {"Query": 1}
    (query,) = [call.params for call in recorded.calls if call.operation == "Query"]
    assert query["ExpressionAttributeValues"][":pk"]["S"].endswith(f"#{shop['id']}")
    assert [event["alias_id"] for event in found] == [shop["id"]]


def test_events_expire_after_the_retention_days(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIVITY_RETENTION_DAYS", "2")
    get_settings.cache_clear()
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    for days_ago in (3, 1):
        event = mailroom.receive(from_("news@shop.example", f"{days_ago} days ago"), ["shop@alice.example"])
        event["Records"][0]["ses"]["mail"]["timestamp"] = iso(datetime.now(UTC) - timedelta(days=days_ago))
        mailroom.forward(event)

    # Kept 2 days: the table's TTL deletes it (DynamoDB does so lazily, so reads leave expired events out).
    assert [event["subject"] for event in events(alice)] == ["1 days ago"]
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :ev)",
        ExpressionAttributeValues={":pk": {"S": f"ACT#{user_id(alice)}"}, ":ev": {"S": "EV#"}},
    )["Items"]
    for item in items:
        at = datetime.fromisoformat(item["at"]["S"].replace("Z", "+00:00"))
        assert int(item["purge_at"]["N"]) == int(at.timestamp()) + 2 * 86_400


def test_a_subject_is_cut_to_200_characters_and_shown_decoded(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(from_("news@shop.example", "x" * 500), ["shop@alice.example"])
    mailroom.deliver(from_("news@shop.example", "=?utf-8?q?Gr=C3=BC=C3=9Fe=E2=80=AE?="), ["shop@alice.example"])

    newest, oldest = events(alice)
    assert oldest["subject"] == "x" * 200
    assert newest["subject"] == "Grüße"


def test_replies_sent_and_refused_are_events_with_their_reasons(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    from tests.integration.forwarding.test_replies import DESTINATION, STRANGER, reply_from_destination

    shop = new_alias(alice, alice_domain, "shop", [DESTINATION], site="outside.example")
    contact = alice.post(f"/api/aliases/{shop['id']}/contacts", {"email": STRANGER}).json()
    to = contact["reply_address"]

    mailroom.deliver(reply_from_destination(to), [to], sender=DESTINATION)  # sent
    mailroom.deliver(reply_from_destination(to), [to], sender=DESTINATION, verdicts=Verdicts(dmarc="FAIL"))
    mailroom.deliver(reply_from_destination(to, sender="intruder@else.example"), [to], sender="intruder@else.example")
    mailroom.deliver(reply_from_destination(to, cc="friend@outside.example"), [to], sender=DESTINATION)
    (reply_sent,) = sent.sent
    feedback("bounce", STRANGER, reply_sent.tags)  # the contact's mailbox bounced the reply

    replies = [event for event in events(alice, f"?alias_id={shop['id']}") if event["direction"] == "reply"]
    assert sorted((event["outcome"], event["reason"]) for event in replies) == [
        ("bounced", "hard_bounce"),
        ("refused", "foreign_recipient"),
        ("refused", "not_a_destination"),
        ("refused", "unauthenticated_reply"),
        ("sent", None),
    ]
    # Sent and refused at the reply address; the bounce names what it was sent from, the alias.
    assert {(event["address"], event["destination"]) for event in replies} == {
        (to, STRANGER),
        ("shop@alice.example", STRANGER),
    }
    assert [event["outcome"] for event in events(alice, "?outcome=refused")] == ["refused"] * 3
    assert (today(alice)["sent"], today(alice)["refused"]) == (1, 3)
    assert events(bob) == []
    # A reply address nobody was given: no one to show it to.
    nobody = f"reply-aaaaaaaaaaaaaaaaaaaa@{alice_domain}"
    mailroom.deliver(reply_from_destination(nobody), [nobody], sender=DESTINATION)
    assert len(events(alice, "?outcome=refused")) == 3


def test_a_from_readers_read_differently_shows_the_envelope_sender_and_says_so(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    # Issue 25: the stdlib reads `service@paypal.com`, other clients `a@evil.example`; the real sender appeared
    # nowhere in the copy.
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    message = (
        b"From: service@paypal.com: ; <a@evil.example>\r\nTo: shop@alice.example\r\nSubject: Your account\r\n\r\n"
        b"Please confirm your password.\r\n"
    )

    mailroom.deliver(message, ["shop@alice.example"], sender="bounces@evil.example")

    (copy,) = sent.sent
    assert copy.addresses("From") == [("bounces@evil.example", "shop@alice.example")]
    assert b"paypal" not in copy.raw.split(b"\r\n\r\n", 1)[0].lower()
    (event,) = events(alice)
    assert (event["outcome"], event["notes"]) == ("forwarded", ["from_ambiguous"])
