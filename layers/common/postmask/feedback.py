"""Bounces and complaints: SES reports them (configuration set -> EventBridge), the destination is suspended.

The event is SES's event record in EventBridge's `detail` (`eventType` Bounce or Complaint, `bounce` /
`complaint`, and `mail` with the message's tags). The tag `postmask-user` (postmask.ses.USER_TAG), put on every
message postmask sends, names whose destination it was: each user's destinations are their own, so the same
address of another user is not touched.

- A hard bounce (`bounceType` Permanent) suspends each bounced recipient's destination, with the reason.
- A complaint suspends each complaining recipient's destination (the person asked for no more of this mail).
- A soft bounce (Transient, Undetermined) changes nothing: SES itself retried, and the next message may pass.

Every hard bounce and complaint is also an activity event (`bounced` / `complained`, with the destination), in
the alias's activity when the copy carried the `postmask-alias` tag.

Nothing here can fail on what the event says (it is SES's, but its fields are read defensively): an event
that names no postmask user, or a destination the user no longer has, is logged and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask import activity, clock, ses
from postmask.observability import logger, metrics
from postmask.store import destinations

HARD_BOUNCE = "Permanent"
MAX_REASON = 300


@dataclass
class Outcome:
    """What one event did (returned by the handler; the tests and the logs read it)."""

    suspended: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _reason(kind: str, details: Mapping[str, Any], recipient: Mapping[str, Any]) -> str:
    if kind == "Bounce":
        sub_type = _text(details.get("bounceSubType")) or "General"
        diagnostic = _text(recipient.get("diagnosticCode")) or _text(recipient.get("status"))
        reason = f"Hard bounce ({sub_type})" + (f": {diagnostic}" if diagnostic else "")
    else:
        feedback = _text(details.get("complaintFeedbackType"))
        reason = "Complaint: marked as spam" + (f" ({feedback})" if feedback else "")
    # One line, printable, bounded: it is shown to the user as is.
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in reason).split())
    return cleaned[:MAX_REASON]


def handle(event: Mapping[str, Any]) -> dict[str, Any]:
    """Process one EventBridge event from SES (detail-type `Email Bounced` or `Email Complaint Received`)."""
    outcome = Outcome()
    detail = _mapping(event.get("detail"))
    kind = _text(detail.get("eventType") or detail.get("notificationType"))
    mail = _mapping(detail.get("mail"))
    tags = _mapping(mail.get("tags"))
    users = tags.get(ses.USER_TAG) or []
    user_id = users[0] if isinstance(users, list) and users and isinstance(users[0], str) else ""
    message_id = _text(mail.get("messageId"))

    if kind == "Bounce":
        details = _mapping(detail.get("bounce"))
        recipients = details.get("bouncedRecipients") or []
        if _text(details.get("bounceType")) != HARD_BOUNCE:
            logger.info("soft bounce: nothing suspended", message_id=message_id, bounce_type=details.get("bounceType"))
            return outcome.as_dict()
    elif kind == "Complaint":
        details = _mapping(detail.get("complaint"))
        recipients = details.get("complainedRecipients") or []
    else:
        logger.warning("not a bounce or complaint: ignored", event_type=kind, message_id=message_id)
        return outcome.as_dict()
    if not user_id:
        logger.warning("feedback for mail without a postmask-user tag: ignored", message_id=message_id)
        return outcome.as_dict()
    aliases = tags.get(ses.ALIAS_TAG) or []
    alias_id = aliases[0] if isinstance(aliases, list) and aliases and isinstance(aliases[0], str) else None
    at = activity.at_of(details.get("timestamp"), clock.now_iso())
    subject = activity.subject_of(_mapping(mail.get("commonHeaders")).get("subject"))
    kinds = tags.get(ses.KIND_TAG) or []
    # A reply to a contact (postmask.mail.reply) that bounced: recorded, but the contact is no destination to suspend.
    reply = isinstance(kinds, list) and "reply" in kinds

    for recipient in recipients if isinstance(recipients, list) else []:
        address = _text(_mapping(recipient).get("emailAddress"))
        if not address:
            continue
        reason = _reason(kind, details, _mapping(recipient))
        activity.record(
            activity.Event(
                user_id=user_id,
                key=f"{message_id}\n{address.lower()}",
                at=at,
                address=_text(mail.get("source")),
                outcome="bounced" if kind == "Bounce" else "complained",
                reason="hard_bounce" if kind == "Bounce" else "complaint",
                alias_id=alias_id,
                direction="reply" if reply else "inbound",
                destination=address.lower(),
                subject=subject,
            )
        )
        if reply:
            logger.info("feedback for a reply to a contact: nothing suspended", message_id=message_id, user_id=user_id)
            continue
        if destinations.suspend(user_id, address, reason):
            outcome.suspended.append(address)
            metrics.add_metric(name="DestinationSuspended", unit=MetricUnit.Count, value=1)
            logger.info(
                "destination suspended",
                message_id=message_id,
                user_id=user_id,
                destination=address,
                outcome="bounced" if kind == "Bounce" else "complained",
                reason=reason,
            )
        else:
            outcome.ignored.append(address)
            logger.info("feedback for a destination the user no longer has", message_id=message_id, user_id=user_id)
    return outcome.as_dict()
