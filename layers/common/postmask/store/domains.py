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
from postmask.store.markers import marker_pk as _marker_pk
from postmask.store.markers import outside_postmask

_PREFIX = "DOMAIN#"


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _to_model(item: dict[str, Any]) -> Domain:
    return Domain(
        name=item["name"],
        created_at=item["created_at"],
        alias_count=item.get("alias_count", 0),
        catch_all_destination=item.get("catch_all_destination"),
        verification=DomainVerification(status="pending"),
        dns_records=dns.records_for(item["name"], item.get("dkim_tokens") or [], get_settings().region),
    )


def create(user_id: str, name: str, catch_all_destination: str | None, *, dkim_tokens: Sequence[str] = ()) -> Domain:
    """Register `name` for `user_id`. A domain belongs to one user in the whole installation."""
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
    outside = outside_postmask(
        [catch_all_destination] if catch_all_destination else [], loc=("body", "catch_all_destination"), own_domain=name
    )
    try:
        db.transact(
            [
                {"Put": {"Item": db.serialize(marker), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": db.serialize(owner_view), "ConditionExpression": "attribute_not_exists(pk)"}},
                *outside.actions,
            ]
        )
    except db.TransactionCancelled as exc:
        if exc.failed[0] or exc.failed[1]:
            raise DomainTaken from exc
        outside.raise_if_failed(exc.failed[2:])
        raise
    return _to_model(owner_view)


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


def set_catch_all(user_id: str, name: str, catch_all_destination: str | None) -> Domain:
    """Change where unknown addresses go, in the owner's view and in the marker the forwarder reads."""
    new = db.values({":catch_all": catch_all_destination, ":owner": user_id})
    outside = outside_postmask(
        [catch_all_destination] if catch_all_destination else [], loc=("body", "catch_all_destination"), own_domain=name
    )
    try:
        db.transact(
            [
                {
                    "Update": {
                        "Key": db.key(_user_pk(user_id), _PREFIX + name),
                        "UpdateExpression": "SET catch_all_destination = :catch_all",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":catch_all": new[":catch_all"]},
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
                *outside.actions,
            ]
        )
    except db.TransactionCancelled as exc:
        if exc.failed[0] or exc.failed[1]:
            raise DomainNotFound from exc
        outside.raise_if_failed(exc.failed[2:])
        raise
    return get(user_id, name)


def delete(user_id: str, name: str) -> None:
    """Delete a domain that has no aliases left (409 otherwise), with its marker."""
    try:
        db.transact(
            [
                {
                    "Delete": {
                        "Key": db.key(_user_pk(user_id), _PREFIX + name),
                        "ConditionExpression": "attribute_exists(pk) AND alias_count = :zero",
                        "ExpressionAttributeValues": db.values({":zero": 0}),
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
            ]
        )
    except db.TransactionCancelled as exc:
        if exc.old_items[0] is not None:
            raise DomainHasAliases from exc
        raise DomainNotFound from exc
