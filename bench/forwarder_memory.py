"""Peak memory of forwarding one large message, measured with tracemalloc.

    .venv/bin/python -m bench.forwarder_memory [--mb 30] [--destinations 1] [--long-line]

What is measured is the forwarder's own path for one message: the S3 read (`postmask.mail.inbox.read`), the
header rewrite, and `postmask.ses.send_raw` for each destination, through real botocore serialisation and
SigV4 signing, with the request body consumed in 16 KB blocks as urllib3 sends it. S3 and SES are answered
by botocore event handlers in this process, so no network and no moto allocations are counted; the message
being "in S3" is not counted either (it is served from a buffer made before tracing starts).

With --long-line the attachment's base64 is one line, longer than SES carries: the part is re-encoded on the
way (postmask.mail.lines, decision 0062), and what that costs is in the peak.

For comparison, the same send the ordinary way (boto3 serialising `Content.Raw.Data` itself) is measured too.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
for name, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "TABLE_NAME": "postmask-bench",  # settings are read whole; no table is used here
}.items():
    os.environ.setdefault(name, value)

from botocore.awsrequest import AWSResponse, HTTPHeaders  # noqa: E402

from postmask import ses  # noqa: E402
from postmask.mail import inbox  # noqa: E402
from postmask.mail.message import RawMessage, forwarded_header_block  # noqa: E402
from tests.support.mail import large_message  # noqa: E402

_BLOCK = 16 * 1024


class _Served(io.RawIOBase):
    """An HTTP response body read straight out of an existing buffer (no copy of it is made)."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self._data = data
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        count = min(target.nbytes, self._data.nbytes - self._position)
        target[:count] = self._data[self._position : self._position + count]
        self._position += count
        return count

    def stream(self, **_: Any) -> Iterator[bytes]:
        while chunk := self.read(_BLOCK):
            yield chunk


def _serve_s3(message: bytes) -> None:
    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = HTTPHeaders()
        headers["Content-Length"] = str(len(message))
        headers["Content-Type"] = "message/rfc822"
        return AWSResponse(request.url, 200, headers, _Served(memoryview(message)))

    inbox.s3().meta.events.register("before-send.s3.GetObject", answer)


def _answer_ses(client: Any) -> None:
    def answer(request: Any, **_: Any) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            while body.read(_BLOCK):  # what urllib3 does with a file-like body
                pass
        return AWSResponse(request.url, 200, HTTPHeaders(), _Served(memoryview(b'{"MessageId": "bench"}')))

    client.meta.events.register("before-send.sesv2.SendEmail", answer)


def streamed(message: bytes, destinations: int) -> int:
    """Peak bytes allocated while the forwarder reads, rewrites and sends the message."""
    _serve_s3(message)
    _answer_ses(ses.client())
    tracemalloc.start()
    raw = inbox.read("bench", "inbound/bench")
    parsed = RawMessage.parse(raw)
    body = parsed.sendable_body()  # the scan for lines over 998 bytes: a pass over the body, no copy unless one is
    header_block = forwarded_header_block(
        parsed,
        alias="big@alice.example",
        envelope_sender="big@sender.example",
        now=datetime.now(UTC),
        transfer_encoding=body.transfer_encoding,
    )
    for number in range(destinations):
        ses.send_raw(
            sender="big@alice.example", destination=f"to{number}@real.example", parts=(header_block, *body.chunks)
        )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def ordinary(message: bytes) -> int:
    """Peak bytes for the same send serialised by boto3 itself (the message copied in as one bytes object)."""
    import boto3

    client = boto3.client("sesv2")
    _answer_ses(client)
    tracemalloc.start()
    data = bytes(message)
    client.send_email(
        FromEmailAddress="big@alice.example",
        Destination={"ToAddresses": ["to@real.example"]},
        Content={"Raw": {"Data": data}},
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=30, help="message size in MiB (default 30)")
    parser.add_argument("--destinations", type=int, default=1, help="destinations to send to (default 1)")
    parser.add_argument("--long-line", action="store_true", help="the attachment's base64 on one line")
    args = parser.parse_args()
    message, _ = large_message(int(args.mb * 1024 * 1024 * 3 / 4), one_line=args.long_line)
    size = len(message)
    mib = 1024 * 1024
    peak = streamed(message, args.destinations)
    print(f"message:                    {size / mib:7.1f} MiB")
    print(f"forwarder (streamed send):  {peak / mib:7.1f} MiB peak = {peak / size:.2f} x the message")
    baseline = ordinary(message)
    print(f"boto3 serialising the body: {baseline / mib:7.1f} MiB peak = {baseline / size:.2f} x the message")


if __name__ == "__main__":
    main()
