"""Quarantine: copies that could not be delivered for good, kept for their owner to resend or delete.

| item                 | pk                 | sk                        | holds                                       |
|----------------------|--------------------|---------------------------|---------------------------------------------|
| quarantined copy     | `QUAR#<user_id>`   | `MSG#<quarantine_id>`     | message_id, address (the alias or catch-all |
|                      |                    |                           | address), alias_id, destination, reason,    |
|                      |                    |                           | sender, envelope_sender, subject, size,     |
|                      |                    |                           | object_key, quarantined_at, expires_at,     |
|                      |                    |                           | resent_to, purge_at (TTL: QuarantineDays)   |
| last notice          | `QUAR#<user_id>`   | `NOTICE#<alias_id or      | sent_at (epoch), token, purge_at (TTL)      |
|                      |                    | address>`                 |                                             |

A quarantine id is ULID-shaped: the 48 bits of time are when SES received the message, the 80 others come
from a hash of (SES message id, recipient, destination). The same copy quarantined again (a retry, a
duplicate event, the dead-letter reader after the forwarder) is the same item: written on condition it is new.
Ids sort by arrival, so "newest first" is a `Query` with `ScanIndexForward=False`. Everything sits in the
owner's own partition: another user's quarantined copy is not there (404). The stored message is a copy under
`quarantine/` in the mail bucket (postmask.quarantine), which the bucket's lifecycle keeps QuarantineDays.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from postmask import ids
from postmask.errors import QuarantinedNotFound
from postmask.store import _dynamo as db

if TYPE_CHECKING:
    from postmask.schemas.quarantine import QuarantinedList, QuarantinedMessage
    from postmask.store import contacts, pgp_keys

PK_PREFIX = "QUAR#"
_MSG = "MSG#"
_NOTICE = "NOTICE#"
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_FIELDS = (
    "id",
    "alias_id",
    "address",
    "sender",
    "subject",
    "size",
    "reason",
    "destination",
    "quarantined_at",
    "expires_at",
    "resent_to",
)


@dataclass(frozen=True)
class Held:
    """One quarantined copy as the store keeps it."""

    user_id: str
    quarantine_id: str
    message_id: str
    address: str
    alias_id: str | None
    destination: str
    reason: str
    sender: str | None
    envelope_sender: str
    subject: str | None
    size: int
    object_key: str
    quarantined_at: str
    expires_at: str
    resent_to: tuple[str, ...] = ()


def pk(user_id: str) -> str:
    return f"{PK_PREFIX}{user_id}"


def quarantine_id(at: str, message_id: str, recipient: str, destination: str) -> str:
    """The copy's id: the arrival time's milliseconds, then 80 bits of a hash of what makes the copy unique."""
    millis = int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)
    digest = hashlib.sha256(f"{message_id}\n{recipient}\n{destination.lower()}".encode()).digest()
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(digest[:10], "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _epoch(at: str) -> int:
    return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


def _item(held: Held) -> dict[str, Any]:
    return {
        "pk": pk(held.user_id),
        "sk": _MSG + held.quarantine_id,
        "id": held.quarantine_id,
        "message_id": held.message_id,
        "address": held.address,
        "alias_id": held.alias_id,
        "destination": held.destination,
        "reason": held.reason,
        "sender": held.sender,
        "envelope_sender": held.envelope_sender,
        "subject": held.subject,
        "size": held.size,
        "object_key": held.object_key,
        "quarantined_at": held.quarantined_at,
        "expires_at": held.expires_at,
        "resent_to": list(held.resent_to),
        "purge_at": _epoch(held.expires_at),
    }


def _held(item: Mapping[str, Any]) -> Held:
    return Held(
        user_id=str(item["pk"])[len(PK_PREFIX) :],
        quarantine_id=str(item["id"]),
        message_id=str(item["message_id"]),
        address=str(item["address"]),
        alias_id=item.get("alias_id"),
        destination=str(item["destination"]),
        reason=str(item["reason"]),
        sender=item.get("sender"),
        envelope_sender=str(item.get("envelope_sender") or ""),
        subject=item.get("subject"),
        size=int(item.get("size") or 0),
        object_key=str(item["object_key"]),
        quarantined_at=str(item["quarantined_at"]),
        expires_at=str(item["expires_at"]),
        resent_to=tuple(item.get("resent_to") or ()),
    )


def put(held: Held) -> bool:
    """Write the quarantined copy; False when it was quarantined before (nothing changes)."""
    try:
        db.client().put_item(
            TableName=db.table(),
            Item=db.serialize(_item(held)),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return False
    return True


def get(user_id: str, quarantine_id: str) -> Held:
    """The caller's quarantined copy; QuarantinedNotFound when there is none (or it expired)."""
    if not ids.is_id(quarantine_id):
        raise QuarantinedNotFound
    item = db.get_item(pk(user_id), _MSG + quarantine_id)
    if item is None or int(item.get("purge_at") or 0) <= int(time.time()):
        raise QuarantinedNotFound
    return _held(item)


def to_model(held: Held, headers: list[tuple[str, str]] | None = None) -> QuarantinedMessage:
    """The API's view of `held`; `headers` (name, value) as GET one reads them, None in the list."""
    from postmask.schemas.quarantine import QuarantinedMessage

    values = {name: getattr(held, name) for name in _FIELDS if name != "id"}
    return QuarantinedMessage.model_validate(
        {
            **values,
            "id": held.quarantine_id,
            "resent_to": list(held.resent_to),
            "headers": None if headers is None else [{"name": name, "value": value} for name, value in headers],
        }
    )


def list_page(
    user_id: str, *, alias_id: str | None, reason: str | None, limit: int, next_token: str | None
) -> QuarantinedList:
    """The caller's quarantined copies, newest first; one alias's, or one reason's. Expired ones (TTL deletes
    them lazily) are left out. An alias that is not the caller's is a 404, as in /api/activity."""
    from postmask.schemas.quarantine import QuarantinedList

    clauses = ["purge_at > :now"]
    values: dict[str, Any] = {":now": int(time.time())}
    if alias_id is not None:
        clauses.append("alias_id = :alias_id")
        values[":alias_id"] = alias_id
    if reason is not None:
        clauses.append("reason = :reason")
        values[":reason"] = reason
    page = db.query_page(
        pk(user_id),
        _MSG,
        limit=limit,
        next_token=next_token,
        newest_first=True,
        filter_expression=" AND ".join(clauses),
        filter_values=values,
    )
    if alias_id and not page.items and next_token is None:
        from postmask.store import aliases

        aliases.get(user_id, alias_id)  # nothing quarantined, or not the caller's alias: AliasNotFound (404)
    return QuarantinedList(items=[to_model(_held(item)) for item in page.items], next_token=page.next_token)


def waiting(user_id: str, *, limit: int) -> list[Held]:
    """The newest `limit` copies waiting for the user (what a notice lists): one `Query`."""
    page = db.query_page(
        pk(user_id),
        _MSG,
        limit=limit,
        next_token=None,
        newest_first=True,
        filter_expression="purge_at > :now",
        filter_values={":now": int(time.time())},
    )
    return [_held(item) for item in page.items]


@dataclass(frozen=True)
class ResendReads:
    """What a resend needs of the table beside the copy, from one BatchGetItem: the destination's status and
    OpenPGP key, the alias's `encrypt` and `trackers` (as its route carries them for the forwarder), and the
    contacts the copy names."""

    status: str | None  # the destination's; None when the user has no such destination
    key: pgp_keys.ForwardingKey | None
    encrypt: bool  # a catch-all's copy (no alias): always, as the forwarder's
    trackers: str | None  # None: the default mode (a catch-all's copy)
    known: dict[str, contacts.Known]  # by email in lower case
    address_theirs: bool  # the address is still the user's: its alias (if any) exists, its domain is theirs


ROUTE_READS = ("alias_id", "encrypt", "trackers")
MARKER_READS = ("owner_id",)  # of the domain's marker: who has the domain now


def resend_reads(held: Held, destination: str, wanted: Sequence[str]) -> ResendReads:
    """The destination, the domain's marker, the alias's route and the contacts of `wanted` (emails) of the held
    copy's alias: one BatchGetItem (its attributes only: those the forwarder reads of each, and the marker's
    owner). The address is no longer the user's when its domain is not (removed, perhaps registered by someone
    else since) or its alias is gone (deleted, or the address another alias's)."""
    from postmask.store import contacts, destinations, pgp_keys
    from postmask.store.aliases import _route_key
    from postmask.store.markers import marker_pk

    destination_key = destinations.key_of(held.user_id, destination)
    marker_key = db.key(marker_pk(held.address.rpartition("@")[2].lower()), "DOMAIN")
    keys = [destination_key, marker_key]
    route_key = None
    if held.alias_id is not None:
        route_key = _route_key(held.address)
        keys += [route_key, *(contacts.sender_key(held.alias_id, email) for email in wanted)]
    items = {
        (item["pk"], item["sk"]): item
        for item in db.batch_get(
            keys,
            attributes=(*contacts.FORWARDER_READS, *pgp_keys.FORWARDER_ATTRIBUTES, *ROUTE_READS, *MARKER_READS),
        )
    }
    found = items.get(_key_id(destination_key))
    marker = items.get(_key_id(marker_key))
    route = items.get(_key_id(route_key)) if route_key is not None else None
    if route is not None and route.get("alias_id") != held.alias_id:
        route = None  # the address is another alias's now
    address_theirs = (marker is not None and marker.get("owner_id") == held.user_id) and (
        held.alias_id is None or route is not None
    )
    known = {email: entry for (_, email), entry in contacts.known_from(items.values()).items()}
    return ResendReads(
        status=found.get("status") if found is not None else None,
        key=pgp_keys.forwarding_key(found) if found is not None else None,
        encrypt=route.get("encrypt") is not False if route is not None else True,
        trackers=route.get("trackers") if route is not None else None,
        known=known,
        address_theirs=address_theirs,
    )


def _key_id(key: Mapping[str, Any]) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


def add_resent(user_id: str, quarantine_id: str, destination: str) -> None:
    """Note that the copy was resent to `destination` (shown in `resent_to`)."""
    db.client().update_item(
        TableName=db.table(),
        Key=db.key(pk(user_id), _MSG + quarantine_id),
        UpdateExpression="SET resent_to = list_append(if_not_exists(resent_to, :none), :one)",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues=db.values({":none": [], ":one": [destination]}),
    )


def delete(user_id: str, quarantine_id: str) -> Held:
    """Remove the quarantined copy's item; what it was (its object is the caller's to delete)."""
    if not ids.is_id(quarantine_id):
        raise QuarantinedNotFound
    try:
        response = db.client().delete_item(
            TableName=db.table(),
            Key=db.key(pk(user_id), _MSG + quarantine_id),
            ConditionExpression="attribute_exists(pk)",
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            raise QuarantinedNotFound from exc
        raise
    return _held(db.deserialize(response["Attributes"]))


# --- the notice: at most one per alias (or catch-all address) per NOTICE_INTERVAL -----------------------------


def claim_notice(user_id: str, about: str, *, interval_seconds: int) -> str | None:
    """Whether this invocation is the one to mail the notice about `about` now: a token to release it with,
    or None when one went out less than `interval_seconds` ago. One conditional `PutItem`."""
    now = int(time.time())
    token = secrets.token_hex(8)
    try:
        db.client().put_item(
            TableName=db.table(),
            Item=db.serialize(
                {
                    "pk": pk(user_id),
                    "sk": _NOTICE + about,
                    "sent_at": now,
                    "token": token,
                    "purge_at": now + 2 * interval_seconds,
                }
            ),
            ConditionExpression="attribute_not_exists(pk) OR sent_at <= :since",
            ExpressionAttributeValues=db.values({":since": now - interval_seconds}),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return None
    return token


def release_notice(user_id: str, about: str, token: str) -> None:
    """The notice could not be sent: the next quarantined copy tries again."""
    try:
        db.client().delete_item(
            TableName=db.table(),
            Key=db.key(pk(user_id), _NOTICE + about),
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues=db.values({":token": token}),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
