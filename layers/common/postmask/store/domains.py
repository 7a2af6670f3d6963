"""Domains: `USER#<owner>/DOMAIN#<name>` (the owner's view) and `DOMAIN#<name>/DOMAIN` (global marker).

The owner's view keeps the domain's Easy DKIM tokens (from SES, at registration), so its DNS records are
known without asking SES. Verification is SES's to say: these models carry `pending` until
`postmask.mail_domains` puts SES's current status in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from postmask import dns
from postmask.clock import now_iso
from postmask.errors import DomainHasAliases, DomainNotFound, DomainTaken
from postmask.schemas.domains import Domain, DomainList, DomainVerification
from postmask.settings import get_settings
from postmask.store import _dynamo as db
from postmask.store import destinations
from postmask.store.destinations import Written

_PREFIX = "DOMAIN#"
_CHANGE_ATTEMPTS = 3


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _marker_pk(name: str) -> str:
    return f"DOMAIN#{name}"


def _to_model(item: dict[str, Any]) -> Domain:
    return Domain(
        name=item["name"],
        created_at=item["created_at"],
        alias_count=item.get("alias_count", 0),
        catch_all_destination=item.get("catch_all_destination"),
        verification=DomainVerification(status="pending"),
        dns_records=dns.records_for(item["name"], item.get("dkim_tokens") or [], get_settings().region),
    )


def create(
    user_id: str, name: str, catch_all_destination: str | None, *, dkim_tokens: Sequence[str] = ()
) -> Written[Domain]:
    """Register `name` for `user_id`. A domain belongs to one user in the whole installation. A catch-all
    destination counts a use of the caller's destination (created pending, with a link, if new)."""
    created_at = now_iso()
    owner_view = {
        "pk": _user_pk(user_id),
        "sk": _PREFIX + name,
        "name": name,
        "created_at": created_at,
        "alias_count": 0,
        "catch_all_destination": catch_all_destination,
        "dkim_tokens": list(dkim_tokens),
    }
    marker = {
        "pk": _marker_pk(name),
        "sk": "DOMAIN",
        "name": name,
        "owner_id": user_id,
        "catch_all_destination": catch_all_destination,
    }
    try:
        links = destinations.transact_with(
            [
                {"Put": {"Item": db.serialize(marker), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": db.serialize(owner_view), "ConditionExpression": "attribute_not_exists(pk)"}},
            ],
            _catch_all_usage(user_id, None, catch_all_destination),
        )
    except db.TransactionCancelled as exc:
        raise DomainTaken from exc
    return Written(_to_model(owner_view), links)


def _catch_all_usage(user_id: str, old: str | None, new: str | None) -> destinations.Usage:
    added, removed = destinations.changed_addresses([old] if old else [], [new] if new else [])
    return destinations.Usage(user_id, "catch_all_count", added=added, removed=removed)


def _catch_all_is(value: str | None) -> tuple[str, dict[str, Any]]:
    """A condition that the item's catch_all_destination is still `value` (null or absent for None)."""
    if value is None:
        return "(attribute_not_exists(catch_all_destination) OR attribute_type(catch_all_destination, :null))", {
            ":null": "NULL"
        }
    return "catch_all_destination = :seen_catch_all", {":seen_catch_all": value}


def get(user_id: str, name: str) -> Domain:
    item = db.get_item(_user_pk(user_id), _PREFIX + name)
    if item is None:
        raise DomainNotFound
    return _to_model(item)


def list_page(user_id: str, *, name_contains: str | None, limit: int, next_token: str | None) -> DomainList:
    """The caller's domains by name; `name_contains` matches a substring of the (lower-case, punycode) name."""
    page = db.query_page(
        _user_pk(user_id),
        _PREFIX,
        limit=limit,
        next_token=next_token,
        filter_expression="contains(#name, :needle)" if name_contains else None,
        filter_names={"#name": "name"} if name_contains else None,
        filter_values={":needle": name_contains.lower()} if name_contains else None,
    )
    return DomainList(items=[_to_model(item) for item in page.items], next_token=page.next_token)


def names(user_id: str, *, limit: int) -> list[str]:
    """The names of the caller's first `limit` domains, by name: one `Query`, names only."""
    response = db.client().query(
        TableName=db.table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=db.values({":pk": _user_pk(user_id), ":prefix": _PREFIX}),
        ProjectionExpression="#name",
        ExpressionAttributeNames={"#name": "name"},
        ConsistentRead=True,
        Limit=limit,
    )
    return [db.python_value(item["name"]) for item in response.get("Items", [])]


def set_catch_all(user_id: str, name: str, catch_all_destination: str | None) -> Written[Domain]:
    """Change where unknown addresses go, in the owner's view and in the marker the forwarder reads; the old
    catch-all destination counts one use fewer, the new one one more (created pending if new). Read first (for
    the old one); a concurrent change makes it read again."""
    for _ in range(_CHANGE_ATTEMPTS):
        current = db.get_item(_user_pk(user_id), _PREFIX + name)
        if current is None:
            raise DomainNotFound
        old = current.get("catch_all_destination")
        seen, seen_values = _catch_all_is(old)
        new = db.values({":catch_all": catch_all_destination, ":owner": user_id})
        try:
            links = destinations.transact_with(
                [
                    {
                        "Update": {
                            "Key": db.key(_user_pk(user_id), _PREFIX + name),
                            "UpdateExpression": "SET catch_all_destination = :catch_all",
                            "ConditionExpression": f"attribute_exists(pk) AND {seen}",
                            "ExpressionAttributeValues": {":catch_all": new[":catch_all"], **db.values(seen_values)},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Update": {
                            "Key": db.key(_marker_pk(name), "DOMAIN"),
                            "UpdateExpression": "SET catch_all_destination = :catch_all",
                            "ConditionExpression": "owner_id = :owner",
                            "ExpressionAttributeValues": new,
                        }
                    },
                ],
                _catch_all_usage(user_id, old, catch_all_destination),
            )
        except db.TransactionCancelled as exc:
            if exc.failed[0] and exc.old_items[0] is not None:
                continue  # the catch-all changed since we read it
            raise DomainNotFound from exc
        return Written(_to_model({**current, "catch_all_destination": catch_all_destination}), links)
    raise DomainNotFound("The domain kept changing; try again")


def delete(user_id: str, name: str) -> None:
    """Delete a domain that has no aliases left (409 otherwise), with its marker; its catch-all destination
    counts one use fewer."""
    current = db.get_item(_user_pk(user_id), _PREFIX + name)
    if current is None:
        raise DomainNotFound
    catch_all = current.get("catch_all_destination")
    seen, seen_values = _catch_all_is(catch_all)
    try:
        destinations.transact_with(
            [
                {
                    "Delete": {
                        "Key": db.key(_user_pk(user_id), _PREFIX + name),
                        "ConditionExpression": f"attribute_exists(pk) AND alias_count = :zero AND {seen}",
                        "ExpressionAttributeValues": db.values({":zero": 0, **seen_values}),
                        # On failure, the old item tells "still has aliases" (it exists) from "not yours" (absent).
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Delete": {
                        "Key": db.key(_marker_pk(name), "DOMAIN"),
                        "ConditionExpression": "owner_id = :owner",
                        "ExpressionAttributeValues": db.values({":owner": user_id}),
                    }
                },
            ],
            _catch_all_usage(user_id, catch_all, None),
        )
    except db.TransactionCancelled as exc:
        old = exc.old_items[0]
        if old is None:
            raise DomainNotFound from exc
        if int(old.get("alias_count") or 0) != 0:
            raise DomainHasAliases from exc
        return delete(user_id, name)  # its catch-all changed since we read it
