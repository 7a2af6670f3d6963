"""Stage 4 of the mail path, delivery: each copy handed to SES exactly once across retries.

Takes a `copies.Copy`, the delivery it is (message, recipient, destination), the sending address and the message
tags; gives how the delivery ended (`Sent`) and SES's message id. Each (message, recipient, destination) is sent
at most once across retries (`store.deliveries`: claimed, then completed or released). A send that failed for a
reason a retry can fix is put in `failures` (the orchestrator raises once every other delivery was tried, so
Lambda retries the event and, in the end, hands it to the dead-letter queue); a copy SES refuses for good
(`too_large`, `rejected_by_ses`) is completed as such, logged, and not retried. Nothing is lost silently.

Quarantine goes here (docs/decisions/0024): a copy that cannot be delivered (the `TOO_LARGE` and `REJECTED`
branches of `send_once`, each with its claim still held) is where it would be kept for its owner instead of only
being recorded; the claim's status says it was, so a retry does not keep it twice.
"""

from __future__ import annotations

from enum import StrEnum

from postmask import ses
from postmask.mail.copies import Copy
from postmask.observability import logger
from postmask.store import deliveries

FORWARD_TAG = "forward"  # the postmask-mail tag of forwarded copies


class Sent(StrEnum):
    """How one delivery (message, recipient, destination) ended in this invocation."""

    SENT = "sent"
    BEFORE = "before"  # an earlier invocation sent it
    DONE = "done"  # an earlier invocation ended it otherwise: nothing to retry
    TOO_LARGE = "too_large"  # SES will never take it: nothing to retry
    REJECTED = "rejected_by_ses"  # SES refuses it for good: nothing to retry
    FAILED = "send_error"  # to be retried (the exception is in the failures)


def forward_tags(owner_id: str | None, alias_id: str | None) -> dict[str, str]:
    """The message tags SES reports a forwarded copy's bounce or complaint with (the feedback function reads them)."""
    tags = {ses.KIND_TAG: FORWARD_TAG}
    if owner_id:
        tags[ses.USER_TAG] = owner_id
    if alias_id is not None:
        tags[ses.ALIAS_TAG] = alias_id
    return tags


def send_once(
    message_id: str,
    recipient: str,
    destination: str,
    *,
    sender: str,
    copy: Copy,
    tags: dict[str, str],
    lease_seconds: float,
    failures: list[Exception],
) -> tuple[Sent, str | None]:
    """Send one delivery at most once across retries (store.deliveries); (how it ended, SES's message id)."""
    try:
        claim = deliveries.claim(message_id, recipient, destination, lease_seconds=lease_seconds)
    except deliveries.DeliveryInProgress as exc:
        failures.append(exc)
        return Sent.FAILED, None
    if not isinstance(claim, deliveries.Claim):  # an earlier invocation finished this one
        if claim is deliveries.Status.SENT:
            return Sent.BEFORE, None
        return Sent.DONE, None
    try:
        ses_message_id = ses.send_raw(sender=sender, destination=destination, parts=copy.parts, tags=tags)
    except ses.MessageTooLarge as exc:
        # SES will never take it: record it for good (no retry loop), tell the logs.
        deliveries.complete(claim, deliveries.Status.TOO_LARGE)
        logger.error("message too large for SES, not sent", message_id=message_id, size=exc.size)
        return Sent.TOO_LARGE, None
    except ses.SendRefused as exc:
        # SES refuses this copy for good: retrying would only fail again, three times, then dead-letter.
        deliveries.complete(claim, deliveries.Status.REJECTED, reason=exc.code)
        logger.error(
            "Amazon SES refused the copy; not retried", message_id=message_id, recipient=recipient, error=str(exc)
        )
        return Sent.REJECTED, None
    except Exception as exc:
        deliveries.release(claim)
        logger.exception("send failed; the event will be retried", message_id=message_id)
        failures.append(exc)
        return Sent.FAILED, None
    deliveries.complete(claim, deliveries.Status.SENT, ses_message_id)
    return Sent.SENT, ses_message_id
