"""Destinations' OpenPGP keys: attributes of the destination item itself (`DEST#<user_id>/DEST#<destination_id>`).

Kept on the destination (docs/decisions/0028): the forwarder already reads every destination of a message in one
BatchGetItem (for its status), and with the key beside the status it learns, in that same read, whether and to
what to encrypt: no further read per copy, no new key family for its IAM policy (only more attributes in its
`dynamodb:Attributes` list). A key goes with its destination (deleting the destination deletes it). Attributes:
`pgp_key` (the public certificate, binary), `pgp_fingerprint`, `pgp_algorithm`, `pgp_expires_at`, `pgp_user_ids`,
`pgp_fallback`, `pgp_added_at`, and `pgp_expiry_noticed` (the fingerprint whose expiry notice was mailed).
Setting or removing a key is a change of the user's: it moves the destination's version (ETag).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from postmask import ids, versions
from postmask.clock import iso, now
from postmask.errors import DestinationNotFound, PgpKeyNotFound
from postmask.store import _dynamo as db
from postmask.store.destinations import item_key, key_of

if TYPE_CHECKING:
    from postmask.openpgp import KeyInfo
    from postmask.schemas.destinations import DestinationPgp, PgpFallback, PgpKey

# What the forwarder reads of a destination beside its status (its IAM policy's dynamodb:Attributes list them).
FORWARDER_ATTRIBUTES = ("pgp_key", "pgp_fingerprint", "pgp_expires_at", "pgp_fallback", "pgp_expiry_noticed")
_ALL = (*FORWARDER_ATTRIBUTES, "pgp_algorithm", "pgp_user_ids", "pgp_added_at")


def _to_model(item: Mapping[str, Any]) -> PgpKey:
    from postmask.schemas.destinations import PgpKey

    return PgpKey(
        fingerprint=item["pgp_fingerprint"],
        algorithm=item.get("pgp_algorithm") or "unknown",
        expires_at=item.get("pgp_expires_at"),
        user_ids=list(item.get("pgp_user_ids") or []),
        fallback=item.get("pgp_fallback") or "quarantine",
    )


def summary_of(item: Mapping[str, Any]) -> DestinationPgp | None:
    """What a Destination object shows of its key (None: no key)."""
    from postmask.schemas.destinations import DestinationPgp

    if not item.get("pgp_fingerprint"):
        return None
    return DestinationPgp(fingerprint=item["pgp_fingerprint"], expires_at=item.get("pgp_expires_at"))


def put(user_id: str, dest_id: str, info: KeyInfo, fallback: PgpFallback) -> PgpKey:
    """Set (or replace) the key of one of `user_id`'s destinations: one conditional UpdateItem (404: no such one)."""
    if not ids.is_id(dest_id):
        raise DestinationNotFound
    fields: dict[str, Any] = {
        ":key": info.key,
        ":fingerprint": info.fingerprint,
        ":algorithm": info.algorithm,
        ":user_ids": list(info.user_ids),
        ":fallback": fallback,
        ":added": iso(now()),
        **versions.BUMP_VALUES,
    }
    expires = "pgp_expires_at = :expires, " if info.expires_at is not None else ""
    if info.expires_at is not None:
        fields[":expires"] = iso(info.expires_at)
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=item_key(user_id, dest_id),
            UpdateExpression=(
                "SET pgp_key = :key, pgp_fingerprint = :fingerprint, pgp_algorithm = :algorithm, "
                f"pgp_user_ids = :user_ids, pgp_fallback = :fallback, {expires}pgp_added_at = :added "
                f"REMOVE pgp_expiry_noticed{'' if expires else ', pgp_expires_at'} {versions.BUMP}"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=versions.NAMES,
            ExpressionAttributeValues=db.values(fields),
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            raise DestinationNotFound from exc
        raise
    from postmask.schemas.destinations import PgpKey

    return PgpKey(
        fingerprint=info.fingerprint,
        algorithm=info.algorithm,
        expires_at=iso(info.expires_at) if info.expires_at is not None else None,
        user_ids=list(info.user_ids),
        fallback=fallback,
    )


def get(user_id: str, dest_id: str) -> PgpKey:
    """The key of one of `user_id`'s destinations: 404 for no such destination, or one without a key."""
    if not ids.is_id(dest_id):
        raise DestinationNotFound
    key = item_key(user_id, dest_id)
    item = db.get_item(key["pk"]["S"], key["sk"]["S"])
    if item is None:
        raise DestinationNotFound
    if not item.get("pgp_fingerprint"):
        raise PgpKeyNotFound
    return _to_model(item)


def delete(user_id: str, dest_id: str) -> None:
    """Remove the key (one conditional UpdateItem): copies to the destination are sent in clear again."""
    if not ids.is_id(dest_id):
        raise DestinationNotFound
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=item_key(user_id, dest_id),
            UpdateExpression=f"REMOVE {', '.join(_ALL)} {versions.BUMP}",
            ConditionExpression="attribute_exists(pgp_fingerprint)",
            ExpressionAttributeNames=versions.NAMES,
            ExpressionAttributeValues=db.values(versions.BUMP_VALUES),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        if not exc.response.get("Item"):
            raise DestinationNotFound from exc
        raise PgpKeyNotFound from exc


# --- the forwarder ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardingKey:
    """A destination's key as the forwarder reads it (beside the status, in the same BatchGetItem)."""

    key: bytes
    fingerprint: str
    expires_at: datetime | None
    fallback: str  # "quarantine" | "plain"
    expiry_noticed: bool  # the notice for this key's expiry was mailed

    def expires_within(self, moment: datetime, days: int) -> bool:
        return self.expires_at is not None and self.expires_at - moment <= timedelta(days=days)


def forwarding_key(item: Mapping[str, Any]) -> ForwardingKey | None:
    """The key in a destination item the forwarder read (None: copies to it go in clear)."""
    key = item.get("pgp_key")
    fingerprint = item.get("pgp_fingerprint")
    if not key or not fingerprint:
        return None
    expires = item.get("pgp_expires_at")
    return ForwardingKey(
        key=bytes(key),
        fingerprint=str(fingerprint),
        expires_at=datetime.fromisoformat(str(expires).replace("Z", "+00:00")) if expires else None,
        fallback=str(item.get("pgp_fallback") or "quarantine"),
        expiry_noticed=item.get("pgp_expiry_noticed") == fingerprint,
    )


def claim_expiry_notice(user_id: str, email: str, fingerprint: str) -> bool:
    """Mark the expiry notice of this key as mailed, once: True for the one caller that should mail it (the key is
    still this one and no notice was claimed for it); False otherwise."""
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=key_of(user_id, email),
            UpdateExpression="SET pgp_expiry_noticed = :fingerprint",
            ConditionExpression="pgp_fingerprint = :fingerprint AND "
            "(attribute_not_exists(pgp_expiry_noticed) OR pgp_expiry_noticed <> :fingerprint)",
            ExpressionAttributeValues=db.values({":fingerprint": fingerprint}),
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            return False
        raise
    return True


def release_expiry_notice(user_id: str, email: str, fingerprint: str) -> None:
    """The notice could not be sent: the next copy to the destination tries again."""
    db.client().update_item(
        TableName=db.table(),
        Key=key_of(user_id, email),
        UpdateExpression="REMOVE pgp_expiry_noticed",
        ConditionExpression="pgp_expiry_noticed = :fingerprint",
        ExpressionAttributeValues=db.values({":fingerprint": fingerprint}),
    )
