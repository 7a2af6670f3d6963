"""Nothing lost without notice: the dead-letter reader quarantines what the forwarder's retries could not send
(decision 0025), and the daily reconciliation finds every stored message forwarded, refused or quarantined, or
reports it unaccounted (decision 0026)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from local.functions import FakeLambdaContext, load_handler
from local.sam_template import ROOT
from postmask import clock, reconcile
from postmask.mail.forwarder import ForwardingIncomplete
from postmask.observability import metrics
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder

MESSAGE = (
    b"From: Shop <news@shop.example>\r\nTo: shop@alice.example\r\nSubject: Your order\r\n"
    b"Message-ID: <o1@shop.example>\r\n\r\nYour parcel is on its way.\r\n"
)


def dead_letter(event: dict[str, Any], sqs_id: str = "sqs-1") -> dict[str, Any]:
    """What SQS hands the reader: Lambda's on-failure record of the forwarder's invocation, as a message body."""
    record = {
        "version": "1.0",
        "timestamp": "2026-01-31T10:06:00.000Z",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": event,
        "responsePayload": {"errorType": "ForwardingIncomplete", "errorMessage": "1 deliveries failed"},
    }
    return {"Records": [{"messageId": sqs_id, "body": json.dumps(record), "eventSource": "aws:sqs"}]}


def read_dead_letters(batch: dict[str, Any]) -> dict[str, Any]:
    handler = load_handler(ROOT / "functions" / "dead_letters", "app.lambda_handler")
    result: dict[str, Any] = handler(batch, FakeLambdaContext("DeadLettersFunction"))
    return result


def test_what_the_retries_could_not_send_is_quarantined_once_and_never_sent_by_a_redrive(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    for _ in range(3):  # the invocation and Lambda's two retries: the real mailbox's copy fails each time
        sent.fail_next(500, "InternalFailure", "try again")
        with pytest.raises(ForwardingIncomplete):
            mailroom.forward(event)
    assert [mail.destinations for mail in sent.sent] == [["alice@backup.example"]]
    assert alice.get("/api/quarantine").json()["items"] == []

    assert read_dead_letters(dead_letter(event)) == {"batchItemFailures": []}
    assert read_dead_letters(dead_letter(event, "sqs-again")) == {"batchItemFailures": []}  # SQS delivers twice

    (held,) = alice.get("/api/quarantine").json()["items"]
    assert (held["destination"], held["reason"]) == ("alice@real.example", "retries_exhausted")
    assert len(sent.system_to("alice@example.org")) == 1  # the notice, once
    redriven = mailroom.forward(event)  # an operator redrives the event anyway
    assert (redriven["sent"], len(sent.sent)) == (0, 1)
    assert alice.post(f"/api/quarantine/{held['id']}/resend").status == 202
    assert [mail.destinations for mail in sent.sent] == [["alice@backup.example"], ["alice@real.example"]]


def test_a_record_that_cannot_be_read_is_given_back_to_sqs(table: str, mailroom: Mailroom) -> None:
    broken = {"Records": [{"messageId": "sqs-broken", "body": "{not json"}]}
    assert read_dead_letters(broken) == {"batchItemFailures": [{"itemIdentifier": "sqs-broken"}]}


def test_every_stored_message_is_accounted_for_or_reported(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    new_alias(alice, alice_domain, "off", ["alice@real.example"], enabled=False)
    mailroom.deliver(MESSAGE, ["shop@alice.example"])  # forwarded
    mailroom.deliver(MESSAGE, ["off@alice.example"])  # blocked
    mailroom.deliver(MESSAGE, ["nobody@nowhere.example"])  # dropped: nobody's domain
    sent.fail_next(400, "MessageRejected", "Email address is not verified.")
    mailroom.deliver(MESSAGE, ["shop@alice.example"])  # quarantined
    lost = mailroom.receive(MESSAGE, ["shop@alice.example"])  # stored, but the forwarder never ran
    lost_id = lost["Records"][0]["ses"]["mail"]["messageId"]
    today = clock.now().date()

    within_retries = reconcile.run(today)
    assert (within_retries.stored, within_retries.pending, within_retries.unaccounted) == (5, [lost_id], [])
    assert within_retries.outcomes == {"forwarded": 1, "blocked": 1, "dropped": 1, "quarantined": 1}

    later = clock.now() + reconcile.RETRY_WINDOW + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    metrics.flush_metrics()  # the first run's metrics
    capsys.readouterr()
    after_retries = reconcile.run(today)
    metrics.flush_metrics()
    logged = capsys.readouterr().out
    assert (after_retries.pending, after_retries.unaccounted) == ([], [lost_id])
    assert '"Unaccounted":[1.0]' in logged.replace(" ", "")
    (line,) = [record for record in caplog.records if record.getMessage().startswith("messages unaccounted for")]
    assert line.levelname == "ERROR"
    assert lost_id in str(line.__dict__)

    # The dead-letter reader accounts for it, as it would after the forwarder's retries.
    read_dead_letters(dead_letter(lost))
    assert reconcile.run(today).unaccounted == []
