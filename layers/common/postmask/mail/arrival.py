"""Stage 1 of the mail path, arrival: what SES's receipt event says, and the stored message read when needed.

Takes one record of the SES Lambda-action event; gives an `Arrival` (the message's id and time, SES's verdicts,
the envelope sender, the recipients, the header fields SES listed) and a `StoredMessage` that reads the raw
message from S3 at most once, only when a later stage needs it. Nothing here is written anywhere, and nothing
in the message is trusted: only SES's verdicts in the event decide (docs/decisions/0024: the stage map).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.ses_event import SESEventRecord

from postmask import activity, leaks
from postmask.mail import inbox
from postmask.mail.message import RawMessage, from_is_ambiguous
from postmask.settings import get_settings


@dataclass(frozen=True)
class Arrival:
    """What the event says of the message, whatever happens to it: never read from S3. `message_id`, `at`,
    `sender` and `subject` are what the activity log says of it."""

    message_id: str
    at: str  # when SES received it: the same in every retry, so a retried decision is recorded once
    sender: leaks.Sender
    subject: str | None
    now_iso: str = ""  # when this invocation handles it
    envelope_sender: str = ""  # the SMTP envelope sender as SES gives it ("" or "<>" for a bounce)
    recipients: tuple[str, ...] = ()
    receipt: dict[str, Any] = field(default_factory=dict)  # SES's receipt: its verdicts
    mail: dict[str, Any] = field(default_factory=dict)  # SES's mail object (the header fields it lists)
    # What the activity log notes of the message: from_ambiguous (a From readers could read differently: the copy
    # shows the envelope sender, decision 0060).
    notes: tuple[str, ...] = ()

    @property
    def bounce(self) -> bool:
        return self.envelope_sender in ("", "<>")

    def event_headers(self) -> RawMessage | None:
        """The header fields the event lists, parsed when asked (not kept: a message's path holds no more)."""
        return event_headers(self.mail)


def arrive(record: SESEventRecord, now_iso: str) -> Arrival:
    """The arrival of one record of the event."""
    mail = record.ses.mail
    receipt = record.ses.receipt
    common = mail.get("commonHeaders") or {}
    return Arrival(
        mail.message_id,
        activity.at_of(mail.get("timestamp"), now_iso),
        leaks.sender_of(common),
        activity.subject_of(common.get("subject")),
        now_iso=now_iso,
        envelope_sender=(mail.get("source") or "").strip(),
        recipients=tuple(receipt.recipients),
        receipt=receipt.raw_event,
        mail=mail.raw_event,
        notes=_notes(mail.raw_event),
    )


def _notes(mail: dict[str, Any]) -> tuple[str, ...]:
    listed = event_headers(mail)  # parsed and let go: the decisions parse it again when they need it
    return ("from_ambiguous",) if listed is not None and from_is_ambiguous(listed) else ()


def event_headers(mail: dict[str, Any]) -> RawMessage | None:
    """The message's header fields as the receipt event lists them (SES's own parse of the message), to know whom
    it needs contacts for before reading it; None when SES cut them (over 10 KB) or there are none."""
    listed = mail.get("headers")
    if mail.get("headersTruncated") or not isinstance(listed, list):
        return None
    lines = []
    for header in listed:
        name, value = str((header or {}).get("name") or ""), str((header or {}).get("value") or "")
        if name.isascii() and name.isprintable() and ":" not in name and " " not in name and name:
            lines.append(name.encode("ascii") + b": " + " ".join(value.split()).encode("utf-8", "replace"))
    return RawMessage.parse(b"\r\n".join([*lines, b"", b""])) if lines else None


class StoredMessage:
    """The raw message as SES's S3 action stored it, read once, the first time it is asked for."""

    def __init__(self, message_id: str) -> None:
        self._message_id = message_id
        self._loaded: RawMessage | None = None

    def __call__(self) -> RawMessage:
        if self._loaded is None:
            settings = get_settings()
            if not settings.mail_bucket:
                raise RuntimeError("MAIL_BUCKET is not set: the forwarder cannot read the messages SES stored")
            self._loaded = RawMessage.parse(inbox.read(settings.mail_bucket, settings.mail_prefix + self._message_id))
        return self._loaded
