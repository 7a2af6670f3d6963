"""Thread records: which Message-ID each side of an alias knows a message by (docs/decisions/0061).

SES gives every message it sends a Message-ID of its own (`<SES message id@<region>.amazonses.com>`), so the
copy a destination receives is not known by the id the original sender gave it. To keep threads threads, the
forwarder remembers, per delivered copy, both ids; when later mail names the original in In-Reply-To or
References, the copy for each destination names the id that destination actually received.

The records are written for both directions, in the words of the alias: the *outside* id is the one the
outside correspondent knows (their original; for replies, issue 16, the id SES gave the copy they received),
the *inside* id is the one the destination knows (SES's id of its copy; for replies, the destination's own).

| pk                       | sk                                         | holds                                       |
|--------------------------|--------------------------------------------|---------------------------------------------|
| `THREAD#<alias address>` | `OUT#<sha256 of outside id>#<destination>` | inside_id: the id `destination` knows it by |
| `THREAD#<alias address>` | `IN#<sha256 of inside id>`                 | outside_id, destination: back to outside    |

Ids are hashed in keys (a Message-ID may be up to 998 bytes; a sort key 1024) and stored whole in the item.
Forwarding reads them with one BatchGetItem per recipient (only when the message names ids) and writes them
with one BatchWriteItem per recipient (only when the message has a Message-ID). They expire through the
table's TTL (`purge_at`) after RECORD_DAYS: a reply to mail older than that starts a new thread.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from postmask.store import _dynamo as db

RECORD_DAYS = 400  # a year of a thread, and some
MAX_KEYS = 100  # BatchGetItem's limit per call
_BATCH_WRITE = 25  # BatchWriteItem's limit per call
_ATTEMPTS = 5  # rounds for what DynamoDB left unprocessed (throttling)


@dataclass(frozen=True)
class Pair:
    """One message known by two ids: `outside_id` out there, `inside_id` by `destination`."""

    destination: str
    outside_id: str
    inside_id: str


def pk(alias: str) -> str:
    return f"THREAD#{alias}"


def _hash(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def _out_key(alias: str, outside_id: str, destination: str) -> dict[str, dict[str, str]]:
    return db.key(pk(alias), f"OUT#{_hash(outside_id)}#{destination.lower()}")


def _in_key(alias: str, inside_id: str) -> dict[str, dict[str, str]]:
    return db.key(pk(alias), f"IN#{_hash(inside_id)}")


def inside_ids(alias: str, destinations: Sequence[str], outside_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """For each destination, {outside id: inside id} of the ids it received copies of. One BatchGetItem (up to
    100 keys: the first ids given win, so pass In-Reply-To's first)."""
    if not destinations or not outside_ids:
        return {}
    per_id = max(1, MAX_KEYS // len(destinations))
    wanted = [(destination, found) for found in outside_ids[:per_id] for destination in destinations][:MAX_KEYS]
    keys = [_out_key(alias, found, destination) for destination, found in wanted]
    found_items = _batch_get(keys)
    by_key = {(item["sk"]): item for item in found_items}
    mapped: dict[str, dict[str, str]] = {}
    for destination, outside_id in wanted:
        item = by_key.get(_out_key(alias, outside_id, destination)["sk"]["S"])
        if item is not None and item.get("outside_id") == outside_id:
            mapped.setdefault(destination, {})[outside_id] = item["inside_id"]
    return mapped


def outside_id(alias: str, inside_id: str) -> str | None:
    """The outside id of a message the alias's side knows as `inside_id` (what a reply through the alias needs to
    name the contact's own message), or None."""
    item = db.get_item(pk(alias), _in_key(alias, inside_id)["sk"]["S"])
    if item is None or item.get("inside_id") != inside_id:
        return None
    return str(item["outside_id"])


def outside_ids(alias: str, inside_ids: Sequence[str]) -> dict[str, str]:
    """{inside id: outside id} of the ids the alias's side knows (the first MAX_KEYS given): what a reply names
    instead, so that the contact's client threads it. One BatchGetItem; ids nobody mapped are left out."""
    wanted = list(dict.fromkeys(inside_ids))[:MAX_KEYS]
    if not wanted:
        return {}
    by_sk = {item["sk"]: item for item in _batch_get([_in_key(alias, found) for found in wanted])}
    mapped: dict[str, str] = {}
    for found in wanted:
        item = by_sk.get(_in_key(alias, found)["sk"]["S"])
        if item is not None and item.get("inside_id") == found:
            mapped[found] = str(item["outside_id"])
    return mapped


def remember(alias: str, pairs: Iterable[Pair]) -> None:
    """Write both records of every pair (BatchWriteItem, 25 items per call: up to 12 pairs)."""
    purge_at = int(time.time()) + RECORD_DAYS * 86_400
    requests: list[dict[str, Any]] = []
    for pair in pairs:
        common = {"outside_id": pair.outside_id, "inside_id": pair.inside_id, "purge_at": purge_at}
        for key in (_out_key(alias, pair.outside_id, pair.destination), _in_key(alias, pair.inside_id)):
            item = {**key, **db.serialize({**common, "destination": pair.destination})}
            requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), _BATCH_WRITE):
        _batch_write(requests[start : start + _BATCH_WRITE])


def _batch_get(keys: list[dict[str, Any]]) -> list[db.Item]:
    found: list[db.Item] = []
    pending: dict[str, Any] = {db.table(): {"Keys": keys, "ConsistentRead": True}}
    for attempt in range(_ATTEMPTS):
        response = db.client().batch_get_item(RequestItems=pending)
        found.extend(db.deserialize(raw) for raw in response.get("Responses", {}).get(db.table(), []))
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            break
        time.sleep(0.05 * 2**attempt)
    return found  # what is still unprocessed after that is read as "not found": the thread breaks, no mail


def _batch_write(requests: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {db.table(): requests}
    for attempt in range(_ATTEMPTS):
        response = db.client().batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("DynamoDB left thread records unwritten after retries")
