"""The embedded AWS answers one request at a time, as DynamoDB applies each request atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3

from local.aws import FAKE_CREDENTIALS, EmbeddedAws, _OneAtATime


def test_two_requests_are_never_inside_moto_at_once() -> None:
    """Each request waits (briefly) for another to join it inside the app: with the lock, none ever does."""
    meeting = threading.Barrier(2, timeout=0.5)
    met: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            meeting.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)
            meeting.reset()
        start_response("200 OK", [])
        return [b"ok"]

    serial = _OneAtATime(app)
    threads = [threading.Thread(target=lambda: serial({}, lambda *args: None)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert met == [False, False]


def test_the_embedded_aws_serves_boto3_on_loopback() -> None:
    aws = EmbeddedAws()
    aws.start()
    try:
        assert aws.url.startswith("http://127.0.0.1:")
        client = boto3.client(
            "dynamodb",
            endpoint_url=aws.url,
            region_name="eu-west-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        assert client.list_tables()["TableNames"] == []
    finally:
        aws.stop()
