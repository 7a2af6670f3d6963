"""The copy encrypted to its destination's OpenPGP key: RFC 3156 PGP/MIME outside, RFC 9788 header protection inside.

Inside (the cryptographic payload) is the whole copy exactly as postmask would have sent it in clear, header
block and body, with `hp="cipher"` on its Content-Type and one `HP-Outer` field per field left outside (RFC 9788
section 2): a client that supports header protection shows the real subject and sender, and knows which outer
fields it may ignore. Outside are only From (the alias, no display name: it would show the sender), To,
Date, Message-ID, MIME-Version, Content-Type and `Subject: ...`. Everything else a mailbox provider could read
(the sender, the real subject, Reply-To, Cc, thread ids, postmask's own markers) is inside.

Memory: a message can be 30 MB. The copy never exists twice in memory: its parts are written to a file in
/tmp, Sequoia encrypts file to file (ASCII-armored), the armor is copied with CRLF line ends into the file that is
sent, and that file is mapped (mmap) and handed to SES as it is: what the process holds beyond the message is
a few 1 MB buffers. The caller closes the copy (its files go).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, make_msgid
from typing import BinaryIO

from postmask import openpgp
from postmask.mail.message import RawMessage

PLACEHOLDER_SUBJECT = "..."
_NEWLINE = b"\r\n"
_READ = 64 * 1024  # the armor copied 64 KB at a time: what a copy costs beyond the message stays small
_PREAMBLE = b"This is an OpenPGP/MIME encrypted message (RFC 3156 and RFC 9788)."


class KeyUnusable(Exception):
    """The destination's key cannot be encrypted to now (expired, revoked, broken): its `fallback` decides."""


@dataclass
class EncryptedCopy:
    """The PGP/MIME message, mapped from its file: send `parts`, then `close()`."""

    path: str
    size: int
    _file: BinaryIO = field(repr=False)
    _map: mmap.mmap = field(repr=False)

    @property
    def parts(self) -> tuple[memoryview]:
        return (memoryview(self._map),)

    def close(self) -> None:
        self._map.close()
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)

    def __enter__(self) -> EncryptedCopy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def outer_fields(alias: str, destination: str, now: datetime, boundary: str) -> list[tuple[str, str]]:
    """The only header fields a mailbox provider sees, in order."""
    return [
        ("From", alias),
        ("To", destination),
        ("Date", format_datetime(now)),
        ("Message-ID", make_msgid(domain=alias.rpartition("@")[2])),
        ("Subject", PLACEHOLDER_SUBJECT),
        ("MIME-Version", "1.0"),
        (
            "Content-Type",
            f'multipart/encrypted; protocol="application/pgp-encrypted";{_NEWLINE.decode()} boundary="{boundary}"',
        ),
    ]


def protected_header_block(clear_header_block: bytes, outer: list[tuple[str, str]]) -> bytes:
    """The clear copy's header block as the cryptographic payload's (RFC 9788): `hp="cipher"` on its Content-Type
    (text/plain, as MIME defaults, when it had none) and an `HP-Outer` field for each non-structural outer field."""
    parsed = RawMessage.parse(clear_header_block)
    newline = parsed.newline
    lines: list[bytes] = []
    has_type = False
    for found in parsed.fields:
        if found.key == "content-type":
            if has_type:
                continue  # a second Content-Type would leave clients guessing which one hp= is on
            has_type = True
            lines.append(found.raw.rstrip(b"\r\n \t;") + b";" + newline + b' hp="cipher"' + newline)
        else:
            lines.append(found.raw + newline)
    if not has_type:
        lines.append(b'Content-Type: text/plain; charset=us-ascii; hp="cipher"' + newline)
    for name, value in outer:
        if name.lower() not in ("mime-version", "content-type"):
            lines.append(b"HP-Outer: " + name.encode("ascii") + b": " + value.encode("ascii") + newline)
    return b"".join(lines) + newline


def encrypt_copy(
    clear_header_block: bytes,
    body_chunks: Iterable[bytes | memoryview],
    *,
    key: bytes,
    alias: str,
    destination: str,
    now: datetime,
    workdir: str | None = None,
) -> EncryptedCopy:
    """The clear copy (`clear_header_block` + `body_chunks`, as postmask would send it) encrypted to `key` as a
    PGP/MIME message from `alias` to `destination`. KeyUnusable when the key cannot be encrypted to now."""
    folder = workdir or tempfile.gettempdir()
    boundary = f"postmask-pgp-{os.urandom(12).hex()}"
    outer = outer_fields(alias, destination, now, boundary)
    inner_header = protected_header_block(clear_header_block, outer)
    try:
        sealed = openpgp.encrypt_to_file([inner_header, *body_chunks], key, folder)
    except (RuntimeError, ValueError) as exc:  # Sequoia: no usable encryption key (expired, revoked), or unreadable
        raise KeyUnusable(str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__) from exc
    path = os.path.join(folder, f"postmask-{os.urandom(8).hex()}.eml")
    try:
        with open(path, "wb") as out, open(sealed, "rb") as ciphertext:
            for name, value in outer:
                out.write(name.encode("ascii") + b": " + value.encode("ascii") + _NEWLINE)
            out.write(_NEWLINE + _PREAMBLE + _NEWLINE)
            out.write(b"--" + boundary.encode() + _NEWLINE)
            out.write(b"Content-Type: application/pgp-encrypted" + _NEWLINE)
            out.write(b"Content-Description: PGP/MIME version identification" + _NEWLINE + _NEWLINE)
            out.write(b"Version: 1" + _NEWLINE + _NEWLINE)
            out.write(b"--" + boundary.encode() + _NEWLINE)
            out.write(b'Content-Type: application/octet-stream; name="encrypted.asc"' + _NEWLINE)
            out.write(b"Content-Description: OpenPGP encrypted message" + _NEWLINE)
            out.write(b'Content-Disposition: inline; filename="encrypted.asc"' + _NEWLINE + _NEWLINE)
            _copy_with_crlf(ciphertext, out)
            out.write(_NEWLINE + b"--" + boundary.encode() + b"--" + _NEWLINE)
        handle = open(path, "rb")  # noqa: SIM115 - kept open for the mapping; EncryptedCopy.close closes it
    except BaseException:
        openpgp.remove(path)
        raise
    finally:
        openpgp.remove(sealed)
    size = os.fstat(handle.fileno()).st_size
    return EncryptedCopy(path, size, handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))


def _copy_with_crlf(armored: BinaryIO, out: BinaryIO) -> None:
    """Sequoia's ASCII armor (LF line ends, with the CRC GnuPG 2.2 wants) copied with CRLF line ends, streamed."""
    while chunk := armored.read(_READ):
        out.write(chunk.replace(b"\n", _NEWLINE))
