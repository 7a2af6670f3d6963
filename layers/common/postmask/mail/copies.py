"""Stage 3 of the mail path, the copy: what one destination (or, on the reply path, the contact) is sent.

Takes the stored message and a decision; gives a `Copy`: the header block rebuilt (postmask.mail.message for a
forwarded copy, postmask.mail.reply for a reply; thread ids read from the thread records here), then the body,
spliced from the original bytes (a `memoryview`, never copied) or re-encoded where SES needs it
(postmask.mail.lines).

This is where the transforms of a copy plug in, in this order (docs/decisions/0024):
1. scrub: the destination's address out of a reply's header fields and text parts (postmask.mail.scrub);
2. trackers: out of HTML parts, per the alias's `trackers` mode (postmask.mail.trackers, decision 0029);
3. encryption: of the finished copy, to its destination's OpenPGP key (`_encrypted`, postmask.encrypted_forwarding:
   the clear copy whole, as RFC 3156 PGP/MIME; issue 31).
A transform of text parts is a `lines.Rewrite` (every other part stays byte for byte); a transform of the whole
copy is a `CopyTransform`. A new one is a module of its own and one line here.

A forwarded copy's body is made once per message and shared by every destination; each destination's header block
is its own (its thread ids), and so is whatever a `CopyTransform` makes of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from postmask import clock, encrypted_forwarding
from postmask.mail import hops, lines, reply, tracking_hosts
from postmask.mail.message import RawMessage, forwarded_header_block
from postmask.mail.scrub import AddressSwap
from postmask.mail.trackers import Mode, Removed, TrackerRemoval
from postmask.observability import logger
from postmask.store import contacts, pgp_keys, threads


@dataclass(frozen=True)
class Copy:
    """One copy as SES is handed it: the header block, then the body's chunks, joined in order by the send; or,
    once encrypted, the PGP/MIME message (`sealed`: close the copy when it is sent)."""

    header_block: bytes
    body: lines.Body
    sealed: encrypted_forwarding.Sealed | None = None  # what encryption made of it (None: not its business)

    @property
    def parts(self) -> tuple[lines.Chunk, ...]:
        if self.sealed is not None and self.sealed.copy is not None:
            return self.sealed.copy.parts
        return (self.header_block, *self.body.chunks)

    @property
    def held(self) -> bool:
        """Not to be sent: its destination's key cannot be used, and its fallback is quarantine."""
        return self.sealed is not None and self.sealed.way is encrypted_forwarding.Way.HELD

    @property
    def encrypted(self) -> bool:
        return self.sealed is not None and self.sealed.way is encrypted_forwarding.Way.ENCRYPTED

    @property
    def plain_fallback(self) -> bool:
        """Sent in clear although its destination has a key (unusable, fallback plain)."""
        return self.sealed is not None and self.sealed.way is encrypted_forwarding.Way.PLAIN_FALLBACK

    def close(self) -> None:
        if self.sealed is not None:
            self.sealed.close()


@dataclass(frozen=True)
class Target:
    """Whom a copy is for: its destination (the contact, on the reply path), and, for a forwarded copy, the
    destination's OpenPGP key and whether the alias encrypts."""

    destination: str
    alias: str = ""
    key: pgp_keys.ForwardingKey | None = None
    encrypt: bool = True


CopyTransform = Callable[[Copy, Target], Copy]  # (the copy, whom it is for) -> the copy to send


def _encrypted(copy: Copy, target: Target) -> Copy:
    """3. encryption: the finished copy, encrypted to the destination's key when it has one and the alias encrypts."""
    if target.key is None:
        return copy
    sealed = encrypted_forwarding.seal(
        copy.header_block,
        copy.body.chunks,
        key=target.key,
        encrypt=target.encrypt,
        alias=target.alias,
        destination=target.destination,
        now=clock.now(),
    )
    return replace(copy, sealed=sealed)


# Transforms of the finished copy, per destination, in order: encryption last (it takes the copy whole).
COPY_TRANSFORMS: tuple[CopyTransform, ...] = (_encrypted,)


def _text_rewrites(scrub: AddressSwap | None, trackers: TrackerRemoval | None = None) -> list[lines.Rewrite]:
    """The transforms of the body's text parts, in order: 1. scrub (the reply path's), 2. trackers."""
    rewrites: list[lines.Rewrite] = []
    if scrub is not None:
        rewrites.append(scrub)
    if trackers is not None:
        rewrites.append(trackers)
    return rewrites


def _finished(copy: Copy, target: Target) -> Copy:
    for transform in COPY_TRANSFORMS:
        copy = transform(copy, target)
    return copy


class _Chained:
    """Several text rewrites as one, each applied to what the one before it made (None: nothing changed)."""

    def __init__(self, rewrites: list[lines.Rewrite]) -> None:
        self._rewrites = rewrites

    def rewrites(self, content_type: str, filename: str | None, size: int = 0) -> bool:
        return any(rewrite.rewrites(content_type, filename, size) for rewrite in self._rewrites)

    def changes_structure(self) -> bool:
        return any(rewrite.changes_structure() for rewrite in self._rewrites)

    def removes(self, content_type: str) -> bool:
        return any(rewrite.removes(content_type) for rewrite in self._rewrites)

    def text(self, data: bytes, charset: str | None, content_type: str, filename: str | None) -> bytes | None:
        changed = None
        for rewrite in self._rewrites:
            if not rewrite.rewrites(content_type, filename):
                continue
            line = rewrite.text(data if changed is None else changed, charset, content_type, filename)
            changed = changed if line is None else line
        return changed

    def field(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        changed = None
        for rewrite in self._rewrites:
            line = rewrite.field(name, raw_value, newline)
            if line is not None:
                changed = line
                if not line:
                    return line  # the field could not be written again: dropped
                raw_value = line.removesuffix(newline).split(b":", 1)[1]
        return changed


def _chained(rewrites: list[lines.Rewrite]) -> lines.Rewrite | None:
    """One rewrite for the body (None for none: the body is then spliced untouched, the fast path)."""
    if not rewrites:
        return None
    return rewrites[0] if len(rewrites) == 1 else _Chained(rewrites)


# --- the forward path -------------------------------------------------------------------------------------------


def forwarded_body(message: RawMessage, message_id: str, trackers: Mode = Mode.OFF) -> tuple[lines.Body, Removed]:
    """The body every forwarded copy of the message is sent with, for aliases of one `trackers` mode, made once:
    its HTML parts without trackers (unless `off`), and what was removed; only a part with lines over 998 bytes, or
    one whose trackers were removed, is re-encoded."""
    removal = None if trackers is Mode.OFF else TrackerRemoval(trackers, tracking_hosts.hosts(), message_id)
    body = message.sendable_body(rewrite=_chained(_text_rewrites(None, removal)))
    if body.reencoded:
        logger.info("parts with lines over 998 bytes re-encoded", message_id=message_id, parts=body.reencoded)
    return body, removal.removed if removal is not None else Removed()


def received_ids(message: RawMessage, alias: str, destinations: tuple[str, ...]) -> dict[str, dict[str, str]]:
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


def forwarded(
    message: RawMessage,
    body: lines.Body,
    *,
    alias: str,
    destination: str,
    envelope_sender: str,
    received: Mapping[str, str],
    hop: str,
    reply_addresses: Mapping[str, str] | None,
    key: pgp_keys.ForwardingKey | None = None,
    encrypt: bool = True,
) -> Copy:
    """The copy `destination` is sent of a message to `alias`: encrypted to `key` when it has one and the alias
    `encrypt`s (close it once sent)."""
    header_block = forwarded_header_block(
        message,
        alias=alias,
        envelope_sender=envelope_sender,
        now=clock.now(),
        received_ids=received,
        hop=hop,
        transfer_encoding=body.transfer_encoding,
        reply_addresses=reply_addresses,
    )
    return _finished(Copy(header_block, body), Target(destination, alias, key, encrypt))


# --- the reply path ---------------------------------------------------------------------------------------------


def reply_copy(
    message: RawMessage, decision: reply.Accepted, known: Mapping[str, contacts.ReplyTarget], message_id: str
) -> Copy:
    """The copy the contact is sent of a destination's reply (SES's message `message_id`): rebuilt, scrubbed of
    every destination address, with its loop marker (postmask.mail.reply)."""
    scrub = reply.swap_for(decision)
    body = message.sendable_body(rewrite=_chained(_text_rewrites(scrub)))  # the destination's address out of text
    header_block = reply.header_block(
        message,
        decision,
        known,
        swap=scrub,
        outside_ids=_outside_ids(decision.route.address, message.referenced_ids()),
        now=clock.now(),
        transfer_encoding=body.transfer_encoding,
        content_fields=body.content_fields,  # a multipart/signed sent as its signed content
        hop=hops.reply_marker(message_id),  # a copy come back to a reply address is a loop (decision 0060)
    )
    return _finished(Copy(header_block, body), Target(decision.target.email))


def _outside_ids(alias: str, referenced: list[str]) -> dict[str, str]:
    """The ids the contact's side knows for those a reply names. A failed lookup costs the thread, not the reply."""
    if not referenced:
        return {}
    try:
        return threads.outside_ids(alias, referenced)
    except Exception:
        logger.exception("could not read thread records; the reply names no earlier message")
        return {}
