"""Bulk work on a user's aliases (`POST /api/aliases/bulk`): enable, disable or delete up to 100 of them.

One BatchGetItem reads them all, from the caller's own partition (`USER#<caller>/ALIAS#<id>`): an id of
another user's alias, or of none, is simply not found there, and nothing of anyone else's is ever written.
The writes go in as few transactions as DynamoDB allows (100 actions each): an alias's own items (the alias,
its route) always in the same transaction, each on the condition that the alias is still the version read, so
no alias is ever half changed. The counts a delete moves (its domain's, the user's, its destinations') are
summed per item within a transaction. A transaction that fails (an alias changed or was deleted meanwhile)
is done again alias by alias, as the single-alias routes do it, and each alias's outcome is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from postmask import ids
from postmask.clock import now_iso
from postmask.errors import PostmaskError
from postmask.store import _dynamo as db
from postmask.store import aliases, destinations, quota

Action = Literal["enable", "disable", "delete"]
NOT_FOUND = "Alias not found"


@dataclass
class Outcome:
    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, message)


def run(user_id: str, action: Action, alias_ids: Sequence[str]) -> Outcome:
    """Apply `action` to each of the caller's aliases in `alias_ids` (each id once, in the order given)."""
    wanted = list(dict.fromkeys(alias_ids))
    keys = [db.key(aliases._user_pk(user_id), aliases._PREFIX + alias_id) for alias_id in wanted if ids.is_id(alias_id)]
    found = {item["id"]: item for item in db.batch_get(keys)}
    done: dict[str, str | None] = {}  # id -> None (succeeded) or why it failed
    current = [found[alias_id] for alias_id in wanted if alias_id in found]
    if action == "delete":
        _delete(user_id, current, done)
    else:
        _switch(user_id, current, action == "enable", done)
    outcome = Outcome()
    for alias_id in wanted:
        message = done.get(alias_id, NOT_FOUND) if alias_id in found else NOT_FOUND
        if message is None:
            outcome.succeeded.append(alias_id)
        else:
            outcome.failed.append((alias_id, message))
    return outcome


# --- enable / disable -----------------------------------------------------------------------------------------


def _switch(user_id: str, items: list[dict[str, Any]], enabled: bool, done: dict[str, str | None]) -> None:
    changing = []
    for item in items:
        if bool(item.get("enabled")) == enabled:
            done[item["id"]] = None  # already so: nothing to write
        else:
            changing.append(item)
    fields = {"enabled": enabled, "updated_at": now_iso()}
    for chunk in db.transaction_groups(changing, lambda item: _switch_actions(user_id, item, fields)):
        try:
            db.transact([action for _, actions in chunk for action in actions])
        except db.TransactionCancelled:
            for item, _ in chunk:  # one of them changed meanwhile: alias by alias, as PATCH does it
                done[item["id"]] = _one(partial(aliases.update, user_id, item["id"], {"enabled": enabled}))
            continue
        for item, _ in chunk:
            done[item["id"]] = None


def _switch_actions(user_id: str, item: Mapping[str, Any], fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"Update": aliases._alias_update(user_id, item, fields)},
        {
            "Update": {
                "Key": aliases._route_key(item["address"]),
                "UpdateExpression": "SET enabled = :enabled",
                "ConditionExpression": "alias_id = :alias_id",
                "ExpressionAttributeValues": db.values({":enabled": fields["enabled"], ":alias_id": item["id"]}),
            }
        },
    ]


# --- delete ---------------------------------------------------------------------------------------------------


def _delete(user_id: str, items: list[dict[str, Any]], done: dict[str, str | None]) -> None:
    def own_actions(item: dict[str, Any]) -> list[dict[str, Any]]:
        return aliases._delete_actions(user_id, item, counted=False)

    for chunk in db.transaction_groups(items, own_actions, _delete_counts):
        chosen = [item for item, _ in chunk]
        domains: dict[str, int] = {}
        for item in chosen:
            domains[item["domain"]] = domains.get(item["domain"], 0) + 1
        counts = [
            *(aliases._count_on_domain(user_id, name, -count) for name, count in domains.items()),
            quota.removed(user_id, len(chosen)),
        ]
        usages = [destinations.Usage(user_id, "alias_count", removed=item["destinations"]) for item in chosen]
        try:
            destinations.transact_with([*(action for _, actions in chunk for action in actions), *counts], *usages)
        except db.TransactionCancelled:
            for item in chosen:  # one of them changed meanwhile: alias by alias, as DELETE does it
                done[item["id"]] = _one(partial(aliases.delete, user_id, item["id"]))
            continue
        for item in chosen:
            done[item["id"]] = None


def _delete_counts(chosen: Sequence[Mapping[str, Any]]) -> int:
    """How many actions the shared counts of deleting `chosen` take: one per domain, the user's, one per
    destination."""
    addresses = {destinations.canonical(address) for item in chosen for address in item["destinations"]}
    return len({item["domain"] for item in chosen}) + 1 + len(addresses)


# --- plumbing -------------------------------------------------------------------------------------------------


def _one(write: Callable[[], object]) -> str | None:
    """None when `write()` succeeded, else what went wrong, as the single-alias route would say it."""
    try:
        write()
    except PostmaskError as exc:
        return exc.message
    return None
