"""Lines SES cannot carry (issue 13, item 8): a part with a line over 998 bytes leaves re-encoded, its decoded
content identical; everything else leaves byte for byte, and a body without such a line is not copied at all."""

from __future__ import annotations

import base64
import email
import quopri
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmask.mail import lines
from postmask.mail.lines import sendable_body
from postmask.mail.message import RawMessage, forwarded_header_block
from tests.support.mail import as_email, corpus, header_problems, leaf_payloads, long_lines

ALIAS = "shop@alice.example"
LONG = [name for name in sorted(corpus()) if name.startswith("long-line")]


def forward(raw: bytes) -> bytes:
    """The copy as the forwarder builds it: the rebuilt header block, then the body SES can carry."""
    message = RawMessage.parse(raw)
    body = message.sendable_body()
    head = forwarded_header_block(
        message,
        alias=ALIAS,
        envelope_sender="s@example.net",
        now=datetime(2026, 11, 25, tzinfo=UTC),
        transfer_encoding=body.transfer_encoding,
    )
    return head + b"".join(bytes(chunk) for chunk in body.chunks)


@pytest.mark.parametrize("name", LONG)
def test_a_long_line_is_re_encoded_and_decodes_to_the_same_content(name: str) -> None:
    raw = corpus()[name]
    assert long_lines(raw) > 0

    out = forward(raw)

    assert long_lines(out) == 0
    assert leaf_payloads(as_email(out)) == leaf_payloads(as_email(raw))
    assert header_problems(out, ALIAS) == []


def test_only_the_parts_with_long_lines_change() -> None:
    raw = corpus()["long-lines-multipart.eml"]

    written = forward(raw)
    out = as_email(written)

    encodings = [
        (part.get_content_type(), part["Content-Transfer-Encoding"]) for part in out.walk() if not part.is_multipart()
    ]
    assert encodings == [
        ("text/plain", None),  # short: as it was
        ("text/html", "base64"),
        ("application/octet-stream", "base64"),  # base64 without line breaks: now in 76-character lines
        ("text/plain", "base64"),  # a broken quoted-printable line
        ("text/plain", None),
    ]
    unchanged = (
        b"--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA short part that stays as it is.\r\n--outer--"
    )
    assert unchanged in written


def test_an_attached_message_keeps_its_type_and_its_own_body_is_re_encoded() -> None:
    out = as_email(forward(corpus()["long-line-in-attached-message.eml"]))
    attached = next(part for part in out.walk() if part.get_content_type() == "message/rfc822")
    assert attached["Content-Transfer-Encoding"] is None  # message/rfc822 may not be encoded as a whole
    (inner,) = attached.get_payload()
    assert inner["Content-Transfer-Encoding"] == "base64"
    assert inner.get_payload(decode=True) == b"w" * 2000  # the line break before the delimiter is the delimiter's


def test_a_body_without_long_lines_is_the_original_bytes_not_a_copy() -> None:
    message = RawMessage.parse(bytearray(corpus()["attachments.eml"]))
    body = message.sendable_body()
    (chunk,) = body.chunks
    assert isinstance(chunk, memoryview)
    assert chunk.obj is message.data
    assert body.transfer_encoding is None


def test_a_large_attachment_beside_a_long_line_is_not_copied() -> None:
    attachment = base64.encodebytes(bytes(range(256)) * 4000).replace(b"\n", b"\r\n")  # ~1.4 MB, short lines
    raw = bytearray(
        b"From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/html\r\n\r\n" + b"<p>" * 500 + b"\r\n"
        b"--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment
        + b"--x--\r\n"
    )
    message = RawMessage.parse(raw)

    chunks = message.sendable_body().chunks

    large = [chunk for chunk in chunks if len(chunk) > 1_000_000]
    assert len(large) == 1
    assert isinstance(large[0], memoryview)
    assert large[0].obj is raw


def test_no_mime_becomes_mime_when_its_body_is_re_encoded() -> None:
    out = forward(corpus()["long-line-no-mime.eml"])
    parsed = as_email(out)
    assert (parsed["MIME-Version"], parsed["Content-Transfer-Encoding"]) == ("1.0", "base64")
    assert parsed.get_payload(decode=True) == bytes(RawMessage.parse(corpus()["long-line-no-mime.eml"]).body)


def test_the_body_of_sendable_body_is_checked_by_line_not_by_size() -> None:
    exactly = b"a" * 998 + b"\r\n" + b"b" * 998 + b"\n"
    assert sendable_body(None, None, memoryview(exactly), b"\r\n").transfer_encoding is None
    over = b"a" * 999 + b"\r\n"
    assert sendable_body(None, None, memoryview(over), b"\r\n").transfer_encoding == "base64"


def test_a_content_type_the_parser_chokes_on_does_not_stop_the_copy() -> None:
    raw = (
        b"From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain "
        + b"(" * 3000
        + b")" * 3000
        + b"\r\n\r\n"
        + b"z" * 1200
        + b"\r\n"
    )
    out = forward(raw)
    assert long_lines(out[out.index(b"\r\n\r\n") :]) == 0
    assert as_email(out).get_payload(decode=True) == b"z" * 1200 + b"\r\n"


# A re-encoded part's content is decoded as the stdlib's get_payload(decode=True) decodes it; for base64 and
# quoted-printable leaves lines.py does the same decoding on one copy of the bytes (decision 0062). Any header
# value and any content, broken ones first, must come out as the stdlib's.
_TRANSFER_ENCODINGS = [
    b" base64",
    b"BASE64",
    b" base64 ",
    b"quoted-printable",
    b" Quoted-Printable\r\n\t",
    b"base64\r\n",  # ends the header block early: the stdlib reads what follows as the body
    b"quoted-printable\n",  # the same, where the early line break shows in what is decoded
    b"base64\r\nX-Other: 1",
    b"7bit",
    b"x-uuencode",
    b"",
]
_CONTENT_TYPES = [
    None,
    b" text/html; charset=utf-8",
    b" text/plain;\r\n charset=latin-1",
    b" message/rfc822",
    b" multipart/mixed",
    b" application/octet-stream; name=a.bin",
    b"text",
    b" Text/HTML",
]


@given(
    content=st.binary(max_size=400)
    | st.builds(lambda raw: base64.encodebytes(raw).replace(b"\n", b"\r\n"), st.binary(max_size=300))
    | st.builds(
        lambda raw, cut: base64.b64encode(raw)[:cut] + b"\r\n\r\n", st.binary(max_size=300), st.integers(0, 400)
    )
    | st.builds(lambda raw: quopri.encodestring(raw), st.binary(max_size=300))
    | st.text(alphabet="AZaz09+/=\r\n \t-_.!=3D", max_size=300).map(str.encode),
    content_type=st.sampled_from(_CONTENT_TYPES),
    transfer_encoding=st.sampled_from([None, *_TRANSFER_ENCODINGS]),
)
@settings(max_examples=600, deadline=None)
def test_content_is_decoded_exactly_as_the_stdlib_decodes_it(
    content: bytes, content_type: bytes | None, transfer_encoding: bytes | None
) -> None:
    head = b""
    if content_type is not None:
        head += b"Content-Type:" + content_type + b"\n"
    if transfer_encoding is not None:
        head += b"Content-Transfer-Encoding:" + transfer_encoding + b"\n"
    stdlib = email.message_from_bytes(head + b"\n" + content).get_payload(decode=True)

    assert lines._decoded(content_type, transfer_encoding, memoryview(content)) == (stdlib or b"")


@pytest.mark.parametrize("size", [0, 1, 56, 57, 58, 114, 1000])
@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_base64_lines_are_76_characters_and_decode_to_the_data(size: int, newline: bytes) -> None:
    data = bytes(range(256)) * 4
    data = data[:size]

    written = bytes(lines._base64_lines(data, newline))

    assert written == base64.encodebytes(data).rstrip(b"\n").replace(b"\n", newline)
