"""Local mode: real SMTP (smtplib) into the listener, the forwarder run as SES would run it, the forwarded copy
in the outbox, and the alias's forwarded_count risen through the API. Once over mock_aws, once over a
ThreadedMotoServer on 127.0.0.1 (how a local stack serves moto to other clients)."""

from __future__ import annotations

import os
import re
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local.outbox import Outbox
from local.sam_template import table_definition
from local.ses import receipt_event
from local.smtp import SmtpServer, provision_mail, start_smtp
from postmask import ses
from postmask.mail import inbox
from postmask.mail.message import RawMessage
from postmask.settings import get_settings
from postmask.store import _dynamo
from tests.integration.conftest import new_user
from tests.integration.forwarding.test_forwarder import counts, new_alias
from tests.support.api import Client
from tests.support.mail import as_email, corpus, header_problems, leaf_payloads, long_lines, over_smtp

MESSAGE = corpus()["multipart-alternative.eml"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def reset_clients() -> None:
    for cached in (_dynamo.client, inbox.s3, ses.client, get_settings):
        cached.cache_clear()
    ses.forget_verifications()


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpServer, Outbox]]:
    """The listener and its outbox, over whatever moto the test set up (the table must exist)."""
    monkeypatch.setenv("MAIL_BUCKET", "")  # provision_mail sets it; monkeypatch puts it back afterwards
    monkeypatch.setenv("MAIL_PREFIX", "")
    reset_clients()
    outbox = Outbox(tmp_path / "outbox")
    server = start_smtp(provision_mail(), outbox, port=free_port())
    yield server, outbox
    server.stop()
    reset_clients()


def send(server: SmtpServer, sender: str, recipients: list[str], message: bytes) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        refused = client.sendmail(sender, recipients, message)
    assert refused == {}


def scenario(alice: Client, domain: str, server: SmtpServer, outbox: Outbox) -> None:
    """Given an alias, when a message is sent to it over SMTP, then its copy is in the outbox and counted."""
    alias = new_alias(alice, domain, "shop", ["alice@real.example"])

    send(server, "orders@shop.example", [f"shop@{domain}"], MESSAGE)

    (written,) = sorted(outbox.directory.glob("*.eml"))
    assert written.name.endswith("-alice@real.example.eml")
    forwarded = RawMessage.parse(written.read_bytes())
    assert bytes(forwarded.body) == bytes(RawMessage.parse(MESSAGE).body)
    assert forwarded.first("X-Postmask-Alias").text() == f"shop@{domain}"  # type: ignore[union-attr]
    assert counts(alice, alias)["forwarded_count"] == 1


def test_smtp_to_an_alias_lands_in_the_outbox_and_counts(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox]
) -> None:
    scenario(alice, alice_domain, *smtp)


def test_unknown_recipients_are_accepted_like_ses_does_and_dropped(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox]
) -> None:
    server, outbox = smtp
    send(server, "someone@example.net", ["nobody@alice.example"], MESSAGE)
    assert outbox.flush() == []
    assert not outbox.directory.exists() or list(outbox.directory.iterdir()) == []


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    reset_clients()
    boto3.client("dynamodb").create_table(TableName=os.environ["TABLE_NAME"], **table_definition())
    yield f"http://{host}:{port}"
    reset_clients()
    server.stop()
    from moto.core.models import reset_model_data

    reset_model_data()  # the server shares moto's in-process backends: leave none behind


def test_the_same_over_a_threaded_moto_server(moto_server: str, smtp: tuple[SmtpServer, Outbox]) -> None:
    alice = new_user("alice@example.org")
    assert alice.post("/api/domains", {"name": "alice.example"}).status == 201
    scenario(alice, "alice.example", *smtp)


# --- issue 13, item 9: the local stack carries what SES would carry, and looks like SES to the recipient ----


def written(outbox: Outbox) -> list[bytes]:
    return [path.read_bytes() for path in sorted(outbox.directory.glob("*.eml"))] if outbox.directory.exists() else []


@pytest.mark.parametrize(
    "name",
    [
        "shift-jis-8bit.eml",
        "ks-c-5601-8bit.eml",
        "latin1-8bit-no-mime.eml",
        "yenc-binary.eml",
        "outlook-lastname-firstname.eml",
        "hostile-nested-comments.eml",
        "hostile-8bit-headers.eml",
    ],
)
def test_messages_that_were_lost_locally_are_forwarded_byte_for_byte(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox], name: str
) -> None:
    server, outbox = smtp
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    send(server, "sender@example.net", ["shop@alice.example"], corpus()[name])

    (copy,) = written(outbox)
    assert bytes(RawMessage.parse(copy).body) == bytes(RawMessage.parse(over_smtp(corpus()[name])).body)
    assert header_problems(copy, "shop@alice.example") == []


def test_lines_over_998_bytes_are_accepted_and_leave_re_encoded(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox]
) -> None:
    server, outbox = smtp
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    original = corpus()["long-lines-multipart.eml"]

    send(server, "sender@example.net", ["shop@alice.example"], original)

    (copy,) = written(outbox)
    assert long_lines(copy) == 0
    assert leaf_payloads(as_email(copy)) == leaf_payloads(as_email(original))


def test_the_local_ses_sets_its_own_message_id_and_date_as_ses_does(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox]
) -> None:
    server, outbox = smtp
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    send(server, "orders@shop.example", ["shop@alice.example"], MESSAGE)

    (copy,) = written(outbox)
    parsed = as_email(copy)
    assert re.fullmatch(r"<0102[0-9a-f]{12}-[0-9a-f-]{36}-000000@eu-west-1\.amazonses\.com>", parsed["Message-ID"])
    assert len(parsed.get_all("Message-ID")) == 1
    assert len(parsed.get_all("Date")) == 1
    assert parsed["Date"].datetime != as_email(MESSAGE)["Date"].datetime


def test_a_bcc_smuggled_into_a_header_sends_to_nobody_else(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox]
) -> None:
    server, outbox = smtp
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    send(server, "sender@example.net", ["shop@alice.example"], corpus()["hostile-bare-cr-bcc.eml"])

    assert [path.name.rsplit("-", 1)[-1] for path in sorted(outbox.directory.glob("*.eml"))] == [
        "alice@real.example.eml"
    ]
    from moto.ses.models import ses_backends

    assert [m.destinations for m in ses_backends["123456789012"]["eu-west-1"].sent_messages] == [["alice@real.example"]]


@pytest.mark.parametrize(
    ("header", "blocked"),
    [
        (b"X-Postmask-Local-Verdicts: dmarc=FAIL dmarc-policy=REJECT\r\n", True),
        (b"X-Postmask-Local-Verdicts: spam=FAIL\r\n", True),
        (b"X-Postmask-Local-Verdicts: virus=fail spf=FAIL\r\n", True),
        (b"X-Postmask-Local-Verdicts: dmarc=FAIL dmarc-policy=NONE\r\n", False),
        (b"X-Postmask-Local-Verdicts: spf=FAIL dkim=FAIL\r\n", False),
        (b"", False),
    ],
)
def test_the_local_verdicts_header_plays_ses_verdicts_and_is_removed(
    alice: Client, alice_domain: str, smtp: tuple[SmtpServer, Outbox], header: bytes, blocked: bool
) -> None:
    server, outbox = smtp
    alias = new_alias(alice, alice_domain, "shop", ["alice@real.example"])

    send(server, "sender@example.net", ["shop@alice.example"], header + MESSAGE)

    state = counts(alice, alias)
    assert (state["blocked_count"], state["forwarded_count"]) == ((1, 0) if blocked else (0, 1))
    stored = [
        boto3.client("s3").get_object(Bucket=provision_mail().bucket, Key=item["Key"])["Body"].read()
        for item in boto3.client("s3").list_objects_v2(Bucket=provision_mail().bucket).get("Contents", [])
    ]
    assert len(stored) == 1
    assert b"X-Postmask-Local-Verdicts" not in stored[0]
    assert all(b"X-Postmask-Local-Verdicts" not in copy for copy in written(outbox))


def test_local_verdicts_are_all_pass_by_default() -> None:
    event = receipt_event(
        b"Subject: x\r\n\r\n", message_id="m", envelope_sender="a@b.example", recipients=["c@d.example"]
    )
    receipt = event["Records"][0]["ses"]["receipt"]
    assert {name: receipt[name]["status"] for name in receipt if name.endswith("Verdict")} == dict.fromkeys(
        ("spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict"), "PASS"
    )
    assert "dmarcPolicy" not in receipt


def test_the_local_ses_refuses_what_ses_refuses() -> None:
    from local.ses import ses_refusal

    assert ses_refusal(b"From: a@b.example\r\nTo: baz\r\n\r\nx\r\n") == ("InvalidParameterValue", "Missing domain: To")
    assert ses_refusal(b"From: a@b.example\r\nSubject: a\r\nSubject: b\r\n\r\nx\r\n")[0] == "InvalidParameterValue"
    assert ses_refusal(b"From: a@b.example\r\n\r\n" + b"x" * 999 + b"\r\n")[0] == "MessageRejected"
    assert ses_refusal(b"From: a@b.example\r\nTo: c@d.example\r\n\r\n\xff\xfe 8-bit\r\n") is None
