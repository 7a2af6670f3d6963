"""The forwarder: for each recipient of an SES receipt event, forward, block, hand to the catch-all, or drop.

A copy is sent only from a domain SES has verified (asked once per domain every few minutes); otherwise it is
refused with an error log line and the MailRefusedUnverifiedDomain metric.

Per recipient: one GetItem on its route (and, only for an unknown address, one on the domain's marker). Per
message: one BatchGetItem for the status of every destination it would go to (at most 100 per call): only
`verified` destinations are sent a copy; a pending or suspended one is skipped, logged with its reason
(`destination_unverified`, `destination_suspended`). The raw message is read from S3 once, and only when
something is to be sent. Each (message, recipient,
destination) is sent at most once across retries (`store.deliveries`); each outcome is counted once
(`store.routes.count`). A failed send is raised after every other delivery of the event has been tried, so
Lambda retries the event and, in the end, hands it to the dead-letter queue: nothing is lost silently.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import idna
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.ses_event import SESEvent, SESEventRecord

from postmask import clock, ses
from postmask.mail import inbox
from postmask.mail.message import RawMessage, forwarded_header_block
from postmask.observability import logger, metrics
from postmask.settings import get_settings
from postmask.store import deliveries, destinations, routes

_FAIL = "FAIL"
FORWARD_TAG = "forward"  # the postmask-mail tag of forwarded copies
_LEASE_MARGIN_SECONDS = 5


class Action(StrEnum):
    FORWARD = "forward"
    BLOCK = "block"
    DROP = "drop"


class SkipReason(StrEnum):
    """Why a destination was not sent its copy: the `reason` of an activity event, in the contract's words."""

    DESTINATION_UNVERIFIED = "destination_unverified"  # pending, or no such destination of the owner
    DESTINATION_SUSPENDED = "destination_suspended"  # a hard bounce or complaint; a new link revives it


@dataclass(frozen=True)
class Decision:
    recipient: str
    action: Action
    reason: str
    route: routes.Route | None = None  # None for the catch-all and for drops: nothing to count on
    destinations: tuple[str, ...] = ()
    owner_id: str | None = None  # whose destinations they are (the alias's or the domain's owner)


@dataclass
class Summary:
    """What one event did, per recipient; returned by the handler (SES ignores it, tests and logs read it)."""

    forwarded: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the alias's domain is not verified in SES
    # Destinations not sent a copy: {"recipient", "alias_id", "destination", "reason"} (a SkipReason).
    skipped: list[dict[str, str | None]] = field(default_factory=list)
    sent: int = 0
    skipped_as_already_sent: int = 0
    too_large: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ForwardingIncomplete(Exception):
    """Some deliveries failed; raised so that Lambda retries the event (the rest is not sent again)."""


def normalise(address: str) -> str:
    """Addresses as the store keys them: lower case, the domain in IDNA form."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not domain.isascii():
        # A domain IDNA cannot encode is not one of ours: the lookup finds nothing and the recipient is dropped.
        with contextlib.suppress(idna.IDNAError, UnicodeError):
            domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


def decide(recipient: str, *, verdict_failed: str | None, bounce: bool, now_iso: str) -> Decision:
    """What to do with the copy for one recipient: SES's verdicts and the alias's state decide."""
    route = routes.get(recipient)
    if route is not None:
        if verdict_failed:
            return Decision(recipient, Action.BLOCK, verdict_failed, route)
        if not route.enabled:
            return Decision(recipient, Action.BLOCK, "alias disabled", route)
        if route.expired(now_iso):
            return Decision(recipient, Action.BLOCK, "alias expired", route)
        if bounce:
            # A bounce to an alias is a bounce of a copy we forwarded, or backscatter: forwarding it to the
            # destination that bounced could loop.
            return Decision(recipient, Action.DROP, "bounce (null sender)", route)
        return Decision(recipient, Action.FORWARD, "alias", route, route.destinations, route.owner_id)
    catch_all = routes.catch_all(recipient.rpartition("@")[2])
    if catch_all is None:
        return Decision(recipient, Action.DROP, "no such alias and no catch-all")
    if verdict_failed:
        return Decision(recipient, Action.BLOCK, verdict_failed)
    if bounce:
        return Decision(recipient, Action.DROP, "bounce (null sender)")
    return Decision(recipient, Action.FORWARD, "catch-all", None, (catch_all.destination,), catch_all.owner_id)


def _verdict_failed(receipt: dict[str, Any]) -> str | None:
    """Only SES's own verdicts are trusted, never headers in the message."""
    for verdict in ("spamVerdict", "virusVerdict"):
        if (receipt.get(verdict) or {}).get("status") == _FAIL:
            return f"{verdict} FAIL"
    return None


def handle(event: dict[str, Any], remaining_seconds: float) -> dict[str, Any]:
    """Process an SES Lambda-action event. `remaining_seconds` bounds how long a delivery claim is held."""
    summary = Summary()
    failures: list[Exception] = []
    for record in SESEvent(event).records:
        failures.extend(_process(record, summary, lease_seconds=remaining_seconds + _LEASE_MARGIN_SECONDS))
    if failures:
        # The type and text, never the repr: some exceptions' repr carries the bytes they choked on (the mail).
        first = f"{type(failures[0]).__name__}: {failures[0]}"[:500]
        raise ForwardingIncomplete(f"{len(failures)} deliveries failed and will be retried; first: {first}") from (
            failures[0]
        )
    return summary.as_dict()


def _process(record: SESEventRecord, summary: Summary, *, lease_seconds: float) -> list[Exception]:
    mail = record.ses.mail
    receipt = record.ses.receipt
    message_id = mail.message_id
    now_iso = clock.now_iso()
    verdict_failed = _verdict_failed(receipt.raw_event)
    envelope_sender = (mail.get("source") or "").strip()
    bounce = envelope_sender in ("", "<>")
    decisions = [
        decide(normalise(recipient), verdict_failed=verdict_failed, bounce=bounce, now_iso=now_iso)
        for recipient in receipt.recipients
    ]

    for decision in decisions:
        logger.info(
            "mail decision",
            message_id=message_id,
            recipient=decision.recipient,
            action=str(decision.action),
            reason=decision.reason,
        )
        if decision.action is Action.BLOCK:
            summary.blocked.append(decision.recipient)
            metrics.add_metric(name="MailBlocked", unit=MetricUnit.Count, value=1)
            if decision.route is not None:
                routes.count(message_id, decision.route, routes.Outcome.BLOCKED, now_iso)
        elif decision.action is Action.DROP:
            summary.dropped.append(decision.recipient)
            metrics.add_metric(name="MailDropped", unit=MetricUnit.Count, value=1)

    forwards = [decision for decision in decisions if _may_send_from(decision, message_id, summary)]
    forwards = _to_verified_destinations(forwards, message_id, summary)
    if not forwards:
        return []
    settings = get_settings()
    if not settings.mail_bucket:
        raise RuntimeError("MAIL_BUCKET is not set: the forwarder cannot read the messages SES stored")
    message = RawMessage.parse(inbox.read(settings.mail_bucket, settings.mail_prefix + message_id))
    failures: list[Exception] = []
    for decision in forwards:
        failures.extend(_forward(message, message_id, envelope_sender, decision, summary, lease_seconds, now_iso))
    return failures


def _may_send_from(decision: Decision, message_id: str, summary: Summary) -> bool:
    """A forward whose domain SES has not verified is refused here: SES would reject every send, and retrying
    cannot help until the owner publishes the domain's DNS records."""
    if decision.action is not Action.FORWARD:
        return False
    domain = decision.recipient.rpartition("@")[2]
    if ses.is_verified(domain):
        return True
    summary.refused.append(decision.recipient)
    metrics.add_metric(name="MailRefusedUnverifiedDomain", unit=MetricUnit.Count, value=1)
    logger.error(
        "not forwarded: Amazon SES has not verified the domain; publish its DNS records (GET /api/domains/<domain>)",
        message_id=message_id,
        recipient=decision.recipient,
        domain=domain,
    )
    return False


def _tags(decision: Decision) -> dict[str, str]:
    """The message tags SES reports a bounce or complaint with (the feedback function reads them)."""
    tags = {ses.KIND_TAG: FORWARD_TAG}
    if decision.owner_id:
        tags[ses.USER_TAG] = decision.owner_id
    return tags


def _to_verified_destinations(forwards: list[Decision], message_id: str, summary: Summary) -> list[Decision]:
    """The forwards narrowed to their owners' verified destinations, from one read of every destination's
    status (store.destinations.statuses); a forward left with none is not sent at all (the message is not
    even read). Each skipped destination is logged with its reason, for the activity log."""
    wanted = [(decision.owner_id or "", address) for decision in forwards for address in decision.destinations]
    known = destinations.statuses(wanted) if wanted else {}
    kept = []
    for decision in forwards:
        verified = []
        for destination in decision.destinations:
            status = known.get((decision.owner_id or "", destinations.canonical(destination)))
            if status == "verified":
                verified.append(destination)
                continue
            reason = SkipReason.DESTINATION_SUSPENDED if status == "suspended" else SkipReason.DESTINATION_UNVERIFIED
            alias_id = decision.route.alias_id if decision.route is not None else None
            summary.skipped.append(
                {"recipient": decision.recipient, "alias_id": alias_id, "destination": destination, "reason": reason}
            )
            metrics.add_metric(name="MailSkippedDestination", unit=MetricUnit.Count, value=1)
            logger.info(
                "destination skipped",
                message_id=message_id,
                recipient=decision.recipient,
                alias_id=alias_id,
                destination=destination,
                outcome="dropped",
                reason=str(reason),
            )
        if verified:
            kept.append(replace(decision, destinations=tuple(verified)))
    return kept


def _forward(
    message: RawMessage,
    message_id: str,
    envelope_sender: str,
    decision: Decision,
    summary: Summary,
    lease_seconds: float,
    now_iso: str,
) -> list[Exception]:
    """Send one recipient's copy to each of its destinations; the failures, to raise once all were tried."""
    header_block = forwarded_header_block(
        message, alias=decision.recipient, envelope_sender=envelope_sender, now=clock.now()
    )
    failures: list[Exception] = []
    delivered = False
    for destination in decision.destinations:
        try:
            claim = deliveries.claim(message_id, decision.recipient, destination, lease_seconds=lease_seconds)
        except deliveries.DeliveryInProgress as exc:
            failures.append(exc)
            continue
        if not isinstance(claim, deliveries.Claim):  # an earlier invocation finished this one
            if claim is deliveries.Status.SENT:
                summary.skipped_as_already_sent += 1
                delivered = True
            continue
        try:
            ses_message_id = ses.send_raw(
                sender=decision.recipient,
                destination=destination,
                parts=(header_block, message.body),
                tags=_tags(decision),
            )
        except ses.MessageTooLarge as exc:
            # SES will never take it: record it for good (no retry loop), count it, tell the logs.
            deliveries.complete(claim, deliveries.Status.TOO_LARGE)
            summary.too_large += 1
            metrics.add_metric(name="MailTooLarge", unit=MetricUnit.Count, value=1)
            logger.error("message too large for SES, not forwarded", message_id=message_id, size=exc.size)
            continue
        except Exception as exc:
            deliveries.release(claim)
            logger.exception("send failed; the event will be retried", message_id=message_id)
            failures.append(exc)
            continue
        deliveries.complete(claim, deliveries.Status.SENT, ses_message_id)
        summary.sent += 1
        delivered = True
        logger.info("forwarded", message_id=message_id, recipient=decision.recipient, ses_message_id=ses_message_id)

    if delivered and not failures:
        summary.forwarded.append(decision.recipient)
        metrics.add_metric(name="MailForwarded", unit=MetricUnit.Count, value=1)
        if decision.route is not None:
            routes.count(message_id, decision.route, routes.Outcome.FORWARDED, now_iso)
    return failures
