"""Amazon SES's side of receiving mail, played locally: what its S3 action stores, and the event its Lambda
action sends to the forwarder (`Records[].ses.mail` / `.receipt`, as documented in "Sample incoming email
event" of the SES developer guide). The local SMTP listener and the tests build events only here.

Also where moto's SES differs from SES (`emulate_ses`), for domain identities and for sending. Locally a
domain is verified as soon as it is registered (moto reports SUCCESS): there is no DNS to check. What the
forwarder sends is kept as bytes (moto decodes a raw message as UTF-8 and fails on any other 8-bit text, which
SES carries), refused where SES refuses it (a malformed address header, a field twice that may appear once, a
line over 998 bytes), sent to the SendEmail destinations only (never to addresses read from the headers), and
stamped as SES stamps it: its own Message-ID and Date, so the outbox shows what a recipient would get.

The local SMTP listener's `X-Postmask-Local-Verdicts` header (the contract's "Local mode") is read here
(`local_verdicts`); nothing deployed reads it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy as email_policy
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

from postmask.clock import iso, now
from postmask.mail import headers as mail_headers
from postmask.mail.headers import mailboxes
from postmask.mail.message import RawMessage

ACCOUNT_ID = "123456789012"  # moto's default account
# What SES says of a custom MAIL FROM once it found the MX record: locally at once (there is no DNS to check).
MAIL_FROM_FOUND = "SUCCESS"
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


def emulate_ses() -> None:
    """Make moto's SES behave like SES where postmask relies on it, once per process: a new domain identity gets
    three Easy DKIM tokens; creating an identity that exists fails with AlreadyExistsException (moto would
    silently replace it, tokens and all); a custom MAIL FROM domain is set and reported (`MailFromAttributes`;
    moto's SESv2 has neither), found at once as the identity is verified at once; and a raw SendEmail is sent as
    SES sends it (`_send_raw`)."""
    from moto.core.exceptions import JsonRESTError
    from moto.ses import models
    from moto.sesv2.models import SESV2Backend
    from moto.sesv2.responses import SESV2Response

    identity_class: Any = models.EmailIdentity
    if getattr(identity_class, "postmask_emulated", False):
        return
    original_init = identity_class.__init__
    original_create = SESV2Backend.create_email_identity
    original_send = SESV2Response.send_email

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

    def send_email(self: Any) -> str:
        params = json.loads(self.body)
        if "Raw" not in (params.get("Content") or {}):
            return str(original_send(self))
        return _send_raw(self.sesv2_backend.core_backend, params, self.region)

    original_get_response: Any = identity_class.get_response_object

    def with_mail_from(self: Any) -> dict[str, Any]:
        response: dict[str, Any] = original_get_response.fget(self)
        if getattr(self, "mail_from_attributes", None):
            response["MailFromAttributes"] = dict(self.mail_from_attributes)
        return response

    def put_mail_from(self: Any) -> str:
        identity = self.sesv2_backend.get_email_identity(unquote(self.path.split("/")[-2]))  # NotFoundException
        params = json.loads(self.body or "{}")
        mail_from = str(params.get("MailFromDomain") or "")
        if not mail_from:
            identity.mail_from_attributes = None  # SES: no MailFromDomain turns the custom MAIL FROM off
            return "{}"
        if not mail_from.lower().endswith("." + identity.email_identity.lower()):
            raise JsonRESTError("BadRequestException", "The MAIL FROM domain must be a subdomain of the identity")
        identity.mail_from_attributes = {
            "MailFromDomain": mail_from,
            "MailFromDomainStatus": MAIL_FROM_FOUND,
            "BehaviorOnMxFailure": params.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE",
        }
        return "{}"

    backend_class: Any = SESV2Backend
    response_class: Any = SESV2Response
    identity_class.__init__ = with_tokens
    identity_class.get_response_object = property(with_mail_from)
    backend_class.create_email_identity = create_once
    response_class.send_email = send_email
    response_class.put_email_identity_mail_from_attributes = put_mail_from
    # Server mode (the local stack) routes by these paths, and none of moto's matches the MAIL FROM's: added
    # before the server builds its SESv2 app (on the first SESv2 request).
    from moto.sesv2 import urls as sesv2_urls

    sesv2_urls.url_paths["{0}/v2/email/identities/(?P<EmailIdentity>[^/]+)/mail-from$"] = SESV2Response.dispatch
    identity_class.postmask_emulated = True


# --- sending as SES sends -----------------------------------------------------------------------------------

_ADDRESS_FIELDS = ("from", "to", "cc", "bcc", "reply-to", "sender")
# SES refuses a message in which one of these appears more than once (its "header fields" page).
_ONCE = frozenset(
    {
        *("accept-language", "archived-at", "auto-submitted", "bounces-to", "comments", "content-alternative"),
        *("content-base", "content-class", "content-description", "content-disposition", "content-duration"),
        *("content-id", "content-language", "content-length", "content-location", "content-md5"),
        *("content-transfer-encoding", "content-type", "date", "delivered-to", "disposition-notification-options"),
        *("disposition-notification-to", "dkim-signature", "domainkey-signature", "errors-to", "from", "importance"),
        *("in-reply-to", "keywords", "list-archive", "list-help", "list-id", "list-owner", "list-post"),
        *("list-subscribe", "list-unsubscribe", "list-unsubscribe-post", "message-context", "message-id"),
        *("mime-version", "organization", "original-from", "original-message-id", "original-recipient"),
        *("original-subject", "precedence", "priority", "references", "reply-to", "return-path"),
        *("return-receipt-to", "sender", "solicitation", "sensitivity", "subject", "thread-index", "thread-topic"),
        *("user-agent", "vbr-info"),
    }
)
_LONG_LINE = re.compile(rb"(?m)^(?:[^\n]{1000}|[^\n]{998}[^\r\n])")


def ses_refusal(raw: bytes) -> tuple[str, str] | None:
    """(error code, message) with which SES refuses this raw message, or None when it sends it."""
    message = RawMessage.parse(raw)
    for key in _ADDRESS_FIELDS:
        for field in message.all(key):
            parsed = email_policy.default.header_factory(field.name, mail_headers.header_text(field.raw_value))
            if any(not address.domain for address in getattr(parsed, "addresses", ())):
                return "InvalidParameterValue", f"Missing domain: {field.name}"
            if getattr(parsed, "defects", ()):
                return "InvalidParameterValue", f"Illegal address: {field.name}"
    counted: dict[str, int] = {}
    for field in message.fields:
        counted[field.key] = counted.get(field.key, 0) + 1
        if field.key in _ONCE and counted[field.key] > 1:
            return "InvalidParameterValue", f"Duplicate header '{field.name}'"
    if _LONG_LINE.search(raw):
        return "MessageRejected", "Message has a line longer than 998 characters (RFC 5322)"
    return None


def ses_message_id() -> str:
    """Shaped like an SESv2 MessageId: `0102` and a millisecond clock in hex, a UUID, `-000000`."""
    return f"0102{int(time.time() * 1000):012x}-{uuid.uuid4()}-000000"


def as_sent(raw: bytes, message_id: str, region: str, moment: datetime | None = None) -> bytes:
    """The message as SES hands it on: its Message-ID and Date replaced by SES's own (its "header fields" page).
    Everything else, the body above all, byte for byte."""
    message = RawMessage.parse(raw)
    newline = message.newline
    kept = [field.raw + newline for field in message.fields if field.key not in ("message-id", "date")]
    host = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    stamp = [
        f"Message-ID: <{message_id}@{host}>".encode("ascii") + newline,
        b"Date: " + format_datetime(moment or now()).encode("ascii") + newline,
    ]
    return b"".join([*kept, *stamp, newline]) + bytes(message.body)


def envelope_sender(backend: Any, source: str, message_id: str, region: str) -> str:
    """The MAIL FROM SES sends with: on the sending domain's custom MAIL FROM domain once SES found its MX, else on
    SES's own (BehaviorOnMxFailure USE_DEFAULT_VALUE: mail still goes out; decision 0085)."""
    domain = source.rpartition("@")[2].lower()
    identity = backend.email_identities.get(domain)
    mail_from = getattr(identity, "mail_from_attributes", None) or {}
    if mail_from.get("MailFromDomainStatus") == "SUCCESS":
        return f"{message_id}@{mail_from['MailFromDomain']}"
    return f"{message_id}@{'amazonses.com' if region == 'us-east-1' else region + '.amazonses.com'}"


def _send_raw(backend: Any, params: dict[str, Any], region: str) -> str:
    """moto's SESv2 raw SendEmail, as SES does it (see the module docstring). The SendEmail JSON answer."""
    from moto.ses.exceptions import InvalidParameterValue, MessageRejectedError
    from moto.ses.models import RawMessage as MotoRawMessage

    source = str(params.get("FromEmailAddress") or "")
    if not backend._is_verified_address(source):
        raise MessageRejectedError(f"Email address is not verified. The following identities failed: {source}")
    destination = params.get("Destination") or {}
    recipients = [
        *destination.get("ToAddresses", []),
        *destination.get("CcAddresses", []),
        *destination.get("BccAddresses", []),
    ]
    raw = base64.b64decode(params["Content"]["Raw"]["Data"])
    refusal = ses_refusal(raw)
    if refusal is not None:
        code, text = refusal
        raise (InvalidParameterValue if code == "InvalidParameterValue" else MessageRejectedError)(text)
    message_id = ses_message_id()
    sent = as_sent(raw, message_id, region)
    # moto's RawMessage keeps text; the bytes, exactly as SES would send them, go beside it (the outbox reads them),
    # with the envelope sender SES gives them (the outbox writes it as the Return-Path a mailbox adds).
    record: Any = MotoRawMessage(message_id, source, recipients, sent.decode("utf-8", errors="surrogateescape"))
    record.raw_bytes = sent
    record.envelope_sender = envelope_sender(backend, source, message_id, region)
    backend.sent_messages.append(record)
    backend.sent_message_count += len(recipients)
    return json.dumps({"MessageId": message_id})


# --- the local SMTP listener's verdicts ---------------------------------------------------------------------

LOCAL_VERDICTS_HEADER = "X-Postmask-Local-Verdicts"
_VERDICT_NAMES = {"spf": "spf", "dkim": "dkim", "dmarc": "dmarc", "spam": "spam", "virus": "virus"}
_VERDICT_VALUES = {"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"}
_DMARC_POLICIES = {"NONE", "QUARANTINE", "REJECT"}


def local_verdicts(content: bytes) -> tuple[bytes, Verdicts]:
    """`content` without its `X-Postmask-Local-Verdicts` fields, and the verdicts they ask for (all PASS when
    there is none): `spf=FAIL dkim=FAIL dmarc=FAIL dmarc-policy=REJECT spam=FAIL virus=FAIL`, any subset."""
    message = RawMessage.parse(content)
    fields = message.all(LOCAL_VERDICTS_HEADER)
    if not fields:
        return content, Verdicts()
    verdicts = Verdicts()
    for field in fields:
        for token in mail_headers.header_text(field.raw_value).split():
            name, _, value = token.partition("=")
            name, value = name.strip().lower(), value.strip().upper()
            if name in _VERDICT_NAMES and value in _VERDICT_VALUES:
                verdicts = replace(verdicts, **{_VERDICT_NAMES[name]: value})
            elif name == "dmarc-policy" and value in _DMARC_POLICIES:
                verdicts = replace(verdicts, dmarc_policy=value)
    if verdicts.dmarc == "FAIL" and verdicts.dmarc_policy is None:
        verdicts = replace(verdicts, dmarc_policy="NONE")  # SES names the sender's policy whenever DMARC fails
    head = bytes(content[: message.body_offset])
    for field in fields:
        head = head.replace(field.raw + message.newline, b"", 1)
    return head + content[message.body_offset :], verdicts
