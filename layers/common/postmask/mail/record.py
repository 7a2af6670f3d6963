"""Stage 5 of the mail path, record: what happened, said once, in the activity log, the counts and the metrics.

Takes the arrival and each decision, skipped destination, reply refusal and delivery outcome; gives the
`Summary` (what one event did, per recipient: the handler's return value, which SES ignores and tests and logs
read), and writes: every decision logged once as "mail decision" with a snake_case `reason` and counted in a
metric; an activity event per decision and per destination's copy (postmask.activity, decision 0120), recorded
once across retries (its key is the message, the recipient and the destination); the alias's and contact's counts
(`store.routes.count`, once per outcome); the thread records of what was sent (`store.threads`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask import activity, ses
from postmask.mail import headers, reply
from postmask.mail.arrival import Arrival
from postmask.mail.decisions import Action, Decision, Reason, Skipped
from postmask.mail.delivery import Sent
from postmask.mail.trackers import Removed
from postmask.observability import logger, metrics
from postmask.settings import get_settings
from postmask.store import contacts, deliveries, routes, threads

# The metric of each decision; a block or drop for one of these reasons is also counted under its own name.
_ACTION_METRIC = {Action.BLOCK: "MailBlocked", Action.DROP: "MailDropped", Action.REFUSE: "MailRefusedUnverifiedDomain"}
_REASON_METRIC = {Reason.DMARC_FAIL: "MailBlockedDmarc", Reason.LOOP: "MailDroppedLoop"}
# What the activity log records for each decision: its outcome, and its reason (a forward's default one is none).
_OUTCOME = {Action.FORWARD: "forwarded", Action.BLOCK: "blocked", Action.DROP: "dropped", Action.REFUSE: "refused"}
_UNSAID = (Reason.ALIAS,)
# What the activity log records of one delivery (DONE: an earlier invocation recorded it).
_DELIVERY_OUTCOME = {
    Sent.TOO_LARGE: ("failed", "too_large"),
    Sent.REJECTED: ("failed", "rejected_by_ses"),
    Sent.FAILED: ("failed", "send_error"),  # then sent, when a retry sends it
    Sent.HELD: ("failed", str(Sent.HELD)),  # pgp_key_unusable, when there was nowhere to keep it
    Sent.UNCONFIRMED: ("failed", "delivery_unconfirmed"),  # a reply's: not sent again
}
DELIVERED = (Sent.SENT, Sent.BEFORE)  # BEFORE: its activity written then, or now if writing it failed then
# A forward's copy that ended so is kept in quarantine (its activity event written then).
QUARANTINED_OUTCOMES = (Sent.TOO_LARGE, Sent.REJECTED, Sent.UNCONFIRMED, Sent.HELD)


@dataclass
class Summary:
    """What one event did, per recipient; returned by the handler (SES ignores it, tests and logs read it)."""

    forwarded: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the alias's domain is not verified in SES
    # Destinations not sent a copy: {"recipient", "alias_id", "destination", "reason"} (destination_unverified,
    # destination_suspended).
    skipped: list[dict[str, str | None]] = field(default_factory=list)
    sent: int = 0
    skipped_as_already_sent: int = 0
    too_large: int = 0
    rejected: int = 0  # copies SES refused for good
    held: int = 0  # copies not sent: their destination's OpenPGP key cannot be used (fallback quarantine)
    # Copies quarantined (postmask.quarantine): {"recipient", "destination", "reason"}.
    quarantined: list[dict[str, str]] = field(default_factory=list)
    replied: list[str] = field(default_factory=list)  # reply addresses whose message was sent to their contact
    # Replies not sent: {"recipient", "alias_id", "reason"} (postmask.mail.reply.Refusal).
    replies_refused: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _reason(decision: Decision) -> str | None:
    return None if decision.reason in _UNSAID else str(decision.reason)


def activity_event(
    arrival: Arrival,
    decision: Decision,
    outcome: str,
    reason: str | None,
    destination: str | None = None,
    trackers_removed: Removed | None = None,
    *,
    encrypted: bool = False,
) -> None:
    """The activity event of a decision (or of one destination's copy), when a user owns the address."""
    owner = decision.owner_id or (decision.route.owner_id if decision.route else None)
    if owner is None:
        return
    activity.record(
        activity.Event(
            user_id=owner,
            key=f"{arrival.message_id}\n{decision.recipient}\n{destination or ''}",
            at=arrival.at,
            address=decision.recipient,
            outcome=outcome,
            reason=reason,
            alias_id=decision.route.alias_id if decision.route else None,
            sender=arrival.sender.address,
            destination=destination,
            subject=arrival.subject,
            encrypted=encrypted,
            notes=arrival.notes,
            trackers_removed=trackers_removed.as_dict() if trackers_removed is not None else None,
            message_id=arrival.message_id,
        )
    )


def reply_activity(
    arrival: Arrival,
    decision: reply.ReplyDecision | reply.Accepted,
    outcome: str,
    reason: str | None,
    notes: tuple[str, ...] = (),
) -> None:
    """The activity event of a message to a reply address: sent to the contact, or refused and why. One to a
    reply address nobody was given has no owner to show it to."""
    target = decision.target
    if target is None:
        return
    envelope_sender = arrival.envelope_sender
    activity.record(
        activity.Event(
            user_id=target.owner_id,
            key=f"{arrival.message_id}\n{decision.recipient}\n",
            at=arrival.at,
            address=decision.recipient,
            outcome=outcome,
            reason=reason,
            alias_id=target.alias_id,
            direction="reply",
            sender=headers.sendable(envelope_sender) if "@" in envelope_sender else None,
            destination=target.email,
            subject=arrival.subject,
            notes=notes,
            message_id=arrival.message_id,
        )
    )


def decisions(arrival: Arrival, decided: list[Decision], skipped: list[Skipped], summary: Summary) -> None:
    """Every decision and skipped destination, before anything is sent; a forward's activity waits for its copies."""
    for decision in decided:
        _decision(decision, arrival.message_id, summary, arrival.now_iso)
        if decision.action is not Action.FORWARD:
            activity_event(arrival, decision, _OUTCOME[decision.action], _reason(decision))
    for skip in skipped:
        _skip(skip, arrival.message_id, summary)
        if skip.reason is not Reason.DESTINATION_SUSPENDED:  # a suspended one's copy is quarantined instead
            activity_event(arrival, skip.decision, "dropped", str(skip.reason), skip.destination)


def _decision(decision: Decision, message_id: str, summary: Summary, now_iso: str) -> None:
    """Log the decision once (the activity log's source), count it in its metrics and, for a block, on the alias."""
    logger.info(
        "mail decision",
        message_id=message_id,
        recipient=decision.recipient,
        action=str(decision.action),
        reason=str(decision.reason),
    )
    name = _ACTION_METRIC.get(decision.action)
    if name is not None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if decision.reason in _REASON_METRIC:
        metrics.add_metric(name=_REASON_METRIC[decision.reason], unit=MetricUnit.Count, value=1)
    if decision.action is Action.BLOCK:
        summary.blocked.append(decision.recipient)
        if decision.route is not None:
            contact = decision.contact() if decision.reason is Reason.CONTACT_BLOCKED else None
            counted = (contact.contact_id, "blocked") if contact is not None else None
            routes.count(message_id, decision.route, routes.Outcome.BLOCKED, now_iso, contact=counted)
    elif decision.action is Action.DROP:
        summary.dropped.append(decision.recipient)
    elif decision.action is Action.REFUSE:
        summary.refused.append(decision.recipient)
        logger.error(
            "not forwarded: Amazon SES has not verified the domain; publish its DNS records "
            "(GET /api/domains/<domain>)",
            message_id=message_id,
            recipient=decision.recipient,
            domain=decision.recipient.rpartition("@")[2],
        )


def _skip(skip: Skipped, message_id: str, summary: Summary) -> None:
    """Log a destination not sent its copy, with its reason (the activity log's source), and count it."""
    decision = skip.decision
    alias_id = decision.route.alias_id if decision.route is not None else None
    summary.skipped.append(
        {"recipient": decision.recipient, "alias_id": alias_id, "destination": skip.destination, "reason": skip.reason}
    )
    metrics.add_metric(name="MailSkippedDestination", unit=MetricUnit.Count, value=1)
    logger.info(
        "destination skipped",
        message_id=message_id,
        recipient=decision.recipient,
        alias_id=alias_id,
        destination=skip.destination,
        outcome="dropped",
        reason=str(skip.reason),
    )


def delivery(summary: Summary, outcome: Sent) -> None:
    """Count one delivery's outcome (its log line is delivery's, where the reason is known)."""
    if outcome is Sent.SENT:
        summary.sent += 1
    elif outcome is Sent.BEFORE:
        summary.skipped_as_already_sent += 1
    elif outcome is Sent.TOO_LARGE:
        summary.too_large += 1
        metrics.add_metric(name="MailTooLarge", unit=MetricUnit.Count, value=1)
    elif outcome is Sent.REJECTED:
        summary.rejected += 1
        metrics.add_metric(name="MailRejected", unit=MetricUnit.Count, value=1)
    elif outcome is Sent.HELD:
        summary.held += 1


def copy_outcome(
    arrival: Arrival,
    decision: Decision,
    destination: str,
    sent: tuple[Sent, str | None],
    removed: Removed,
    *,
    encrypted: bool = False,
    plain_fallback: bool = False,
) -> None:
    """The activity event of one destination's copy (forwarded, with the trackers removed from it, or failed with
    its reason), and a sent one's log. A copy sent in clear although its destination has a key says why
    (`pgp_key_unusable`)."""
    outcome, ses_message_id = sent
    if outcome in DELIVERED:
        reason = str(Sent.HELD) if plain_fallback else _reason(decision)
        activity_event(arrival, decision, "forwarded", reason, destination, removed, encrypted=encrypted)
    elif outcome in QUARANTINED_OUTCOMES:
        pass  # its activity event (quarantined, with the reason) was written when it was kept
    elif outcome in _DELIVERY_OUTCOME:
        activity_event(arrival, decision, *_DELIVERY_OUTCOME[outcome], destination)
    if outcome is Sent.SENT and ses_message_id is not None:
        logger.info(
            "forwarded", message_id=arrival.message_id, recipient=decision.recipient, ses_message_id=ses_message_id
        )


def forwarded(
    arrival: Arrival,
    decision: Decision,
    found: dict[str, contacts.Known] | None,
    summary: Summary,
    removed: Removed,
) -> None:
    """A recipient whose every copy was delivered: counted once, on the alias (with the trackers removed from its
    copies, in the same update) and on the sender's contact."""
    summary.forwarded.append(decision.recipient)
    metrics.add_metric(name="MailForwarded", unit=MetricUnit.Count, value=1)
    if decision.route is not None:
        contact = found.get(decision.sender.lower()) if found is not None and decision.sender else None
        counted = (contact.contact_id, "received") if contact is not None else None
        routes.count(
            arrival.message_id,
            decision.route,
            routes.Outcome.FORWARDED,
            arrival.now_iso,
            contact=counted,
            trackers_removed=removed.as_dict(),
        )


def inside_pair(destination: str, original_id: str, ses_message_id: str) -> threads.Pair:
    """The thread record of a forwarded copy: the original's id, and the id the destination received (SES's)."""
    return threads.Pair(
        destination.lower(), original_id, ses.received_message_id(ses_message_id, get_settings().region)
    )


def remember(alias: str, pairs: list[threads.Pair], message_id: str) -> None:
    """Write the thread records of what was sent. A failure costs a later reply its thread, never a copy."""
    if not pairs:
        return
    try:
        threads.remember(alias, pairs)
    except Exception:  # the copies are sent: a later reply will not thread, nothing is lost
        logger.exception("could not write thread records", message_id=message_id)


def reply_refused(
    arrival: Arrival, decision: reply.ReplyDecision | reply.Accepted, refusal: str, summary: Summary
) -> None:
    """Log a reply that is not sent, with its reason, record it in the activity log, and count it. Nothing is sent
    back to anyone: a bounce would go to whoever forged the sender. The activity event carries the decision's notes
    (an unauthenticated reply's: what the destination's domain must publish)."""
    notes = decision.notes if isinstance(decision, reply.ReplyDecision) else ()
    reply_activity(arrival, decision, "refused", refusal, notes)
    alias_id = decision.target.alias_id if decision.target is not None else None
    summary.replies_refused.append({"recipient": decision.recipient, "alias_id": alias_id, "reason": refusal})
    metrics.add_metric(name="MailReplyRefused", unit=MetricUnit.Count, value=1)
    _reply_decision(arrival, decision.recipient, "refuse", "refused", refusal, alias_id, sender=arrival.envelope_sender)


def reply_outcome(
    arrival: Arrival,
    decision: reply.Accepted,
    sent: tuple[Sent, str | None],
    original_id: str | None,
    rewritten: int,
    summary: Summary,
    *,
    notes: tuple[str, ...] = (),
) -> None:
    """A reply's delivery: its thread records (the contact knows the reply by SES's id, the destination by its own),
    its activity event (sent, or failed with its reason), its log line and its count on the contact."""
    outcome, ses_message_id = sent
    if outcome is Sent.SENT and ses_message_id is not None and original_id is not None:
        outside = ses.received_message_id(ses_message_id, get_settings().region)
        remember(decision.route.address, [threads.Pair(decision.sender, outside, original_id)], arrival.message_id)
    if outcome in _DELIVERY_OUTCOME:
        reply_activity(arrival, decision, *_DELIVERY_OUTCOME[outcome])
    if outcome not in DELIVERED:
        return
    reply_activity(arrival, decision, "sent", None, notes)  # notes: parts removed (reply.notes_of)
    summary.replied.append(decision.recipient)
    metrics.add_metric(name="MailReplySent", unit=MetricUnit.Count, value=1)
    _reply_decision(arrival, decision.recipient, "send", "sent", None, decision.target.alias_id, rewritten=rewritten)
    routes.count_sent(
        arrival.message_id, decision.recipient, decision.target.alias_id, decision.target.contact_id, arrival.now_iso
    )


def _reply_decision(
    arrival: Arrival, recipient: str, action: str, outcome: str, reason: str | None, alias_id: str | None, **extra: Any
) -> None:
    """The "mail decision" log line of a message to a reply address (the activity log's source)."""
    logger.info(
        "mail decision",
        message_id=arrival.message_id,
        recipient=recipient,
        direction="reply",
        action=action,
        outcome=outcome,
        reason=reason,
        alias_id=alias_id,
        **extra,
    )


def quarantined(summary: Summary, decision: Decision, destination: str, reason: str) -> None:
    """A copy kept in quarantine (postmask.quarantine recorded its activity event and told its owner)."""
    summary.quarantined.append({"recipient": decision.recipient, "destination": destination, "reason": reason})


def accounted(message_id: str, decided: list[Decision], replies: list[reply.ReplyDecision], summary: Summary) -> None:
    """Every recipient ended: the message's ACCOUNTED record, which the daily reconciliation looks for."""
    outcomes = {decision.recipient: _OUTCOME[decision.action] for decision in decided}
    outcomes |= {r.recipient: "refused" if r.refusal is not None else "sent" for r in replies}
    outcomes |= {held["recipient"]: "quarantined" for held in summary.quarantined}
    deliveries.account(message_id, outcomes)
