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


def large_message(attachment_bytes: int, *, seed: int = 25, one_line: bool = False) -> tuple[bytes, bytes]:
    """(a multipart/mixed message with a text part and one random binary attachment, the attachment's bytes).

    Base64 makes the message about 4/3 of `attachment_bytes`: 19 MB of attachment is a 25 MB message. With
    `one_line`, the attachment's base64 is one line (as some mailers write it): a line SES cannot carry.
    """
    attachment = random.Random(seed).randbytes(attachment_bytes)
    # 76-character lines, as mailers write them; or one line
    encoded = base64.b64encode(attachment) + b"\n" if one_line else base64.encodebytes(attachment)
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


# --- what a forwarded copy's header block must be, whatever arrived ------------------------------------------

ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To")
MAX_LINE = 998  # RFC 5322, and what SES refuses beyond


def header_block(raw: bytes) -> bytes:
    """The bytes before the first empty line, whichever line break ends it (the whole message when there is
    none), with the break of the block's last line."""
    found = [
        (index, separator) for separator in (b"\r\n\r\n", b"\n\r\n", b"\n\n") if (index := raw.find(separator)) >= 0
    ]
    if not found:
        return raw
    index, separator = min(found)
    return raw[: index + (2 if separator == b"\r\n\r\n" else 1)]


def header_problems(raw: bytes, alias: str) -> list[str]:
    """Everything wrong with a forwarded copy's header block, as a reader (or SES) would find it; [] if none.

    Checked three ways: the raw bytes (ASCII, no control character but the line breaks, no line over 998
    bytes, every line break the same), the stdlib's strict parser (`email.policy.default`: no defect on an
    address header, exactly one From, naming only the alias), and the lenient compat32 parser
    (`email.utils.getaddresses`), which must also read one mailbox, the alias.
    """
    import email
    from email import policy
    from email.utils import getaddresses

    problems: list[str] = []
    block = header_block(raw)
    newline = b"\r\n" if b"\r\n" in block else b"\n"
    for number, line in enumerate(block.split(newline)[:-1]):
        if not line.isascii():
            problems.append(f"line {number} is not ASCII: {line[:80]!r}")
        if any((byte < 32 and byte != 9) or byte == 127 for byte in line):
            problems.append(f"line {number} has a control character: {line[:80]!r}")
        if len(line) > MAX_LINE:
            problems.append(f"line {number} is {len(line)} bytes long")
    parsed = email.message_from_bytes(raw, policy=policy.default)
    for name in ADDRESS_HEADERS:
        for value in parsed.get_all(name) or []:
            defects = [type(defect).__name__ for defect in getattr(value, "defects", ())]
            if defects:
                problems.append(f"{name} has defects {defects}: {str(value)[:120]!r}")
    froms = parsed.get_all("From") or []
    if len(froms) != 1:
        problems.append(f"{len(froms)} From fields")
    elif [address.addr_spec for address in froms[0].addresses] != [alias]:
        problems.append(f"From names {[a.addr_spec for a in froms[0].addresses]}, not only {alias}")
    lenient = email.message_from_bytes(raw)
    pairs = getaddresses(lenient.get_all("From") or [])
    if [address for _, address in pairs] != [alias]:
        problems.append(f"a lenient parser reads From as {pairs}")
    for name in parsed.keys():  # noqa: SIM118 - keys() lists every occurrence
        if name.lower() in _SINGLE_HEADERS and len(parsed.get_all(name) or []) > 1:
            problems.append(f"{name} appears more than once")
    return sorted(set(problems))


# SES refuses a message in which one of these appears more than once (its "header fields" page).
_SINGLE_HEADERS = {
    name.lower()
    for name in (
        *("Auto-Submitted", "Content-Description", "Content-Disposition", "Content-ID", "Content-Language"),
        *("Content-Transfer-Encoding", "Content-Type", "Date", "From", "In-Reply-To", "List-Id"),
        *("List-Unsubscribe", "List-Unsubscribe-Post", "Message-ID", "MIME-Version", "Precedence"),
        *("References", "Reply-To", "Return-Path", "Sender", "Subject"),
    )
}


def long_lines(raw: bytes | memoryview) -> int:
    """How many lines of `raw` are longer than 998 bytes (without their line break)."""
    data = bytes(raw)
    return sum(1 for line in data.split(b"\n") if len(line.removesuffix(b"\r")) > MAX_LINE)


def over_smtp(raw: bytes) -> bytes:
    """`raw` as an SMTP server receives it from smtplib: a message not ending with CRLF gets one (the DATA
    terminator needs it); smtplib leaves bare LF line ends of bytes as they are."""
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"
