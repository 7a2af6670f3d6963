"""Optimistic concurrency: every alias, domain, destination and contact item carries a `version`, bumped by each
change a user makes to it; a `GET` shows it as the `ETag`, and a `PUT`, `PATCH` or `DELETE` with `If-Match` changes
the item only while its version is one the client named (a condition on the write itself: no read-then-write race).

An item written before versions existed has none: it is version 0 until its first change (decision 0103).
Counters the forwarder moves (forwarded_count...) and uses counted by other writes (alias_count) are not
changes of the user's: they leave the version alone, so a busy alias can still be edited with `If-Match`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from postmask.errors import PreconditionFailed

ATTRIBUTE = "version"
NAME = "#pm_version"  # its placeholder in expressions (`version` is a DynamoDB reserved word)
ONE = ":pm_version_one"

_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def of(item: Mapping[str, Any]) -> int:
    """An item's version (0 for one written before versions existed)."""
    return int(item.get(ATTRIBUTE) or 0)


def etag(version: int) -> str:
    """The ETag header of a version: a strong entity tag (RFC 9110 section 8.8.3)."""
    return f'"{version}"'


def still(version: int) -> tuple[str, dict[str, Any]]:
    """A condition that the item's version is still `version` (as read), with its value; its name is NAME."""
    if version == 0:
        return f"attribute_not_exists({NAME})", {}
    return f"{NAME} = :pm_read_version", {":pm_read_version": version}


BUMP = f"ADD {NAME} {ONE}"  # an update expression clause: the next version (1 for an item that had none)
NAMES = {NAME: ATTRIBUTE}
BUMP_VALUES = {ONE: 1}


def guarded(action: Mapping[str, Any], version: int, *, bump: bool = False) -> dict[str, Any]:
    """A transaction's `Update` or `Delete` (its values already in DynamoDB's form) that holds only while the item
    exists and is still `version` (as read), its own condition too; with `bump`, the update sets the next version.
    """
    still_condition, still_values = still(version)
    guarded_action = dict(action)
    condition = guarded_action.get("ConditionExpression") or "attribute_exists(pk)"
    guarded_action["ConditionExpression"] = f"{condition} AND {still_condition}"
    guarded_action["ExpressionAttributeNames"] = {**guarded_action.get("ExpressionAttributeNames", {}), **NAMES}
    values = {**still_values, **(BUMP_VALUES if bump else {})}
    if values:
        guarded_action["ExpressionAttributeValues"] = {
            **guarded_action.get("ExpressionAttributeValues", {}),
            **{name: {"N": str(value)} for name, value in values.items()},
        }
    if bump:
        guarded_action["UpdateExpression"] = f"{guarded_action['UpdateExpression']} {BUMP}"
    return guarded_action


@dataclass(frozen=True)
class Versioned[T]:
    """A resource as read, and its version (its ETag)."""

    value: T
    version: int


@dataclass(frozen=True)
class Expected:
    """The versions an `If-Match` header allows a write to change: any existing one (`*`), or those listed."""

    versions: frozenset[int] | None  # None: `*`

    def allows(self, version: int) -> bool:
        return self.versions is None or version in self.versions

    def condition(self) -> tuple[str, dict[str, Any]]:
        """A condition expression (with its values; its name is NAME) that holds while the item has one of the
        versions; True for `*`. An empty set of versions can never hold (callers check `allows` first)."""
        if self.versions is None:
            return "attribute_exists(pk)", {}
        clauses = []
        values: dict[str, Any] = {}
        for index, version in enumerate(sorted(self.versions)):
            if version == 0:
                clauses.append(f"attribute_not_exists({NAME})")
            values[f":pm_expected_{index}"] = version
            clauses.append(f"{NAME} = :pm_expected_{index}")
        return "(" + " OR ".join(clauses) + ")", values


def require(expected: Expected | None, version: int) -> None:
    """A 412 (PreconditionFailed) unless `expected` (If-Match; None when absent) allows `version`."""
    if expected is not None and not expected.allows(version):
        raise PreconditionFailed


def parse_if_match(header: str | None) -> Expected | None:
    """`If-Match` as the versions it names; None when the header is absent (the write behaves as before).

    Strong comparison (RFC 9110 section 13.1.1): a weak tag (`W/"3"`) or anything that is not one of our tags
    names no version, so the write fails with 412, as it would for a tag of another version."""
    if header is None:
        return None
    if header.strip() == "*":
        return Expected(None)
    versions: set[int] = set()
    for part in header.split(","):
        found = _ENTITY_TAG.fullmatch(part)
        if found and not found.group(1) and found.group(2).isdigit() and len(found.group(2)) <= 18:
            versions.add(int(found.group(2)))
    return Expected(frozenset(versions))
