"""The forwarder: for each recipient of an SES receipt event, forward, block, hand to the catch-all, or drop; for
each reply address, send the destination's reply to its contact, or refuse it.

The mail path is five stages, each a module with one job (docs/decisions/0024 is the map):

    arrival    postmask.mail.arrival    the SES event read; the stored message, read from S3 once, when needed
    decisions  postmask.mail.decisions  per recipient: route, SES's verdicts, contacts, verified destinations
    the copy   postmask.mail.copies     headers rebuilt, body spliced or re-encoded; the transforms, in order
    delivery   postmask.mail.delivery   each copy sent exactly once across retries (where quarantine goes)
    record     postmask.mail.record     activity, counts, metrics, thread records; the summary

This module only runs them in order, per event record. Each recipient is handled on its own: one that fails (or
cannot be sent to at all) never costs another its copy. A send that failed for a reason a retry can fix is raised
(`ForwardingIncomplete`) after every other delivery of the event was tried, so Lambda retries the event and, in
the end, hands it to the dead-letter queue. Nothing is lost silently. The raw message is read from S3 once, and
only when something is to be sent; a forwarded copy's body is made once for every destination (once per trackers
mode among the recipients' aliases).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.ses_event import SESEvent, SESEventRecord

from postmask import clock, encrypted_forwarding, ses
from postmask.mail import copies, decisions, delivery, record, reply
from postmask.mail.arrival import Arrival, StoredMessage, arrive
from postmask.mail.lines import Body
from postmask.mail.message import RawMessage
from postmask.mail.trackers import Mode, Removed, mode_of
from postmask.observability import logger
from postmask.store import deliveries, threads

_LEASE_MARGIN_SECONDS = 5


class ForwardingIncomplete(Exception):
    """Some deliveries failed; raised so that Lambda retries the event (the rest is not sent again)."""


def handle(event: dict[str, Any], remaining_seconds: float) -> dict[str, Any]:
    """Process an SES Lambda-action event. `remaining_seconds` bounds how long a delivery claim is held."""
    summary = record.Summary()
    failures: list[Exception] = []
    for event_record in SESEvent(event).records:
        failures.extend(_process(event_record, summary, lease_seconds=remaining_seconds + _LEASE_MARGIN_SECONDS))
    if failures:
        # The type and text, never the repr: some exceptions' repr carries the bytes they choked on (the mail).
        first = f"{type(failures[0]).__name__}: {failures[0]}"[:500]
        raise ForwardingIncomplete(f"{len(failures)} deliveries failed and will be retried; first: {first}") from (
            failures[0]
        )
    return summary.as_dict()


def _process(event_record: SESEventRecord, summary: record.Summary, *, lease_seconds: float) -> list[Exception]:
    """One message: arrival, decisions (recorded before anything is sent), then each forward's and reply's copies."""
    arrival = arrive(event_record, clock.now_iso())
    message = StoredMessage(arrival.message_id)
    decided = decisions.decide_all(arrival, message)
    record.decisions(arrival, decided.decisions, decided.skipped, summary)
    for refused in decided.replies:
        if refused.refusal is not None:
            record.reply_refused(arrival, refused, str(refused.refusal), summary)

    failures: list[Exception] = []
    for skip in decided.skipped:
        if skip.reason is not decisions.Reason.DESTINATION_SUSPENDED:
            continue
        try:  # kept for its owner to resend (to it once revived, or to another of theirs): decision 0025
            delivery.quarantine_copy(arrival, skip.decision, skip.destination, str(skip.reason))
            record.quarantined(summary, skip.decision, skip.destination, str(skip.reason))
        except Exception as exc:
            logger.exception("quarantine failed; the event will be retried", message_id=arrival.message_id)
            failures.append(exc)
    forwards = decided.forwards
    if forwards:
        hop = f"{arrival.message_id}.{deliveries.hop_token(arrival.message_id)}"
        bodies: dict[Mode, tuple[Body, Removed]] = {}  # once for every copy of aliases of the same trackers mode
        for decision in forwards:
            try:
                mode = _trackers_mode(decision)
                if mode not in bodies:
                    bodies[mode] = copies.forwarded_body(message(), arrival.message_id, mode)
                body, removed = bodies[mode]
                failures.extend(_forward(message(), body, removed, hop, arrival, decision, summary, lease_seconds))
            except Exception as exc:  # one recipient's failure never costs another its copy
                logger.exception("forwarding failed; the event will be retried", message_id=arrival.message_id)
                failures.append(exc)
    for decided_reply in decided.replies:
        accepted = decided_reply.accepted()
        if accepted is None:
            continue
        try:
            failures.extend(_reply(message(), accepted, arrival, summary, lease_seconds))
        except Exception as exc:
            logger.exception("reply failed; the event will be retried", message_id=arrival.message_id)
            failures.append(exc)
    if not failures:  # every recipient ended: what the daily reconciliation looks for (decision 0026)
        record.accounted(arrival.message_id, decided.decisions, decided.replies, summary)
    return failures


def _trackers_mode(decision: decisions.Decision) -> Mode:
    """The alias's `trackers` mode; mail to a catch-all destination (no alias), or a value no version wrote, gets
    the default."""
    return mode_of(decision.route.trackers if decision.route is not None else None)


def _forward(
    message: RawMessage,
    body: Body,
    removed: Removed,
    hop: str,
    arrival: Arrival,
    decision: decisions.Decision,
    summary: record.Summary,
    lease_seconds: float,
) -> list[Exception]:
    """Send one recipient's copy to each of its destinations; the failures, to raise once all were tried. Each
    copy's outcome is an activity event: forwarded, or failed with its reason."""
    alias = decision.recipient
    received = copies.received_ids(message, alias, decision.destinations)
    found = decisions.contacts_of(decision)
    reply_addresses = {address: known.reply_address for address, known in found.items()} if found is not None else None
    failures: list[Exception] = []
    pairs: list[threads.Pair] = []
    delivered = False
    keys = dict(decision.keys)
    encrypt = decision.route.encrypt if decision.route is not None else True  # a catch-all's copy: always
    for destination in decision.destinations:
        # Built before the claim: whatever goes wrong here leaves no claim held until its lease runs out.
        copy = copies.forwarded(
            message,
            body,
            alias=alias,
            destination=destination,
            envelope_sender=arrival.envelope_sender,
            received=received.get(destination.lower(), {}),
            hop=hop,
            reply_addresses=reply_addresses,
            key=keys.get(destination.lower()),
            encrypt=encrypt,
        )

        def give_up(reason: str, destination: str = destination) -> None:
            delivery.quarantine_copy(arrival, decision, destination, reason)
            record.quarantined(summary, decision, destination, reason)

        try:
            sent = delivery.send_once(
                arrival.message_id,
                alias,
                destination,
                sender=alias,
                copy=copy,
                tags=delivery.forward_tags(decision.owner_id, decision.route.alias_id if decision.route else None),
                lease_seconds=lease_seconds,
                failures=failures,
                give_up=give_up,
            )
        finally:
            copy.close()  # an encrypted copy's files in /tmp
        if decision.owner_id is not None:
            encrypted_forwarding.notice_if_expiring(
                decision.owner_id, alias, destination, keys.get(destination.lower()), clock.now()
            )
        record.delivery(summary, sent[0])
        delivered = delivered or sent[0] in record.DELIVERED
        record.copy_outcome(
            arrival,
            decision,
            destination,
            sent,
            removed,
            encrypted=copy.encrypted,
            plain_fallback=copy.plain_fallback,
        )
        outcome, ses_message_id = sent
        if outcome is delivery.Sent.SENT and ses_message_id is not None and message.message_id is not None:
            pairs.append(record.inside_pair(destination, message.message_id, ses_message_id))

    record.remember(alias, pairs, arrival.message_id)
    if delivered and not failures:
        record.forwarded(arrival, decision, found, summary, removed)
    return failures


def _reply(
    message: RawMessage, decision: reply.Accepted, arrival: Arrival, summary: record.Summary, lease_seconds: float
) -> list[Exception]:
    """Send a destination's message to a contact, from the alias, rebuilt and scrubbed (postmask.mail.reply); its
    outcome is an activity event (sent, or failed with its reason)."""
    refusal, known = reply.message_refusal(message, decision)
    if refusal is not None:
        record.reply_refused(arrival, decision, str(refusal), summary)
        return []
    copy = copies.reply_copy(message, decision, known, arrival.message_id)
    failures: list[Exception] = []
    sent = delivery.send_once(
        arrival.message_id,
        decision.recipient,
        decision.target.email,
        sender=decision.route.address,
        copy=copy,
        tags={
            ses.KIND_TAG: reply.REPLY_TAG,
            ses.USER_TAG: decision.route.owner_id,
            ses.ALIAS_TAG: decision.target.alias_id,
        },
        lease_seconds=lease_seconds,
        failures=failures,
    )
    record.delivery(summary, sent[0])
    record.reply_outcome(
        arrival, decision, sent, message.message_id, copy.body.rewritten, summary, notes=reply.notes_of(copy.body)
    )
    return failures
