"""Sending a raw message through SESv2 with a streamed request body: the bytes SES gets are the message."""

from __future__ import annotations

import base64
import io
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.core.botocore_stubber import MockRawResponse

from postmask import ses
from tests.support.ses import SesRecorder


@pytest.fixture
def recorder() -> Iterator[SesRecorder]:
    ses.client.cache_clear()
    yield SesRecorder().install(ses.client())
    ses.client.cache_clear()


def expected(prefix: bytes, parts: list[bytes], suffix: bytes) -> bytes:
    return prefix + base64.b64encode(b"".join(parts)) + suffix


@pytest.mark.parametrize(
    "sizes", [(0, 0), (1, 0), (0, 5), (2, 7), (3, 3), (100, 1), (7, 10_000), (4096, 65_537), (200_000, 3), (3, 150_001)]
)
def test_the_splice_reads_as_prefix_base64_suffix_in_any_chunking(sizes: tuple[int, int]) -> None:
    rng = random.Random(sum(sizes))
    parts = [rng.randbytes(size) for size in sizes]
    want = expected(b'{"Content":{"Raw":{"Data":"', parts, b'"}}}')
    stream = ses.Base64Splice(b'{"Content":{"Raw":{"Data":"', [memoryview(p) for p in parts], b'"}}}')
    assert len(stream) == len(want)
    assert stream.read() == want
    for chunk_size in (1, 2, 3, 4, 5, 7, 8192, 16_384, 1 << 20):  # urllib3's blocks, botocore's hashing reads
        stream.seek(0)
        pieces = iter(lambda size=chunk_size: stream.read(size), b"")
        assert b"".join(pieces) == want


def test_the_splice_seeks_like_a_file() -> None:
    parts = [b"header: x\r\n\r\n", bytes(range(256)) * 10]
    want = expected(b"<", parts, b">")
    stream = ses.Base64Splice(b"<", [memoryview(p) for p in parts], b">")
    for offset in (0, 1, 2, 5, 17, len(want) - 3, len(want), len(want) + 10):
        stream.seek(offset)
        assert stream.tell() == offset
        assert stream.read(11) == want[offset : offset + 11]
    stream.seek(-4, io.SEEK_END)
    assert stream.read() == want[-4:]
    buffer = bytearray(6)
    stream.seek(3)
    assert stream.readinto(buffer) == 6
    assert bytes(buffer) == want[3:9]


def test_send_raw_delivers_the_joined_parts_byte_for_byte(recorder: SesRecorder) -> None:
    header_block = b"From: shop@alice.example\r\nSubject: hi\r\n\r\n"
    body = random.Random(1).randbytes(100_003)  # binary on purpose: nothing may decode it
    message_id = ses.send_raw(
        sender="shop@alice.example", destination="alice@real.example", parts=(header_block, memoryview(body))
    )
    assert message_id == "recorded-1"
    (sent,) = recorder.sent
    assert sent.sender == "shop@alice.example"
    assert sent.destinations == ["alice@real.example"]
    assert sent.raw == header_block + body


def test_a_413_from_ses_means_too_large(recorder: SesRecorder) -> None:
    recorder.fail_next(413, "RequestEntityTooLarge", "Request entity too large")
    with pytest.raises(ses.MessageTooLarge):
        ses.send_raw(sender="a@alice.example", destination="b@real.example", parts=(b"x: y\r\n\r\n",))


def test_other_ses_errors_are_raised_for_a_retry(recorder: SesRecorder) -> None:
    recorder.fail_next(429, "TooManyRequestsException", "Maximum sending rate exceeded.")
    with pytest.raises(ClientError) as caught:
        ses.send_raw(sender="a@alice.example", destination="b@real.example", parts=(b"x: y\r\n\r\n",))
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"


@pytest.mark.parametrize("code", sorted(ses.PERMANENT_ERRORS))
def test_a_refusal_no_retry_can_change_is_its_own_error(recorder: SesRecorder, code: str) -> None:
    recorder.fail_next(400, code, "Missing domain")
    with pytest.raises(ses.SendRefused) as caught:
        ses.send_raw(sender="a@alice.example", destination="b@real.example", parts=(b"x: y\r\n\r\n",))
    assert caught.value.code == code


def test_a_message_over_the_limit_is_refused_without_calling_ses(
    recorder: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ses, "MAX_MESSAGE_BYTES", 10)
    with pytest.raises(ses.MessageTooLarge) as caught:
        ses.send_raw(sender="a@alice.example", destination="b@real.example", parts=(b"0123456789", b"x"))
    assert caught.value.size == 11
    assert recorder.sent == []


def test_the_streamed_body_goes_over_the_wire_with_its_length_and_signature(recorder: SesRecorder) -> None:
    """Below the recorder: what botocore sends once the request is signed (no moto in unit tests)."""
    wire: list[tuple[dict[str, Any], bytes]] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        wire.append((dict(request.headers), request.body.read()))
        return AWSResponse(request.url, 200, {}, MockRawResponse(b'{"MessageId": "wire-1"}'))

    recorder.pass_through = True
    ses.client().meta.events.register("before-send.sesv2.SendEmail", capture)
    message = b"Subject: wire\r\n\r\n" + bytes(range(256)) * 1000

    assert ses.send_raw(sender="a@alice.example", destination="b@real.example", parts=(message,)) == "wire-1"

    ((headers, body),) = wire
    assert int(headers["Content-Length"]) == len(body)
    assert b"Signature=" in headers["Authorization"]  # signed over the stream, which then still reads whole
    assert base64.b64decode(json.loads(body)["Content"]["Raw"]["Data"]) == message
