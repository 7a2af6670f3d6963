"""Mail as SES delivers it: the raw message stored in the mail bucket, then the forwarder invoked with the
receipt event; what leaves for SES is recorded byte for byte (tests/support/ses.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local import sam_template
from local.functions import FakeLambdaContext, load_handler
from local.ses import Verdicts, emulate_ses, new_message_id, receipt_event, stored_message
from postmask import ses
from postmask.mail import inbox
from postmask.settings import get_settings
from tests.support.ses import SesRecorder

FORWARDER = sam_template.ROOT / "functions" / "forwarder"
BUCKET = "postmask-mail-test"
PASSED = Verdicts()
PUBLIC_URL = "https://postmask.test"


@dataclass
class Mailroom:
    """Plays SES's receipt rule: store to S3, then invoke the forwarder with the event."""

    bucket: str

    def receive(
        self,
        content: bytes,
        recipients: list[str],
        *,
        sender: str = "sender@example.net",
        verdicts: Verdicts = PASSED,
        store: bool = True,
    ) -> dict[str, Any]:
        """Store `content` as the S3 action would; the Lambda action's event for it."""
        message_id = new_message_id()
        stored = stored_message(content, message_id=message_id, envelope_sender=sender, recipients=recipients)
        if store:
            boto3.client("s3").put_object(Bucket=self.bucket, Key=f"inbound/{message_id}", Body=stored)
        return receipt_event(
            stored, message_id=message_id, envelope_sender=sender, recipients=recipients, verdicts=verdicts
        )

    def forward(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = load_handler(FORWARDER, "app.lambda_handler")(
            event, FakeLambdaContext("ForwarderFunction")
        )
        return result

    def deliver(self, content: bytes, recipients: list[str], **kwargs: Any) -> dict[str, Any]:
        return self.forward(self.receive(content, recipients, **kwargs))


@pytest.fixture
def mailroom(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailroom]:
    emulate_ses()  # moto's SES as SES behaves (local/ses.py): for the tests that let a send through to it
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    monkeypatch.setenv("MAIL_BUCKET", BUCKET)
    monkeypatch.setenv("MAIL_PREFIX", "inbound/")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)  # the template always gives the forwarder one (leak notices' links)
    get_settings.cache_clear()
    inbox.s3.cache_clear()
    ses.client.cache_clear()
    ses.forget_verifications()
    yield Mailroom(BUCKET)
    get_settings.cache_clear()
    inbox.s3.cache_clear()
    ses.client.cache_clear()


@pytest.fixture
def sent(mailroom: Mailroom) -> SesRecorder:
    """Every message the forwarder hands to SES."""
    return SesRecorder().install(ses.client())
