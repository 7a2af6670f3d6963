"""The forwarder's view of the table: where an address goes, and the alias counts it moves.

Reads the `ADDRESS#<address>/ADDRESS` route that `store.aliases` writes with every alias change, and the
`DOMAIN#<name>/DOMAIN` marker that `store.domains` writes (for the catch-all). Counts land on the alias item
`USER#<owner>/ALIAS#<id>`, each outcome once per (message, recipient): a `MAIL#<message id>/COUNTED#<recipient>`
record is written in the same transaction, so a retried or replayed event cannot count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from postmask.observability import logger
from postmask.store import _dynamo as db
from postmask.store import contacts
from postmask.store.aliases import _PREFIX as _ALIAS_PREFIX
from postmask.store.aliases import _route_key, _user_pk
from postmask.store.deliveries import mail_pk, purge_at
from postmask.store.domains import _marker_pk


@dataclass(frozen=True)
class Route:
    """An alias as the forwarder needs it, from one GetItem."""

    address: str
    owner_id: str
    alias_id: str
    destinations: tuple[str, ...]
    enabled: bool
    expires_at: str | None  # ISO 8601 UTC as `postmask.clock.iso` writes it, so it compares as text
    display_name: str | None = None  # the name on mail sent from the alias (replies)
    site: str | None = None  # the registrable domain it was given to (leak detection)
    block_foreign_senders: bool = False
    encrypt: bool = True  # copies to destinations with an OpenPGP key are encrypted

    def expired(self, now_iso: str) -> bool:
        return self.expires_at is not None and self.expires_at <= now_iso


class Outcome(StrEnum):
    FORWARDED = "forwarded"
    BLOCKED = "blocked"


def get(address: str) -> Route | None:
    """The route of `address` (lower case, IDNA domain), or None when no alias has it."""
    key = _route_key(address)
    item = db.get_item(key["pk"]["S"], key["sk"]["S"])
    if item is None:
        return None
    return Route(
        address=item["address"],
        owner_id=item["owner_id"],
        alias_id=item["alias_id"],
        destinations=tuple(item.get("destinations") or ()),
        enabled=bool(item.get("enabled")),
        expires_at=item.get("expires_at"),
        display_name=item.get("display_name"),
        site=item.get("site"),
        block_foreign_senders=bool(item.get("block_foreign_senders")),
        encrypt=item.get("encrypt") is not False,
    )


@dataclass(frozen=True)
class CatchAll:
    owner_id: str  # whose domain (and destination) it is
    destination: str | None  # None: mail to unknown addresses is dropped


def catch_all(domain: str) -> CatchAll | None:
    """Where mail to unknown addresses on `domain` goes: its owner's catch-all destination (None to drop it),
    or None when nobody registered the domain."""
    item = db.get_item(_marker_pk(domain), "DOMAIN")
    if not item:
        return None
    return CatchAll(owner_id=item["owner_id"], destination=item.get("catch_all_destination") or None)


def count(message_id: str, route: Route, outcome: Outcome, at: str, contact: tuple[str, str] | None = None) -> bool:
    """`forwarded_count` or `blocked_count` +1 and `last_<outcome>_at` = `at` on the alias, once per
    (message, recipient), and, given `contact` (its contact id and `received` or `blocked`), the contact's count in
    the same transaction. False when it was counted before, or the alias is gone. A contact deleted meanwhile is
    not counted; the alias still is."""
    record: dict[str, Any] = {
        "pk": mail_pk(message_id),
        "sk": f"COUNTED#{route.address}",
        "outcome": str(outcome),
        "alias_id": route.alias_id,
        "at": at,
        "purge_at": purge_at(),
    }
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": db.serialize(record), "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Update": {
                "Key": db.key(_user_pk(route.owner_id), _ALIAS_PREFIX + route.alias_id),
                "UpdateExpression": f"ADD {outcome}_count :one SET last_{outcome}_at = :at",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": db.values({":one": 1, ":at": at}),
            }
        },
    ]
    if contact is not None:
        contact_id, contact_outcome = contact
        actions.append(contacts.counted(route.alias_id, contact_id, contact_outcome, at))
    try:
        db.transact(actions)
    except db.TransactionCancelled as exc:
        if exc.failed[0]:
            logger.info("outcome already counted", message_id=message_id, alias_id=route.alias_id)
        elif len(exc.failed) > 2 and exc.failed[2] and not exc.failed[1]:
            logger.info("contact deleted before its mail was counted", alias_id=route.alias_id)
            return count(message_id, route, outcome, at)
        else:
            logger.warning("alias deleted before its mail was counted", alias_id=route.alias_id)
        return False
    return True


def count_sent(message_id: str, recipient: str, alias_id: str, contact_id: str, at: str) -> bool:
    """A reply sent to a contact: its `sent_count` +1 and `last_sent_at`, once per (message, reply address)."""
    record = {
        "pk": mail_pk(message_id),
        "sk": f"COUNTED#{recipient}",
        "outcome": "sent",
        "alias_id": alias_id,
        "at": at,
        "purge_at": purge_at(),
    }
    try:
        db.transact(
            [
                {"Put": {"Item": db.serialize(record), "ConditionExpression": "attribute_not_exists(pk)"}},
                contacts.counted(alias_id, contact_id, "sent", at),
            ]
        )
    except db.TransactionCancelled:
        logger.info("reply already counted, or its contact deleted", message_id=message_id, alias_id=alias_id)
        return False
    return True
