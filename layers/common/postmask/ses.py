"""Amazon SES (v2): sending a raw message without copying it.

SESv2 `SendEmail` carries a raw message as base64 inside a JSON body (up to 40 MB; v1 `SendRawEmail` takes
only 10 MB). Serialised the ordinary way, one 30 MB message becomes a 40 MB base64 string, a 40 MB JSON string
and 40 MB of encoded bytes, on top of the message itself: five to six times its size. Instead, botocore
serialises a small placeholder and, just before the request is signed and sent, the body becomes a seekable
stream that produces the base64 of the header block and the untouched body slice by slice. Peak memory stays
close to the message's own size. See docs/decisions/0021-streamed-ses-request-body.md.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from contextvars import ContextVar
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

# SES refuses a message larger than this (SESv2 SendEmail, headers and attachments included).
MAX_MESSAGE_BYTES = 40 * 1024 * 1024

_PLACEHOLDER = b"postmask:raw-message-placeholder"
_PLACEHOLDER_B64 = base64.b64encode(_PLACEHOLDER)
_pending_parts: ContextVar[Sequence[memoryview] | None] = ContextVar("postmask_ses_pending_parts", default=None)


class MessageTooLarge(Exception):
    """SES will never accept this message: retrying cannot help."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the message is {size} bytes; SES sends at most {MAX_MESSAGE_BYTES}")
        self.size = size


@cache
def client() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    """One SESv2 client per container, made on first use, with the streaming body installed."""
    import boto3

    sesv2 = boto3.client("sesv2")
    sesv2.meta.events.register("before-call.sesv2.SendEmail", _stream_raw_data)
    return sesv2


def send_raw(*, sender: str, destination: str, parts: Sequence[bytes | bytearray | memoryview]) -> str:
    """Send the message made of `parts` (joined in order) from `sender` to `destination`; SES's message id.

    Raises MessageTooLarge before calling SES when the message is over the limit, or when SES says so (413).
    Any other error is raised as it comes: the caller lets Lambda retry.
    """
    views = [memoryview(part).cast("B") for part in parts]
    size = sum(view.nbytes for view in views)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(size)
    token = _pending_parts.set(views)
    try:
        response = client().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [destination]},
            Content={"Raw": {"Data": _PLACEHOLDER}},
        )
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 413:
            raise MessageTooLarge(size) from exc
        raise
    finally:
        _pending_parts.reset(token)
    message_id: str = response["MessageId"]
    return message_id


def _stream_raw_data(params: dict[str, Any], **_: Any) -> None:
    """botocore `before-call` handler: swap the serialised placeholder for the streamed message."""
    parts = _pending_parts.get()
    if parts is None:
        return  # a SendEmail that send_raw did not make: leave it alone
    body = params["body"]
    before, found, after = body.partition(_PLACEHOLDER_B64)
    if not found:
        raise RuntimeError("the SendEmail request no longer carries the raw-message placeholder")
    params["body"] = Base64Splice(before, parts, after)


class Base64Splice(io.RawIOBase):
    """`prefix + base64(b"".join(parts)) + suffix` as a seekable, read-only stream, computed on demand.

    base64 turns every 3 input bytes into 4 output bytes, so any output range maps to a small input range:
    reading never holds more than the slice asked for.
    """

    def __init__(self, prefix: bytes, parts: Sequence[memoryview], suffix: bytes) -> None:
        super().__init__()
        self._prefix = prefix
        self._parts = list(parts)
        self._suffix = suffix
        self._raw_size = sum(part.nbytes for part in self._parts)
        self._encoded_size = 4 * ((self._raw_size + 2) // 3)
        self._size = len(prefix) + self._encoded_size + len(suffix)
        self._position = 0

    def __len__(self) -> int:  # botocore sets Content-Length from it
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        chunk = self.read(target.nbytes)
        target[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        end = self._size if size is None or size < 0 else min(self._size, start + size)
        if start >= end:
            return b""
        self._position = end
        pieces = []
        encoded_start = len(self._prefix)
        encoded_end = encoded_start + self._encoded_size
        if start < encoded_start:
            pieces.append(self._prefix[start : min(end, encoded_start)])
        if start < encoded_end and end > encoded_start:
            pieces.append(
                self._encoded(max(start, encoded_start) - encoded_start, min(end, encoded_end) - encoded_start)
            )
        if end > encoded_end:
            pieces.append(self._suffix[max(start, encoded_end) - encoded_end : end - encoded_end])
        return b"".join(pieces)

    def _encoded(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the base64 text."""
        first_group, last_group = start // 4, (end + 3) // 4
        raw = self._raw(3 * first_group, min(3 * last_group, self._raw_size))
        encoded = base64.b64encode(raw)
        offset = 4 * first_group
        return encoded[start - offset : end - offset]

    def _raw(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the joined parts."""
        pieces = []
        part_start = 0
        for part in self._parts:
            part_end = part_start + part.nbytes
            if start < part_end and end > part_start:
                pieces.append(part[max(start, part_start) - part_start : min(end, part_end) - part_start])
            part_start = part_end
        return b"".join(pieces)
