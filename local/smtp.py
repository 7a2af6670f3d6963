"""The local SMTP ingress, playing Amazon SES's receipt rule on 127.0.0.1:${SMTP_PORT:-2525}.

For every message accepted: store it in the local mail bucket as the S3 action does (SES's headers
prepended), build the Lambda action's event (local/ses.py), invoke the forwarder's handler from
template.yaml (or the `forward` given), then write what it sent to the outbox. The SMTP client gets its 250
once the forwarder has run (SES answers sooner; locally, waiting makes the result observable at once); a
forwarder failure is logged (in AWS, Lambda would retry, then dead-letter).

`python -m local` (local/stack.py) passes the bucket provisioned from the template and a `forward` that
invokes the forwarder in its worker; `provision_mail()` is the in-process set-up for tests.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from local import feedback as local_feedback
from local import sam_template
from local.functions import FakeLambdaContext, Handler, load_handler
from local.outbox import Outbox
from local.resources import create_bucket
from local.ses import emulate_ses, local_verdicts, new_message_id, receipt_event, stored_message
from postmask.settings import get_settings

DEFAULT_PORT = 2525
DEFAULT_BUCKET = "postmask-local-mail"
MAIL_PREFIX = "inbound/"
# SES's receiving limit, headers included.
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
FORWARDER = "ForwarderFunction"

log = logging.getLogger("postmask.local.smtp")

# (kind, the message asking for it) -> the SMTP reply: a bounce or complaint for a destination (local/feedback.py).
Feedback = Callable[[str, bytes], str]


@dataclass(frozen=True)
class MailSetup:
    bucket: str
    prefix: str = MAIL_PREFIX


def provision_mail(bucket: str = DEFAULT_BUCKET) -> MailSetup:
    """Create the mail bucket (in moto) and point the forwarder at it, as the template's MAIL_BUCKET does;
    make moto's domain identities behave like SES's."""
    emulate_ses()
    create_bucket(bucket)
    os.environ["MAIL_BUCKET"] = bucket
    os.environ["MAIL_PREFIX"] = MAIL_PREFIX
    get_settings.cache_clear()
    return MailSetup(bucket)


def forwarder_handler() -> Handler:
    """The forwarder's handler, found through template.yaml like every other function of the local stack."""
    function = sam_template.functions()[FORWARDER]["Properties"]
    return load_handler(sam_template.ROOT / function["CodeUri"], function["Handler"])


class Ingress:
    """aiosmtpd handler: every accepted message goes through `receive` in a worker thread (or, when it asks
    for a bounce or complaint of a destination, through `feedback`: local/feedback.py)."""

    def __init__(
        self, mail: MailSetup, outbox: Outbox, forward: Handler | None = None, feedback: Feedback | None = None
    ) -> None:
        self.mail = mail
        self.outbox = outbox
        self.forward = forward or forwarder_handler()
        self.feedback = feedback

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        if not isinstance(content, bytes) or not envelope.rcpt_tos:
            return "554 Transaction failed: nothing to deliver"
        sender = envelope.mail_from or ""
        recipients = list(envelope.rcpt_tos)
        kind = local_feedback.requested(recipients)
        if kind is not None and self.feedback is not None:
            return await asyncio.get_running_loop().run_in_executor(None, self.feedback, kind, content)
        await asyncio.get_running_loop().run_in_executor(None, self.receive, sender, recipients, content)
        return "250 OK"

    def receive(self, sender: str, recipients: list[str], content: bytes) -> dict[str, Any] | None:
        """Store, invoke, write the outbox: what SES and Lambda do with one message. The forwarder's summary,
        or None when it failed."""
        import boto3

        message_id = new_message_id()
        region = boto3.client("s3").meta.region_name
        content, verdicts = local_verdicts(content)  # the contract's local verdict header: read, then removed
        stored = stored_message(
            content,
            message_id=message_id,
            envelope_sender=sender,
            recipients=recipients,
            verdicts=verdicts,
            region=region,
        )
        boto3.client("s3").put_object(Bucket=self.mail.bucket, Key=self.mail.prefix + message_id, Body=stored)
        event = receipt_event(
            stored,
            message_id=message_id,
            envelope_sender=sender,
            recipients=recipients,
            verdicts=verdicts,
            function_arn=f"arn:aws:lambda:{region}:123456789012:function:{FORWARDER}",
        )
        try:
            result: dict[str, Any] = self.forward(event, FakeLambdaContext(FORWARDER, request_id=message_id))
            return result
        except Exception:
            log.exception("the forwarder failed on %s (in AWS, Lambda would retry, then dead-letter)", message_id)
            return None
        finally:
            for path in self.outbox.flush():
                log.info("outbox: %s", path)


class _SesLikeSmtp(SMTP):
    """SES receives lines of any length (it is sending them that it refuses): so does the local listener."""

    line_length_limit = MAX_MESSAGE_BYTES


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _SesLikeSmtp(self.handler, **self.SMTP_kwargs)


@dataclass
class SmtpServer:
    controller: Controller
    host: str
    port: int

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(
    mail: MailSetup,
    outbox: Outbox,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    forward: Handler | None = None,
    feedback: Feedback | None = None,
) -> SmtpServer:
    """Listen on `host`:`port` (default `${SMTP_PORT:-2525}`) in a background thread; `.stop()` ends it."""
    port = port if port is not None else int(os.environ.get("SMTP_PORT") or DEFAULT_PORT)
    controller = _Controller(
        Ingress(mail, outbox, forward, feedback),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
    )
    controller.start()
    return SmtpServer(controller, host, port)
