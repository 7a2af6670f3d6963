"""Deleting an account (DELETE /api/me): every item of the user, found by Query from the user's own partitions,
never by Scan (decision 0042).

The order makes a deletion cut short (a timeout, a throttle) safe to run again: first what mail would use
(aliases, their routes, contacts and reply addresses; domains, their markers), then what only the user sees
(destinations, activity, idempotency records), and last what lets the user in (tokens, the e-mail marker, the
profile), so that the same token can finish the job. Deletes are unconditional BatchWriteItems: each item is
gone afterwards whatever happened to it meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from postmask.store import _dynamo as db
from postmask.store import contacts, destinations, domains, threads, users
from postmask.store.markers import marker_pk

_KEY_ONLY = ("pk", "sk")


def _all(pk: str, prefix: str = "", attributes: tuple[str, ...] = _KEY_ONLY) -> Iterator[db.Item]:
    return db.all_items(pk, prefix, attributes=attributes)


def _key(item: db.Item) -> dict[str, Any]:
    return db.key(item["pk"], item["sk"])


def _alias_keys(user_id: str, alias: db.Item) -> list[dict[str, Any]]:
    """An alias, its route, its contacts with their reply addresses, its activity copy, its foreign senders
    and thread records."""
    alias_id, address = alias["id"], alias["address"]
    keys = [_key(alias), db.key(f"ADDRESS#{address}", "ADDRESS")]
    for item in _all(contacts.pk(alias_id), attributes=(*_KEY_ONLY, "reply_address")):
        keys.append(_key(item))
        if item["sk"].startswith("CONTACT#") and item.get("reply_address"):
            keys.append(contacts.reply_key(item["reply_address"]))
    for pk in (f"ACT#{user_id}#{alias_id}", f"FOREIGN#{alias_id}", threads.pk(address)):
        keys.extend(_key(item) for item in _all(pk))
    return keys


def delete_everything(user_id: str, email: str) -> list[str]:
    """Delete every item of the user; the names of the domains they had (whose SES identities go next)."""
    user_pk = f"USER#{user_id}"
    for alias in _all(user_pk, "ALIAS#", (*_KEY_ONLY, "id", "address")):
        db.batch_delete(_alias_keys(user_id, alias))

    names: list[str] = []
    for domain in _all(user_pk, "DOMAIN#"):
        name = domain["sk"].removeprefix("DOMAIN#")
        names.append(name)
        db.batch_delete(
            [db.key(marker_pk(name), "DOMAIN"), db.key(domains.tree_key(name), f"DOMAIN#{name}"), _key(domain)]
        )

    keys: list[dict[str, Any]] = []
    for destination in _all(f"DEST#{user_id}", attributes=(*_KEY_ONLY, "token_hash")):
        keys.append(_key(destination))
        if destination.get("token_hash"):
            keys.append(destinations.verify_key(destination["token_hash"]))
    for pk in (f"ACT#{user_id}", f"IDEMPOTENCY#{user_id}"):
        keys.extend(_key(item) for item in _all(pk))
    db.batch_delete(keys)

    # Last, what lets the user in: a deletion cut short can be finished with the same token.
    for token in _all(user_pk, "TOKEN#", (*_KEY_ONLY, "lookup_pk")):
        db.batch_delete([db.key(token["lookup_pk"], "TOKEN"), _key(token)])
    rest = [_key(item) for item in _all(user_pk) if item["sk"] != "PROFILE"]
    db.batch_delete(
        [
            *rest,
            db.key(f"EMAIL#{email.lower()}", "EMAIL"),
            db.key(users.DIRECTORY_PK, f"USER#{user_id}"),
            db.key(user_pk, "PROFILE"),
        ]
    )
    return names
