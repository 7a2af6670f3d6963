"""The header rewrite: an allow-list of original headers, From/Reply-To rebuilt, the body never touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postmask.mail.headers import clean_text
from postmask.mail.message import RawMessage, display_name, forwarded_header_block
from tests.support.mail import as_email, corpus, leaf_payloads

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
ALIAS = "shop@alice.example"


def forwarded(raw: bytes, *, alias: str = ALIAS, envelope_sender: str = "bounce@sender.example") -> bytes:
    message = RawMessage.parse(raw)
    return forwarded_header_block(message, alias=alias, envelope_sender=envelope_sender, now=NOW) + bytes(message.body)


def header_names(raw: bytes) -> list[str]:
    return [field.name for field in RawMessage.parse(raw).fields]


# --- splitting --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers", "body"),
    [
        (b"A: 1\r\nB: 2\r\n\r\nbody\r\n", ["A", "B"], b"body\r\n"),
        (b"A: 1\nB: 2\n\nbody\n\nmore\n", ["A", "B"], b"body\n\nmore\n"),
        (b"A: 1\r\n\r\n", ["A"], b""),
        (b"A: 1\r\nB: 2\r\n", ["A", "B"], b""),  # no empty line: all headers, no body
        (b"\r\nonly body\r\n", [], b"only body\r\n"),
        (b"A: 1\r\n\r\n\r\nbody starts with an empty line", ["A"], b"\r\nbody starts with an empty line"),
    ],
)
def test_the_body_is_everything_after_the_first_empty_line(raw: bytes, headers: list[str], body: bytes) -> None:
    message = RawMessage.parse(raw)
    assert [field.name for field in message.fields] == headers
    assert bytes(message.body) == body


def test_folded_fields_keep_their_exact_bytes_and_unfold_for_reading() -> None:
    raw = b"Subject: =?UTF-8?B?SGVsbG8=?=\r\n =?UTF-8?B?IHdvcmxk?=\r\nTo: a@b.example,\r\n\tc@d.example\r\n\r\n"
    message = RawMessage.parse(raw)
    subject, to = message.fields
    assert subject.raw == b"Subject: =?UTF-8?B?SGVsbG8=?=\r\n =?UTF-8?B?IHdvcmxk?="
    assert subject.text() == "Hello world"
    assert to.raw == b"To: a@b.example,\r\n\tc@d.example"


def test_lines_that_are_not_header_fields_are_skipped() -> None:
    message = RawMessage.parse(b"From sender@example.com Mon Nov 23 2026\r\nSubject: hi\r\ngarbage\r\n\r\nbody")
    assert [field.name for field in message.fields] == ["Subject"]


# --- the rewritten header block ---------------------------------------------------------------------------


def test_from_is_the_alias_showing_the_original_sender_and_reply_to_the_original_from() -> None:
    out = as_email(forwarded(b"From: Jane Doe <jane@example.com>\r\nTo: shop@alice.example\r\n\r\nhi\r\n"))
    assert out["From"].addresses[0].addr_spec == ALIAS
    assert out["From"].addresses[0].display_name == "Jane Doe (jane@example.com)"
    assert out["Reply-To"].addresses[0].addr_spec == "jane@example.com"
    assert out["X-Postmask-Alias"] == ALIAS


def test_reply_to_is_the_first_valid_address_of_the_original_reply_to() -> None:
    raw = (
        b"From: Jane <jane@example.com>\r\n"
        b"Reply-To: =?UTF-8?Q?Support_=C3=A9quipe?= <support@example.com>,\r\n other@example.com\r\n\r\nx"
    )
    (reply_to,) = as_email(forwarded(raw))["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Support équipe", "support@example.com")


def test_a_message_without_from_replies_to_the_envelope_sender() -> None:
    out = as_email(forwarded(b"Subject: no from\r\n\r\nx", envelope_sender="someone@sender.example"))
    assert out["From"].addresses[0].display_name == "someone@sender.example"
    assert out["Reply-To"].addresses[0].addr_spec == "someone@sender.example"


def test_non_ascii_sender_names_are_encoded_and_survive_a_round_trip() -> None:
    out = as_email(forwarded(b"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\r\n\r\nx"))
    assert out["From"].addresses[0].display_name == "Jörg Müller (joerg@example.de)"
    assert out["From"].addresses[0].addr_spec == ALIAS
    raw_from = next(
        f.raw for f in RawMessage.parse(forwarded(b"From: =?ISO-8859-1?Q?J=F6rg?= <j@x.de>\r\n\r\n")).fields
    )
    assert raw_from.isascii()


def test_a_hostile_display_name_cannot_inject_headers() -> None:
    raw = (
        b"From: =?UTF-8?B?"
        + __import__("base64").b64encode(b"Evil\r\nBcc: victim@example.com")
        + b"?= <e@x.example>\r\n\r\n"
    )
    out = forwarded(raw)
    assert b"\r\nBcc:" not in out
    assert as_email(out)["Bcc"] is None


def test_only_allow_listed_headers_are_copied_each_once_and_a_new_message_id_is_on_the_alias_domain() -> None:
    raw = corpus()["folded-duplicate.eml"]
    out = forwarded(raw, alias="list@alice.example")
    names = [name.lower() for name in header_names(out)]
    assert names == [
        "from",
        "reply-to",
        "to",
        "subject",
        "date",
        "in-reply-to",
        "references",
        "list-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "message-id",
        "x-postmask-alias",
    ]
    parsed = as_email(out)
    assert parsed["Subject"] == (
        "[list] A subject that is long enough that the sending mail user agent decided to fold it onto a second line"
    )
    header_block = out[: out.index(b"\r\n\r\n")]
    assert b"Content-Type: text/plain; charset=utf-8; format=flowed\r\n" in header_block  # the first one
    assert b"text/html" not in header_block
    assert parsed["Message-ID"].endswith("@alice.example>")
    assert parsed["Message-ID"] != "<thread-3@lists.example.org>"
    assert "duplicate-to@example.org" not in str(parsed["To"])
    # References names the same ids (one per line); a clean folded field is copied with its folding intact.
    assert parsed["References"].split() == [f"<thread-{n}@lists.example.org>" for n in range(3)]
    assert b"Subject: [list] A subject that is long enough that the sending mail user agent\r\n decided" in out


@pytest.mark.parametrize(
    "dropped", ["dkim-signature", "arc-seal", "authentication-results", "return-path", "sender", "received"]
)
def test_signatures_trace_and_sender_headers_are_dropped(dropped: str) -> None:
    out = forwarded(corpus()["dkim-signed.eml"], alias="news@alice.example")
    assert dropped not in [name.lower() for name in header_names(out)]


def test_a_missing_date_is_added() -> None:
    out = as_email(forwarded(b"From: a@b.example\r\n\r\nx"))
    assert out["Date"].datetime == NOW


def test_an_lf_only_message_stays_lf_only() -> None:
    out = forwarded(b"From: Jane <jane@example.com>\nSubject: lf\n\nbody\n")
    assert b"\r" not in out
    assert out.endswith(b"\n\nbody\n")


def test_display_names_are_bounded_and_plain() -> None:
    assert display_name("Jane", "jane@example.com") == "Jane (jane@example.com)"
    assert display_name("jane@example.com", "jane@example.com") == "jane@example.com"
    assert display_name("", "jane@example.com") == "jane@example.com"
    assert display_name("A\tB\x00C", "") == "A B C"
    assert display_name("x" * 500, "jane@example.com") == "x" * 99 + "… (jane@example.com)"


# --- the corpus: the body leaves exactly as it came -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_corpus_message_keeps_its_body_bytes_and_every_part(name: str) -> None:
    raw = corpus()[name]
    original = RawMessage.parse(raw)
    out = forwarded(raw)
    assert bytes(RawMessage.parse(out).body) == bytes(original.body)
    assert leaf_payloads(as_email(out)) == leaf_payloads(as_email(raw))
    subject = original.first("subject")
    forwarded_subject = as_email(out)["Subject"]
    assert (clean_text(forwarded_subject) if forwarded_subject is not None else None) == (
        clean_text(subject.text()) if subject is not None else None
    )


def test_an_id_a_mailer_wrote_as_encoded_words_is_still_found() -> None:
    from postmask.mail.message import message_ids

    # Python's email package encodes an In-Reply-To longer than its line length this way.
    raw = b" =?utf-8?q?=3C0102-4af634b1-000000=40eu-west-1=2Eamazonses=2Ecom=3E?="
    assert message_ids(raw) == ["<0102-4af634b1-000000@eu-west-1.amazonses.com>"]
