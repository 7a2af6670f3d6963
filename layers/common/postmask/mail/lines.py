"""Lines SES cannot carry: a part with a line over 998 bytes is re-encoded (base64) so its decoded content is
unchanged; everything else in the body stays byte for byte (docs/decisions/0062).

SES refuses a raw message with a line longer than 998 bytes (RFC 5322's limit), but mailers do write them
(HTML on one line, base64 without line breaks, a broken quoted-printable). Receiving is not the problem, sending
is. The body is checked with one regular-expression pass over the `memoryview` (no copy); only when a long line
is found is the MIME structure walked: a multipart is split at its delimiters, each part without a long line is
kept as a slice of the original bytes, and each leaf part with one is decoded as the stdlib decodes it
(`get_payload(decode=True)`) and written again as base64 in 76-character lines, with its
Content-Transfer-Encoding changed to match. A header line of a part over 998 bytes is re-folded; the preamble
and epilogue (which no reader shows) are cut into lines. A message/rfc822 (or message/global) part is walked like
a message.

With a Rewrite (the reply path's scrub, postmask.mail.scrub), every part is looked at: the text-like ones it
rewrites, the ones it removes are left out with their delimiter, a multipart/signed becomes its signed content (its
signature removed), and the preamble and epilogue are dropped (no reader shows them, anything can hide there).
"""

from __future__ import annotations

import base64
import quopri
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email._encoded_words import decode_b  # what Message.get_payload(decode=True) decodes base64 with
from typing import Protocol

from postmask.mail import headers
from postmask.mail.header_fields import HeaderField, parse_header

MAX_LINE = headers.MAX_LINE
_LONG_LINE = re.compile(rb"(?m)^(?:[^\n]{1000}|[^\n]{998}[^\r\n])")  # more than 998 bytes before CRLF / LF
_HEADER_END = re.compile(rb"\n\r?\n")
_BASE64_LINE = 76
_MAX_DEPTH = 100  # nesting walked; deeper than that, a part with long lines is cut into lines instead

Chunk = bytes | memoryview


class Rewrite(Protocol):
    """A change made to every text-like part and part header on the way (the reply path's address scrubbing,
    postmask.mail.scrub). `text` and `field` return None when they leave the thing as it was."""

    def rewrites(self, content_type: str, filename: str | None, size: int = 0) -> bool:
        """Whether a part (its full content type, its file name, its content's size as it arrived: still encoded)
        is text to decode and hand to `text`."""

    def removes(self, content_type: str) -> bool:
        """Whether a part is to be left out of the message."""

    def changes_structure(self) -> bool:
        """Whether the message's structure may change (the reply scrub): preambles and epilogues dropped (anything
        can hide there), a multipart/signed sent as its signed content. Otherwise only parts' contents change and
        preambles and epilogues stay as they were, cut into lines only."""

    def text(self, data: bytes, charset: str | None, content_type: str, filename: str | None) -> bytes | None:
        """A text-like part's decoded content, changed."""

    def field(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        """A part's header field, changed: the whole field with its line break (b"": dropped)."""


def has_long_line(data: Chunk) -> bool:
    return len(data) > MAX_LINE and _LONG_LINE.search(data) is not None


@dataclass
class Body:
    """The body to send: `chunks` joined in order; `transfer_encoding` is the top-level
    Content-Transfer-Encoding to write instead of the original's (None: keep it)."""

    chunks: list[Chunk]
    transfer_encoding: str | None = None
    reencoded: list[str] = field(default_factory=list)  # the content types of the parts re-encoded
    rewritten: int = 0  # text parts and part header fields a Rewrite changed
    removed: list[str] = field(default_factory=list)  # the content types of the parts a Rewrite removed
    # A message that was multipart/signed is sent as its signed content: that part's Content-* fields (each with its
    # line break; its Content-Transfer-Encoding left out when `transfer_encoding` is set), to write instead of the
    # message's own.
    content_fields: bytes | None = None


def sendable_body(
    content_type: bytes | None,
    transfer_encoding: bytes | None,
    body: memoryview,
    newline: bytes,
    rewrite: Rewrite | None = None,
) -> Body:
    """`body` (of a message with these Content-Type / Content-Transfer-Encoding values) as SES can send it; with
    `rewrite`, every text part that is not an attachment, and every part's header, as it changes them (a changed
    text part is re-encoded as base64; every other part stays byte for byte)."""
    if rewrite is None and not has_long_line(body):
        return Body([body])
    result = Body([])
    disposition = None
    signed = (
        _signed_content(content_type, transfer_encoding, body, result)
        if rewrite is not None and rewrite.changes_structure()
        else None
    )
    if signed is not None:
        head_end, content_start = _head_bounds(signed)
        fields = _fields(bytes(signed[:head_end]), newline)
        content_type, transfer_encoding, disposition = _mime_fields(fields)
        body = signed[content_start:]
    result.transfer_encoding = _content(
        content_type, transfer_encoding, body, newline, result, depth=0, rewrite=rewrite, disposition=disposition
    )
    if signed is not None:
        result.content_fields = b"".join(
            headers.normalised_breaks(found.raw, newline) + newline
            for found in fields
            if found.key.startswith("content-")
            and not (result.transfer_encoding is not None and found.key == "content-transfer-encoding")
        )
    return result


_PASSING_THROUGH = (b"", b"7bit", b"8bit", b"binary")  # what a multipart or message/rfc822 may be sent as


def _content(
    content_type: bytes | None,
    transfer_encoding: bytes | None,
    content: memoryview,
    newline: bytes,
    out: Body,
    *,
    depth: int,
    rewrite: Rewrite | None = None,
    disposition: bytes | None = None,
) -> str | None:
    """Append an entity's content to `out.chunks`, its long lines dealt with (and its text rewritten); the entity's
    new Content-Transfer-Encoding when its content was re-encoded, else None."""
    if rewrite is None and not has_long_line(content):
        out.chunks.append(content)
        return None
    maintype, boundary = _content_type(content_type)
    passes_through = (transfer_encoding or b"").strip().lower() in _PASSING_THROUGH
    if depth >= _MAX_DEPTH:
        out.chunks.append(_cut(content, newline))
        return None
    if (
        maintype.startswith("multipart/")
        and boundary
        and passes_through
        and _multipart(content, boundary, newline, out, depth, rewrite)
    ):
        return None
    if maintype in _MESSAGES and passes_through:
        _entity(content, newline, out, depth + 1, rewrite)
        return None
    filename = _filename(content_type, disposition) if rewrite is not None else None
    if rewrite is not None and rewrite.rewrites(maintype, filename, len(content)):
        decoded = _decoded(content_type, transfer_encoding, content)
        changed = rewrite.text(decoded, _charset(content_type), maintype, filename)
        if changed is not None:
            out.chunks.append(_base64_lines(changed, newline))
            out.rewritten += 1
            return "base64"
    if not has_long_line(content):
        out.chunks.append(content)
        return None
    out.chunks.append(_base64(content_type, transfer_encoding, content, newline))
    out.reencoded.append(maintype or "text/plain")
    return "base64"


_MESSAGES = ("message/rfc822", "message/global")  # walked like a message (RFC 6532's message/global is one)


def _content_type(value: bytes | None) -> tuple[str, str | None]:
    """(content type, boundary) of a Content-Type value: the full type in lower case, the boundary of a multipart."""
    if value is None:
        return "", None
    try:
        parsed = email_policy.default.header_factory("Content-Type", headers.header_text(value).strip())
    except Exception:  # comments nested too deep, or anything else a sender can make the parser choke on
        return "", None  # read as no type: the part is re-encoded whole, its content decoded as the stdlib would
    content_type = str(getattr(parsed, "content_type", "")).lower()
    boundary = getattr(parsed, "params", {}).get("boundary")
    if content_type.startswith("multipart/"):
        return content_type, boundary
    return content_type, None


def _filename(content_type: bytes | None, disposition: bytes | None) -> str | None:
    """A part's file name: Content-Disposition's `filename`, else Content-Type's `name` (RFC 2231 decoded)."""
    places = (("Content-Disposition", disposition, "filename"), ("Content-Type", content_type, "name"))
    for name, value, param in places:
        if value is None:
            continue
        try:
            found = getattr(email_policy.default.header_factory(name, headers.header_text(value).strip()), "params", {})
        except Exception:  # a value the parser chokes on names no file
            found = {}
        if found.get(param):
            return str(found[param])
    return None


def _fields(head: bytes, newline: bytes) -> tuple[HeaderField, ...]:
    return parse_header(head + newline).fields if head else ()


def _mime_fields(fields: tuple[HeaderField, ...]) -> tuple[bytes | None, bytes | None, bytes | None]:
    """(Content-Type, Content-Transfer-Encoding, Content-Disposition) raw values of a header block's fields."""
    found = {key: next((f.raw_value for f in fields if f.key == key), None) for key in _MIME_KEYS}
    return found["content-type"], found["content-transfer-encoding"], found["content-disposition"]


_MIME_KEYS = ("content-type", "content-transfer-encoding", "content-disposition")


def _signed_content(
    content_type: bytes | None, transfer_encoding: bytes | None, content: memoryview, out: Body
) -> memoryview | None:
    """The signed part (its header block and content) of a multipart/signed, its signature's type recorded as
    removed; None for anything else (or a signed message whose parts cannot be found)."""
    full_type, boundary = _content_type(content_type)
    if (
        full_type != "multipart/signed"
        or not boundary
        or (transfer_encoding or b"").strip().lower() not in (_PASSING_THROUGH)
    ):
        return None
    parts = _parts(content, boundary)
    if len(parts) < 2:
        return None
    signature = _part_type(parts[1])
    out.removed.append(signature or "application/octet-stream")
    return parts[0]


def _parts(body: memoryview, boundary: str) -> list[memoryview]:
    """The body parts of a multipart, each without the line breaks around it."""
    try:
        delimiter = re.compile(rb"(?m)^--" + re.escape(boundary.encode("ascii")) + rb"(--)?[ \t]*(?=\r?\n|\Z)")
    except UnicodeError:
        return []
    found = list(delimiter.finditer(body))
    parts = []
    for index, match in enumerate(found[:-1]):
        if match.group(1):
            break
        part = body[match.end() : _before_line_break(body, found[index + 1].start())]
        lead = 2 if part[:2] == b"\r\n" else 1 if part[:1] == b"\n" else 0
        parts.append(part[lead:])
    return parts


def _part_type(entity: memoryview) -> str:
    """The content type of a body part (its header block read)."""
    head_end, _ = _head_bounds(entity)
    content_type, _, _ = _mime_fields(_fields(bytes(entity[:head_end]), b"\n"))
    return _content_type(content_type)[0]


def _charset(content_type: bytes | None) -> str | None:
    if content_type is None:
        return None
    try:
        parsed = email_policy.default.header_factory("Content-Type", headers.header_text(content_type).strip())
        charset = getattr(parsed, "params", {}).get("charset")
    except Exception:
        return None
    return str(charset) if charset else None


def _multipart(
    body: memoryview, boundary: str, newline: bytes, out: Body, depth: int, rewrite: Rewrite | None = None
) -> bool:
    """Split at the delimiters and deal with each part; False when the boundary is not found (not a multipart
    as far as any reader is concerned)."""
    try:
        delimiter = re.compile(rb"(?m)^--" + re.escape(boundary.encode("ascii")) + rb"(--)?[ \t]*(?=\r?\n|\Z)")
    except UnicodeError:
        return False
    found = list(delimiter.finditer(body))
    if not found:
        return False
    position = 0
    for index, match in enumerate(found):
        end = _before_line_break(body, match.start())
        if index == 0:
            out.chunks.append(_framing(body[position:end], newline, rewrite))  # the preamble
        elif not _removed(body[position:end], out, rewrite):
            _part(body[position:end], newline, out, depth, rewrite)
        else:
            out.chunks.pop()  # the part's own delimiter goes with it
        out.chunks.append(body[end : match.end()])  # the line break and the delimiter, as they were
        position = match.end()
        if match.group(1):  # the close delimiter: what follows is the epilogue
            out.chunks.append(_framing(body[position:], newline, rewrite))
            return True
    # No close delimiter: the last part runs to the end of the body, as the stdlib reads it.
    if _removed(body[position:], out, rewrite):
        out.chunks.pop()
    else:
        _part(body[position:], newline, out, depth, rewrite)
    return True


def _framing(text: memoryview, newline: bytes, rewrite: Rewrite | None) -> Chunk:
    """A preamble or epilogue as it goes out: dropped when the Rewrite says so, else its long lines cut."""
    return b"" if rewrite is not None and rewrite.changes_structure() else _cut(text, newline)


def _removed(part: memoryview, out: Body, rewrite: Rewrite | None) -> bool:
    """Whether the Rewrite removes this body part (then its type is recorded)."""
    if rewrite is None:
        return False
    lead = 2 if part[:2] == b"\r\n" else 1 if part[:1] == b"\n" else 0
    content_type = _part_type(part[lead:])
    if not rewrite.removes(content_type):
        return False
    out.removed.append(content_type)
    return True


def _before_line_break(body: memoryview, start: int) -> int:
    """Where the content before a delimiter ends: its preceding line break belongs to the delimiter."""
    if start >= 2 and body[start - 2 : start] == b"\r\n":
        return start - 2
    if start >= 1 and body[start - 1 : start] == b"\n":
        return start - 1
    return start


def _part(part: memoryview, newline: bytes, out: Body, depth: int, rewrite: Rewrite | None = None) -> None:
    """One body part: the rest of the delimiter line (its line break), then the part as an entity."""
    lead = 2 if part[:2] == b"\r\n" else 1 if part[:1] == b"\n" else 0
    out.chunks.append(part[:lead])
    _entity(part[lead:], newline, out, depth + 1, rewrite)


def _entity(entity: memoryview, newline: bytes, out: Body, depth: int, rewrite: Rewrite | None = None) -> None:
    """A body part or an attached message: its header block (a field over 998 bytes folded again, a field
    rewritten, the Content-Transfer-Encoding changed when its content is re-encoded), then its content."""
    if rewrite is None and not has_long_line(entity):
        out.chunks.append(entity)
        return
    head_end, content_start = _head_bounds(entity)
    head = bytes(entity[:head_end])
    fields = _fields(head, newline)
    content_type, encoding, disposition = _mime_fields(fields)
    signed = _signed_content(content_type, encoding, entity[content_start:], out) if rewrite is not None else None
    if signed is not None:
        # The signed part in the signed message's place: its other fields (an attached message's From, Subject...)
        # kept, its Content-* the signed part's.
        kept = b"".join(
            headers.normalised_breaks(found.raw, newline) + newline
            for found in fields
            if not found.key.startswith("content-")
        )
        _entity(memoryview(kept + bytes(signed)), newline, out, depth + 1, rewrite)
        return
    slot = len(out.chunks)
    out.chunks.append(b"")  # the header block, once the content has said whether it was re-encoded
    new_encoding = _content(
        content_type,
        encoding,
        entity[content_start:],
        newline,
        out,
        depth=depth,
        rewrite=rewrite,
        disposition=disposition,
    )
    changed: dict[int, bytes] = {}
    for index, field_ in enumerate(fields if rewrite is not None else ()):
        line = rewrite.field(field_.name, field_.raw_value, newline) if rewrite is not None else None
        if line is not None:
            changed[index] = line
    out.rewritten += len(changed)
    if new_encoding is None and not has_long_line(head) and not changed:
        out.chunks[slot] = entity[:content_start]
        return
    written = []
    for index, field_ in enumerate(fields):
        if new_encoding is not None and field_.key == "content-transfer-encoding":
            continue
        line = changed[index] if index in changed else headers.normalised_breaks(field_.raw, newline) + newline
        if line and has_long_line(line):
            line = headers.folded(field_.name, headers.header_text(field_.raw_value).strip(), newline) or b""
        written.append(line)
    if new_encoding is not None:
        written.append(b"Content-Transfer-Encoding: " + new_encoding.encode("ascii") + newline)
    out.chunks[slot] = b"".join(written) + newline


def _head_bounds(entity: memoryview) -> tuple[int, int]:
    """(end of the header block without its last line break, start of the content)."""
    if entity[:2] == b"\r\n":
        return 0, 2
    if entity[:1] == b"\n":
        return 0, 1
    found = _HEADER_END.search(entity)
    if found is None:
        return len(entity), len(entity)
    end = found.start() - (1 if entity[found.start() - 1 : found.start()] == b"\r" else 0)
    return end, found.end()


def _base64(content_type: bytes | None, transfer_encoding: bytes | None, content: memoryview, newline: bytes) -> Chunk:
    """The content decoded exactly as the stdlib decodes it, as base64 in 76-character lines."""
    return _base64_lines(_decoded(content_type, transfer_encoding, content), newline)


def _decoded(content_type: bytes | None, transfer_encoding: bytes | None, content: memoryview) -> bytes:
    """The content decoded from its transfer encoding exactly as the stdlib decodes it (`get_payload(decode=True)`
    of the part). The stdlib's parse holds several copies of the content (as bytes, as text, as its lines); for the
    usual case, a leaf part in base64 or quoted-printable, the same decoding is done here on one copy of the bytes
    (the forwarder's memory, decision 0062): the headers alone are parsed by the stdlib, to read them as it does."""
    head = b""
    if content_type is not None:
        head += b"Content-Type:" + content_type + b"\n"
    if transfer_encoding is not None:
        head += b"Content-Transfer-Encoding:" + transfer_encoding + b"\n"
    shape = message_from_bytes(head + b"\n")
    encoding = str(shape.get("content-transfer-encoding", "")).lower()  # as get_payload reads it
    leaf = shape.get_payload() == "" and shape.get_content_maintype() not in ("multipart", "message")
    if leaf and encoding == "quoted-printable":
        return quopri.decodestring(content.tobytes())
    if leaf and encoding == "base64":
        # get_payload: decode_b(b"".join(payload.splitlines())); bytes split at \r, \n and \r\n only.
        value, _defects = decode_b(content.tobytes().translate(None, b"\r\n"))
        return value
    payload = message_from_bytes(head + b"\n" + content.tobytes()).get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _base64_lines(data: bytes, newline: bytes) -> Chunk:
    """`data` as base64 in 76-character lines, written into one buffer (not a list of lines, then joined)."""
    encoded = memoryview(base64.b64encode(data))
    if len(encoded) <= _BASE64_LINE:
        return encoded
    breaks = (len(encoded) - 1) // _BASE64_LINE
    out = bytearray(len(encoded) + breaks * len(newline))
    position = 0
    for start in range(0, len(encoded), _BASE64_LINE):
        line = encoded[start : start + _BASE64_LINE]
        out[position : position + len(line)] = line
        position += len(line)
        if position < len(out):
            out[position : position + len(newline)] = newline
            position += len(newline)
    return memoryview(out)


def _cut(text: Chunk, newline: bytes) -> Chunk:
    """Text no reader decodes (a preamble, an epilogue, a part nested too deep): its long lines cut in pieces."""
    if not has_long_line(text):
        return text
    out = []
    for line in bytes(text).split(b"\n"):
        pieces = [line[start : start + MAX_LINE] for start in range(0, len(line), MAX_LINE)] or [b""]
        out.append(newline.join(pieces))
    return b"\n".join(out)
