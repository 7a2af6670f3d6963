"""A raw message as SES stored it: the header block parsed into fields, the body left exactly as it is, and
the header block the forwarded copy is sent with.

Only the header block is ever decoded. The body is a `memoryview` into the bytes read from S3, so every MIME
part and attachment leaves byte-identical and forwarding a 30 MB message copies none of it (a part whose lines
SES cannot carry is the one exception: postmask.mail.lines re-encodes it).

The copy's header block is rebuilt (docs/decisions/0022 and 0060): From is the alias, showing the original
sender's name and address; To and Reply-To hold only addresses SES accepts; a short allow-list of fields is
copied, each once, byte for byte when it is clean and re-serialized when it is not (a control character, 8-bit
text, a line over 998 bytes); In-Reply-To and References name the ids the destination actually received.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, make_msgid, parsedate_to_datetime

from postmask.mail import headers, lines
from postmask.mail.header_fields import HeaderField, parse_header
from postmask.mail.headers import Mailbox

# Copied from the original, each at most once (the first one), when clean: what a reader needs to see the
# message as it was written, and what keeps a vacation responder from answering a mailing list.
COPIED_HEADERS = frozenset({"subject", "date", "mime-version", "list-id", "precedence", "auto-submitted"})
COPIED_PREFIXES = ("content-",)  # Content-Type, -Transfer-Encoding, -Disposition, -Language, -ID, ...
THREAD_HEADERS = ("in-reply-to", "references")
ALIAS_HEADER = "X-Postmask-Alias"
HOP_HEADER = "X-Postmask-Hop"

_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")  # printable ASCII without < and >
_HTTPS_LINK = re.compile(r"<(https://[\x21-\x3b\x3d\x3f-\x7e]{1,900})>")


@dataclass(frozen=True)
class RawMessage:
    """`data` is the whole message; `fields` its header block; the body starts at `body_offset`."""

    data: bytes | bytearray
    fields: tuple[HeaderField, ...]
    newline: bytes
    body_offset: int

    @classmethod
    def parse(cls, data: bytes | bytearray) -> RawMessage:
        header = parse_header(data)
        return cls(data=data, fields=header.fields, newline=header.newline, body_offset=header.body_offset)

    @property
    def body(self) -> memoryview:
        """The bytes after the blank line that ends the header block, as received (no copy)."""
        return memoryview(self.data)[self.body_offset :]

    @property
    def size(self) -> int:
        return len(self.data)

    def first(self, name: str) -> HeaderField | None:
        key = name.lower()
        return next((field for field in self.fields if field.key == key), None)

    def all(self, name: str) -> list[HeaderField]:
        key = name.lower()
        return [field for field in self.fields if field.key == key]

    @property
    def message_id(self) -> str | None:
        """The original `<id>` of the message, as its Message-ID field names it (None without a usable one)."""
        field = self.first("message-id")
        found = message_ids(field.raw_value) if field is not None else []
        return found[0] if found else None

    def sendable_body(self, rewrite: lines.Rewrite | None = None) -> lines.Body:
        """The body as SES can carry it: the original bytes, or, when a line is over 998 bytes, with the parts
        holding such lines re-encoded (postmask.mail.lines); with `rewrite`, its text parts changed by it."""
        content_type = self.first("content-type")
        encoding = self.first("content-transfer-encoding")
        return lines.sendable_body(
            content_type.raw_value if content_type is not None else None,
            encoding.raw_value if encoding is not None else None,
            self.body,
            self.newline,
            rewrite,
        )

    def referenced_ids(self) -> list[str]:
        """Every id In-Reply-To and References name, In-Reply-To's first, each once."""
        seen: dict[str, None] = {}
        for key in THREAD_HEADERS:
            field = self.first(key)
            for found in message_ids(field.raw_value) if field is not None else []:
                seen.setdefault(found, None)
        return list(seen)


def message_ids(raw_value: bytes) -> list[str]:
    """The `<id>`s in a Message-ID, In-Reply-To or References value (comments and junk around them ignored). A
    value a mailer wrote as RFC 2047 words (Python's email package does, for an id longer than its line length) is
    read decoded."""
    text = headers.header_text(raw_value)
    found = _MESSAGE_ID.findall(text)
    if not found and "=?" in text:
        found = _MESSAGE_ID.findall(HeaderField("In-Reply-To", b"In-Reply-To:" + raw_value).text())
    return found


def is_copied(key: str) -> bool:
    return key in COPIED_HEADERS or key.startswith(COPIED_PREFIXES)


def from_is_ambiguous(message: RawMessage) -> bool:
    """Whether readers could disagree on who wrote the message: a From that is not exactly one mailbox (a group,
    several mailboxes, something only a lenient parser reads, several From fields). Recorded as `from_ambiguous`;
    the copy then shows the envelope sender (issue 25, decision 0060)."""
    fields = message.all("from")
    return bool(fields) and (len(fields) != 1 or not headers.is_one_mailbox(fields[0].raw_value))


def original_sender(message: RawMessage, envelope_sender: str) -> Mailbox:
    """Who wrote the message as it says so: the mailbox of its From (an address as written, not necessarily one
    SES could send to), else, and when the From is ambiguous, the SMTP envelope sender."""
    field = message.first("from")
    found = headers.mailboxes(field.raw_value) if field is not None else []
    if found and not (from_is_ambiguous(message) and "@" in envelope_sender):
        return found[0]
    return Mailbox("", envelope_sender if "@" in envelope_sender else "")


def contact_sender(message: RawMessage, envelope_sender: str) -> tuple[str, str] | None:
    """(name, canonical address) of whom a contact is made for: the message's From address when SES could send to
    it, else the envelope sender; None when neither is one."""
    sender = original_sender(message, envelope_sender)
    address = headers.sendable(sender.address)
    if address is not None:
        return headers.shown_name(sender.name), address
    fallback = headers.sendable(envelope_sender) if "@" in envelope_sender else None
    return ("", fallback) if fallback is not None else None


def correspondents(message: RawMessage, alias: str) -> list[tuple[str, str]]:
    """(name, canonical address) of every address of To and Cc that is not the alias, each once, in order: whom
    "reply all" would write to, each to be shown as a reply address (contacts)."""
    seen: dict[str, tuple[str, str]] = {}
    for key in ("to", "cc"):
        for name, address in _valid_recipients(message, key):
            if address.lower() != alias.lower():
                seen.setdefault(address.lower(), (name, address))
    return list(seen.values())


def display_name(name: str, address: str) -> str:
    """What the destination's mail client shows as the sender: `Jane Doe (jane@example.com)`."""
    return headers.sender_display_name(name, address)


def forwarded_header_block(
    message: RawMessage,
    *,
    alias: str,
    envelope_sender: str,
    now: datetime,
    received_ids: Mapping[str, str] | None = None,
    hop: str | None = None,
    transfer_encoding: str | None = None,
    reply_addresses: Mapping[str, str] | None = None,
) -> bytes:
    """The header block the forwarded copy is sent with, ending with the empty line before the body.

    From is the alias (SES sends only from verified identities) showing the original sender. With
    `reply_addresses` ({address in lower case: its contact's reply address}, an alias's copy), Reply-To is the
    sender's reply address and every other address of To and Cc is shown as its own reply address (one without
    is left out), so that neither "reply" nor "reply all" ever writes to anyone from the real mailbox. Without
    (a catch-all's copy), Reply-To is the first address SES accepts among the original Reply-To, From and
    envelope sender, To the original's valid recipients, and Cc is left out. To is never empty (the alias).
    `received_ids` maps original Message-IDs to the ones this destination received (threads), `hop` is the loop
    marker, and `transfer_encoding` replaces the top-level Content-Transfer-Encoding when postmask.mail.lines
    re-encoded a body that is not multipart.
    """
    newline = message.newline
    sender = original_sender(message, envelope_sender)
    shown_sender = display_name(sender.name, sender.address)
    lines = [headers.mailbox_field("From", [(shown_sender, alias)], newline)]

    if reply_addresses is None:
        reply_to = headers.first_valid(
            [
                *_mailboxes_of(message, "reply-to"),
                *([] if from_is_ambiguous(message) else _mailboxes_of(message, "from")),
                Mailbox("", envelope_sender),
            ]
        )
        recipients = _valid_recipients(message, "to") or [("", alias)]
        copied_to: list[tuple[str, str]] = []
    else:
        contact = contact_sender(message, envelope_sender)
        reply_address = reply_addresses.get(contact[1].lower()) if contact is not None else None
        reply_to = (shown_sender, reply_address) if reply_address is not None else None
        recipients = _through(_valid_recipients(message, "to"), alias, reply_addresses) or [("", alias)]
        copied_to = _through(_valid_recipients(message, "cc"), alias, reply_addresses)
    if reply_to is not None:
        lines.append(headers.mailbox_field("Reply-To", [reply_to], newline))
    lines.append(headers.mailbox_field("To", recipients, newline))
    if copied_to:
        lines.append(headers.mailbox_field("Cc", copied_to, newline))

    copied: set[str] = set()
    for field in message.fields:
        key = field.key
        if key in copied or not (is_copied(key) or key in THREAD_HEADERS):
            continue
        copied.add(key)
        if key == "content-transfer-encoding" and transfer_encoding is not None:
            continue
        line = (
            _thread_field(field, received_ids or {}, newline) if key in THREAD_HEADERS else copied_field(field, newline)
        )
        if line is not None:
            lines.append(line)
        else:
            copied.discard(key)  # nothing usable: a later occurrence may be, and Date is added below
    lines.extend(_list_unsubscribe(message, newline))
    lines.extend(closing_fields(copied, transfer_encoding, now, alias, newline))
    lines.append(ALIAS_HEADER.encode("ascii") + b": " + alias.encode("ascii") + newline)
    if hop is not None:
        lines.append(HOP_HEADER.encode("ascii") + b": " + hop.encode("ascii") + newline)
    lines.append(newline)
    return b"".join(lines)


def _through(mailboxes: list[tuple[str, str]], alias: str, reply_addresses: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each mailbox shown as its contact's reply address (`Name (address)` as its name), the alias as itself; one
    without a reply address left out."""
    shown: list[tuple[str, str]] = []
    for name, address in mailboxes:
        if address.lower() == alias.lower():
            shown.append((name, alias))
        elif address.lower() in reply_addresses:
            shown.append((display_name(name, address), reply_addresses[address.lower()]))
    return shown


def _mailboxes_of(message: RawMessage, key: str) -> list[Mailbox]:
    return [mailbox for field in message.all(key) for mailbox in headers.mailboxes(field.raw_value)]


def _valid_recipients(message: RawMessage, key: str) -> list[tuple[str, str]]:
    """(name, canonical address) of every mailbox of the first `key` field that SES accepts, each address once."""
    field = message.first(key)
    seen: dict[str, str] = {}
    for mailbox in headers.mailboxes(field.raw_value) if field is not None else []:
        address = headers.sendable(mailbox.address)
        if address is not None and address.lower() not in {known.lower() for known in seen}:
            seen[address] = headers.shown_name(mailbox.name)
    return [(name, address) for address, name in seen.items()]


def copied_field(field: HeaderField, newline: bytes) -> bytes | None:
    """The field byte for byte (line breaks made the message's own) when SES takes it and no reader can
    misread it; else re-serialized from its cleaned text; None when nothing usable is left."""
    as_written = headers.normalised_breaks(field.raw, newline) + newline
    if headers.is_writable(as_written, newline) and not (field.key == "subject" and _hides_text(field)):
        return as_written
    text = headers.clean_text(field.text() if field.key == "subject" else headers.header_text(field.raw_value))
    if field.key == "date":
        try:
            return b"Date: " + format_datetime(parsedate_to_datetime(text)).encode("ascii") + newline
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not text:
        return None
    return headers.folded(field.name, text, newline)


def _hides_text(field: HeaderField) -> bool:
    """Whether the decoded text holds what a reader cannot see (a bidi override reversing `exe.pdf`...)."""
    text = field.text()
    return headers.clean_text(text) != " ".join(text.split())


def closing_fields(
    copied: set[str], transfer_encoding: str | None, now: datetime, sender: str, newline: bytes
) -> list[bytes]:
    """What every header block postmask writes ends with: MIME-Version and Content-Transfer-Encoding when the body
    was re-encoded, a Date when none was copied, a new Message-ID on the sending address's domain."""
    fields = []
    if transfer_encoding is not None:
        if "mime-version" not in copied:
            fields.append(b"MIME-Version: 1.0" + newline)
        fields.append(b"Content-Transfer-Encoding: " + transfer_encoding.encode("ascii") + newline)
    if "date" not in copied:
        fields.append(b"Date: " + format_datetime(now).encode("ascii") + newline)
    fields.append(b"Message-ID: " + make_msgid(domain=sender.rpartition("@")[2]).encode("ascii") + newline)
    return fields


def thread_field(key: str, ids: list[str], newline: bytes) -> bytes | None:
    """An In-Reply-To or References field naming `ids`, one per line; None without any."""
    if not ids:
        return None
    name = "In-Reply-To" if key == "in-reply-to" else "References"
    return name.encode("ascii") + b": " + (newline + b" ").join(found.encode("ascii") for found in ids) + newline


def _thread_field(field: HeaderField, received_ids: Mapping[str, str], newline: bytes) -> bytes | None:
    """In-Reply-To / References with each id the destination received in place of the original's."""
    return thread_field(field.key, [received_ids.get(found, found) for found in message_ids(field.raw_value)], newline)


def _list_unsubscribe(message: RawMessage, newline: bytes) -> list[bytes]:
    """The https links of List-Unsubscribe (a `mailto:` one would mail from the real mailbox: dropped), and
    List-Unsubscribe-Post with them only (RFC 8058's one-click needs an https link)."""
    field = message.first("list-unsubscribe")
    links = _HTTPS_LINK.findall(headers.header_text(field.raw_value)) if field is not None else []
    if not links:
        return []
    lines = [
        b"List-Unsubscribe: " + (b"," + newline + b" ").join(f"<{link}>".encode("ascii") for link in links) + newline
    ]
    post = message.first("list-unsubscribe-post")
    if post is not None:
        line = copied_field(post, newline)
        if line is not None:
            lines.append(line)
    return lines
