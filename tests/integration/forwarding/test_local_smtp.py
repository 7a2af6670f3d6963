"""Local mode: real SMTP (smtplib) into the listener, the forwarder run as SES would run it, the forwarded copy
in the outbox, and the alias's forwarded_count risen through the API. Once over mock_aws, once over a
ThreadedMotoServer on 127.0.0.1 (how a local stack serves moto to other clients)."""

from __future__ import annotations

import os
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local.outbox import Outbox
from local.sam_template import table_definition
from local.smtp import SmtpServer, provision_mail, start_smtp
from postmask import ses
from postmask.mail import inbox
from postmask.mail.message import RawMessage
from postmask.settings import get_settings
from postmask.store import _dynamo
from tests.integration.conftest import new_user
from tests.integration.forwarding.test_forwarder import counts, new_alias
from tests.support.api import Client
from tests.support.mail import corpus

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
