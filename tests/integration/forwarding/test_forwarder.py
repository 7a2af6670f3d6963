"""The forwarder end to end over moto: decisions, counts through the API, exactly-once, failures surfacing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local.ses import Verdicts
from postmask import ses
from postmask.mail.forwarder import ForwardingIncomplete
from postmask.mail.inbox import MessageMissing
from postmask.mail.message import RawMessage
from postmask.store import deliveries
from tests.integration.forwarding.conftest import Mailroom
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.mail import corpus
from tests.support.ses import SesRecorder, ses_says

MESSAGE = corpus()["multipart-alternative.eml"]


def new_alias(client: Client, domain: str, local_part: str, destinations: list[str], **extra: Any) -> dict[str, Any]:
    """An alias whose destinations are verified first (only verified destinations receive mail)."""
    verify_destinations_of(client, destinations)
    response = client.post(
        "/api/aliases", {"domain": domain, "local_part": local_part, "destinations": destinations, **extra}
    )
    assert response.status == 201, response.body
    alias: dict[str, Any] = response.json()
    return alias


def counts(client: Client, alias: dict[str, Any]) -> dict[str, Any]:
    current = client.get(f"/api/aliases/{alias['id']}").json()
    return {name: current[name] for name in ("forwarded_count", "blocked_count")} | {
        "forwarded_at": current["last_forwarded_at"] is not None,
        "blocked_at": current["last_blocked_at"] is not None,
    }


NOTHING_COUNTED = {"forwarded_count": 0, "blocked_count": 0, "forwarded_at": False, "blocked_at": False}
FORWARDED_ONCE = {"forwarded_count": 1, "blocked_count": 0, "forwarded_at": True, "blocked_at": False}
BLOCKED_ONCE = {"forwarded_count": 0, "blocked_count": 1, "forwarded_at": False, "blocked_at": True}


def test_mail_to_an_alias_reaches_every_destination_and_is_counted(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])

    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"])

    assert summary["forwarded"] == ["shop@alice.example"]
    assert sorted(d for mail in sent.sent for d in mail.destinations) == ["alice@backup.example", "alice@real.example"]
    for mail in sent.sent:
        assert mail.sender == "shop@alice.example"
        assert mail.header("X-Postmask-Alias") == "shop@alice.example"
        assert mail.addresses("From") == [("Shop Notifications (orders@shop.example)", "shop@alice.example")]
        # Reply-To: the sender's contact's reply address, so that answering never reveals the destination.
        (contact,) = alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"]
        assert contact["email"] == "orders@shop.example"
        assert mail.addresses("Reply-To") == [("Shop Notifications (orders@shop.example)", contact["reply_address"])]
        assert mail.header("Subject") == "Your order has shipped"
        assert mail.body == bytes(RawMessage.parse(MESSAGE).body)
        # SES's own trace and verdict headers, added on receipt, do not travel on.
        assert mail.header("X-SES-Spam-Verdict") is None
        assert mail.header("Received") is None
    assert counts(alice, alias) == FORWARDED_ONCE
    (contact,) = alice.get(f"/api/aliases/{alias['id']}/contacts").json()["items"]
    assert (contact["received_count"], contact["blocked_count"]) == (1, 0)
    assert contact["last_received_at"] is not None


def test_the_recipient_address_is_matched_case_insensitively(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(MESSAGE, ["Shop@ALICE.example"])
    assert [mail.destinations for mail in sent.sent] == [["alice@real.example"]]
    assert counts(alice, alias) == FORWARDED_ONCE


@pytest.mark.parametrize(
    "state",
    [{"enabled": False}, {"expires_at": "2020-01-01T00:00:00Z"}],
    ids=["disabled", "expired"],
)
def test_a_disabled_or_expired_alias_blocks_and_counts(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, state: dict[str, Any]
) -> None:
    alias = new_alias(alice, alice_domain, "old", ["alice@real.example"], **state)

    summary = mailroom.deliver(MESSAGE, ["old@alice.example"])

    assert summary["blocked"] == ["old@alice.example"]
    assert sent.sent == []
    assert counts(alice, alias) == BLOCKED_ONCE


@pytest.mark.parametrize("verdicts", [Verdicts(spam="FAIL"), Verdicts(virus="FAIL")], ids=["spam", "virus"])
def test_a_fail_verdict_blocks_without_even_reading_the_message(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, verdicts: Verdicts
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    # Not stored: reading it would raise, so the block cannot depend on the message itself.
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"], verdicts=verdicts, store=False)

    assert summary["blocked"] == ["shop@alice.example"]
    assert sent.sent == []
    assert counts(alice, alias) == BLOCKED_ONCE


def test_verdicts_in_message_headers_are_not_trusted(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    forged = b"X-SES-Spam-Verdict: FAIL\r\nX-SES-Virus-Verdict: FAIL\r\n" + MESSAGE
    assert mailroom.deliver(forged, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    assert len(sent.sent) == 1


def test_unknown_addresses_go_to_the_catch_all(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "alice@real.example"}).status == 200

    summary = mailroom.deliver(MESSAGE, ["whoever@alice.example"])

    assert summary["forwarded"] == ["whoever@alice.example"]
    (mail,) = sent.sent
    assert mail.destinations == ["alice@real.example"]
    assert mail.sender == "whoever@alice.example"
    assert mail.header("X-Postmask-Alias") == "whoever@alice.example"


def test_spam_to_the_catch_all_is_not_delivered(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])
    alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "alice@real.example"})
    summary = mailroom.deliver(MESSAGE, ["whoever@alice.example"], verdicts=Verdicts(spam="FAIL"), store=False)
    assert summary["blocked"] == ["whoever@alice.example"]
    assert sent.sent == []


@pytest.mark.parametrize("recipient", ["nobody@alice.example", "someone@not-registered.example"])
def test_unknown_addresses_without_a_catch_all_are_dropped(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, recipient: str
) -> None:
    summary = mailroom.deliver(MESSAGE, [recipient], store=False)
    assert summary["dropped"] == [recipient]
    assert sent.sent == []


def test_each_recipient_of_one_message_is_decided_on_its_own(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    shop = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    old = new_alias(alice, alice_domain, "old", ["alice@real.example"], enabled=False)

    summary = mailroom.deliver(MESSAGE, ["shop@alice.example", "old@alice.example", "nobody@alice.example"])

    assert (summary["forwarded"], summary["blocked"], summary["dropped"]) == (
        ["shop@alice.example"],
        ["old@alice.example"],
        ["nobody@alice.example"],
    )
    assert [mail.sender for mail in sent.sent] == ["shop@alice.example"]
    assert counts(alice, shop) == FORWARDED_ONCE
    assert counts(alice, old) == BLOCKED_ONCE


def test_a_bounce_to_an_alias_is_not_forwarded_back(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"], sender="", store=False)
    assert summary["dropped"] == ["shop@alice.example"]
    assert sent.sent == []


# --- exactly once -----------------------------------------------------------------------------------------


def test_a_replayed_event_sends_nothing_twice_and_counts_once(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])
    blocked = new_alias(alice, alice_domain, "old", ["alice@real.example"], enabled=False)
    event = mailroom.receive(MESSAGE, ["shop@alice.example", "old@alice.example"])

    mailroom.forward(event)
    replay = mailroom.forward(event)

    assert len(sent.sent) == 2
    assert replay["sent"] == 0
    assert replay["skipped_as_already_sent"] == 2
    assert counts(alice, alias) == FORWARDED_ONCE
    assert counts(alice, blocked) == BLOCKED_ONCE


def test_an_ses_error_surfaces_for_a_retry_that_sends_only_what_is_missing(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    sent.fail_next(429, "TooManyRequestsException", "Maximum sending rate exceeded.")

    with pytest.raises(ForwardingIncomplete, match="TooManyRequestsException"):
        mailroom.forward(event)
    assert [mail.destinations for mail in sent.sent] == [["alice@backup.example"]]
    assert counts(alice, alias) == NOTHING_COUNTED  # not forwarded until every destination has it

    retry = mailroom.forward(event)  # what Lambda does with the raised event

    assert [mail.destinations for mail in sent.sent] == [["alice@backup.example"], ["alice@real.example"]]
    assert (retry["sent"], retry["skipped_as_already_sent"]) == (1, 1)
    assert counts(alice, alias) == FORWARDED_ONCE


def test_a_delivery_held_by_another_invocation_is_left_to_it_then_quarantined_not_sent_twice(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, table: str
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    deliveries.claim(message_id, "shop@alice.example", "alice@real.example", lease_seconds=300)

    with pytest.raises(ForwardingIncomplete, match="another invocation"):
        mailroom.forward(event)
    assert sent.sent == []

    # The other invocation died (a timeout, a crash) perhaps after SES accepted the copy: its lease runs out.
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key=deliveries._key(message_id, "shop@alice.example", "alice@real.example"),
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )

    # Sending again could deliver it twice: it is quarantined, for its owner to resend (decision 0025).
    taken_over = mailroom.forward(event)
    assert (taken_over["sent"], sent.sent) == (0, [])
    assert taken_over["quarantined"] == [
        {"recipient": "shop@alice.example", "destination": "alice@real.example", "reason": "delivery_unconfirmed"}
    ]
    (held,) = alice.get("/api/quarantine").json()["items"]
    assert alice.post(f"/api/quarantine/{held['id']}/resend").status == 202
    assert [mail.destinations for mail in sent.sent] == [["alice@real.example"]]
    assert mailroom.forward(event)["sent"] == 0  # a redrive: the ledger says sent


def test_a_message_too_large_for_ses_is_counted_and_not_retried(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    monkeypatch.setattr(ses, "MAX_MESSAGE_BYTES", 500)
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])

    first = mailroom.forward(event)  # no exception: a retry could never succeed
    replay = mailroom.forward(event)

    assert first["too_large"] == 1
    assert (replay["too_large"], replay["sent"], replay["skipped_as_already_sent"]) == (0, 0, 0)
    assert sent.sent == []
    assert counts(alice, alias)["forwarded_count"] == 0


def test_a_missing_message_in_s3_is_a_clear_error(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"], store=False)
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]

    with pytest.raises(MessageMissing, match=rf"s3://postmask-mail-test/inbound/{message_id} does not exist"):
        mailroom.forward(event)
    assert sent.sent == []


def test_moto_ses_accepts_what_the_forwarder_sends(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    from moto.ses.models import ses_backends

    sent.pass_through = True  # the domain's identity exists: registering the domain created it
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    mailroom.deliver(MESSAGE, ["shop@alice.example"])

    (received,) = ses_backends["123456789012"]["eu-west-1"].sent_messages
    assert received.source == "shop@alice.example"
    assert received.destinations == ["alice@real.example"]
    # What the recipient gets: the same message, with SES's own Message-ID and Date (local/ses.py, as SES does).
    as_sent = RawMessage.parse(received.raw_bytes)
    assert bytes(as_sent.body) == sent.sent[0].body
    assert as_sent.first("message-id").text().endswith("@eu-west-1.amazonses.com>")  # type: ignore[union-attr]
    assert as_sent.first("message-id").text() != sent.sent[0].header("Message-ID")  # type: ignore[union-attr]


def test_the_forwarder_refuses_to_send_from_an_unverified_domain(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    ses_says(alice_domain, "PENDING")

    # Not stored: the refusal happens before the message would be read.
    summary = mailroom.deliver(corpus()["multipart-alternative.eml"], ["shop@alice.example"], store=False)

    assert summary["refused"] == ["shop@alice.example"]
    assert sent.sent == []
    (refusal,) = [record for record in caplog.records if "has not verified the domain" in record.getMessage()]
    assert refusal.levelname == "ERROR"
    assert '"MailRefusedUnverifiedDomain":[1.0]' in capsys.readouterr().out  # the metric, flushed as EMF
    assert alice.get(f"/api/aliases/{alias['id']}").json()["forwarded_count"] == 0

    ses_says(alice_domain, "SUCCESS")
    event = mailroom.receive(corpus()["multipart-alternative.eml"], ["shop@alice.example"])
    assert mailroom.forward(event)["forwarded"] == ["shop@alice.example"]
    assert len(sent.sent) == 1


def test_a_failure_never_carries_the_message_into_the_error(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    def choke(*, parts: Any, **_: Any) -> str:
        raw = b"".join(bytes(part) for part in parts)
        raise UnicodeDecodeError("utf-8", raw, 0, 1, "invalid start byte")  # its repr holds the whole message

    monkeypatch.setattr(ses, "send_raw", choke)

    with pytest.raises(ForwardingIncomplete) as caught:
        mailroom.deliver(MESSAGE, ["shop@alice.example"])
    assert "UnicodeDecodeError" in str(caught.value)
    assert "order #4711" not in str(caught.value)
