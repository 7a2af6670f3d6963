"""Leak detection's writes: an alias's `site`, its foreign senders, and its one notice.

| item                  | pk                      | sk                      | holds                             |
|-----------------------|-------------------------|-------------------------|-----------------------------------|
| foreign sender seen   | `FOREIGN#<alias_id>`    | `FROM#<sha256 of the    | at, purge_at (TTL, 400 days)      |
|                       |                         | sender's address>`      |                                   |

On the alias item (`USER#<owner>/ALIAS#<id>`): `site`, `block_foreign_senders` (copied onto its route, which the
forwarder reads), `leak_suspected`, `leak_foreign_senders`, `leak_first_foreign_at`, `leak_notice_at`.

- The site inferred from the first sender: one transaction, the alias and its route, on condition that neither
  has a site yet (an owner's own choice always wins).
- A foreign sender: one transaction, the sender's record (on condition it is new) and the alias's leak
  counters, so each sender counts once, however often they write or the forwarder retries.
- The notice: one conditional `UpdateItem` (`leak_notice_at` set if absent), so one notice per alias even when
  two foreign senders race; undone if the notice could not be sent, so that the next foreign sender tries again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from postmask.store import _dynamo as db
from postmask.store.aliases import _PREFIX as _ALIAS_PREFIX
from postmask.store.aliases import _route_key, _user_pk
from postmask.store.deliveries import purge_at
from postmask.store.routes import Route

SENDER_RECORD_DAYS = 400


def _alias_key(route: Route) -> dict[str, Any]:
    return db.key(_user_pk(route.owner_id), _ALIAS_PREFIX + route.alias_id)


def infer_site(route: Route, site: str) -> bool:
    """Set the alias's site to `site` unless it has one; False when it had (or the alias is gone)."""
    no_site = "(attribute_not_exists(site) OR site = :null)"
    try:
        db.transact(
            [
                {
                    "Update": {
                        "Key": _alias_key(route),
                        "UpdateExpression": "SET site = :site",
                        "ConditionExpression": f"attribute_exists(pk) AND {no_site}",
                        "ExpressionAttributeValues": db.values({":site": site, ":null": None}),
                    }
                },
                {
                    "Update": {
                        "Key": _route_key(route.address),
                        "UpdateExpression": "SET site = :site",
                        "ConditionExpression": f"alias_id = :alias_id AND {no_site}",
                        "ExpressionAttributeValues": db.values(
                            {":site": site, ":null": None, ":alias_id": route.alias_id}
                        ),
                    }
                },
            ]
        )
    except db.TransactionCancelled:
        return False
    return True


def count_foreign(route: Route, sender: str, at: str) -> bool:
    """Count `sender` as a foreign sender of the alias and mark the leak suspected; False when counted before."""
    digest = hashlib.sha256(sender.lower().encode()).hexdigest()
    record = {
        "pk": f"FOREIGN#{route.alias_id}",
        "sk": f"FROM#{digest}",
        "at": at,
        "purge_at": purge_at(SENDER_RECORD_DAYS),
    }
    try:
        db.transact(
            [
                {"Put": {"Item": db.serialize(record), "ConditionExpression": "attribute_not_exists(pk)"}},
                {
                    "Update": {
                        "Key": _alias_key(route),
                        "UpdateExpression": "ADD leak_foreign_senders :one SET leak_suspected = :true, "
                        "leak_first_foreign_at = if_not_exists(leak_first_foreign_at, :at)",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": db.values({":one": 1, ":true": True, ":at": at}),
                    }
                },
            ]
        )
    except db.TransactionCancelled:
        return False
    return True


def claim_notice(route: Route, at: str) -> bool:
    """Whether this invocation is the one to mail the alias's leak notice (once per alias)."""
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=_alias_key(route),
            UpdateExpression="SET leak_notice_at = :at",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(leak_notice_at)",
            ExpressionAttributeValues=db.values({":at": at}),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return False
    return True


def release_notice(route: Route) -> None:
    """The notice could not be sent: the next foreign sender tries again."""
    db.client().update_item(TableName=db.table(), Key=_alias_key(route), UpdateExpression="REMOVE leak_notice_at")


def owner_email(user_id: str) -> str | None:
    """The account e-mail of the alias's owner (its profile's `email`, and nothing else of it)."""
    response = db.client().get_item(
        TableName=db.table(),
        Key=db.key(_user_pk(user_id), "PROFILE"),
        ProjectionExpression="email",
        ConsistentRead=True,
    )
    raw = response.get("Item") or {}
    email = db.deserialize(raw).get("email") if raw else None
    return email if isinstance(email, str) else None
