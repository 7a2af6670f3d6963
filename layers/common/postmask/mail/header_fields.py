"""A header block read into its fields, nothing decoded but on demand: the bottom of the mail layer.

`postmask.mail.message` (the whole message) and `postmask.mail.lines` (a body part's own header block) both read
header blocks with it; it imports only `postmask.mail.headers`, so neither needs the other (docs/decisions/0024).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postmask.mail import headers

_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
# A header line as the stdlib's parser recognises one: printable ASCII but the colon, then a colon.
_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")


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
        """The value unfolded and RFC 2047-decoded: for decisions and logs, never sent as is."""
        from email.errors import MessageError
        from email.header import decode_header, make_header

        value = headers.header_text(self.raw_value).strip()
        try:
            return str(make_header(decode_header(value)))
        except (LookupError, UnicodeError, ValueError, MessageError):  # HeaderParseError, CharsetError: MessageError
            return value  # an unknown charset or a broken encoded word: show it as written


@dataclass(frozen=True)
class ParsedHeader:
    """A message's (or a body part's) header fields, its line break, and where its body starts."""

    fields: tuple[HeaderField, ...]
    newline: bytes
    body_offset: int


def parse_header(data: bytes | bytearray) -> ParsedHeader:
    """The header block of `data` (a whole message, or a header block followed by its line break)."""
    header_end, body_offset = _header_block_bounds(data)
    header_block = bytes(data[:header_end])
    fields, body_start = _fields(header_block)
    newline = b"\r\n" if b"\r\n" in header_block[:1000] or (not header_block and data[:2] == b"\r\n") else b"\n"
    return ParsedHeader(tuple(fields), newline, body_offset if body_start is None else body_start)


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


def _fields(header_block: bytes) -> tuple[list[HeaderField], int | None]:
    """The header fields, and where the body starts when a line that is not a field ends the block early (as
    the stdlib's parser reads it: that line is the body's first). An mbox `From ` line is skipped."""
    fields: list[tuple[str, int, int]] = []  # name, start, end (the end without the final line break)
    for match in _LINE.finditer(header_block):
        line = match.group()
        end = match.end() - (len(line) - len(line.rstrip(b"\r\n")))
        if line[:1] in (b" ", b"\t"):
            if fields:
                previous, start, _ = fields[-1]
                fields[-1] = (previous, start, end)  # a folded continuation of the previous field
            continue
        if line.startswith(b"From "):
            continue  # an mbox separator line (first, or after the trace fields SES put before it): not a field
        name = _FIELD_NAME.match(line)
        if name is None:
            return _as_fields(header_block, fields), match.start()
        fields.append((name.group()[:-1].decode("ascii"), match.start(), end))
    return _as_fields(header_block, fields), None


def _as_fields(header_block: bytes, fields: list[tuple[str, int, int]]) -> list[HeaderField]:
    return [HeaderField(name, header_block[start:end]) for name, start, end in fields]
