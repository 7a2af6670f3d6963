"""Encrypted copies (postmask.mail.encryption) decrypted by another implementation, GnuPG, for the mail corpus.

For every corpus message (tests/fixtures/mail, 1 KB messages to a generated 30 MB one) and both kinds of key
(RSA 3072, Curve25519, each made by gpg itself): the copy is RFC 3156 PGP/MIME, GnuPG decrypts it, the decrypted
message is the clear copy postmask would have sent (its body byte for byte), its protected header block names the
real subject and sender (RFC 9788: `hp="cipher"`, `HP-Outer`), and no header outside names either.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from postmask import openpgp
from postmask.mail import encryption
from postmask.mail.headers import mailboxes
from postmask.mail.message import RawMessage, forwarded_header_block
from tests.support.gnupg import GPG, GnuPG, gnupg_home
from tests.support.mail import corpus, large_message

pytestmark = pytest.mark.skipif(GPG is None, reason="gpg is not installed (apt-get install gnupg)")

ALIAS = "box@alice.example"
DESTINATION = "owner@real.example"
OUTER = {"from", "to", "date", "message-id", "subject", "mime-version", "content-type"}
# gpg's own defaults for each: "RSA and RSA" (a signing primary key, an encryption subkey), and ed25519 + cv25519.
KINDS = {
    "rsa3072": ("RSA Owner <rsa@real.example>", "rsa3072", "rsa3072"),
    "cv25519": ("Cv Owner <cv@real.example>", "future-default", ""),
}


@pytest.fixture(scope="module")
def gpg() -> Iterator[tuple[GnuPG, dict[str, bytes]]]:
    with gnupg_home() as home:
        keys = {
            kind: openpgp.inspect(home.generate(uid, algorithm, encryption_subkey=subkey)).key
            for kind, (uid, algorithm, subkey) in KINDS.items()
        }
        yield home, keys


def clear_copy(raw: bytes) -> tuple[bytes, bytes]:
    """(header block, body) of the copy postmask would send in clear."""
    message = RawMessage.parse(raw)
    body = message.sendable_body()
    header = forwarded_header_block(
        message,
        alias=ALIAS,
        envelope_sender="bounce@sender.example",
        now=datetime(2026, 12, 6, tzinfo=UTC),
        hop="m1.0123456789abcdef0123456789abcdef",
        transfer_encoding=body.transfer_encoding,
    )
    return header, b"".join(bytes(chunk) for chunk in body.chunks)


def check_round_trip(home: GnuPG, key: bytes, raw: bytes) -> None:
    header, body = clear_copy(raw)
    original_from = RawMessage.parse(raw).first("from")
    senders = [m.address.encode() for m in mailboxes(original_from.raw_value)] if original_from is not None else []
    with encryption.encrypt_copy(
        header, [body], key=key, alias=ALIAS, destination=DESTINATION, now=datetime.now(UTC)
    ) as copy:
        sent = bytes(copy.parts[0])
    outer, plain = home.decrypt_pgp_mime(sent)

    # Outside: only the fields the contract lists, the placeholder subject, From the bare alias.
    assert {name.lower() for name in outer} == OUTER
    assert outer["Subject"] == "..."
    assert outer["From"] == ALIAS
    assert outer["To"] == DESTINATION
    outer_block = sent.partition(b"\r\n\r\n")[0]
    clear = RawMessage.parse(header)
    subject = clear.first("subject")
    if subject is not None and len(subject.raw_value.strip()) > 3:
        assert subject.raw_value.strip() not in outer_block
    for address in senders:
        assert address.lower() not in outer_block.lower()
    for word in (b"reply-to", b"x-postmask", b"in-reply-to", b"references", b"cc:"):
        assert word not in outer_block.lower()

    # Inside: the clear copy's header block (plus header protection) and its body, byte for byte.
    inner = RawMessage.parse(plain)
    assert bytes(inner.body) == body
    assert {f.raw for f in clear.fields if f.key != "content-type"} <= {f.raw for f in inner.fields}
    assert (inner.first("subject") or clear.first("subject")) == clear.first("subject")
    assert inner.first("from") == clear.first("from")
    parsed = email.message_from_bytes(plain, policy=email.policy.default)
    assert parsed.get_param("hp", header="content-type") == "cipher"
    assert [f.text() for f in inner.all("hp-outer")] == [
        f"{name}: {value}" for name, value in outer.items() if name.lower() not in ("mime-version", "content-type")
    ]
    if clear.first("content-type") is not None:
        assert parsed.get_content_type() == email.message_from_bytes(header + body).get_content_type()


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(corpus()))
def test_gnupg_decrypts_each_corpus_message_to_the_clear_copy(
    gpg: tuple[GnuPG, dict[str, bytes]], name: str, kind: str
) -> None:
    home, keys = gpg
    check_round_trip(home, keys[kind], corpus()[name])


@pytest.mark.parametrize(("kind", "attachment_bytes"), [("cv25519", 750_000), ("rsa3072", 22 * 1024 * 1024)])
def test_gnupg_decrypts_large_messages(gpg: tuple[GnuPG, dict[str, bytes]], kind: str, attachment_bytes: int) -> None:
    """1 MB and 30 MB (a 22 MB attachment, base64): what is sent is read from a file, never built in memory."""
    home, keys = gpg
    raw, _ = large_message(attachment_bytes)
    check_round_trip(home, keys[kind], raw)


def test_a_key_that_cannot_encrypt_is_unusable(gpg: tuple[GnuPG, dict[str, bytes]], tmp_path: object) -> None:
    home, _ = gpg
    signing_only = home.generate("Signer <signer@real.example>", "ed25519", "sign")
    import pysequoia

    key = bytes(pysequoia.Cert.from_bytes(signing_only.encode()))
    with pytest.raises(encryption.KeyUnusable):
        encryption.encrypt_copy(
            b"Subject: x\r\n\r\n",
            [b"hi\r\n"],
            key=key,
            alias=ALIAS,
            destination=DESTINATION,
            now=datetime.now(UTC),
            workdir=str(tmp_path),
        )
    assert list(tmp_path.iterdir()) == []  # type: ignore[attr-defined]  # nothing left behind
