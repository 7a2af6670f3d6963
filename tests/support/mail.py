"""The mail corpus: real-world-shaped messages in tests/fixtures/mail/, and a generated large one."""

from __future__ import annotations

import base64
import random
from email.message import EmailMessage, Message
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mail"


def corpus() -> dict[str, bytes]:
    """Every fixture message, byte-exact, by file name."""
    return {path.name: path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))}


def large_message(attachment_bytes: int, *, seed: int = 25) -> tuple[bytes, bytes]:
    """(a multipart/mixed message with a text part and one random binary attachment, the attachment's bytes).

    Base64 makes the message about 4/3 of `attachment_bytes`: 19 MB of attachment is a 25 MB message.
    """
    attachment = random.Random(seed).randbytes(attachment_bytes)
    encoded = base64.encodebytes(attachment)  # 76-character lines, as mailers write them
    boundary = b"=_large_boundary_7f3a"
    lines = [
        b"From: Big Sender <big@sender.example>",
        b"To: big@alice.example",
        b"Subject: A large attachment",
        b"Date: Mon, 23 Nov 2026 18:00:00 +0000",
        b"Message-ID: <large@sender.example>",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
        b"",
        b"--" + boundary,
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"The attachment follows.",
        b"--" + boundary,
        b'Content-Type: application/octet-stream; name="data.bin"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="data.bin"',
        b"",
    ]
    head = b"\r\n".join(lines) + b"\r\n"
    tail = b"\r\n--" + boundary + b"--\r\n"
    return head + encoded.replace(b"\n", b"\r\n") + tail, attachment


def leaf_payloads(message: Message) -> list[tuple[str, bytes]]:
    """(content type, decoded payload) of every non-multipart part, in order."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        found.append((part.get_content_type(), payload if isinstance(payload, bytes) else b""))
    return found


def as_email(raw: bytes) -> EmailMessage:
    import email
    from email import policy

    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed
