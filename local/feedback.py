"""Bounces and complaints, played locally: what SES publishes to EventBridge for a configuration set, and a way
to make SES "receive" one for a destination so the feedback function runs as it would in AWS.

In AWS: a forwarded copy (or a verification link) bounces at the destination's mail server, SES publishes a
Bounce event for the configuration set the send named, with the message's tags, and an EventBridge rule
invokes FeedbackFunction. Locally there is no remote mail server and no EventBridge, so:

- local/sending.py makes moto's SESv2 keep what SendEmail named (configuration set, tags) per message id:
  moto drops them, and the event must carry the tags (`postmask-user` says whose destination it is);
- the local SMTP listener takes a message to `bounce@` or `complaint@` FEEDBACK_DOMAIN, whose header
  FEEDBACK_HEADER names a destination address, and hands `inject()` the address: it finds the last message
  SES sent there and invokes the feedback function with the event SES would publish for it;
- `python -m local.bounce <address> [--complaint]` (local/bounce.py) sends that message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from email.utils import formatdate
from typing import Any

from local.sending import SendDetails, send_details
from postmask.clock import iso, now

FEEDBACK_DOMAIN = "feedback.postmask.invalid"  # .invalid: never a real domain (RFC 2606)
FEEDBACK_HEADER = "X-Postmask-Local-Feedback-For"
FEEDBACK_FUNCTION = "FeedbackFunction"
KINDS = {"bounce": "Bounce", "complaint": "Complaint"}
ACCOUNT_ID = "123456789012"  # moto's default account

Invoke = Callable[[dict[str, Any]], Any]


def requested(recipients: list[str]) -> str | None:
    """`bounce` or `complaint` when the SMTP recipients ask for feedback (every one of them at FEEDBACK_DOMAIN)."""
    kinds = {address.lower().partition("@")[0] for address in recipients if address.lower().endswith(FEEDBACK_DOMAIN)}
    if len(kinds) != 1 or len(recipients) != 1:
        return None
    kind = kinds.pop()
    return kind if kind in KINDS else None


def feedback_event(
    kind: str,
    *,
    recipient: str,
    message_id: str,
    source: str,
    tags: Mapping[str, str],
    configuration_set: str | None,
    region: str,
) -> dict[str, Any]:
    """The EventBridge event SES publishes for a Bounce (hard: Permanent / General) or a Complaint (abuse), as in
    "Monitoring SES events using Amazon EventBridge": SES's event record is its `detail`."""
    moment = iso(now())
    all_tags = {name: [value] for name, value in tags.items()}
    if configuration_set:
        all_tags["ses:configuration-set"] = [configuration_set]
    detail: dict[str, Any] = {
        "eventType": KINDS[kind],
        "mail": {
            "timestamp": moment,
            "source": source,
            "sendingAccountId": ACCOUNT_ID,
            "messageId": message_id,
            "destination": [recipient],
            "headersTruncated": False,
            "tags": all_tags,
        },
    }
    if kind == "bounce":
        detail["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown (a bounce injected locally)",
                }
            ],
            "timestamp": moment,
            "feedbackId": f"local-{uuid.uuid4()}",
            "reportingMTA": "dsn; localhost",
        }
    else:
        detail["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": moment,
            "feedbackId": f"local-{uuid.uuid4()}",
            "complaintFeedbackType": "abuse",
            "arrivalDate": formatdate(usegmt=True),
        }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Email Bounced" if kind == "bounce" else "Email Complaint Received",
        "source": "aws.ses",
        "account": ACCOUNT_ID,
        "time": moment,
        "region": region,
        "resources": [],
        "detail": detail,
    }


class NothingSent(LookupError):
    """SES never sent anything to that address: nothing there could bounce."""


def inject(kind: str, address: str, *, region: str, invoke: Invoke) -> Any:
    """Feedback of `kind` for the last message SES sent to `address`, handed to the feedback function as the
    EventBridge rule would; what the function answered."""
    from moto.ses.models import ses_backends

    wanted = address.strip().lower()
    sent = ses_backends[ACCOUNT_ID][region].sent_messages
    for message in reversed(sent):
        destinations = [str(destination).lower() for destination in getattr(message, "destinations", [])[:1]]
        if wanted in destinations:
            details = send_details(message.id) or SendDetails(None, {})
            event = feedback_event(
                kind,
                recipient=address.strip(),
                message_id=message.id,
                source=str(message.source),
                tags=details.tags,
                configuration_set=details.configuration_set,
                region=region,
            )
            return invoke(event)
    raise NothingSent(f"nothing was sent to {address}: there is nothing to bounce")


def smtp_answer(kind: str, content: bytes, *, region: str, invoke: Invoke) -> str:
    """The SMTP reply to a message asking for feedback: 250 saying what the feedback function did, else why not."""
    from email.parser import BytesHeaderParser

    address = str(BytesHeaderParser().parsebytes(content).get(FEEDBACK_HEADER, "")).strip()
    if "@" not in address:
        return f"550 Name the destination in a {FEEDBACK_HEADER} header"
    try:
        result = inject(kind, address, region=region, invoke=invoke)
    except NothingSent as exc:
        return f"550 {exc}"
    except Exception:
        import logging

        logging.getLogger("postmask.local.feedback").exception("the feedback function failed")
        return f"451 The feedback function failed: see {FEEDBACK_FUNCTION}.log"
    suspended = result.get("suspended") if isinstance(result, dict) else None
    done = f"suspended {', '.join(suspended)}" if suspended else "nothing suspended (no such destination)"
    return f"250 {KINDS[kind]} for {address} handed to {FEEDBACK_FUNCTION}: {done}"
