"""Real-world-shaped mail through the whole forwarder (S3 in, SES out): every part arrives byte-identical."""

from __future__ import annotations

import re

import pytest

from postmask.mail.headers import clean_text, mailboxes
from postmask.mail.message import RawMessage
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.mail import as_email, corpus, header_problems, large_message, leaf_payloads, long_lines
from tests.support.ses import SesRecorder

REPLY_ADDRESS = re.compile(r"reply-[a-z0-9]{20}@alice\.example")
ALLOWED_HEADERS = {
    "from",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "in-reply-to",
    "references",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "precedence",
    "auto-submitted",
    "x-postmask-alias",
    "x-postmask-hop",
}


@pytest.mark.parametrize("name", sorted(corpus()))
def test_a_corpus_message_arrives_with_its_body_and_parts_intact(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, name: str
) -> None:
    original = corpus()[name]
    new_alias(alice, alice_domain, "box", ["alice@real.example"])

    mailroom.deliver(original, ["box@alice.example"])

    (mail,) = sent.sent
    body = bytes(RawMessage.parse(original).body)
    if long_lines(body):
        assert long_lines(mail.raw) == 0  # re-encoded: SES refuses lines over 998 bytes
    else:
        assert mail.body == body
    assert leaf_payloads(as_email(mail.raw)) == leaf_payloads(as_email(original))
    names = [field.key for field in mail.message.fields]
    assert len(names) == len(set(names)), "no header appears twice"
    assert {n for n in names if not n.startswith("content-")} <= ALLOWED_HEADERS
    # Whom "reply" and "reply all" write to: the alias, or reply addresses on its domain, never anyone outside.
    for key in ("reply-to", "cc", "to"):
        for field in mail.message.all(key):
            shown = [found.address for found in mailboxes(field.raw_value)]
            assert all(a == "box@alice.example" or REPLY_ADDRESS.fullmatch(a) for a in shown), (key, shown)
            assert key == "to" or "box@alice.example" not in shown
    assert header_problems(mail.raw, "box@alice.example") == []
    subject = RawMessage.parse(original).first("subject")
    assert (clean_text(mail.header("Subject") or "") or None) == (clean_text(subject.text()) if subject else None)
    assert mail.header("Message-ID").endswith("@alice.example>")  # type: ignore[union-attr]


def test_a_dkim_signed_message_loses_its_signatures_but_not_a_byte_of_what_they_signed(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    original = corpus()["dkim-signed.eml"]
    new_alias(alice, alice_domain, "news", ["alice@real.example"])

    mailroom.deliver(original, ["news@alice.example"])

    (mail,) = sent.sent
    assert mail.headers("DKIM-Signature") == []
    assert mail.headers("ARC-Seal") == []
    assert mail.body == bytes(RawMessage.parse(original).body)


def test_non_ascii_sender_names_and_subjects_survive(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "newsletter", ["alice@real.example"])
    new_alias(alice, alice_domain, "hello", ["alice@real.example"])

    mailroom.deliver(corpus()["latin1-8bit.eml"], ["newsletter@alice.example"])
    mailroom.deliver(corpus()["rfc2047-iso2022jp.eml"], ["hello@alice.example"])

    latin, japanese = sent.sent
    assert latin.addresses("From") == [("Jörg Müller (joerg@example.de)", "newsletter@alice.example")]
    assert latin.header("Subject") == "Grüße aus Köln"
    ((name, reply_to),) = latin.addresses("Reply-To")
    assert name == "Jörg Müller (joerg@example.de)"
    assert REPLY_ADDRESS.fullmatch(reply_to)
    assert japanese.addresses("From") == [("山田太郎 (taro.yamada@example.jp)", "hello@alice.example")]
    assert japanese.header("Subject") == "企画書のご確認をお願いします（第二版）"  # noqa: RUF001 - Japanese brackets
    assert as_email(japanese.raw).get_content() == "こんにちは、アリスさん。\r\n添付はありません。\r\n"


@pytest.mark.slow
def test_a_25_mb_message_arrives_byte_identical(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    original, attachment = large_message(19 * 1024 * 1024)
    assert len(original) > 25 * 1024 * 1024
    new_alias(alice, alice_domain, "big", ["alice@real.example"])

    mailroom.deliver(original, ["big@alice.example"])

    (mail,) = sent.sent
    assert mail.body == bytes(RawMessage.parse(original).body)
    parts = leaf_payloads(as_email(mail.raw))
    assert parts[-1] == ("application/octet-stream", attachment)
