"""The forwarder sends only to verified destinations, and SES's bounces and complaints suspend them.

Mail arrives as SES delivers it (tests/integration/forwarding/conftest.py); what the forwarder sends is
recorded; the feedback function gets the EventBridge events SES publishes for the configuration set
(local/feedback.py builds them, as the local stack's bounce injection does)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from local import sam_template
from local.feedback import feedback_event
from local.functions import FakeLambdaContext, load_handler
from postmask.settings import get_settings
from postmask.store import destinations
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import FORWARDED_ONCE, MESSAGE, NOTHING_COUNTED, counts
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.ses import SesRecorder

FEEDBACK = sam_template.ROOT / "functions" / "feedback"


def alias_to(client: Client, domain: str, local_part: str, addresses: list[str]) -> dict[str, Any]:
    """An alias whose destinations are left as they are (new ones pending)."""
    response = client.post("/api/aliases", {"domain": domain, "local_part": local_part, "destinations": addresses})
    assert response.status == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def user_id(client: Client) -> str:
    found: str = client.get("/api/me").json()["id"]
    return found


def feedback(kind: str, recipient: str, tags: dict[str, str]) -> dict[str, Any]:
    event = feedback_event(
        kind,
        recipient=recipient,
        message_id="0100018c-local",
        source="shop@alice.example",
        tags=tags,
        configuration_set="postmask-mail",
        region="eu-west-1",
    )
    result: dict[str, Any] = load_handler(FEEDBACK, "app.lambda_handler")(event, FakeLambdaContext("FeedbackFunction"))
    return result


def test_a_pending_destination_is_skipped_and_the_message_not_even_read(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postmask")
    alias = alias_to(alice, alice_domain, "shop", ["new@real.example"])

    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"], store=False)  # reading it would raise

    assert sent.sent == []
    assert summary["forwarded"] == []
    assert summary["skipped"] == [
        {
            "recipient": "shop@alice.example",
            "alias_id": alias["id"],
            "destination": "new@real.example",
            "reason": "destination_unverified",
        }
    ]
    assert counts(alice, alias) == NOTHING_COUNTED
    skipped = [record for record in caplog.records if record.getMessage() == "destination skipped"]
    assert [(vars(r)["reason"], vars(r)["outcome"], vars(r)["destination"]) for r in skipped] == [
        ("destination_unverified", "dropped", "new@real.example")
    ]


def test_only_the_verified_destinations_of_an_alias_get_a_copy(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    verify_destinations_of(alice, ["Alice@Real.example"])  # verified as typed once; named in another case
    alias = alias_to(alice, alice_domain, "shop", ["alice@real.example", "pending@real.example"])

    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"])

    assert [mail.destinations for mail in sent.sent] == [["alice@real.example"]]
    assert [entry["destination"] for entry in summary["skipped"]] == ["pending@real.example"]
    assert counts(alice, alias) == FORWARDED_ONCE


def test_a_catch_all_to_a_pending_destination_forwards_nothing(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "any@real.example"}).status == 200

    summary = mailroom.deliver(MESSAGE, ["whoever@alice.example"])

    assert sent.sent == []
    # The address's alias is created on first receipt (decision 0046), to the catch-all's pending destination.
    assert [s["reason"] for s in summary["skipped"]] == ["destination_unverified"]
    assert summary["skipped"][0]["alias_id"] is not None


def test_someone_elses_verification_of_the_same_address_proves_nothing(
    alice: Client, bob: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    verify_destinations_of(alice, ["shared@real.example"])
    alias_to(bob, "bob.example", "bob", ["shared@real.example"])

    summary = mailroom.deliver(MESSAGE, ["bob@bob.example"])

    assert sent.sent == []
    assert summary["skipped"][0]["reason"] == "destination_unverified"


def test_forwarded_copies_name_the_configuration_set_and_whose_destination_they_went_to(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIGURATION_SET", "postmask-mail")
    get_settings.cache_clear()
    verify_destinations_of(alice, ["alice@real.example"])
    alias_to(alice, alice_domain, "shop", ["alice@real.example"])

    mailroom.deliver(MESSAGE, ["shop@alice.example"])

    (copy,) = sent.sent
    assert copy.configuration_set == "postmask-mail"
    shop = alice.get("/api/aliases").json()["items"][0]
    assert copy.tags == {"postmask-user": user_id(alice), "postmask-mail": "forward", "postmask-alias": shop["id"]}


@pytest.mark.parametrize("kind", ["bounce", "complaint"])
def test_a_hard_bounce_or_a_complaint_suspends_the_destination_until_it_is_verified_again(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, kind: str
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    alias = alias_to(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(MESSAGE, ["shop@alice.example"])
    (copy,) = sent.sent

    outcome = feedback(kind, "Alice@real.example", copy.tags)
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"])

    assert outcome["suspended"] == ["Alice@real.example"]
    (destination,) = alice.get("/api/destinations").json()["items"]
    assert destination["status"] == "suspended"
    expected = "Hard bounce (General): smtp; 550 5.1.1" if kind == "bounce" else "Complaint: marked as spam (abuse)"
    assert destination["suspended_reason"].startswith(expected)
    assert len(sent.sent) == 1  # nothing more forwarded
    assert summary["skipped"][0]["reason"] == "destination_suspended"
    assert counts(alice, alias)["forwarded_count"] == 1

    # Verified again (a new link, opened): forwarded again.
    (link,) = destinations.renew_link(user_id(alice), destination["id"]).new_links
    destinations.verify(link.token)
    assert mailroom.deliver(MESSAGE, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    assert len(sent.sent) == 2


def test_a_soft_bounce_suspends_nothing(alice: Client, mailroom: Mailroom) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    event = feedback_event(
        "bounce",
        recipient="alice@real.example",
        message_id="m",
        source="s@alice.example",
        tags={"postmask-user": user_id(alice)},
        configuration_set="postmask-mail",
        region="eu-west-1",
    )
    event["detail"]["bounce"]["bounceType"] = "Transient"
    result = load_handler(FEEDBACK, "app.lambda_handler")(event, FakeLambdaContext("FeedbackFunction"))
    assert result == {"suspended": [], "ignored": []}
    assert alice.get("/api/destinations").json()["items"][0]["status"] == "verified"


def test_feedback_touches_only_the_tagged_users_destination(alice: Client, bob: Client, mailroom: Mailroom) -> None:
    verify_destinations_of(alice, ["shared@real.example"])
    verify_destinations_of(bob, ["shared@real.example"])

    assert feedback("bounce", "shared@real.example", {"postmask-user": user_id(bob)})["suspended"] == [
        "shared@real.example"
    ]

    assert alice.get("/api/destinations").json()["items"][0]["status"] == "verified"
    assert bob.get("/api/destinations").json()["items"][0]["status"] == "suspended"


@pytest.mark.parametrize(
    "tags",
    [{}, {"postmask-user": "01m84x6vvyzqxfrp2xb1ewbbjh"}],
    ids=["untagged (not postmask's mail)", "a user without that destination"],
)
def test_feedback_for_nothing_of_ours_changes_nothing(alice: Client, mailroom: Mailroom, tags: dict[str, str]) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    outcome = feedback("complaint", "alice@real.example", tags)
    assert outcome["suspended"] == []
    assert alice.get("/api/destinations").json()["items"][0]["status"] == "verified"


@pytest.mark.parametrize(
    "detail",
    [{}, {"eventType": "Delivery"}, {"eventType": "Bounce", "bounce": "x", "mail": []}, {"eventType": 5}],
)
def test_a_malformed_event_is_ignored_not_an_error(table: str, detail: dict[str, Any]) -> None:
    handler = load_handler(FEEDBACK, "app.lambda_handler")
    assert handler({"detail": detail}, FakeLambdaContext("FeedbackFunction")) == {"suspended": [], "ignored": []}
