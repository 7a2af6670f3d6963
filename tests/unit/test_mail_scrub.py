"""The destination's address taken out of a reply (postmask.mail.scrub through postmask.mail.lines): every text
part that is not an attachment, decoded whatever its encoding and charset; everything else byte for byte."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage, Message

import pytest

from postmask.mail import headers, lines
from postmask.mail.message import RawMessage
from postmask.mail.scrub import AddressSwap
from tests.support.mail import corpus

ME = "alice@real.example"
ALIAS = "shop@alice.example"


def scrubbed(raw: bytes, *addresses: str) -> tuple[bytes, lines.Body]:
    """The message with its body scrubbed (the header block kept: postmask.mail.reply writes its own)."""
    message = RawMessage.parse(raw)
    content_type, encoding = message.first("content-type"), message.first("content-transfer-encoding")
    body = lines.sendable_body(
        content_type.raw_value if content_type else None,
        encoding.raw_value if encoding else None,
        message.body,
        message.newline,
        rewrite=AddressSwap(addresses or (ME,), ALIAS),
    )
    head = b"".join(
        field.raw + message.newline
        for field in message.fields
        if not (body.transfer_encoding and field.key == "content-transfer-encoding")
    )
    if body.transfer_encoding:
        head += b"Content-Transfer-Encoding: " + body.transfer_encoding.encode() + message.newline
    return head + message.newline + b"".join(bytes(chunk) for chunk in body.chunks), body


def leaves(raw: bytes) -> list[Message]:
    return [part for part in email.message_from_bytes(raw).walk() if not part.is_multipart()]


def is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    try:
        return payload.decode(part.get_content_charset() or "latin-1")
    except (LookupError, UnicodeDecodeError):
        return payload.decode("latin-1")


def assert_scrubbed(original: bytes, result: bytes, address: str) -> None:
    before, after = leaves(original), leaves(result)
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old.get_content_type() == new.get_content_type()
        if old.get_content_maintype() == "text" and not is_attachment(old):
            assert address.lower() not in text_of(new).lower()
            assert text_of(new) == _replaced(text_of(old), address)
        else:
            assert old.get_payload(decode=True) == new.get_payload(decode=True)  # untouched


def _replaced(text: str, address: str) -> str:
    return AddressSwap([address], ALIAS).replace(text)


def _from_address(raw: bytes) -> str | None:
    field = RawMessage.parse(raw).first("from")
    found = headers.mailboxes(field.raw_value) if field is not None else []
    address = headers.sendable(found[0].address) if found else None
    return address


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_corpus_message_loses_its_senders_address_from_its_text_and_nothing_else(name: str) -> None:
    original = corpus()[name]
    address = _from_address(original) or ME
    result, _ = scrubbed(original, address)
    assert_scrubbed(original, result, address)


def gmail_style_reply() -> bytes:
    message = EmailMessage()
    message["From"] = f"Alice <{ME}>"
    message["To"] = "reply-x@alice.example"
    message["Subject"] = "Re: hi"
    message.set_content(f"Thanks!\n\nOn Mon, Alice <{ME}> wrote:\n> write to {ME.upper()}\n", cte="quoted-printable")
    message.add_alternative(
        f'<div>Thanks!<br>On Mon, Alice &lt;<a href="mailto:{ME}">{ME}</a>&gt; wrote: '
        f"alice&#64;real.example, alice%40real.example</div>",
        subtype="html",
        cte="quoted-printable",
    )
    message.add_attachment(
        f"{ME} stays in an attached text file".encode(), maintype="text", subtype="plain", filename="a.txt"
    )
    message.add_attachment(
        b"%PDF " + ME.encode() + bytes(range(256)), maintype="application", subtype="pdf", filename="b.pdf"
    )
    return message.as_bytes(policy=policy.SMTP)


def test_a_gmail_style_reply_quoting_its_sender_is_scrubbed_in_text_and_html_but_not_in_attachments() -> None:
    original = gmail_style_reply()
    result, body = scrubbed(original)

    parts = leaves(result)
    plain, html, text_file, pdf = parts
    assert "On Mon, Alice <shop@alice.example> wrote:" in text_of(plain)
    assert "write to shop@alice.example" in text_of(plain)
    assert f'href="mailto:{ALIAS}"' in text_of(html)
    assert "real.example" not in text_of(html)
    assert ME.encode() in text_file.get_payload(decode=True)  # type: ignore[operator]  # an attachment: untouched
    assert ME.encode() in pdf.get_payload(decode=True)  # type: ignore[operator]
    assert body.rewritten == 2
    assert_scrubbed(original, result, ME)
    # The attachments' bytes in the message are the original's, slice for slice.
    for part in (b"YWxpY2VAcmVhbC5leGFtcGxlIHN0YXlz",):  # base64 of the attached text file's start
        assert part in result


@pytest.mark.parametrize(
    ("charset", "cte", "text"),
    [
        ("utf-8", "base64", f"Grüße, schreib an {ME}"),
        ("iso-8859-1", "quoted-printable", f"Grüße aus Köln, {ME}"),
        ("windows-1252", "8bit", f"“Quotes” and {ME} – dash"),  # noqa: RUF001 - cp1252 punctuation
        ("iso-2022-jp", "7bit", f"こんにちは {ME} です"),
        ("shift_jis", "base64", f"表示 {ME} ソ"),  # 表 and ソ have '\\' (0x5C) trail bytes in Shift_JIS
        ("utf-16", "base64", f"wide {ME} text"),
        ("euc-kr", "base64", f"안녕하세요 {ME}"),
    ],
)
def test_text_in_any_charset_and_encoding_is_scrubbed_and_stays_in_its_charset(
    charset: str, cte: str, text: str
) -> None:
    data = text.encode(charset)
    if cte == "base64":
        import base64

        payload = base64.encodebytes(data)
    elif cte == "quoted-printable":
        import quopri

        payload = quopri.encodestring(data)
    else:
        payload = data + b"\n"
    original = (
        f"From: {ME}\nMIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
        f"Content-Transfer-Encoding: {cte}\n\n"
    ).encode() + payload

    result, body = scrubbed(original)

    (part,) = leaves(result)
    assert part.get_content_charset() == charset
    assert body.transfer_encoding == "base64"
    assert text_of(part).rstrip("\n") == text.replace(ME, ALIAS)


def test_html_only_and_nested_messages_and_part_headers() -> None:
    original = (
        b"From: alice@real.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").encodebytes(b"<p>Mail ALICE@REAL.EXAMPLE</p>").replace(b"\n", b"\r\n")
        + b"--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: Alice <alice@real.example>\r\nSubject: fwd\r\n\r\n"
        b"inner text by alice@real.example\r\n"
        b'--b1\r\nContent-Type: application/octet-stream; name="alice@real.example.bin"\r\n'
        b"Content-Disposition: attachment\r\n\r\nraw alice@real.example\r\n--b1--\r\n"
    )
    result, _ = scrubbed(original)

    body = result.split(b"\r\n\r\n", 1)[1]  # the top-level header block is postmask.mail.reply's to write
    assert b"alice@real.example" not in body.split(b"raw ", 1)[0].lower()
    assert result.endswith(b"raw alice@real.example\r\n--b1--\r\n")  # the attachment's content, untouched
    html, inner, binary = leaves(result)
    assert text_of(html) == "<p>Mail shop@alice.example</p>"
    assert binary.get_param("name") == "shop@alice.example.bin"  # its header names no destination either
    assert text_of(inner).strip() == "inner text by shop@alice.example"  # an attached message's text, and headers
    assert b"From: Alice <shop@alice.example>" in body


def test_an_internationalised_destination_is_found_in_its_unicode_form_too() -> None:
    original = (
        "From: a@xn--bcher-kva.example\nContent-Type: text/plain; charset=utf-8\n\nwrite a@bücher.example\n".encode()
    )
    result, _ = scrubbed(original, "a@xn--bcher-kva.example")
    assert text_of(leaves(result)[0]).strip() == f"write {ALIAS}"


def test_a_message_without_the_address_is_left_byte_for_byte() -> None:
    original = corpus()["multipart-alternative.eml"]
    message = RawMessage.parse(original)
    _, body = scrubbed(original, "nobody@nowhere.example")
    assert b"".join(bytes(chunk) for chunk in body.chunks) == bytes(message.body)
    assert body.rewritten == 0
