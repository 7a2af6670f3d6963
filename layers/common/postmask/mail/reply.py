"""The reply path: mail to a contact's reply address, sent to the contact from the alias (docs/decisions/0111).

A message to a reply address is sent only when SES's own verdicts in the receipt event say it was authenticated
(DMARC PASS, or SPF PASS for the envelope sender with DMARC not FAIL; DKIM PASS alone never, since SES's
`dkimVerdict` PASS means *some* signature verified, maybe the attacker's own domain's; spam and virus not FAIL)
and its sender, the SMTP envelope sender and the From address both, is a verified destination of the contact's
alias, and the alias is enabled and unexpired. Headers in the message are never evidence. Any other message is
refused: nothing is sent, to anyone (no bounce: a bounce would go to whoever forged the sender), and the refusal
is logged as a "mail decision" with `direction` `reply`, `outcome` `refused` and its `reason` (the activity log's
source) and counted (MailReplyRefused).

What the contact receives is rebuilt, never passed through: From the alias (with its display_name, never the
destination's name), To and Cc the contacts whose reply addresses the message names (every other recipient but
the alias itself refuses the whole message, `foreign_recipient`: SimpleLogin #993), Subject, Date, MIME-Version
and Content-*, Auto-Submitted and Precedence (RFC 3834: auto-responders never answer each other), In-Reply-To and
References naming only the ids the contact's side knows (thread records, both ways), a new Message-ID, and the
loop marker (postmask.mail.hops: a copy come back to a reply address is refused, `loop`). Nothing else: no
Received (addy.io #230), DKIM-Signature, Return-Path, Sender, User-Agent, X-Mailer, Autocrypt,
Disposition-Notification-To or any other field the destination's mailer wrote. Every destination address of the
alias is replaced by the alias in every header and decoded text-like part (postmask.mail.scrub: the follow-up to
one's own sent mail of SimpleLogin #2608 and addy.io #173); parts that carry the sender's identity and cannot be
scrubbed are removed; binary attachments leave byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from postmask import clock, ses
from postmask.ids import is_reply_local_part
from postmask.mail import headers, hops
from postmask.mail.lines import Body
from postmask.mail.message import HOP_HEADER, RawMessage, closing_fields, copied_field, message_ids, thread_field
from postmask.mail.scrub import AddressSwap
from postmask.store import contacts, destinations, routes

_PASS = "PASS"  # noqa: S105 - a verdict, not a password
_FAIL = "FAIL"
REPLY_TAG = "reply"  # the postmask-mail tag of replies (feedback ignores their bounces: no destination to suspend)
_RECIPIENT_FIELDS = ("to", "cc", "bcc")
# Copied from the destination's message, when they name no destination address (else rewritten): what the
# contact needs to read it, and Auto-Submitted and Precedence, which keep two auto-responders from answering each
# other for ever (RFC 3834).
_COPIED = frozenset({"subject", "date", "mime-version", "auto-submitted", "precedence"})


class Refusal(StrEnum):
    """Why a reply was not sent, in the activity log's words."""

    NO_CONTACT = "no_contact"  # no such reply address (never issued, or its contact deleted)
    NO_ALIAS = "no_alias"  # the contact's alias is gone
    ALIAS_DISABLED = "alias_disabled"  # a disabled alias neither receives nor sends
    ALIAS_EXPIRED = "alias_expired"
    UNAUTHENTICATED = "unauthenticated_reply"  # SES's verdicts: neither DMARC PASS nor SPF PASS, or DMARC FAIL
    SPAM = "spam"
    VIRUS = "virus"
    NULL_SENDER = "null_sender"  # a bounce or other mail without an envelope sender
    NOT_A_DESTINATION = "not_a_destination"  # the sender is not a destination of the alias
    DESTINATION_UNVERIFIED = "destination_unverified"
    DESTINATION_SUSPENDED = "destination_suspended"
    FOREIGN_RECIPIENT = "foreign_recipient"  # To/Cc/Bcc names someone who is not a contact of the alias
    LOOP = "loop"  # a copy postmask sent, come back; or a contact that is the alias itself or a reply address
    DOMAIN_UNVERIFIED = "domain_unverified"  # SES cannot send from the alias's domain


@dataclass(frozen=True)
class ReplyDecision:
    recipient: str
    target: contacts.ReplyTarget | None
    route: routes.Route | None = None
    refusal: Refusal | None = None
    sender: str | None = None  # the verified destination it comes from (canonical)
    notes: tuple[str, ...] = ()  # what the activity event adds (an unauthenticated reply's hint)

    @property
    def alias_id(self) -> str | None:
        return self.target.alias_id if self.target is not None else None

    def accepted(self) -> Accepted | None:
        """The reply to send, when nothing refused it."""
        if self.refusal is not None or self.target is None or self.route is None or self.sender is None:
            return None
        return Accepted(self.recipient, self.target, self.route, self.sender)


@dataclass(frozen=True)
class Accepted:
    """A reply the event allows: to `target`'s contact, from `route`'s alias, written by its destination `sender`."""

    recipient: str
    target: contacts.ReplyTarget
    route: routes.Route
    sender: str


def _status(receipt: Mapping[str, Any], name: str) -> str:
    return str((receipt.get(name) or {}).get("status") or "")


def verdict_refusal(receipt: Mapping[str, Any]) -> Refusal | None:
    """SES's verdicts, the only evidence of who sent it: spam and virus not FAIL; DMARC PASS, or SPF PASS with
    DMARC not FAIL (whatever the sender's domain's policy: a reply is mail *from* the user, held to the strictest
    reading). SPF PASS vouches for the envelope sender's domain only: `message_refusal` then requires the From
    address to be that same sender. DKIM PASS alone is never enough: SES's `dkimVerdict` PASS means some
    signature verified, which may be the attacker's own domain's (docs/decisions/0111)."""
    if _status(receipt, "spamVerdict") == _FAIL:
        return Refusal.SPAM
    if _status(receipt, "virusVerdict") == _FAIL:
        return Refusal.VIRUS
    dmarc = _status(receipt, "dmarcVerdict")
    if dmarc == _PASS or (_status(receipt, "spfVerdict") == _PASS and dmarc != _FAIL):
        return None
    return Refusal.UNAUTHENTICATED


def authentication_hint(receipt: Mapping[str, Any], envelope_sender: str) -> str:
    """What the owner reads in the activity log of an unauthenticated reply: what the destination's domain must
    publish for its replies to be sent, and SES's verdicts."""
    domain = envelope_sender.rpartition("@")[2].lower() or "the destination's domain"
    verdicts = " ".join(f"{name}={_status(receipt, f'{name}Verdict') or 'NONE'}" for name in ("spf", "dkim", "dmarc"))
    return (
        f"{domain} must publish a DMARC record that its mail passes (DKIM signed by {domain}, or SPF), or an SPF "
        f"record that passes for the envelope sender; a DKIM signature alone is not enough. SES said: {verdicts}"
    )


def is_loop(contact: str, alias: str) -> bool:
    """Whether mail to `contact` from `alias` would come straight back: the alias itself, or a reply address (of
    any postmask)."""
    return contact.lower() == alias.lower() or is_reply_local_part(contact.rpartition("@")[0])


def decide(recipient: str, receipt: Mapping[str, Any], envelope_sender: str) -> ReplyDecision:
    """Whether mail to the reply address `recipient` may be sent on, from what the event says and the table holds:
    1 GetItem (the reply address), then, past the verdicts, 1 GetItem (the alias's route) and 1 BatchGetItem (the
    sender's status as the alias owner's destination)."""
    target = contacts.reply_target(recipient)
    if target is None:
        return ReplyDecision(recipient, None, refusal=Refusal.NO_CONTACT)
    refusal = verdict_refusal(receipt)
    if refusal is Refusal.UNAUTHENTICATED:
        hint = authentication_hint(receipt, envelope_sender)
        return ReplyDecision(recipient, target, refusal=refusal, notes=(hint,))
    if refusal is not None:
        return ReplyDecision(recipient, target, refusal=refusal)
    sender = headers.sendable(envelope_sender) if "@" in envelope_sender else None
    if sender is None:
        return ReplyDecision(recipient, target, refusal=Refusal.NULL_SENDER)
    route = routes.get(target.alias_address)
    if route is None or route.alias_id != target.alias_id:
        return ReplyDecision(recipient, target, refusal=Refusal.NO_ALIAS)
    if is_loop(target.email, route.address):
        return ReplyDecision(recipient, target, route, Refusal.LOOP, sender)
    if not route.enabled:
        return ReplyDecision(recipient, target, route, Refusal.ALIAS_DISABLED, sender)
    if route.expired(clock.now_iso()):
        return ReplyDecision(recipient, target, route, Refusal.ALIAS_EXPIRED, sender)
    if sender.lower() not in {destinations.canonical(address) for address in route.destinations}:
        return ReplyDecision(recipient, target, route, Refusal.NOT_A_DESTINATION, sender)
    status = destinations.statuses([(route.owner_id, sender)]).get((route.owner_id, destinations.canonical(sender)))
    if status != "verified":
        refusal = Refusal.DESTINATION_SUSPENDED if status == "suspended" else Refusal.DESTINATION_UNVERIFIED
        return ReplyDecision(recipient, target, route, refusal, sender)
    if not ses.is_verified(route.address.rpartition("@")[2]):
        return ReplyDecision(recipient, target, route, Refusal.DOMAIN_UNVERIFIED, sender)
    return ReplyDecision(recipient, target, route, None, sender)


@dataclass(frozen=True)
class Outgoing:
    """A reply ready to send: its header block, the contacts it shows, the ids it names."""

    header_block: bytes
    recipients: dict[str, contacts.ReplyTarget]  # every contact To/Cc names, by reply address


def message_refusal(message: RawMessage, decision: Accepted) -> tuple[Refusal | None, dict[str, contacts.ReplyTarget]]:
    """What reading the message itself adds: its From must be the same destination as the envelope sender, and
    every recipient it names must be the alias or a reply address of the alias. 1 BatchGetItem when it names
    other reply addresses. (None, {reply address: contact}) when it may be sent."""
    target, alias = decision.target, decision.route.address
    if hops.came_back(message, reply_copies=True):
        return Refusal.LOOP, {}
    from_field = message.first("from")
    senders = headers.mailboxes(from_field.raw_value) if from_field is not None else []
    if len(senders) != 1 or (headers.sendable(senders[0].address) or "").lower() != decision.sender.lower():
        return Refusal.NOT_A_DESTINATION, {}
    named: list[str] = []
    for key in _RECIPIENT_FIELDS:
        for field in message.all(key):
            for mailbox in headers.mailboxes(field.raw_value):
                address = (headers.sendable(mailbox.address) or mailbox.address).lower()
                if address != alias.lower():
                    named.append(address)
    known = {target.reply_address: target}
    others = {address for address in named if address not in known}
    if others:
        if not all(is_reply_local_part(address.partition("@")[0]) for address in others):
            return Refusal.FOREIGN_RECIPIENT, {}
        known.update(contacts.reply_targets(others))
    for address in named:
        found = known.get(address)
        if found is None or found.alias_id != target.alias_id:
            return Refusal.FOREIGN_RECIPIENT, {}
    return None, known


def header_block(
    message: RawMessage,
    decision: Accepted,
    known: Mapping[str, contacts.ReplyTarget],
    *,
    swap: AddressSwap,
    outside_ids: Mapping[str, str],
    now: datetime,
    transfer_encoding: str | None,
    content_fields: bytes | None = None,
    hop: str | None = None,
) -> bytes:
    """The header block the contact receives (see the module's docstring). `content_fields`: the Content-* fields
    to write instead of the message's own (a multipart/signed sent as its signed content, postmask.mail.lines)."""
    newline = message.newline
    alias, target = decision.route.address, decision.target
    lines = [headers.mailbox_field("From", [(headers.shown_name(decision.route.display_name or ""), alias)], newline)]
    to = _shown(message, "to", known, alias) or [(headers.shown_name(target.name or ""), target.email)]
    lines.append(headers.mailbox_field("To", to, newline))
    cc = [mailbox for mailbox in _shown(message, "cc", known, alias) if mailbox not in to]
    if cc:
        lines.append(headers.mailbox_field("Cc", cc, newline))
    copied: set[str] = set()
    fields = message.fields
    if content_fields is not None:
        content = RawMessage.parse(content_fields + newline).fields if content_fields else ()
        fields = (*(field for field in fields if not field.key.startswith("content-")), *content)
    for field in fields:
        key = field.key
        if key in copied or not (key in _COPIED or key.startswith("content-")):
            continue
        if key == "content-transfer-encoding" and transfer_encoding is not None:
            continue
        line = swap.field(field.name, field.raw_value, newline)
        if line is None:
            line = copied_field(field, newline)
        if line:
            copied.add(key)
            lines.append(line)
    for key in ("in-reply-to", "references"):
        thread = message.first(key)
        named = message_ids(thread.raw_value) if thread is not None else []
        line = thread_field(
            key, list(dict.fromkeys(outside_ids[found] for found in named if found in outside_ids)), newline
        )
        if line is not None:
            lines.append(line)
    lines.extend(closing_fields(copied, transfer_encoding, now, alias, newline))
    if hop is not None:
        lines.append(HOP_HEADER.encode("ascii") + b": " + hop.encode("ascii") + newline)
    lines.append(newline)
    return b"".join(lines)


def _shown(
    message: RawMessage, key: str, known: Mapping[str, contacts.ReplyTarget], alias: str
) -> list[tuple[str, str]]:
    """The contacts a field names by their reply addresses, as (their name, their address); the alias left out."""
    shown: list[tuple[str, str]] = []
    for field in message.all(key):
        for mailbox in headers.mailboxes(field.raw_value):
            found = known.get((headers.sendable(mailbox.address) or "").lower())
            if found is not None and (entry := (headers.shown_name(found.name or ""), found.email)) not in shown:
                shown.append(entry)
    return shown


def notes_of(body: Body) -> tuple[str, ...]:
    """What the activity event of a sent reply says was removed from it (parts that carried the sender's identity
    and could not be scrubbed)."""
    return tuple(f"removed {content_type}" for content_type in body.removed)


def swap_for(decision: Accepted) -> AddressSwap:
    """Every destination of the alias (the sender's first) to be replaced by the alias."""
    addresses: Sequence[str] = [decision.sender, *decision.route.destinations]
    return AddressSwap(dict.fromkeys(address.lower() for address in addresses), decision.route.address)
