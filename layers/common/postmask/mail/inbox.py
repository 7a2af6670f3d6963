"""The raw messages SES's S3 action stored: read once, into one buffer of exactly their size."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from postmask import aws

_CHUNK = 64 * 1024  # urllib3 reads each chunk into a temporary of its size before copying it: keep it small


class MessageMissing(Exception):
    """The event names a message that is not in the bucket."""


@cache
def s3() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    return aws.new_client("s3")


def read(bucket: str, key: str) -> bytearray:
    """The object's bytes. Read into a buffer allocated once at the object's size, not joined from chunks,
    so a 30 MB message costs 30 MB."""
    try:
        response = s3().get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            raise MessageMissing(
                f"s3://{bucket}/{key} does not exist: the receipt rule must store to S3 before it invokes the "
                "forwarder, and the mail bucket's lifecycle rule may already have expired an old message"
            ) from exc
        raise
    size = int(response["ContentLength"])
    buffer = bytearray(size)
    view = memoryview(buffer)
    body = response["Body"]
    filled = 0
    with body:
        while filled < size:
            read_now = body.readinto(view[filled : min(size, filled + _CHUNK)])
            if not read_now:
                raise OSError(f"s3://{bucket}/{key} ended after {filled} of {size} bytes")
            filled += read_now
    return buffer
