"""The forwarded copy's header block against hostile and malformed input (issue 13, items 1, 2, 6, 7 and 10).

Every attack is written the way a sender would put it on the wire: folded, encoded words, comments,
quoted-pairs, group and obsolete syntax, bidirectional overrides, NUL and bare CR/LF, very long names,
several From fields. Whatever arrives, the copy's header block must read (to the stdlib's strict parser and
to a lenient one) as exactly one From, the alias, with no defect on From/To/Cc/Reply-To and no control
character, and it must show the original sender's real address.
"""

from __future__ import annotations

import base64
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmask.mail.message import RawMessage, forwarded_header_block
from tests.support.mail import as_email, corpus, header_block, header_problems

NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
ALIAS = "shop@alice.example"


def forwarded(raw: bytes, *, envelope_sender: str = "bounce@sender.example") -> bytes:
    message = RawMessage.parse(raw)
    return forwarded_header_block(message, alias=ALIAS, envelope_sender=envelope_sender, now=NOW) + bytes(message.body)


def b64(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def with_from(value: str | bytes, *extra: bytes) -> bytes:
    raw_value = value.encode() if isinstance(value, str) else value
    return b"From: " + raw_value + b"\r\n" + b"".join(extra) + b"To: shop@alice.example\r\nSubject: hi\r\n\r\nbody\r\n"


def shown_name(raw: bytes) -> str:
    (address,) = as_email(raw)["From"].addresses
    assert address.addr_spec == ALIAS
    return str(address.display_name)


# --- 1. the From a reader sees ----------------------------------------------------------------------------

FROM_ATTACKS = {
    "long quoted name with comments": (
        '"Bank <security@bank.example>, (a) (b) (c) (d) (e) (f) (g)" <attacker@evil.example>'
    ),
    "encoded word hiding an address": "=?utf-8?q?Bank_=3Csecurity=40bank=2Eexample=3E=2C?= <attacker@evil.example>",
    "encoded word with a comma and a second address": b64("Bank <security@bank.example>, x")
    + " <attacker@evil.example>",
    "quoted-pair breaking out of the quotes": r'"Bank\" <security@bank.example> \\" <attacker@evil.example>',
    "comments around the address": "Bank (security@bank.example) <attacker@evil.example> (security@bank.example)",
    "folded across lines": "=?utf-8?q?Bank?=\r\n =?utf-8?q?_Security?=\r\n\t(comment) <attacker@evil.example>",
    "obsolete route and phrase": "Bank. Security. <@relay.example,@bank.example:attacker@evil.example>",
    "group syntax": "Friends: security@bank.example, attacker@evil.example;",
    "two mailboxes": "Bank <security@bank.example>, attacker@evil.example",
    "bidi override": b64("Support\u202e\u200b\u2066moc.knab\u2069 \u200fTeam\ufeff") + " <attacker@evil.example>",
    "bidi override unencoded": "Support\u202emoc.knab <attacker@evil.example>",
    "raw 8-bit name": "Jörg Müller <attacker@evil.example>",
    "very long name": '"' + "Very Long Trustworthy Name " * 80 + '" <attacker@evil.example>',
    "nested comments": "(" * 3000 + "x" + ")" * 3000 + " attacker@evil.example",
    "encoded words where the address should be": "Bank <=?utf-8?q?security=40bank.example?=>",
    "an address without a domain": "Bank <attacker>",
    "no address at all": "Bank Security",
    "empty": "",
}


@pytest.mark.parametrize("value", FROM_ATTACKS.values(), ids=FROM_ATTACKS.keys())
def test_the_forwarded_from_is_one_mailbox_the_alias_whatever_the_sender_wrote(value: str) -> None:
    out = forwarded(with_from(value), envelope_sender="attacker@evil.example")

    assert header_problems(out, ALIAS) == []
    name = shown_name(out)
    assert not any(unicodedata.category(character) in ("Cc", "Cf") for character in name), ascii(name)
    assert len(name) <= 150


@pytest.mark.parametrize(
    "key",
    [
        "long quoted name with comments",
        "encoded word hiding an address",
        "quoted-pair breaking out of the quotes",
        "comments around the address",
        "folded across lines",
        "bidi override",
        "very long name",
    ],
)
def test_the_display_name_always_ends_with_the_real_sender_address(key: str) -> None:
    name = shown_name(forwarded(with_from(FROM_ATTACKS[key])))
    assert name.endswith("(attacker@evil.example)"), name


def test_comments_nested_too_deep_for_the_parser_still_show_the_address() -> None:
    assert shown_name(forwarded(with_from(FROM_ATTACKS["nested comments"]))) == "attacker@evil.example"


def test_encoded_words_are_decoded_after_the_address_is_parsed() -> None:
    name = shown_name(forwarded(with_from(FROM_ATTACKS["encoded word hiding an address"])))
    assert name == "Bank security@bank.example, (attacker@evil.example)"


def test_an_outlook_last_name_first_name_is_shown_as_one_name() -> None:
    out = forwarded(corpus()["outlook-lastname-firstname.eml"])
    assert header_problems(out, ALIAS) == []
    assert shown_name(out) == "LastßlName, FirstName (firstname.lastname@corp.example)"


def test_several_from_fields_show_the_envelope_sender_and_only_one_from_arrives() -> None:
    out = forwarded(corpus()["hostile-multiple-from.eml"])
    assert header_problems(out, ALIAS) == []
    assert shown_name(out) == "bounce@sender.example"  # readers disagree on which one wrote it (issue 25)
    assert as_email(out)["Sender"] is None


# Issue 25: a From that parsers read differently. The stdlib reads the first as `service@paypal.com`; other
# clients read `a@evil.example`: the copy shows the envelope sender, which SES checked (SPF).
AMBIGUOUS_FROMS = [
    "service@paypal.com: ; <a@evil.example>",
    "PayPal: service@paypal.com;",
    "Friends: security@bank.example, attacker@evil.example;",
    "security@bank.example, attacker@evil.example",
    "service@paypal.com <a@evil.example>",
    "<service@paypal.com> <a@evil.example>",
]


@pytest.mark.parametrize("value", AMBIGUOUS_FROMS)
def test_a_from_that_is_not_exactly_one_mailbox_shows_the_envelope_sender(value: str) -> None:
    out = forwarded(with_from(value), envelope_sender="bounces@evil.example")
    assert header_problems(out, ALIAS) == []
    assert shown_name(out) == "bounces@evil.example"
    assert as_email(out)["Reply-To"].addresses[0].addr_spec == "bounces@evil.example"


@pytest.mark.parametrize(
    "value",
    [
        "Jane Doe <jane@example.com>",
        "J. R. Doe <jane@example.com>",  # obsolete syntax, but one mailbox to every reader
        '"Doe, Jane" <jane@example.com>',
        "jane@example.com (Jane Doe)",
        "=?utf-8?q?J=C3=BCrgen?= <j@example.com>",
    ],
)
def test_one_mailbox_however_written_is_not_ambiguous(value: str) -> None:
    from postmask.mail.message import from_is_ambiguous

    assert not from_is_ambiguous(RawMessage.parse(with_from(value)))
    assert "bounce@sender.example" not in shown_name(forwarded(with_from(value)))


# --- 2. control characters never reach the header block ---------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "hostile-bare-cr-subject.eml",
        "hostile-bare-cr-bcc.eml",
        "hostile-nul-and-controls.eml",
        "hostile-bare-lf-in-crlf-headers.eml",
        "hostile-8bit-headers.eml",
        "hostile-reply-to-injection.eml",
        "hostile-message-id-and-references.eml",
        "hostile-forged-hop-and-alias-headers.eml",
        "long-headers.eml",
    ],
)
def test_no_control_character_or_injected_field_survives(name: str) -> None:
    out = forwarded(corpus()[name])

    assert header_problems(out, ALIAS) == []
    parsed = as_email(out)
    assert parsed["Bcc"] is None
    assert parsed.get_all("X-Postmask-Alias") == [ALIAS]
    assert parsed.get_all("X-SES-Spam-Verdict") is None


def test_a_subject_with_bare_crs_stays_one_subject() -> None:
    out = forwarded(corpus()["hostile-bare-cr-subject.eml"])
    subject = str(as_email(out)["Subject"])
    assert subject.startswith("Invoice")
    assert "security@bank.example" in subject  # kept as text, not as a field
    assert "\r" not in subject


def test_raw_8bit_header_text_is_encoded_not_lost() -> None:
    out = forwarded(corpus()["hostile-8bit-headers.eml"])
    assert header_problems(out, ALIAS) == []
    assert str(as_email(out)["Subject"]) == "Grüße \u2013 raw UTF-8 in a header"


# --- 6. every address header is one SES accepts -----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "malformed-to-baz.eml",
        "malformed-to-matmail.eml",
        "malformed-to-xx-from-without-address.eml",
        "hostile-encoded-word-in-address.eml",
        "hostile-nested-comments.eml",
    ],
)
def test_a_to_without_any_valid_address_becomes_the_alias(name: str) -> None:
    out = forwarded(corpus()[name])
    assert header_problems(out, ALIAS) == []
    assert [address.addr_spec for address in as_email(out)["To"].addresses] == [ALIAS]


def test_only_the_valid_recipients_of_a_to_are_shown() -> None:
    out = forwarded(corpus()["malformed-to-mixed-valid-and-invalid.eml"])
    assert header_problems(out, ALIAS) == []
    shown = [(a.display_name, a.addr_spec) for a in as_email(out)["To"].addresses]
    assert shown == [("Good", "good@x.example"), ("", "t1@team.example"), ("", "t2@team.example")]


@pytest.mark.parametrize(
    ("reply_to", "expected"),
    [
        (None, "real@sender.example"),
        (b"Support <support@sender.example>", "support@sender.example"),
        (b"not an address", "real@sender.example"),
        (b"baz, <matmail>, ok@sender.example, second@sender.example", "ok@sender.example"),
        (b"J\xc3\xb6rg <j\xc3\xb6rg@sender.example>", "real@sender.example"),
        (b"x@b\xc3\xbccher.example", "x@xn--bcher-kva.example"),
        (("(" * 3000 + ")" * 3000).encode(), "real@sender.example"),
    ],
)
def test_reply_to_is_one_valid_address(reply_to: bytes | None, expected: str) -> None:
    extra = [b"Reply-To: " + reply_to + b"\r\n"] if reply_to is not None else []
    out = forwarded(with_from("Real <real@sender.example>", *extra))

    assert header_problems(out, ALIAS) == []
    (address,) = as_email(out)["Reply-To"].addresses
    assert address.addr_spec == expected


def test_without_any_valid_sender_address_reply_to_is_the_envelope_sender_or_left_out() -> None:
    out = forwarded(corpus()["malformed-to-xx-from-without-address.eml"], envelope_sender="bounce@sender.example")
    assert [a.addr_spec for a in as_email(out)["Reply-To"].addresses] == ["bounce@sender.example"]

    out = forwarded(corpus()["malformed-to-xx-from-without-address.eml"], envelope_sender="")
    assert header_problems(out, ALIAS) == []
    assert as_email(out)["Reply-To"] is None


# --- 10. the headers people rely on -----------------------------------------------------------------------


def test_list_and_auto_reply_headers_are_kept_with_only_https_unsubscribe_links() -> None:
    out = forwarded(corpus()["list-post.eml"])

    assert header_problems(out, ALIAS) == []
    parsed = as_email(out)
    assert parsed["List-Id"] == "Project developers <dev.lists.example.org>"
    assert parsed["List-Unsubscribe"] == "<https://lists.example.org/unsubscribe/dev?u=8f2a>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Precedence"] == "list"
    assert parsed["Auto-Submitted"] == "no"
    assert parsed["List-Archive"] is None


def test_an_auto_reply_keeps_what_stops_a_vacation_responder() -> None:
    parsed = as_email(forwarded(corpus()["vacation-auto-reply.eml"]))
    assert (parsed["Auto-Submitted"], parsed["Precedence"]) == ("auto-replied", "bulk")


def test_a_mailto_unsubscribe_is_dropped_with_its_one_click_post() -> None:
    parsed = as_email(forwarded(corpus()["list-mailto-only.eml"]))
    assert parsed["List-Unsubscribe"] is None
    assert parsed["List-Unsubscribe-Post"] is None
    assert parsed["List-Id"] == "<news.news.example>"


# --- the whole corpus -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(corpus()))
def test_every_corpus_message_gets_a_header_block_without_defects(name: str) -> None:
    out = forwarded(corpus()[name])
    assert header_problems(out, ALIAS) == []
    assert header_block(out).count(b"\nFrom:") + header_block(out).startswith(b"From:") == 1


# --- any header at all --------------------------------------------------------------------------------------

# The pieces attackers build header values from: encoded-word syntax broken every way (bad base64 padding, a
# charset name that is not ASCII or not known, a stateful charset), raw 8-bit bytes, control characters, folds
# and bare line breaks, quoting and address syntax.
_PIECES = [
    b"=?",
    b"?=",
    b"?b?",
    b"?q?",
    b"utf-8",
    b"x-unknown",
    b"iso-2022-jp",
    b"utf-16",
    b"utf-\xc3\xa9",
    b"=FF",
    b"\xff",
    b"\xc3\xa9",
    b"\r\n ",
    b"\r\n",
    b"\n",
    b"\r",
    b":",
    b"abc",
    b"====",
    b"A===",
    b"\x00",
    b"\x1b$B",
    b"=?utf-8*en?q?x?=",
    b" ",
    b"\t",
    b"?",
    b"=",
    b"<",
    b">",
    b"@",
    b",",
    b'"',
    b"\\",
    b"(",
    b")",
    b";",
]
_VALUE = st.lists(st.sampled_from(_PIECES), max_size=25).map(b"".join)


@given(from_value=_VALUE, subject=_VALUE, other=_VALUE)
@settings(max_examples=400, deadline=None)
def test_any_from_and_subject_give_a_header_block_a_reader_and_ses_accept(
    from_value: bytes, subject: bytes, other: bytes
) -> None:
    raw = (
        b"From: "
        + from_value
        + b"\r\nSubject: "
        + subject
        + b"\r\nX-Other: "
        + other
        + b"\r\n"
        + b"To: "
        + ALIAS.encode()
    )
    raw += b"\r\n\r\nbody\r\n"

    out = forwarded(raw)

    assert header_problems(out, ALIAS) == []
