"""The forwarder: for each recipient of an SES receipt event, forward, block, hand to the catch-all, or drop.

Only SES's verdicts in the event decide blocking (spam, virus, and DMARC FAIL under a `reject` or
`quarantine` policy), never headers in the message. Every decision is logged once, as "mail decision" with
the recipient, the action and a snake_case `reason` (what the activity log records), and counted in a metric.

A copy is sent only from a domain SES has verified (asked once per domain every few minutes); otherwise it is
refused with an error log line and the MailRefusedUnverifiedDomain metric. A copy goes only to a `verified`
destination of the alias's (or catch-all's) owner: a pending or suspended one is skipped, logged as
"destination skipped" with its reason (`destination_unverified`, `destination_suspended`). A copy that comes
back to postmask with a valid loop marker (`X-Postmask-Hop`, docs/decisions/0060) is dropped (`loop`).

Per recipient: one GetItem on its route (and, only for an unknown address, one on the domain's marker). Per
message: one BatchGetItem for the status of every destination it would go to (at most 100 per call). The raw
message is read from S3 once, and only when something is to be sent (a verified destination is left). Each
(message, recipient, destination) is sent at most once across retries (`store.deliveries`); each outcome is
counted once (`store.routes.count`). Each recipient is handled on its own: one that fails (or cannot be sent
to at all) never costs another its copy. A send that failed for a reason a retry can fix is raised after every other
delivery of the event was tried, so Lambda retries the event and, in the end, hands it to the dead-letter
queue; a copy SES refuses for good is recorded (`rejected`), logged and counted, not retried. Nothing is lost
silently.

Contacts (docs/decisions/0110): an alias's copy shows its sender, and every other address of To and Cc, as their
contacts' reply addresses; the contacts are read in the same BatchGetItem as the destinations' status, a blocked
one's mail is blocked (`contact_blocked`), and the missing ones are created (one transaction) when a copy is sent.
A recipient that is a reply address (`reply-...`) goes down the reply path (postmask.mail.reply, decision 0111).

Every decision (each copy forwarded or failed, each block, drop, refusal, skipped destination, reply sent or
refused) is an activity event (postmask.activity, decision 0120), recorded once across retries; leak detection
(postmask.leaks) learns each alias's site and its foreign senders from SES's `commonHeaders`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.ses_event import SESEvent, SESEventRecord

from postmask import activity, clock, ids, leaks, ses
from postmask.mail import headers, inbox, reply
from postmask.mail.lines import Body
from postmask.mail.message import (
    HOP_HEADER,
    RawMessage,
    contact_sender,
    correspondents,
    forwarded_header_block,
)
from postmask.observability import logger, metrics
from postmask.settings import get_settings
from postmask.store import _dynamo, contacts, deliveries, destinations, routes, threads

_FAIL = "FAIL"
FORWARD_TAG = "forward"  # the postmask-mail tag of forwarded copies
_BLOCKING_DMARC_POLICIES = ("reject", "quarantine")
_LEASE_MARGIN_SECONDS = 5
_MAX_HOP_CHECKS = 3  # a sender can add marker headers of their own: at most this many reads per message
_HOP = re.compile(r"([A-Za-z0-9-]{1,100})\.([0-9a-f]{32})")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Contacts per message and alias: the sender, then To and Cc (each shown as a reply address); more are left out of
# the copy's To and Cc rather than shown as they are.
MAX_CONTACTS_PER_MESSAGE = 20


class Action(StrEnum):
    FORWARD = "forward"
    BLOCK = "block"
    DROP = "drop"
    REFUSE = "refuse"  # the alias's domain is not verified in SES: nothing can be sent from it


class Reason(StrEnum):
    """Why, in the words of the activity log (contract: "Activity and leak detection")."""

    ALIAS = "alias"
    CATCH_ALL = "catch_all"
    ALIAS_DISABLED = "alias_disabled"
    ALIAS_EXPIRED = "alias_expired"
    SPAM = "spam"
    VIRUS = "virus"
    DMARC_FAIL = "dmarc_fail"
    NO_ALIAS = "no_alias"
    NULL_SENDER = "null_sender"
    CONTACT_BLOCKED = "contact_blocked"
    REPLY_COPY = "reply_copy"  # the alias in the recipients of a reply to one of its contacts: the reply path sends it
    INVALID_RECIPIENT = "invalid_recipient"
    LOOP = "loop"
    FOREIGN_SENDER = "foreign_sender"  # From is not on the alias's site (leak detection)
    DOMAIN_UNVERIFIED = "domain_unverified"
    # Why one destination of a forwarded recipient was not sent its copy ("destination skipped"):
    DESTINATION_UNVERIFIED = "destination_unverified"  # pending, or no such destination of the owner
    ACCOUNT_DISABLED = "account_disabled"  # the owner was disabled by an admin (store.users.set_disabled)
    DESTINATION_SUSPENDED = "destination_suspended"  # a hard bounce or complaint; a new link revives it


# The metric of each decision; a block or drop for one of these reasons is also counted under its own name.
_ACTION_METRIC = {Action.BLOCK: "MailBlocked", Action.DROP: "MailDropped", Action.REFUSE: "MailRefusedUnverifiedDomain"}
_REASON_METRIC = {Reason.DMARC_FAIL: "MailBlockedDmarc", Reason.LOOP: "MailDroppedLoop"}


@dataclass(frozen=True)
class Decision:
    recipient: str
    action: Action
    reason: Reason
    route: routes.Route | None = None  # None for the catch-all and for drops: nothing to count on
    destinations: tuple[str, ...] = ()
    owner_id: str | None = None  # whose destinations they are (the alias's or the domain's owner)
    # An alias's forward: whom it needs contacts for, (name, address), the sender first (when it has one), and
    # the contacts found among them (by address in lower case).
    wanted: tuple[tuple[str, str], ...] = ()
    known: tuple[tuple[str, contacts.Known], ...] = ()
    sender: str | None = None  # the sender's address (canonical), whose contact's counts move

    def contact(self) -> contacts.Known | None:
        return dict(self.known).get(self.sender.lower()) if self.sender else None


# What the activity log records for each decision: its outcome, and its reason (a forward's default one is none).
_OUTCOME = {Action.FORWARD: "forwarded", Action.BLOCK: "blocked", Action.DROP: "dropped", Action.REFUSE: "refused"}
_UNSAID = (Reason.ALIAS,)


def _reason(decision: Decision) -> str | None:
    return None if decision.reason in _UNSAID else str(decision.reason)


@dataclass(frozen=True)
class Arrival:
    """What the activity log says of the message whatever happens to it: from SES's event, never read from S3."""

    message_id: str
    at: str  # when SES received it: the same in every retry, so a retried decision is recorded once
    sender: leaks.Sender
    subject: str | None

    def record(self, decision: Decision, outcome: str, reason: str | None, destination: str | None = None) -> None:
        """The activity event of a decision (or of one destination's copy), when a user owns the address."""
        owner = decision.owner_id or (decision.route.owner_id if decision.route else None)
        if owner is None:
            return
        activity.record(
            activity.Event(
                user_id=owner,
                key=f"{self.message_id}\n{decision.recipient}\n{destination or ''}",
                at=self.at,
                address=decision.recipient,
                outcome=outcome,
                reason=reason,
                alias_id=decision.route.alias_id if decision.route else None,
                sender=self.sender.address,
                destination=destination,
                subject=self.subject,
            )
        )

    def record_reply(
        self, decision: reply.ReplyDecision | reply.Accepted, envelope_sender: str, outcome: str, reason: str | None
    ) -> None:
        """The activity event of a message to a reply address: sent to the contact, or refused and why. One to a
        reply address nobody was given has no owner to show it to."""
        target = decision.target
        if target is None:
            return
        activity.record(
            activity.Event(
                user_id=target.owner_id,
                key=f"{self.message_id}\n{decision.recipient}\n",
                at=self.at,
                address=decision.recipient,
                outcome=outcome,
                reason=reason,
                alias_id=target.alias_id,
                direction="reply",
                sender=headers.sendable(envelope_sender) if "@" in envelope_sender else None,
                destination=target.email,
                subject=self.subject,
            )
        )


@dataclass(frozen=True)
class Skipped:
    """A destination of a forward that is not sent its copy (not verified by its owner)."""

    decision: Decision
    destination: str
    reason: Reason


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
    replied: list[str] = field(default_factory=list)  # reply addresses whose message was sent to their contact
    # Replies not sent: {"recipient", "alias_id", "reason"} (postmask.mail.reply.Refusal).
    replies_refused: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ForwardingIncomplete(Exception):
    """Some deliveries failed; raised so that Lambda retries the event (the rest is not sent again)."""


def normalise(address: str) -> str | None:
    """A recipient as the store keys it (lower case, the domain in IDNA form), or None when it is no address
    an alias or a catch-all copy could ever be sent from (`a..b@`, a non-ASCII local part: SES has no SMTPUTF8)."""
    from postmask.schemas.common import canonical_domain

    local, at, domain = address.strip().lower().rpartition("@")
    if not at or len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return None
    try:
        return f"{local}@{canonical_domain(domain)}"
    except ValueError:
        return None


def decide(
    recipient: str,
    *,
    verdict_failed: Reason | None,
    bounce: bool,
    now_iso: str,
    sender: leaks.Sender = leaks.NO_SENDER,
) -> Decision:
    """What to do with the copy for one recipient: SES's verdicts, the alias's state and, for an alias that
    accepts mail from its site only, the sender's site decide."""
    address = normalise(recipient)
    if address is None:
        return Decision(recipient, Action.DROP, Reason.INVALID_RECIPIENT)
    route = routes.get(address)
    if route is not None:
        owner = route.owner_id
        if verdict_failed:
            return Decision(address, Action.BLOCK, verdict_failed, route, owner_id=owner)
        if not route.enabled:
            return Decision(address, Action.BLOCK, Reason.ALIAS_DISABLED, route, owner_id=owner)
        if route.expired(now_iso):
            return Decision(address, Action.BLOCK, Reason.ALIAS_EXPIRED, route, owner_id=owner)
        if bounce:
            # A bounce to an alias is a bounce of a copy we forwarded, or backscatter: forwarding it to the
            # destination that bounced could loop.
            return Decision(address, Action.DROP, Reason.NULL_SENDER, route, owner_id=owner)
        if route.block_foreign_senders and leaks.is_foreign(route, sender):
            return Decision(address, Action.BLOCK, Reason.FOREIGN_SENDER, route, owner_id=owner)
        return Decision(address, Action.FORWARD, Reason.ALIAS, route, route.destinations, owner)
    catch_all = routes.catch_all(address.rpartition("@")[2])
    if catch_all is None or catch_all.destination is None:
        # Dropped; recorded for the domain's owner when someone registered it.
        return Decision(address, Action.DROP, Reason.NO_ALIAS, owner_id=catch_all.owner_id if catch_all else None)
    if verdict_failed:
        return Decision(address, Action.BLOCK, verdict_failed, owner_id=catch_all.owner_id)
    if bounce:
        return Decision(address, Action.DROP, Reason.NULL_SENDER, owner_id=catch_all.owner_id)
    return Decision(address, Action.FORWARD, Reason.CATCH_ALL, None, (catch_all.destination,), catch_all.owner_id)


def _verdict_failed(receipt: dict[str, Any]) -> Reason | None:
    """Only SES's own verdicts are trusted, never headers in the message. DMARC FAIL blocks when the sender's
    domain asks for it (`reject`, `quarantine`); under `none` its owner asked for reports only."""
    if (receipt.get("spamVerdict") or {}).get("status") == _FAIL:
        return Reason.SPAM
    if (receipt.get("virusVerdict") or {}).get("status") == _FAIL:
        return Reason.VIRUS
    dmarc_failed = (receipt.get("dmarcVerdict") or {}).get("status") == _FAIL
    if dmarc_failed and str(receipt.get("dmarcPolicy") or "").lower() in _BLOCKING_DMARC_POLICIES:
        return Reason.DMARC_FAIL
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
    common = mail.get("commonHeaders") or {}
    arrival = Arrival(
        message_id,
        activity.at_of(mail.get("timestamp"), now_iso),
        leaks.sender_of(common),
        activity.subject_of(common.get("subject")),
    )
    to_replies = [recipient for recipient in receipt.recipients if _is_reply_address(recipient)]
    replies = [reply.decide(recipient.lower(), receipt.raw_event, envelope_sender) for recipient in to_replies]
    decisions = [
        _sendable_from(
            decide(recipient, verdict_failed=verdict_failed, bounce=bounce, now_iso=now_iso, sender=arrival.sender)
        )
        for recipient in receipt.recipients
        if recipient not in to_replies
    ]
    decisions = _reply_copies(decisions, replies, envelope_sender)
    decisions, skipped = _to_verified_destinations(decisions, _event_headers(mail.raw_event), envelope_sender)

    loaded: list[RawMessage] = []

    def message() -> RawMessage:
        if not loaded:
            settings = get_settings()
            if not settings.mail_bucket:
                raise RuntimeError("MAIL_BUCKET is not set: the forwarder cannot read the messages SES stored")
            loaded.append(RawMessage.parse(inbox.read(settings.mail_bucket, settings.mail_prefix + message_id)))
        return loaded[0]

    if any(decision.action is Action.FORWARD and decision.destinations for decision in decisions) and _came_back(
        message()
    ):
        decisions = [
            replace(d, action=Action.DROP, reason=Reason.LOOP) if d.action is Action.FORWARD else d for d in decisions
        ]
        skipped = []  # our own copy come back: dropped whole, whatever its destinations

    decisions = [_observed(decision, arrival) for decision in decisions]
    for decision in decisions:
        _record(decision, message_id, summary, now_iso)
        if decision.action is not Action.FORWARD:
            arrival.record(decision, _OUTCOME[decision.action], _reason(decision))
    for skip in skipped:
        _record_skip(skip, message_id, summary)
        arrival.record(skip.decision, "dropped", str(skip.reason), skip.destination)
    for refused in replies:
        if refused.refusal is not None:
            _record_refusal(refused, str(refused.refusal), arrival, envelope_sender, summary)

    failures: list[Exception] = []
    forwards = [decision for decision in decisions if decision.action is Action.FORWARD and decision.destinations]
    if forwards:
        hop = f"{message_id}.{deliveries.hop_token(message_id)}"
        body = message().sendable_body()  # once for every copy: only a part with lines over 998 bytes is re-encoded
        if body.reencoded:
            logger.info("parts with lines over 998 bytes re-encoded", message_id=message_id, parts=body.reencoded)
        for decision in forwards:
            try:
                failures.extend(
                    _forward(message(), body, hop, arrival, envelope_sender, decision, summary, lease_seconds, now_iso)
                )
            except Exception as exc:  # one recipient's failure never costs another its copy
                logger.exception("forwarding failed; the event will be retried", message_id=message_id)
                failures.append(exc)
    for decided in replies:
        accepted = decided.accepted()
        if accepted is None:
            continue
        try:
            failures.extend(_reply(message(), accepted, arrival, envelope_sender, summary, lease_seconds, now_iso))
        except Exception as exc:
            logger.exception("reply failed; the event will be retried", message_id=message_id)
            failures.append(exc)
    return failures


def _is_reply_address(recipient: str) -> bool:
    address = normalise(recipient)
    return address is not None and ids.is_reply_local_part(address.partition("@")[0])


def _event_headers(mail: dict[str, Any]) -> RawMessage | None:
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


def _reply_copies(
    decisions: list[Decision], replies: list[reply.ReplyDecision], envelope_sender: str
) -> list[Decision]:
    """A destination's "reply all" names the alias beside the contact's reply address: the reply path sends that
    message, and its copy for the alias would only come back to the destination. Dropped (`reply_copy`)."""
    replied_from = {r.alias_id for r in replies if r.alias_id is not None}
    sender = envelope_sender.lower()
    return [
        replace(d, action=Action.DROP, reason=Reason.REPLY_COPY)
        if d.action is Action.FORWARD
        and d.route is not None
        and d.route.alias_id in replied_from
        and sender in {destinations.canonical(address) for address in d.route.destinations}
        else d
        for d in decisions
    ]


def _observed(decision: Decision, arrival: Arrival) -> Decision:
    """Leak detection learns from each message to an alias (postmask.leaks); a forward from a foreign sender
    is recorded with the reason `foreign_sender`."""
    route = decision.route
    if route is None or decision.reason in (Reason.NULL_SENDER, Reason.LOOP, Reason.REPLY_COPY):
        return decision
    forwarding = decision.action is Action.FORWARD
    foreign = leaks.observe(route, arrival.sender, forwarded=forwarding, at=arrival.at)
    return replace(decision, reason=Reason.FOREIGN_SENDER) if foreign and forwarding else decision


def _sendable_from(decision: Decision) -> Decision:
    """A forward whose domain SES has not verified is refused: SES would reject every send, and retrying cannot
    help until the owner publishes the domain's DNS records."""
    if decision.action is not Action.FORWARD or ses.is_verified(decision.recipient.rpartition("@")[2]):
        return decision
    return replace(decision, action=Action.REFUSE, reason=Reason.DOMAIN_UNVERIFIED)


def _wanted_contacts(decision: Decision, headers_seen: RawMessage | None, envelope_sender: str) -> Decision:
    """An alias's forward with whom it needs contacts for: the sender, then every other address of To and Cc."""
    if decision.route is None:
        return decision
    seen = headers_seen or RawMessage.parse(b"\r\n")
    sender = contact_sender(seen, envelope_sender)
    wanted = [sender] if sender is not None else []
    wanted += [
        found for found in correspondents(seen, decision.route.address) if sender is None or found[1] != sender[1]
    ]
    return replace(
        decision, wanted=tuple(wanted[:MAX_CONTACTS_PER_MESSAGE]), sender=sender[1] if sender is not None else None
    )


def _to_verified_destinations(
    decisions: list[Decision], headers_seen: RawMessage | None, envelope_sender: str
) -> tuple[list[Decision], list[Skipped]]:
    """Each forward narrowed to its owner's verified destinations, and told its contacts, from one read of every
    destination's status and of the contacts an alias's forward needs (one BatchGetItem, at most 100 keys per
    call); the destinations left out. A forward from a blocked contact becomes a block (`contact_blocked`). A
    forward left with no destination sends nothing (and when no forward has one, the message is not even read)."""
    decisions = [
        _wanted_contacts(d, headers_seen, envelope_sender) if d.action is Action.FORWARD else d for d in decisions
    ]
    forwards = [decision for decision in decisions if decision.action is Action.FORWARD]
    wanted = [(decision.owner_id or "", address) for decision in forwards for address in decision.destinations]
    keys = {_key_id(key): key for owner, address in wanted for key in [destinations.key_of(owner, address)]}
    for decision in forwards:  # each owner's account item: present while an admin has disabled them
        key = destinations.account_key(decision.owner_id or "")
        keys[_key_id(key)] = key
    for decision in forwards:
        if decision.route is not None:
            for _, address in decision.wanted:
                key = contacts.sender_key(decision.route.alias_id, address)
                keys[_key_id(key)] = key
    items = (
        _dynamo.batch_get(
            list(keys.values()),
            attributes=contacts.FORWARDER_READS,
        )
        if keys
        else []
    )
    known = contacts.known_from(items)
    status_of = {(item["pk"], item["sk"]): item.get("status") for item in items}
    narrowed: list[Decision] = []
    skipped: list[Skipped] = []
    for decision in decisions:
        if decision.action is not Action.FORWARD:
            narrowed.append(decision)
            continue
        if status_of.get(_key_id(destinations.account_key(decision.owner_id or ""))) == "disabled":
            narrowed.append(replace(decision, action=Action.BLOCK, reason=Reason.ACCOUNT_DISABLED, destinations=()))
            continue
        if decision.route is not None:
            found = tuple(
                (address.lower(), known[(decision.route.alias_id, address.lower())])
                for _, address in decision.wanted
                if (decision.route.alias_id, address.lower()) in known
            )
            decision = replace(decision, known=found)
            contact = decision.contact()
            if contact is not None and contact.blocked:
                narrowed.append(replace(decision, action=Action.BLOCK, reason=Reason.CONTACT_BLOCKED, destinations=()))
                continue
        verified = []
        for destination in decision.destinations:
            status = status_of.get(_key_id(destinations.key_of(decision.owner_id or "", destination)))
            if status == "verified":
                verified.append(destination)
            else:
                reason = Reason.DESTINATION_SUSPENDED if status == "suspended" else Reason.DESTINATION_UNVERIFIED
                skipped.append(Skipped(decision, destination, reason))
        narrowed.append(replace(decision, destinations=tuple(verified)))
    return narrowed, skipped


def _key_id(key: dict[str, dict[str, str]]) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


def _record_skip(skip: Skipped, message_id: str, summary: Summary) -> None:
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


def _tags(decision: Decision) -> dict[str, str]:
    """The message tags SES reports a bounce or complaint with (the feedback function reads them)."""
    tags = {ses.KIND_TAG: FORWARD_TAG}
    if decision.owner_id:
        tags[ses.USER_TAG] = decision.owner_id
    if decision.route is not None:
        tags[ses.ALIAS_TAG] = decision.route.alias_id
    return tags


def _came_back(message: RawMessage) -> bool:
    """Whether the message is a copy postmask sent, come back (it carries one of our own loop markers)."""
    for marker in message.all(HOP_HEADER)[:_MAX_HOP_CHECKS]:
        found = _HOP.fullmatch(headers.header_text(marker.raw_value).strip())
        if found is not None and deliveries.is_our_hop(found.group(1), found.group(2)):
            return True
    return False


def _record(decision: Decision, message_id: str, summary: Summary, now_iso: str) -> None:
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


class Sent(StrEnum):
    """How one delivery (message, recipient, destination) ended in this invocation."""

    SENT = "sent"
    BEFORE = "before"  # an earlier invocation sent it
    DONE = "done"  # an earlier invocation ended it otherwise: nothing to retry
    TOO_LARGE = "too_large"  # SES will never take it: nothing to retry
    REJECTED = "rejected_by_ses"  # SES refuses it for good: nothing to retry
    FAILED = "send_error"  # to be retried (the exception is in the failures)


# What the activity log records of one delivery (DONE: an earlier invocation recorded it).
_DELIVERY_OUTCOME = {
    Sent.TOO_LARGE: ("failed", "too_large"),
    Sent.REJECTED: ("failed", "rejected_by_ses"),
    Sent.FAILED: ("failed", "send_error"),  # then sent, when a retry sends it
}


def _send_once(
    message_id: str,
    recipient: str,
    destination: str,
    *,
    sender: str,
    parts: tuple[bytes | memoryview, ...],
    tags: dict[str, str],
    summary: Summary,
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
            summary.skipped_as_already_sent += 1
            return Sent.BEFORE, None
        return Sent.DONE, None
    try:
        ses_message_id = ses.send_raw(sender=sender, destination=destination, parts=parts, tags=tags)
    except ses.MessageTooLarge as exc:
        # SES will never take it: record it for good (no retry loop), count it, tell the logs.
        deliveries.complete(claim, deliveries.Status.TOO_LARGE)
        summary.too_large += 1
        metrics.add_metric(name="MailTooLarge", unit=MetricUnit.Count, value=1)
        logger.error("message too large for SES, not sent", message_id=message_id, size=exc.size)
        return Sent.TOO_LARGE, None
    except ses.SendRefused as exc:
        # SES refuses this copy for good: retrying would only fail again, three times, then dead-letter.
        deliveries.complete(claim, deliveries.Status.REJECTED, reason=exc.code)
        summary.rejected += 1
        metrics.add_metric(name="MailRejected", unit=MetricUnit.Count, value=1)
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
    summary.sent += 1
    return Sent.SENT, ses_message_id


def _contacts(decision: Decision) -> dict[str, contacts.Known] | None:
    """{address in lower case: its contact} of everyone an alias's forward names, the missing ones created (one
    transaction); None for a catch-all's."""
    route = decision.route
    if route is None:
        return None
    alias = contacts.AliasRef(route.owner_id, route.alias_id, route.address)
    wanted = [(address, name or None) for name, address in decision.wanted]
    return contacts.find_or_create(alias, wanted, dict(decision.known))


def _forward(
    message: RawMessage,
    body: Body,
    hop: str,
    arrival: Arrival,
    envelope_sender: str,
    decision: Decision,
    summary: Summary,
    lease_seconds: float,
    now_iso: str,
) -> list[Exception]:
    """Send one recipient's copy to each of its destinations; the failures, to raise once all were tried. Each
    copy's outcome is an activity event: forwarded, or failed with its reason."""
    message_id = arrival.message_id
    alias = decision.recipient
    received = _received_ids(message, alias, decision.destinations)
    found = _contacts(decision)
    reply_addresses = {address: known.reply_address for address, known in found.items()} if found is not None else None
    failures: list[Exception] = []
    pairs: list[threads.Pair] = []
    delivered = False
    for destination in decision.destinations:
        # Built before the claim: whatever goes wrong here leaves no claim held until its lease runs out.
        header_block = forwarded_header_block(
            message,
            alias=alias,
            envelope_sender=envelope_sender,
            now=clock.now(),
            received_ids=received.get(destination.lower(), {}),
            hop=hop,
            transfer_encoding=body.transfer_encoding,
            reply_addresses=reply_addresses,
        )
        outcome, ses_message_id = _send_once(
            message_id,
            alias,
            destination,
            sender=alias,
            parts=(header_block, *body.chunks),
            tags=_tags(decision),
            summary=summary,
            lease_seconds=lease_seconds,
            failures=failures,
        )
        delivered = delivered or outcome in (Sent.SENT, Sent.BEFORE)
        if outcome in (Sent.SENT, Sent.BEFORE):  # BEFORE: written then, or now if writing it failed then
            arrival.record(decision, "forwarded", _reason(decision), destination)
        elif outcome in _DELIVERY_OUTCOME:
            arrival.record(decision, *_DELIVERY_OUTCOME[outcome], destination)
        if outcome is not Sent.SENT or ses_message_id is None:
            continue
        logger.info("forwarded", message_id=message_id, recipient=alias, ses_message_id=ses_message_id)
        if message.message_id is not None:
            inside_id = ses.received_message_id(ses_message_id, get_settings().region)
            pairs.append(threads.Pair(destination.lower(), message.message_id, inside_id))

    _remember(alias, pairs, message_id)
    if delivered and not failures:
        summary.forwarded.append(alias)
        metrics.add_metric(name="MailForwarded", unit=MetricUnit.Count, value=1)
        if decision.route is not None:
            contact = found.get(decision.sender.lower()) if found is not None and decision.sender else None
            counted = (contact.contact_id, "received") if contact is not None else None
            routes.count(message_id, decision.route, routes.Outcome.FORWARDED, now_iso, contact=counted)
    return failures


def _received_ids(message: RawMessage, alias: str, destinations: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """{destination: {original id: id it received}} for the ids the message's In-Reply-To/References name.
    A failed lookup costs the thread, never the copy."""
    referenced = message.referenced_ids()
    if not referenced:
        return {}
    try:
        return threads.inside_ids(alias, [d.lower() for d in destinations], referenced)
    except Exception:
        logger.exception("could not read thread records; the copy names the original ids")
        return {}


def _remember(alias: str, pairs: list[threads.Pair], message_id: str) -> None:
    if not pairs:
        return
    try:
        threads.remember(alias, pairs)
    except Exception:  # the copies are sent: a later reply will not thread, nothing is lost
        logger.exception("could not write thread records", message_id=message_id)


# --- the reply path (postmask.mail.reply) ----------------------------------------------------------------------


def _record_refusal(
    decision: reply.ReplyDecision | reply.Accepted,
    refusal: str,
    arrival: Arrival,
    envelope_sender: str,
    summary: Summary,
) -> None:
    """Log a reply that is not sent, with its reason, record it in the activity log, and count it. Nothing is sent
    back to anyone: a bounce would go to whoever forged the sender."""
    message_id = arrival.message_id
    arrival.record_reply(decision, envelope_sender, "refused", refusal)
    alias_id = decision.target.alias_id if decision.target is not None else None
    summary.replies_refused.append({"recipient": decision.recipient, "alias_id": alias_id, "reason": refusal})
    metrics.add_metric(name="MailReplyRefused", unit=MetricUnit.Count, value=1)
    logger.info(
        "mail decision",
        message_id=message_id,
        recipient=decision.recipient,
        direction="reply",
        action="refuse",
        outcome="refused",
        reason=refusal,
        alias_id=alias_id,
        sender=envelope_sender,
    )


def _reply(
    message: RawMessage,
    decision: reply.Accepted,
    arrival: Arrival,
    envelope_sender: str,
    summary: Summary,
    lease_seconds: float,
    now_iso: str,
) -> list[Exception]:
    """Send a destination's message to a contact, from the alias, rebuilt and scrubbed (postmask.mail.reply); its
    outcome is an activity event (sent, or failed with its reason)."""
    message_id = arrival.message_id
    refusal, known = reply.message_refusal(message, decision)
    if refusal is not None:
        _record_refusal(decision, str(refusal), arrival, envelope_sender, summary)
        return []
    target, alias = decision.target, decision.route.address
    swap = reply.swap_for(decision)
    body = message.sendable_body(rewrite=swap)  # the destination's address out of every text part
    header_block = reply.header_block(
        message,
        decision,
        known,
        swap=swap,
        outside_ids=_outside_ids(alias, message.referenced_ids()),
        now=clock.now(),
        transfer_encoding=body.transfer_encoding,
    )
    failures: list[Exception] = []
    outcome, ses_message_id = _send_once(
        message_id,
        decision.recipient,
        target.email,
        sender=alias,
        parts=(header_block, *body.chunks),
        tags={ses.KIND_TAG: reply.REPLY_TAG, ses.USER_TAG: decision.route.owner_id, ses.ALIAS_TAG: target.alias_id},
        summary=summary,
        lease_seconds=lease_seconds,
        failures=failures,
    )
    if outcome is Sent.SENT and ses_message_id is not None and message.message_id is not None:
        # The contact knows the reply by SES's id, the destination by its own: threads hold both ways.
        outside = ses.received_message_id(ses_message_id, get_settings().region)
        _remember(alias, [threads.Pair(decision.sender, outside, message.message_id)], message_id)
    if outcome in _DELIVERY_OUTCOME:
        arrival.record_reply(decision, envelope_sender, *_DELIVERY_OUTCOME[outcome])
    if outcome in (Sent.SENT, Sent.BEFORE):
        arrival.record_reply(decision, envelope_sender, "sent", None)
        summary.replied.append(decision.recipient)
        metrics.add_metric(name="MailReplySent", unit=MetricUnit.Count, value=1)
        logger.info(
            "mail decision",
            message_id=message_id,
            recipient=decision.recipient,
            direction="reply",
            action="send",
            outcome="sent",
            reason=None,
            alias_id=target.alias_id,
            rewritten=body.rewritten,
        )
        routes.count_sent(message_id, decision.recipient, target.alias_id, target.contact_id, now_iso)
    return failures


def _outside_ids(alias: str, referenced: list[str]) -> dict[str, str]:
    """The ids the contact's side knows for those a reply names. A failed lookup costs the thread, not the reply."""
    if not referenced:
        return {}
    try:
        return threads.outside_ids(alias, referenced)
    except Exception:
        logger.exception("could not read thread records; the reply names no earlier message")
        return {}
