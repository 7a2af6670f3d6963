"""The forwarder against abuse and loss (issue 13): DMARC, loops, one recipient at a time, SES's permanent
refusals, threads, and the whole corpus through S3 and SES, checked with a strict parser."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from local.ses import Verdicts
from postmask import ses
from postmask.mail import message as message_module
from postmask.mail.forwarder import ForwardingIncomplete
from postmask.store import deliveries, threads
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import BLOCKED_ONCE, FORWARDED_ONCE, NOTHING_COUNTED, counts, new_alias
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of
from tests.support.mail import corpus, header_problems
from tests.support.ses import SesRecorder

MESSAGE = corpus()["multipart-alternative.eml"]


def decisions(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    """(recipient, action, reason) of every "mail decision" log line."""
    found = []
    for record in caplog.records:
        if record.getMessage() == "mail decision":
            found.append((record.recipient, record.action, record.reason))  # type: ignore[attr-defined]
    return found


def emitted_metrics(out: str) -> dict[str, float]:
    """The metrics flushed as EMF lines on stdout, summed by name."""
    totals: dict[str, float] = {}
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for definition in document["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                values = document[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
    return totals


# --- 3. DMARC ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["reject", "quarantine", "REJECT"])
def test_dmarc_fail_under_reject_or_quarantine_is_blocked_with_its_own_reason(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    policy: str,
) -> None:
    caplog.set_level(logging.INFO)
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    capsys.readouterr()

    verdicts = Verdicts(dmarc="FAIL", dmarc_policy=policy, spf="FAIL", dkim="FAIL")
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"], verdicts=verdicts, store=False)

    assert summary["blocked"] == ["shop@alice.example"]
    assert sent.sent == []
    assert counts(alice, alias) == BLOCKED_ONCE
    assert decisions(caplog) == [("shop@alice.example", "block", "dmarc_fail")]
    assert emitted_metrics(capsys.readouterr().out) == {"MailBlocked": 1, "MailBlockedDmarc": 1}


def test_dmarc_fail_under_a_none_policy_is_forwarded(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    summary = mailroom.deliver(MESSAGE, ["shop@alice.example"], verdicts=Verdicts(dmarc="FAIL", dmarc_policy="none"))
    assert summary["forwarded"] == ["shop@alice.example"]
    assert counts(alice, alias) == FORWARDED_ONCE


def test_dmarc_fail_blocks_the_catch_all_too(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])  # only verified destinations receive mail
    alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "alice@real.example"})
    verdicts = Verdicts(dmarc="FAIL", dmarc_policy="reject")
    summary = mailroom.deliver(MESSAGE, ["whoever@alice.example"], verdicts=verdicts, store=False)
    assert summary["blocked"] == ["whoever@alice.example"]
    assert sent.sent == []


# --- 4. loops ---------------------------------------------------------------------------------------------


def test_a_copy_that_comes_back_is_dropped_as_a_loop(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    other = new_alias(alice, alice_domain, "other", ["alice@elsewhere.example"])
    mailroom.deliver(MESSAGE, ["shop@alice.example"])
    (copy,) = sent.sent
    capsys.readouterr()
    caplog.clear()

    # The destination forwards it on, to another alias (a rule in its mail client, a mailing list...).
    summary = mailroom.deliver(copy.raw, ["other@alice.example"], sender="alice@real.example")

    assert summary["dropped"] == ["other@alice.example"]
    assert len(sent.sent) == 1
    assert decisions(caplog) == [("other@alice.example", "drop", "loop")]
    assert emitted_metrics(capsys.readouterr().out) == {"MailDropped": 1, "MailDroppedLoop": 1}
    assert counts(alice, other) == NOTHING_COUNTED


def test_a_marker_nobody_was_given_does_not_stop_mail(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    mailroom.deliver(MESSAGE, ["shop@alice.example"])
    (copy,) = sent.sent
    marker = copy.header("X-Postmask-Hop")
    assert marker is not None
    _, _, token = marker.partition(".")
    forged = copy.raw.replace(token.encode(), b"0" * len(token))

    assert mailroom.deliver(forged, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    assert mailroom.deliver(corpus()["hostile-forged-hop-and-alias-headers.eml"], ["shop@alice.example"])[
        "forwarded"
    ] == ["shop@alice.example"]


def test_every_copy_of_a_message_carries_the_same_marker_across_retries(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    sent.fail_next(500, "InternalFailure", "try again")
    with pytest.raises(ForwardingIncomplete):
        mailroom.forward(event)
    mailroom.forward(event)

    markers = {mail.header("X-Postmask-Hop") for mail in sent.sent}
    assert len(sent.sent) == 2
    assert len(markers) == 1
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    assert markers.pop().startswith(f"{message_id}.")  # type: ignore[union-attr]


# --- 6. SES's permanent refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["MessageRejected", "BadRequestException", "InvalidParameterValue"])
def test_a_permanent_ses_refusal_is_recorded_and_not_retried(
    alice: Client,
    alice_domain: str,
    mailroom: Mailroom,
    sent: SesRecorder,
    table: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    code: str,
) -> None:
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example", "alice@backup.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    sent.fail_next(400, code, "Missing domain")

    first = mailroom.forward(event)  # no exception: Lambda must not retry what SES will always refuse
    replay = mailroom.forward(event)

    assert (first["rejected"], first["sent"]) == (1, 1)
    assert (replay["sent"], replay["rejected"]) == (0, 0)
    assert [mail.destinations for mail in sent.sent] == [["alice@backup.example"]]
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    record = boto3.client("dynamodb").get_item(
        TableName=table, Key=deliveries._key(message_id, "shop@alice.example", "alice@real.example")
    )["Item"]
    assert (record["status"]["S"], record["reason"]["S"]) == ("rejected", code)
    assert any(r.levelname == "ERROR" and "refused" in r.getMessage() for r in caplog.records)
    assert emitted_metrics(capsys.readouterr().out)["MailRejected"] == 1
    assert counts(alice, alias) == FORWARDED_ONCE  # the other destination has it


def test_a_transient_ses_error_is_retried(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    event = mailroom.receive(MESSAGE, ["shop@alice.example"])
    sent.fail_next(429, "TooManyRequestsException", "Maximum sending rate exceeded.")
    with pytest.raises(ForwardingIncomplete, match="TooManyRequestsException"):
        mailroom.forward(event)
    assert mailroom.forward(event)["sent"] == 1


# --- 7. one recipient at a time ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a..b@alice.example", "jörg@alice.example", "no-domain", "x@xn--zz.example"])
def test_a_recipient_no_copy_can_be_sent_from_does_not_cost_the_others_theirs(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, bad: str
) -> None:
    verify_destinations_of(alice, ["alice@real.example"])  # only verified destinations receive mail
    alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "alice@real.example"})
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    summary = mailroom.deliver(MESSAGE, [bad, "shop@alice.example"])

    assert summary["forwarded"] == ["shop@alice.example"]
    assert summary["dropped"] == [bad]
    assert [mail.sender for mail in sent.sent] == ["shop@alice.example"]


def test_a_failure_for_one_recipient_is_retried_while_the_others_are_sent(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    new_alias(alice, alice_domain, "news", ["alice@real.example"])
    real = message_module.forwarded_header_block

    def broken_for_shop(message: Any, *, alias: str, **kwargs: Any) -> bytes:
        if alias == "shop@alice.example":
            raise ValueError("something about this copy")
        return real(message, alias=alias, **kwargs)

    monkeypatch.setattr("postmask.mail.copies.forwarded_header_block", broken_for_shop)
    event = mailroom.receive(MESSAGE, ["shop@alice.example", "news@alice.example"])

    with pytest.raises(ForwardingIncomplete):
        mailroom.forward(event)
    assert [mail.sender for mail in sent.sent] == ["news@alice.example"]

    monkeypatch.setattr("postmask.mail.copies.forwarded_header_block", real)
    assert mailroom.forward(event)["forwarded"] == ["shop@alice.example", "news@alice.example"]
    assert [mail.sender for mail in sent.sent] == ["news@alice.example", "shop@alice.example"]


# --- 10. threads ------------------------------------------------------------------------------------------


def test_replies_name_the_ids_each_destination_received(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "list", ["one@real.example", "two@real.example"])
    first = (
        b"From: Ann <ann@example.org>\r\nTo: list@alice.example\r\nSubject: plans\r\n"
        b"Message-ID: <plans-1@example.org>\r\n\r\nLet us plan.\r\n"
    )
    mailroom.deliver(first, ["list@alice.example"])
    received = {mail.destinations[0]: f"<recorded-{n}@eu-west-1.amazonses.com>" for n, mail in enumerate(sent.sent, 1)}

    reply = (
        b"From: Bob <bob@example.org>\r\nTo: list@alice.example\r\nSubject: Re: plans\r\n"
        b"Message-ID: <plans-2@example.org>\r\nIn-Reply-To: <plans-1@example.org>\r\n"
        b"References: <older@example.org> <plans-1@example.org>\r\n\r\nAgreed.\r\n"
    )
    mailroom.deliver(reply, ["list@alice.example"])

    for mail in sent.sent[2:]:
        destination = mail.destinations[0]
        assert mail.header("In-Reply-To") == received[destination]
        assert mail.header("References").split() == ["<older@example.org>", received[destination]]  # type: ignore[union-attr]
    # Both directions are on record, for the replies that go back through the alias (issue 16).
    assert threads.outside_id("list@alice.example", received["one@real.example"]) == "<plans-1@example.org>"
    later = threads.inside_ids("list@alice.example", ["one@real.example"], ["<plans-2@example.org>"])
    assert later == {"one@real.example": {"<plans-2@example.org>": "<recorded-3@eu-west-1.amazonses.com>"}}


def test_the_id_a_destination_received_is_the_one_ses_gives_in_us_east_1() -> None:
    assert ses.received_message_id("0100abc-000000", "us-east-1") == "<0100abc-000000@email.amazonses.com>"
    assert ses.received_message_id("0102abc-000000", "eu-west-1") == "<0102abc-000000@eu-west-1.amazonses.com>"


# --- the whole corpus, through S3 and SES -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_corpus_message_is_forwarded_with_a_header_block_without_defects(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, name: str
) -> None:
    new_alias(alice, alice_domain, "box", ["alice@real.example"])

    summary = mailroom.deliver(corpus()[name], ["box@alice.example"])

    assert summary["forwarded"] == ["box@alice.example"]
    (mail,) = sent.sent
    assert header_problems(mail.raw, "box@alice.example") == []


# Encoded words the stdlib's decoder raises on (email.errors.HeaderParseError, CharsetError), as a sender writes
# them to break a parser: base64 padding past the end, a charset name that is not ASCII.
BROKEN_ENCODED_WORDS = (
    b"From: =?utf-8?b?A===?= <news@shop.example>\r\n"
    b"To: box@alice.example\r\n"
    b"Subject: =?utf-8?b?A===?=\r\n"
    b"X-Campaign: =?utf-\xc3\xa9?q?spring?=\r\n"
    b"Message-ID: <broken-words@shop.example>\r\n"
    b"\r\n"
    b"Hello\r\n"
)


def test_encoded_words_the_decoder_chokes_on_do_not_stop_the_copy(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "box", ["alice@real.example"])

    summary = mailroom.deliver(BROKEN_ENCODED_WORDS, ["box@alice.example"])

    assert summary["forwarded"] == ["box@alice.example"]
    (mail,) = sent.sent
    assert header_problems(mail.raw, "box@alice.example") == []
    assert b"Subject: =?utf-8?b?A===?=" in mail.raw  # as written: nothing to decode it to
