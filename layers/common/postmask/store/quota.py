"""How many aliases a user has, without a scan: `alias_count` on their profile (`USER#<id>/PROFILE`), moved by
every transaction that creates or deletes aliases, and the quota `MaxAliasesPerUser` checked in that same
transaction (a condition on the counter: two concurrent creates cannot both pass the last free place).

A profile written before the counter existed has no `aliases_counted` flag: its `alias_count`, if any, is only
what was created minus what was deleted since. The first create after the upgrade counts the user's aliases
once, from their domains' own `alias_count`s (every alias write has kept those), and stores the total with the
flag; until then a create's condition fails on the missing flag and `settle` does that (decision 0104).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from postmask.errors import AliasQuotaExceeded
from postmask.settings import get_settings
from postmask.store import _dynamo as db

_COUNTED = "aliases_counted"
_SETTLE_ATTEMPTS = 5


def _profile_key(user_id: str) -> dict[str, Any]:
    return db.key(f"USER#{user_id}", "PROFILE")


def maximum() -> int:
    return get_settings().max_aliases_per_user


def new_profile_fields() -> dict[str, Any]:
    """What a new user's profile starts with: nothing to count."""
    return {"alias_count": 0, _COUNTED: True}


def added(user_id: str, count: int) -> dict[str, Any]:
    """The action that counts `count` new aliases, on the condition that the profile's counter is settled and
    leaves room for them under the quota."""
    return {
        "Update": {
            "Key": _profile_key(user_id),
            "UpdateExpression": "ADD alias_count :added",
            "ConditionExpression": f"{_COUNTED} = :true AND alias_count <= :room",
            "ExpressionAttributeValues": db.values({":added": count, ":true": True, ":room": maximum() - count}),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def removed(user_id: str, count: int = 1) -> dict[str, Any]:
    """The action that counts `count` aliases off (unconditional: a profile not settled yet counts from 0)."""
    return {
        "Update": {
            "Key": _profile_key(user_id),
            "UpdateExpression": "ADD alias_count :removed",
            "ExpressionAttributeValues": db.values({":removed": -count}),
        }
    }


@dataclass(frozen=True)
class Usage:
    count: int  # aliases the user has
    maximum: int

    @property
    def room(self) -> int:
        return max(0, self.maximum - self.count)


def after_refusal(user_id: str, old_profile: dict[str, Any] | None, wanted: int) -> None:
    """After `added` failed on `old_profile`: settle a counter that was not settled yet (then try again), or
    raise AliasQuotaExceeded when the quota is what refused."""
    if old_profile is not None and not old_profile.get(_COUNTED):
        settle(user_id)
        return
    raise exceeded(wanted)


def exceeded(wanted: int = 1) -> AliasQuotaExceeded:
    limit = maximum()
    if wanted == 1:
        return AliasQuotaExceeded(f"You have reached the maximum of {limit} aliases (MaxAliasesPerUser)")
    return AliasQuotaExceeded(
        f"These {wanted} new aliases would take you past the maximum of {limit} aliases (MaxAliasesPerUser)"
    )


def usage(user_id: str) -> Usage:
    """How many aliases the user has now (reads the profile; an unsettled one also sums their domains)."""
    profile = db.get_item(f"USER#{user_id}", "PROFILE") or {}
    if profile.get(_COUNTED):
        return Usage(int(profile.get("alias_count") or 0), maximum())
    return Usage(_aliases_on_domains(user_id), maximum())


def settle(user_id: str) -> None:
    """Store the user's alias count, from their domains, on a profile that has none yet.

    Read the profile's counter, then the domains, then write the total on the condition that the counter is still
    what was read: a create or delete in between (each moves both the domain and the counter) makes it read again.
    """
    for _ in range(_SETTLE_ATTEMPTS):
        profile = db.get_item(f"USER#{user_id}", "PROFILE")
        if profile is None or profile.get(_COUNTED):
            return
        delta = profile.get("alias_count")
        total = _aliases_on_domains(user_id)
        if delta is None:
            unchanged, seen = "attribute_not_exists(alias_count)", {}
        else:
            unchanged, seen = "alias_count = :delta", {":delta": delta}
        try:
            db.client().update_item(
                TableName=db.table(),
                Key=_profile_key(user_id),
                UpdateExpression=f"SET alias_count = :total, {_COUNTED} = :true",
                ConditionExpression=f"attribute_exists(pk) AND attribute_not_exists({_COUNTED}) AND {unchanged}",
                ExpressionAttributeValues=db.values({":total": total, ":true": True, **seen}),
            )
        except ClientError as exc:
            if not db.condition_failed(exc):
                raise
            continue
        return
    raise RuntimeError("the alias count kept changing while it was being settled; try again")


def _aliases_on_domains(user_id: str) -> int:
    """The sum of the user's domains' alias_count: one Query (more pages only past a thousand domains)."""
    return sum(
        int(item.get("alias_count") or 0)
        for item in db.all_items(f"USER#{user_id}", "DOMAIN#", attributes=("alias_count",))
    )
