"""A raw message as SES stored it: the header block parsed into fields, the body left exactly as it is.

Only the header block is ever decoded. The body is a `memoryview` into the bytes read from S3, so every MIME
part and attachment leaves byte-identical and forwarding a 30 MB message copies none of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

# Headers copied from the original, each at most once (the first one): what a reader needs to see the message
# as it was written and to thread it. Everything else (Received, DKIM-Signature, Return-Path, Sender,
# Message-ID, Cc, List-*, X-*) is dropped: SES would reject some, receivers would distrust others, and some
# would leak where the alias really forwards to.
COPIED_HEADERS = frozenset({"to", "subject", "date", "mime-version", "in-reply-to", "references"})
COPIED_PREFIXES = ("content-",)  # Content-Type, -Transfer-Encoding, -Disposition, -Language, -ID, ...
ALIAS_HEADER = "X-Postmask-Alias"

_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_DISPLAY_NAME = 150


@dataclass(frozen=True)
class HeaderField:
    """One header field as received: `raw` is the name, the colon and the value with its folding, without
    the final line break."""

    name: str
    raw: bytes

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def raw_value(self) -> bytes:
        """Everything after the colon, folding and encoded words untouched."""
        return self.raw.split(b":", 1)[1]

    def text(self) -> str:
        """The value unfolded and RFC 2047-decoded: for decisions and display names, never sent as is."""
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", self.raw_value).strip()
        value = unfolded.decode("utf-8", errors="replace")
        try:
            return str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            return value  # an unknown charset or a broken encoded word: show it as written


@dataclass(frozen=True)
class RawMessage:
    """`data` is the whole message; `fields` its header block; the body starts at `body_offset`."""

    data: bytes | bytearray
    fields: tuple[HeaderField, ...]
    newline: bytes
    body_offset: int

    @classmethod
    def parse(cls, data: bytes | bytearray) -> RawMessage:
        header_end, body_offset = _header_block_bounds(data)
        header_block = bytes(data[:header_end])
        newline = b"\r\n" if b"\r\n" in header_block[:1000] or (not header_block and data[:2] == b"\r\n") else b"\n"
        return cls(data=data, fields=tuple(_fields(header_block)), newline=newline, body_offset=body_offset)

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


def _header_block_bounds(raw: bytes | bytearray) -> tuple[int, int]:
    """(end of the header block, start of the body). The block ends at the first empty line; a message
    without one is all headers."""
    if raw.startswith(b"\r\n"):
        return 0, 2
    if raw.startswith(b"\n"):
        return 0, 1
    ends = [(index + 1, index + 1 + length) for index, length in ((raw.find(b"\n\r\n"), 2), (raw.find(b"\n\n"), 1))]
    found = [bounds for bounds in ends if bounds[0] > 0]
    if not found:
        return len(raw), len(raw)
    return min(found)


def _fields(header_block: bytes) -> list[HeaderField]:
    fields: list[tuple[str, int, int]] = []  # name, start, end (the end without the final line break)
    for match in _LINE.finditer(header_block):
        line = match.group()
        end = match.end() - (len(line) - len(line.rstrip(b"\r\n")))
        if line[:1] in (b" ", b"\t") and fields:
            previous, start, _ = fields[-1]
            fields[-1] = (previous, start, end)  # a folded continuation of the previous field
            continue
        raw_name, colon, _ = line.partition(b":")
        if not colon or not raw_name.strip() or b" " in raw_name.strip():
            continue  # not a header field (an mbox "From " line, garbage): nothing we would copy anyway
        fields.append((raw_name.strip().decode("ascii", errors="replace"), match.start(), end))
    return [HeaderField(name, header_block[start:end]) for name, start, end in fields]


def is_copied(key: str) -> bool:
    return key in COPIED_HEADERS or key.startswith(COPIED_PREFIXES)


def original_sender(message: RawMessage, envelope_sender: str) -> tuple[str, str]:
    """(display name, address) of who wrote the message: its From, else the SMTP envelope sender."""
    field = message.first("from")
    if field is not None:
        for name, address in getaddresses([field.text()]):
            if name or address:
                return name, address
    return "", envelope_sender if "@" in envelope_sender else ""


def display_name(name: str, address: str) -> str:
    """What the destination's mail client shows as the sender: `Jane Doe (jane@example.com)`."""
    name = _CONTROL.sub(" ", name).strip()
    address = _CONTROL.sub(" ", address).strip()
    shown = f"{name} ({address})" if name and address and name.lower() != address.lower() else name or address
    if len(shown) > _MAX_DISPLAY_NAME:
        shown = shown[: _MAX_DISPLAY_NAME - 1] + "…"
    return shown


def forwarded_header_block(message: RawMessage, *, alias: str, envelope_sender: str, now: datetime) -> bytes:
    """The header block the forwarded copy is sent with, ending with the empty line before the body.

    From is the alias (SES sends only from verified identities) showing the original sender in its display
    name; Reply-To is the original Reply-To, else the original From, so replying reaches the sender.
    """
    newline = message.newline
    policy = email_policy.SMTP.clone(linesep=newline.decode())
    alias_domain = alias.rpartition("@")[2]
    name, address = original_sender(message, envelope_sender)

    lines = [_folded("From", Address(display_name=display_name(name, address), addr_spec=alias), policy)]
    reply_to = message.first("reply-to") or message.first("from")
    if reply_to is not None and reply_to.raw_value.strip():
        value = reply_to.raw_value
        lines.append(b"Reply-To:" + (value if value[:1] in (b" ", b"\t") else b" " + value) + newline)
    elif address:
        lines.append(_folded("Reply-To", Address(addr_spec=address), policy))

    copied: set[str] = set()
    for field in message.fields:
        if is_copied(field.key) and field.key not in copied:
            copied.add(field.key)
            lines.append(field.raw + newline)
    if "date" not in copied:
        lines.append(_folded("Date", format_datetime(now), policy))
    lines.append(_folded("Message-ID", make_msgid(domain=alias_domain), policy))
    lines.append(_folded(ALIAS_HEADER, alias, policy))
    lines.append(newline)
    return b"".join(lines)


def _folded(name: str, value: str | Address, policy: email_policy.EmailPolicy[EmailMessage]) -> bytes:
    """One header field, RFC 2047-encoded where it is not ASCII and folded, with the message's line breaks."""
    holder = EmailMessage(policy=policy)
    holder[name] = value
    return policy.fold_binary(name, holder[name])
