"""Amazon SES's side of receiving mail, played locally: what its S3 action stores, and the event its Lambda
action sends to the forwarder (`Records[].ses.mail` / `.receipt`, as documented in "Sample incoming email
event" of the SES developer guide). The local SMTP listener and the tests build events only here.

Also where moto's SES differs from SES for domain identities (`emulate_ses_identities`). Locally a
domain is verified as soon as it is registered (moto reports SUCCESS): there is no DNS to check.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from postmask.clock import iso, now
from postmask.mail.headers import mailboxes
from postmask.mail.message import RawMessage

ACCOUNT_ID = "123456789012"  # moto's default account
_DKIM_TOKEN_CHARACTERS = "abcdefghijklmnopqrstuvwxyz234567"  # noqa: S105 - what SES tokens are made of


@dataclass(frozen=True)
class Verdicts:
    """SES's checks on a received message. Locally nothing is checked: every verdict is PASS (the contract's
    "Local mode"), unless a test or the `X-Postmask-Local-Verdicts` header (local/smtp.py) says otherwise.
    `dmarc_policy` is the sending domain's policy (`none`, `quarantine`, `reject`), which SES reports only when
    DMARC fails."""

    spam: str = "PASS"
    virus: str = "PASS"
    spf: str = "PASS"
    dkim: str = "PASS"
    dmarc: str = "PASS"
    dmarc_policy: str | None = None


def new_message_id() -> str:
    """Shaped like SES's ids (lower-case alphanumerics), unique enough for one machine."""
    return secrets.token_hex(10) + "0" * 4 + secrets.token_hex(6)


def stored_message(
    content: bytes,
    *,
    message_id: str,
    envelope_sender: str,
    recipients: list[str],
    verdicts: Verdicts = Verdicts(),
    received_at: datetime | None = None,
    region: str = "eu-west-1",
) -> bytes:
    """The object the S3 action writes: SES's trace and verdict headers, then the bytes received, unchanged."""
    moment = received_at or now()
    newline = b"\r\n" if b"\r\n" in content[:4096] else b"\n"
    added = [
        f"Return-Path: <{envelope_sender}>",
        f"Received: from localhost (localhost [127.0.0.1]) by inbound-smtp.{region}.amazonaws.com with SMTP id "
        f"{message_id} for {recipients[0] if recipients else 'unknown'}; {format_datetime(moment)}",
        f"X-SES-Spam-Verdict: {verdicts.spam}",
        f"X-SES-Virus-Verdict: {verdicts.virus}",
        f"Received-SPF: {verdicts.spf.lower()} (spfCheck: not evaluated locally) client-ip=127.0.0.1;",
        f"Authentication-Results: amazonses.com; spf={verdicts.spf.lower()}; dkim={verdicts.dkim.lower()}; "
        f"dmarc={verdicts.dmarc.lower()}",
        f"X-SES-RECEIPT: {base64.b64encode(secrets.token_bytes(48)).decode()}",
    ]
    return newline.join(line.encode() for line in added) + newline + content


def receipt_event(
    stored: bytes,
    *,
    message_id: str,
    envelope_sender: str,
    recipients: list[str],
    verdicts: Verdicts = Verdicts(),
    function_arn: str = f"arn:aws:lambda:eu-west-1:{ACCOUNT_ID}:function:postmask-forwarder",
    received_at: datetime | None = None,
) -> dict[str, Any]:
    """The Lambda action's event for a message the S3 action stored (`stored`, SES's headers included)."""
    moment = iso(received_at or now())
    message = RawMessage.parse(stored)
    headers = [{"name": field.name, "value": _unfolded(field.raw_value)} for field in message.fields]
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": moment,
                        "source": envelope_sender,
                        "messageId": message_id,
                        "destination": list(recipients),
                        "headersTruncated": False,
                        "headers": headers,
                        "commonHeaders": _common_headers(message, envelope_sender),
                    },
                    "receipt": {
                        "timestamp": moment,
                        "processingTimeMillis": 42,
                        "recipients": list(recipients),
                        "spamVerdict": {"status": verdicts.spam},
                        "virusVerdict": {"status": verdicts.virus},
                        "spfVerdict": {"status": verdicts.spf},
                        "dkimVerdict": {"status": verdicts.dkim},
                        "dmarcVerdict": {"status": verdicts.dmarc},
                        **({"dmarcPolicy": verdicts.dmarc_policy.lower()} if verdicts.dmarc_policy else {}),
                        "action": {"type": "Lambda", "functionArn": function_arn, "invocationType": "Event"},
                    },
                },
            }
        ]
    }


def _unfolded(raw_value: bytes) -> str:
    return b" ".join(line.strip() for line in raw_value.splitlines()).decode("utf-8", errors="replace").strip()


def _common_headers(message: RawMessage, envelope_sender: str) -> dict[str, Any]:
    """SES's `commonHeaders`: the addresses parsed from the raw values (never decoded first), as text."""
    common: dict[str, Any] = {"returnPath": envelope_sender}
    for key, name in (("from", "from"), ("to", "to"), ("cc", "cc"), ("reply-to", "replyTo")):
        field = message.first(key)
        if field is not None:
            common[name] = [
                f"{mailbox.name} <{mailbox.address}>" if mailbox.name else mailbox.address
                for mailbox in mailboxes(field.raw_value)
            ]
    for key, name in (("date", "date"), ("message-id", "messageId"), ("subject", "subject")):
        field = message.first(key)
        if field is not None:
            common[name] = field.text()
    return common


def emulate_ses_identities() -> None:
    """Make moto's domain identities behave like SES's in the two ways postmask relies on, once per process:
    a new domain identity gets three Easy DKIM tokens, and creating an identity that exists fails with
    AlreadyExistsException (moto would silently replace it, tokens and all)."""
    from moto.core.exceptions import JsonRESTError
    from moto.ses import models
    from moto.sesv2.models import SESV2Backend

    identity_class: Any = models.EmailIdentity
    if getattr(identity_class, "postmask_emulated", False):
        return
    original_init = identity_class.__init__
    original_create = SESV2Backend.create_email_identity

    def with_tokens(self: Any, email_identity: str, *args: Any, **kwargs: Any) -> None:
        original_init(self, email_identity, *args, **kwargs)
        if self.identity_type == "DOMAIN" and "Tokens" not in self.dkim_attributes:
            self.dkim_attributes["Tokens"] = [
                "".join(secrets.choice(_DKIM_TOKEN_CHARACTERS) for _ in range(32)) for _ in range(3)
            ]

    def create_once(self: Any, email_identity: str, *args: Any, **kwargs: Any) -> Any:
        if email_identity in self.core_backend.email_identities:
            raise JsonRESTError("AlreadyExistsException", f"Email identity {email_identity} already exist.")
        return original_create(self, email_identity, *args, **kwargs)

    backend_class: Any = SESV2Backend
    identity_class.__init__ = with_tokens
    backend_class.create_email_identity = create_once
    identity_class.postmask_emulated = True
