"""A deleted account's stored mail in the mail bucket (DELETE /api/me, decision 0042).

Two kinds of object are the user's:
- their quarantined copies, every object under `quarantine/<user_id>/` (postmask.quarantine), listed with
  `ListObjectsV2` and deleted 1000 keys per `DeleteObjects`;
- the raw messages the receipt rule stored under `inbound/<SES message id>` that were theirs alone and are
  accounted for (store.accounts.mail_of), deleted the same way.
Without a mail bucket (forwarding switched off) there is nothing to delete. A key S3 reports it could not
delete raises: the request fails, and repeating it deletes what is left.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from postmask import aws
from postmask.settings import get_settings

QUARANTINE_PREFIX = "quarantine/"  # postmask.quarantine.PREFIX (not imported: that module brings the mail path)
MAX_KEYS = 1000  # per DeleteObjects, S3's limit


@cache
def _s3() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    return aws.new_client("s3")


def quarantine_prefix(user_id: str) -> str:
    return f"{QUARANTINE_PREFIX}{user_id}/"


def delete_quarantined(user_id: str) -> int:
    """Delete every quarantined copy of the user's; how many there were."""
    bucket = get_settings().mail_bucket
    if not bucket:
        return 0
    deleted = 0
    pages = _s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=quarantine_prefix(user_id))
    for page in pages:
        keys = [str(listed["Key"]) for listed in page.get("Contents") or []]
        deleted += _delete(bucket, keys)
    return deleted


def delete_messages(message_ids: Iterable[str]) -> int:
    """Delete the raw stored messages of `message_ids` (S3 answers a missing key as deleted); how many keys."""
    settings = get_settings()
    if not settings.mail_bucket:
        return 0
    return _delete(settings.mail_bucket, [settings.mail_prefix + message_id for message_id in message_ids])


def _delete(bucket: str, keys: list[str]) -> int:
    for start in range(0, len(keys), MAX_KEYS):
        batch = keys[start : start + MAX_KEYS]
        response = _s3().delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        failed = response.get("Errors") or []
        if failed:
            codes = sorted({str(error.get("Code")) for error in failed})
            raise RuntimeError(f"S3 did not delete {len(failed)} stored messages ({', '.join(codes)})")
    return len(keys)
