"""Stage 4 of the mail path, delivery: each copy handed to SES exactly once across retries.

Takes a `copies.Copy`, the delivery it is (message, recipient, destination), the sending address and the message
tags; gives how the delivery ended (`Sent`) and SES's message id. Each (message, recipient, destination) is sent
at most once across retries (`store.deliveries`: claimed, then completed or released). A send that failed for a
reason a retry can fix is put in `failures` (the orchestrator raises once every other delivery was tried, so
Lambda retries the event and, in the end, hands it to the dead-letter queue); a copy SES refuses for good
(`too_large`, `rejected_by_ses`) is completed as such, logged, and not retried. Nothing is lost silently.

Quarantine (docs/decisions/0025): a forwarded copy that cannot be delivered for good (SES will never take it,
or refuses it) is handed to `give_up` with its reason while its claim is still held: kept for its owner
(`postmask.quarantine.hold`, through `quarantine_copy`), then the claim completed as such. If keeping it fails,
the claim is released and the event retried: the retry sends, is refused again, and keeps it then. A claim taken
over from an invocation that stopped after claiming (perhaps after SES accepted the copy) is given up too
(`delivery_unconfirmed`), never sent again on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from postmask import quarantine, ses
from postmask.mail.copies import Copy
from postmask.observability import logger
from postmask.store import deliveries

if TYPE_CHECKING:
    from postmask.mail.arrival import Arrival
    from postmask.mail.decisions import Decision

FORWARD_TAG = "forward"  # the postmask-mail tag of forwarded copies


class Sent(StrEnum):
    """How one delivery (message, recipient, destination) ended in this invocation."""

    SENT = "sent"
    BEFORE = "before"  # an earlier invocation sent it
    DONE = "done"  # an earlier invocation ended it otherwise: nothing to retry
    TOO_LARGE = "too_large"  # SES will never take it: nothing to retry
    REJECTED = "rejected_by_ses"  # SES refuses it for good: nothing to retry
    UNCONFIRMED = "delivery_unconfirmed"  # claimed before by an invocation that stopped: perhaps sent, not again
    FAILED = "send_error"  # to be retried (the exception is in the failures)
    HELD = "pgp_key_unusable"  # its OpenPGP key cannot be used and its fallback is quarantine: never sent in clear


# Why a forwarded copy that ended so was given up to quarantine.
QUARANTINED = {
    Sent.TOO_LARGE: quarantine.Reason.TOO_LARGE,
    Sent.REJECTED: quarantine.Reason.REJECTED,
    Sent.UNCONFIRMED: quarantine.Reason.UNCONFIRMED,
    Sent.HELD: quarantine.Reason.PGP_KEY_UNUSABLE,
}
GiveUp = Callable[[str], None]  # keeps the copy for its owner, with a reason; raises when it could not


def quarantine_copy(arrival: Arrival, decision: Decision, destination: str, reason: str) -> None:
    """Hand one forwarded copy to quarantine (kept, recorded, its owner told); raises when it could not be kept."""
    owner = decision.owner_id or (decision.route.owner_id if decision.route else None)
    if owner is None:
        return
    copy = quarantine.Copy(
        user_id=owner,
        message_id=arrival.message_id,
        address=decision.recipient,
        alias_id=decision.route.alias_id if decision.route is not None else None,
        destination=destination,
        at=arrival.at,
        sender=arrival.sender.address,
        envelope_sender=arrival.envelope_sender,
        subject=arrival.subject,
    )
    quarantine.hold(copy, reason)


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
    give_up: GiveUp | None = None,
) -> tuple[Sent, str | None]:
    """Send one delivery at most once across retries (store.deliveries); (how it ended, SES's message id).
    `give_up`: where a copy that cannot be delivered goes (a forward's: quarantine); None for a reply. A held copy
    (its OpenPGP key cannot be used, fallback quarantine) is given up unsent, never sent in clear."""
    try:
        claim = deliveries.claim(message_id, recipient, destination, lease_seconds=lease_seconds)
    except deliveries.DeliveryInProgress as exc:
        failures.append(exc)
        return Sent.FAILED, None
    if not isinstance(claim, deliveries.Claim):  # an earlier invocation finished this one
        if claim is deliveries.Status.SENT:
            return Sent.BEFORE, None
        return Sent.DONE, None
    if claim.taken_over and give_up is not None:
        try:
            give_up(quarantine.Reason.UNCONFIRMED)
        except Exception as exc:  # the claim stays: a later retry takes it over again, and gives it up then
            logger.exception("quarantine failed; the event will be retried", message_id=message_id)
            failures.append(exc)
            return Sent.FAILED, None
        deliveries.complete(claim, deliveries.Status.QUARANTINED)
        logger.warning("delivery unconfirmed: quarantined, not sent again", message_id=message_id)
        return Sent.UNCONFIRMED, None
    if copy.held:
        logger.warning("not sent: the destination's OpenPGP key cannot be used", message_id=message_id)
        if not _given_up(claim, give_up, quarantine.Reason.PGP_KEY_UNUSABLE, failures):
            return Sent.FAILED, None
        status = deliveries.Status.QUARANTINED if give_up is not None else deliveries.Status.HELD
        deliveries.complete(claim, status, reason=str(Sent.HELD))
        return Sent.HELD, None
    try:
        ses_message_id = ses.send_raw(sender=sender, destination=destination, parts=copy.parts, tags=tags)
    except ses.MessageTooLarge as exc:
        # SES will never take it: record it for good (no retry loop), tell the logs.
        logger.error("message too large for SES, not sent", message_id=message_id, size=exc.size)
        if not _given_up(claim, give_up, quarantine.Reason.TOO_LARGE, failures):
            return Sent.FAILED, None
        deliveries.complete(claim, deliveries.Status.TOO_LARGE)
        return Sent.TOO_LARGE, None
    except ses.SendRefused as exc:
        # SES refuses this copy for good: retrying would only fail again, three times, then dead-letter.
        logger.error(
            "Amazon SES refused the copy; not retried", message_id=message_id, recipient=recipient, error=str(exc)
        )
        if not _given_up(claim, give_up, quarantine.Reason.REJECTED, failures):
            return Sent.FAILED, None
        deliveries.complete(claim, deliveries.Status.REJECTED, reason=exc.code)
        return Sent.REJECTED, None
    except Exception as exc:
        deliveries.release(claim)
        logger.exception("send failed; the event will be retried", message_id=message_id)
        failures.append(exc)
        return Sent.FAILED, None
    deliveries.complete(claim, deliveries.Status.SENT, ses_message_id)
    return Sent.SENT, ses_message_id


def _given_up(claim: deliveries.Claim, give_up: GiveUp | None, reason: str, failures: list[Exception]) -> bool:
    """Whether the copy went to `give_up` (or there is none); if keeping it failed, the claim is released and the
    event retried: the retry meets the same refusal and keeps it then."""
    if give_up is None:
        return True
    try:
        give_up(reason)
    except Exception as exc:
        deliveries.release(claim)
        logger.exception("quarantine failed; the event will be retried", message_id=claim.message_id)
        failures.append(exc)
        return False
    return True
