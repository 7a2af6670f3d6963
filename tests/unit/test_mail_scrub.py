"""The destination's address taken out of a reply (postmask.mail.scrub through postmask.mail.lines): every text
part that is not an attachment, decoded whatever its encoding and charset; everything else byte for byte."""

from __future__ import annotations

import base64
import email
import re
from email import policy
from email.message import EmailMessage, Message

import pytest

from postmask.mail import headers, lines
from postmask.mail.message import RawMessage
from postmask.mail.scrub import IDENTITY_TYPES, AddressSwap
from tests.support.mail import FIXTURES, corpus

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
    replaced = body.content_fields is not None  # a signed message made its signed content: its Content-* instead
    head = b"".join(
        field.raw + message.newline
        for field in message.fields
        if not (body.transfer_encoding and field.key == "content-transfer-encoding")
        and not (replaced and field.key.startswith("content-"))
    ) + (body.content_fields or b"")
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


def kept_leaves(part: Message) -> list[Message]:
    """The leaves the scrub keeps: a multipart/signed's signed content only, no part carrying an identity."""
    if part.get_content_type() == "multipart/signed" and isinstance(part.get_payload(), list):
        return kept_leaves(part.get_payload()[0])
    if part.is_multipart():
        return [leaf for sub in part.get_payload() for leaf in kept_leaves(sub)]  # type: ignore[union-attr]
    return [] if part.get_content_type() in IDENTITY_TYPES else [part]


def assert_scrubbed(original: bytes, result: bytes, address: str) -> None:
    swap = AddressSwap([address], ALIAS)
    before, after = kept_leaves(email.message_from_bytes(original)), leaves(result)
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old.get_content_type() == new.get_content_type()
        if old.get_content_maintype() == "multipart":
            continue  # one the stdlib could not split (msg_39 nests its own boundary): no content, only delimiters
        if swap.rewrites(old.get_content_type(), old.get_filename()):
            assert address.lower() not in text_of(new).lower()
            html = old.get_content_type() == "text/html"
            assert _cids_named(text_of(new)) == _cids_named(swap.replace(text_of(old), html=html))
        else:
            assert old.get_payload(decode=True) == new.get_payload(decode=True)  # untouched


def _cids_named(text: str) -> str:
    """Text with every `cid:` reference the same (they are renamed to random ids)."""
    return re.sub(r"cid:[^\s\"'<>()]+", "cid:*", text)


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


def test_a_gmail_style_reply_quoting_its_sender_is_scrubbed_in_text_html_and_text_files_but_not_in_binaries() -> None:
    original = gmail_style_reply()
    result, body = scrubbed(original)

    parts = leaves(result)
    plain, html, text_file, pdf = parts
    assert "On Mon, Alice <shop@alice.example> wrote:" in text_of(plain)
    assert "write to shop@alice.example" in text_of(plain)
    assert f'href="mailto:{ALIAS}"' in text_of(html)
    assert "real.example" not in text_of(html)
    assert text_file.get_payload(decode=True) == f"{ALIAS} stays in an attached text file".encode()  # issue 25
    assert ME.encode() in pdf.get_payload(decode=True)  # type: ignore[operator]  # a binary: untouched
    assert body.rewritten == 3
    assert_scrubbed(original, result, ME)


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
    assert result.endswith(b"raw alice@real.example\r\n--b1--")  # the binary's content untouched, no epilogue
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


def test_a_message_without_the_address_is_left_byte_for_byte_but_its_epilogue() -> None:
    original = corpus()["multipart-alternative.eml"]
    message = RawMessage.parse(original)
    _, body = scrubbed(original, "nobody@nowhere.example")
    sent = b"".join(bytes(chunk) for chunk in body.chunks)
    assert bytes(message.body).startswith(sent)
    assert bytes(message.body)[len(sent) :].strip() == b""  # only the epilogue (here a line break) is gone
    assert body.rewritten == 0


# --- issue 25: the forms that still named the mailbox -----------------------------------------------------------

REAL = "alice.real@realmail.example"
REPLIES = FIXTURES / "replies"  # fixtures of replies: see tests/fixtures/mail/README.md


def reply_fixture(name: str) -> bytes:
    return (REPLIES / name).read_bytes()


def unfolded(text: str) -> str:
    return text.replace("\r\n ", "").replace("\n ", "")


def every_text(raw: bytes) -> str:
    """Every leaf's decoded content as text (attachments too) and the body as sent (the top-level header block is
    postmask.mail.reply's to write), lines unfolded."""
    texts = [text_of(part) for part in leaves(raw) if isinstance(part.get_payload(decode=True), bytes)]
    return unfolded("\n".join([*texts, raw.split(b"\r\n\r\n", 1)[1].decode("latin-1")]))


def test_icalendar_lines_folded_inside_the_address_are_unfolded_before_matching() -> None:
    # Google Calendar's shape: text/calendar inline and invite.ics (application/ics) attached, folded at 75 octets
    # so that `mailto:alice.real@realmail.exam\r\n ple` is split.
    original = reply_fixture("google-calendar-invitation.eml")
    assert b"organizer at alice.real@realmail.exam\r\n ple if" in original

    result, _ = scrubbed(original, REAL)

    assert "realmail" not in every_text(result).lower()
    inline, attached = (part for part in leaves(result) if part.get_content_type().endswith(("calendar", "ics")))
    for written in (text_of(inline), text_of(attached)):
        assert all(len(line.encode()) <= 75 for line in written.split("\r\n"))  # folded again (RFC 5545 3.1)
        calendar = unfolded(written)
        assert f"ORGANIZER;CN=Alice Real:mailto:{ALIAS}\r\n" in calendar
        assert f"Write back to the organizer at {ALIAS} if" in calendar
        assert "mailto:sam@outside.example" in calendar


VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\nN:Real;Alice;;;\r\nFN:Alice Real\r\n"
    "EMAIL;type=INTERNET;type=HOME;type=pref:alice.real+shop@realmail.example\r\n"
    "item1.EMAIL;type=INTERNET:ALICE.REAL@REALMAIL.EXAMPLE\r\n"
    "NOTE:Mail me at my other address\\, the real one\\, which is alice.real@realm\r\n ail.example\r\n"
    "END:VCARD\r\n"
)


def test_text_like_attachments_are_scrubbed_and_message_global_is_walked() -> None:
    message = EmailMessage()
    message["From"] = REAL
    message["Subject"] = "files"
    message.set_content("see attached\n")
    message.add_attachment(f"notes by {REAL}\n".encode(), maintype="text", subtype="plain", filename="notes.txt")
    message.add_attachment(VCARD.encode(), maintype="text", subtype="vcard", filename="Alice Real.vcf")
    message.add_attachment(VCARD.encode(), maintype="application", subtype="octet-stream", filename="card.vcf")
    inner = f"From: Alice <{REAL}>\r\nSubject: earlier\r\n\r\nsent by {REAL}\r\n".encode()
    message.add_attachment(inner, maintype="message", subtype="global", cte="8bit")
    original = message.as_bytes(policy=policy.SMTP)

    result, _ = scrubbed(original, REAL)

    assert "realmail" not in every_text(result).lower()
    assert f"notes by {ALIAS}" in every_text(result)
    assert f"EMAIL;type=INTERNET;type=HOME;type=pref:{ALIAS}" in every_text(result)


def test_identity_parts_are_removed_and_a_signed_message_becomes_its_signed_content() -> None:
    # openssl smime -sign, as a mail client signs: multipart/signed, the certificate naming the mailbox.
    original = reply_fixture("smime-signed-openssl.eml")

    result, body = scrubbed(original, REAL)

    assert body.removed == ["application/x-pkcs7-signature"]
    (only,) = leaves(result)
    assert only.get_content_type() == "text/plain"
    assert f"Write to {ALIAS}." in text_of(only)
    assert b"pkcs7" not in result
    assert b"This is an S/MIME signed message" not in result


def test_an_attached_openpgp_key_is_removed() -> None:
    # Thunderbird's "Attach my public key" (a real key made by GnuPG; its user id names the mailbox).
    original = reply_fixture("thunderbird-openpgp-key.eml")

    result, body = scrubbed(original, REAL)

    assert body.removed == ["application/pgp-keys"]
    assert [part.get_content_type() for part in leaves(result)] == ["text/plain"]
    assert b"PGP PUBLIC KEY" not in result.split(b"\r\n\r\n", 1)[1]


def test_a_signed_message_inside_a_multipart_becomes_its_content_too() -> None:
    original = (
        b"From: alice@real.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n"
        b'--out\r\nContent-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256;'
        b" boundary=sig\r\n\r\n--sig\r\nContent-Type: text/plain\r\n\r\nsigned by alice@real.example\r\n"
        b"--sig\r\nContent-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
        b"-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n--sig--\r\n"
        b"--out\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF\r\n--out--\r\n"
    )
    result, body = scrubbed(original)

    assert body.removed == ["application/pgp-signature"]
    assert [part.get_content_type() for part in leaves(result)] == ["text/plain", "application/pdf"]
    assert text_of(leaves(result)[0]).strip() == f"signed by {ALIAS}"
    assert b"PGP SIGNATURE" not in result


@pytest.mark.parametrize(
    "written",
    [
        "alice.real+shop@realmail.example",
        "Alice.Real+Shop@RealMail.Example",
        "ALICE.REAL@REALMAIL.EXAMPLE",
        "alice.real&commat;realmail.example",
        "alice.real&#64realmail.example",
        "alice.real&#x40realmail.example",
        "alice&#46;real@realmail&period;example",
        "alice.real<span>@</span>realmail.example",
        "alice.real<!-- x -->@<b>realmail</b>.example",
        "alice.real&#173;@realmail.example",  # a soft hyphen nobody sees
        "%61lice.real%40realmail%2Eexample",
    ],
)
def test_html_and_sub_address_forms_are_found(written: str) -> None:
    html = f'<p>Write to {written} or <a href="mailto:{written}">me</a></p>'
    original = (
        b"From: x@y.example\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + html.encode()
    )
    result, _ = scrubbed(original, REAL)

    text = text_of(leaves(result)[0])
    assert "realmail" not in text.lower(), text
    assert text.count(ALIAS) == 2


def test_a_plain_text_angle_address_is_not_read_as_a_tag() -> None:
    original = b"From: x@y.example\r\nContent-Type: text/plain\r\n\r\nAlice <alice.real@realmail.example> wrote\r\n"
    result, _ = scrubbed(original, REAL)
    assert text_of(leaves(result)[0]).strip() == f"Alice <{ALIAS}> wrote"


def test_rfc2231_file_name_continuations_are_scrubbed() -> None:
    original = (
        b"From: x@y.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''Alice.Real%40realm;\r\n"
        b" filename*1*=ail.example%20CV.pdf\r\n\r\n"
        b"%PDF\r\n--b--\r\n"
    )
    result, _ = scrubbed(original, REAL)

    assert b"realm" not in result.lower()
    assert leaves(result)[1].get_filename() == f"{ALIAS} CV.pdf"
    assert leaves(result)[1].get_payload(decode=True) == b"%PDF"


def test_the_preamble_and_epilogue_are_dropped() -> None:
    original = (
        b"From: x@y.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"Preamble by alice.real@realmail.example, in Base64: YWxpY2UucmVhbEByZWFsbWFpbC5leGFtcGxl\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\nEpilogue of alice.real@realm\r\n ail.example\r\n"
    )
    result, _ = scrubbed(original, REAL)

    assert b"realmail" not in result.lower()
    assert b"reamble" not in result
    assert b"pilogue" not in result
    assert [text_of(part).strip() for part in leaves(result)] == ["hi"]


def test_utf16_big_endian_without_a_bom_is_read_as_rfc_2781_says() -> None:
    text = f"wide text by {REAL}\n"
    original = (
        b"From: x@y.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-16\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(text.encode("utf-16-be"))
    )
    result, _ = scrubbed(original, REAL)

    payload = leaves(result)[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("utf-16-be") == text.replace(REAL, ALIAS)


def test_content_ids_and_their_cid_references_are_renamed_on_the_aliass_domain() -> None:
    original = (
        b"From: x@y.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<img src="cid:part1.x@realmail.example"><img src="cid:part2.y%40realmail.example">\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <part1.x@realmail.example>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--r\r\nContent-Type: image/gif\r\nContent-ID: <part2.y@realmail.example>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--r--\r\n"
    )
    result, _ = scrubbed(original, REAL)

    assert b"realmail" not in result.lower()
    html, png, gif = leaves(result)
    cids = re.findall(r'src="cid:([^"]+)"', text_of(html))
    assert [f"<{found}>" for found in cids] == [png["Content-ID"], gif["Content-ID"]]
    assert all(found.endswith("@alice.example") for found in cids)
    assert png.get_payload(decode=True) == b"\x89PNG\r\n\x1a\n"
