"""The copy stage's transforms (postmask.mail.copies, docs/decisions/0024): text rewrites chained in order, each
seeing what the one before made, every other part byte for byte; none at all leaves the body spliced untouched."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from postmask.mail import copies
from postmask.mail.message import RawMessage
from postmask.mail.scrub import AddressSwap

PDF = b"%PDF-1.4 alice@real.example bob@real.example\n" + bytes(range(256))


def a_message() -> RawMessage:
    message = EmailMessage()
    message["From"] = "alice@real.example"
    message["Subject"] = "write to alice@real.example"
    message.set_content("Mail alice@real.example, or bob@real.example.\n", cte="quoted-printable")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    return RawMessage.parse(message.as_bytes())


def test_no_rewrite_is_none_and_one_is_itself() -> None:
    swap = AddressSwap(["alice@real.example"], "shop@alice.example")
    assert copies._chained([]) is None  # the body is then spliced from the original, not walked
    assert copies._chained([swap]) is swap


def test_chained_rewrites_apply_in_order_to_text_parts_only() -> None:
    message = a_message()
    # The first turns alice into bob; the second sees bob (its own and the first's) and makes it the alias.
    first = AddressSwap(["alice@real.example"], "bob@real.example")
    second = AddressSwap(["bob@real.example"], "shop@alice.example")
    chained = copies._chained([first, second])
    assert chained is not None

    body = message.sendable_body(rewrite=chained)

    sent = email.message_from_bytes(
        message.data[: message.body_offset] + b"".join(bytes(chunk) for chunk in body.chunks), policy=policy.default
    )
    text, attachment = [part for part in sent.walk() if not part.is_multipart()]
    assert text.get_content() == "Mail shop@alice.example, or shop@alice.example.\n"
    assert attachment.get_content() == PDF
    assert body.rewritten == 1
    field = chained.field("Subject", b" write to alice@real.example", b"\n")
    assert field == b"Subject: write to shop@alice.example\n"
    assert chained.field("Subject", b" nothing to see", b"\n") is None
