"""Stage 2 of the mail path, decisions: per recipient, what happens to the message, and for whom.

Takes an `Arrival` (and the `StoredMessage`, read only for the loop check, and only when a copy is to be sent);
gives `Decided`: one `Decision` per recipient that is not a reply address (forward to these verified
destinations, block, drop, or refuse, each with its reason), the destinations `Skipped` (not verified), and one
`reply.ReplyDecision` per reply address (postmask.mail.reply, decision 0111).

Only SES's verdicts in the event decide blocking (spam, virus, and DMARC FAIL under a `reject` or `quarantine`
policy), never headers in the message. A copy is sent only from a domain SES has verified (asked once per domain
every few minutes); otherwise it is refused (`domain_unverified`). A copy goes only to a `verified` destination of
the alias's (or catch-all's) owner: a pending or suspended one is skipped (`destination_unverified`,
`destination_suspended`). A copy that comes back to postmask with a valid loop marker (`X-Postmask-Hop`,
docs/decisions/0060) is dropped (`loop`). Contacts (docs/decisions/0110): an alias's forward names its sender
and every other address of To and Cc; they are read in the same BatchGetItem as the destinations' status, a
blocked one's mail is blocked (`contact_blocked`), and the missing ones are created when a copy is sent
(`contacts_of`). Leak detection (postmask.leaks) learns each alias's site and its foreign senders here.

Per recipient: one GetItem on its route (and, only for an unknown address, one on the domain's marker). Per
message: one BatchGetItem for the status of every destination it would go to (at most 100 per call).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from postmask import ids, leaks, ses
from postmask.mail import hops, reply
from postmask.mail.arrival import Arrival
from postmask.mail.message import RawMessage, contact_sender, correspondents
from postmask.settings import get_settings
from postmask.store import _dynamo, contacts, destinations, pgp_keys, routes

_FAIL = "FAIL"
_BLOCKING_DMARC_POLICIES = ("reject", "quarantine")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Contacts per message and alias: the sender, then To and Cc (each shown as a reply address); more are left out of
# the copy's To and Cc rather than shown as they are.
MAX_CONTACTS_PER_MESSAGE = 20
# What the one BatchGetItem per message reads of destinations (status, OpenPGP key) and contacts: exactly what the
# forwarder's IAM policy allows (dynamodb:Attributes).
BATCH_READS = (*contacts.FORWARDER_READS, *pgp_keys.FORWARDER_ATTRIBUTES)


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
    # The OpenPGP keys of its destinations that have one (by address in lower case), read with their status.
    keys: tuple[tuple[str, pgp_keys.ForwardingKey], ...] = ()

    def contact(self) -> contacts.Known | None:
        return dict(self.known).get(self.sender.lower()) if self.sender else None


@dataclass(frozen=True)
class Skipped:
    """A destination of a forward that is not sent its copy (not verified by its owner)."""

    decision: Decision
    destination: str
    reason: Reason


@dataclass(frozen=True)
class Decided:
    """Everything decided about one message, before anything is sent."""

    decisions: list[Decision]  # one per recipient that is not a reply address
    skipped: list[Skipped]
    replies: list[reply.ReplyDecision]  # one per reply address

    @property
    def forwards(self) -> list[Decision]:
        """The decisions that send a copy (to at least one verified destination)."""
        return [decision for decision in self.decisions if decision.action is Action.FORWARD and decision.destinations]


def decide_all(arrival: Arrival, message: Callable[[], RawMessage]) -> Decided:
    """Every recipient's decision, in the order the reads are made: the reply addresses', then each other
    recipient's (its route, its domain's SES status), the reply-all copies dropped, one BatchGetItem for the
    destinations and contacts, the loop check (the message read only when a copy is to be sent), leak detection."""
    verdict_failed = _verdict_failed(arrival.receipt)
    envelope_sender = arrival.envelope_sender
    to_replies = [recipient for recipient in arrival.recipients if _is_reply_address(recipient)]
    replies = [reply.decide(recipient.lower(), arrival.receipt, envelope_sender) for recipient in to_replies]
    decisions = [
        _sendable_from(
            decide(
                recipient,
                verdict_failed=verdict_failed,
                bounce=arrival.bounce,
                now_iso=arrival.now_iso,
                sender=arrival.sender,
            )
        )
        for recipient in arrival.recipients
        if recipient not in to_replies
    ]
    decisions = _reply_copies(decisions, replies, envelope_sender)
    decisions, skipped = _to_verified_destinations(decisions, arrival.event_headers(), envelope_sender)
    if any(decision.action is Action.FORWARD and decision.destinations for decision in decisions) and _came_back(
        message()
    ):
        decisions = [
            replace(d, action=Action.DROP, reason=Reason.LOOP) if d.action is Action.FORWARD else d for d in decisions
        ]
        skipped = []  # our own copy come back: dropped whole, whatever its destinations
    decisions = [_observed(decision, arrival) for decision in decisions]
    return Decided(decisions, skipped, replies)


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
        return _by_alias(route, verdict_failed=verdict_failed, bounce=bounce, now_iso=now_iso, sender=sender)
    catch_all = routes.catch_all(address.rpartition("@")[2])
    if catch_all is None or catch_all.destination is None:
        # Dropped; recorded for the domain's owner when someone registered it.
        return Decision(address, Action.DROP, Reason.NO_ALIAS, owner_id=catch_all.owner_id if catch_all else None)
    if verdict_failed:
        return Decision(address, Action.BLOCK, verdict_failed, owner_id=catch_all.owner_id)
    if bounce:
        return Decision(address, Action.DROP, Reason.NULL_SENDER, owner_id=catch_all.owner_id)
    created = routes.created_on_first_receipt(
        address, catch_all, day=now_iso[:10], per_day=get_settings().catch_all_new_per_day
    )
    if created is not None:  # docs/decisions/0046: the alias, with its reply addresses, contacts, counts, switch
        return _by_alias(created, verdict_failed=None, bounce=False, now_iso=now_iso, sender=sender)
    return Decision(address, Action.FORWARD, Reason.CATCH_ALL, None, (catch_all.destination,), catch_all.owner_id)


def _by_alias(
    route: routes.Route, *, verdict_failed: Reason | None, bounce: bool, now_iso: str, sender: leaks.Sender
) -> Decision:
    address, owner = route.address, route.owner_id
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


def contacts_of(decision: Decision) -> dict[str, contacts.Known] | None:
    """{address in lower case: its contact} of everyone an alias's forward names, the missing ones created (one
    transaction); None for a catch-all's. Called when its copies are about to be sent."""
    route = decision.route
    if route is None:
        return None
    alias = contacts.AliasRef(route.owner_id, route.alias_id, route.address)
    wanted = [(address, name or None) for name, address in decision.wanted]
    return contacts.find_or_create(alias, wanted, dict(decision.known))


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


def _is_reply_address(recipient: str) -> bool:
    address = normalise(recipient)
    return address is not None and ids.is_reply_local_part(address.partition("@")[0])


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
    return replace(
        decision,
        wanted=tuple(wanted_contacts(seen, decision.route.address, envelope_sender, sender)),
        sender=sender[1] if sender is not None else None,
    )


def wanted_contacts(
    message: RawMessage, alias: str, envelope_sender: str, sender: tuple[str, str] | None = None
) -> list[tuple[str, str]]:
    """(name, email) of whom a forwarded copy of `message` to `alias` needs contacts for (its Reply-To and the
    addresses it names): the sender (`sender` when read already), then every other address of To and Cc; at most
    MAX_CONTACTS_PER_MESSAGE. The forwarder's and a quarantined copy's resend (postmask.quarantine)."""
    sender = sender if sender is not None else contact_sender(message, envelope_sender)
    wanted = [sender] if sender is not None else []
    wanted += [found for found in correspondents(message, alias) if sender is None or found[1] != sender[1]]
    return wanted[:MAX_CONTACTS_PER_MESSAGE]


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
            attributes=BATCH_READS,
        )
        if keys
        else []
    )
    known = contacts.known_from(items)
    status_of = {(item["pk"], item["sk"]): item.get("status") for item in items}
    key_of = {(item["pk"], item["sk"]): pgp_keys.forwarding_key(item) for item in items}
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
        pgp: list[tuple[str, pgp_keys.ForwardingKey]] = []
        for destination in decision.destinations:
            item_key = _key_id(destinations.key_of(decision.owner_id or "", destination))
            status = status_of.get(item_key)
            if status == "verified":
                verified.append(destination)
                found_key = key_of.get(item_key)
                if found_key is not None:
                    pgp.append((destination.lower(), found_key))
            else:
                reason = Reason.DESTINATION_SUSPENDED if status == "suspended" else Reason.DESTINATION_UNVERIFIED
                skipped.append(Skipped(decision, destination, reason))
        narrowed.append(replace(decision, destinations=tuple(verified), keys=tuple(pgp)))
    return narrowed, skipped


def _key_id(key: dict[str, dict[str, str]]) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


def _came_back(message: RawMessage) -> bool:
    """Whether the message is a copy postmask forwarded, come back (it carries one of our own loop markers; a reply
    copy's marker is not one: a reply copy reaching another user's alias is forwarded, postmask.mail.hops)."""
    return hops.came_back(message, reply_copies=False)
