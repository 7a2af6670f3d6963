"""Domains: `USER#<owner>/DOMAIN#<name>` (the owner's view), `DOMAIN#<name>/DOMAIN` (global marker), and the
domain's place in its tree, `TREE#<last two labels>`: `DOMAIN#<name>` (one per registered name: owner, when)
and `DOMAIN` (the tree's version).

The owner's view keeps the domain's Easy DKIM tokens (from SES, at registration), so its DNS records are
known without asking SES. Verification is SES's to say: these models carry `pending` until
`postmask.mail_domains` puts SES's current status in.

The tree answers "who holds a parent or a subdomain of this name?" with one Query: every name and all its
parents and subdomains (two labels or more) share their last two labels, hence a partition, whatever the
public suffix (`example.co.uk` shares `co.uk`'s tree with every other name there: a partition of a few items
per user who registers under it). Every registration bumps the tree's version in its transaction, on the
condition that it is the version read: two concurrent registrations in one tree cannot both pass unseen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from postmask import dns, versions
from postmask.clock import now_iso
from postmask.errors import DomainHasAliases, DomainNotFound, DomainTaken, PreconditionFailed
from postmask.schemas.domains import Domain, DomainList, DomainVerification
from postmask.settings import get_settings
from postmask.store import _dynamo as db
from postmask.store import destinations
from postmask.store.destinations import Written
from postmask.store.markers import marker_pk as _marker_pk
from postmask.store.markers import outside_postmask
from postmask.versions import Expected, Versioned

_PREFIX = "DOMAIN#"
_CHANGE_ATTEMPTS = 3
_TREE_VERSION = "DOMAIN"  # the tree partition's version item; its members sort after it, as DOMAIN#<name>
_TREE_PAGE = 100


@dataclass(frozen=True)
class Claim:
    """A registered name, as its tree knows it."""

    name: str
    owner_id: str
    created_at: str


@dataclass(frozen=True)
class Tree:
    """Every registered name sharing `name`'s last two labels, and the version they were read at."""

    key: str
    version: int | None  # None: nothing was ever registered in this tree
    claims: tuple[Claim, ...]


class TreeChanged(Exception):
    """The tree (or a lapsed claim being replaced) changed between reading and writing: read again."""


def tree_key(name: str) -> str:
    return "TREE#" + ".".join(name.split(".")[-2:])


def related(one: str, other: str) -> bool:
    """The same name, or one a subdomain of the other."""
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _to_model(item: dict[str, Any]) -> Domain:
    return Domain(
        name=item["name"],
        created_at=item["created_at"],
        alias_count=item.get("alias_count", 0),
        catch_all_destination=item.get("catch_all_destination"),
        dmarc_report_address=item.get("dmarc_report_address"),
        verification=DomainVerification(status="pending"),
        dns_records=dns.records_for(
            item["name"],
            item.get("dkim_tokens") or [],
            get_settings().region,
            mail_from_domain=item.get("mail_from_domain"),
            dmarc_report_address=item.get("dmarc_report_address"),
        ),
    )


def read_tree(name: str) -> Tree:
    """`name`'s tree: one consistent Query (more pages only for a tree of over a hundred names)."""
    key = tree_key(name)
    version: int | None = None
    claims: list[Claim] = []
    next_token: str | None = None
    while True:
        page = db.query_page(key, _TREE_VERSION, limit=_TREE_PAGE, next_token=next_token)
        for item in page.items:
            if item["sk"] == _TREE_VERSION:
                version = int(item["version"])
            else:
                claims.append(Claim(item["name"], item["owner_id"], item["created_at"]))
        next_token = page.next_token
        if next_token is None:
            return Tree(key, version, tuple(claims))


def create(
    user_id: str,
    name: str,
    catch_all_destination: str | None,
    *,
    dkim_tokens: Sequence[str] = (),
    mail_from_domain: str | None = None,
    dmarc_report_address: str | None = None,
    tree: Tree | None = None,
    replacing: Sequence[Claim] = (),
) -> Written[Domain]:
    """Register `name` for `user_id`: a domain belongs to one user in the whole installation.

    One transaction: the owner's view, the marker, the tree's member and version (as read in `tree`: a change
    since is TreeChanged), and the removal of each lapsed claim in `replacing` (its owner's view, marker and
    tree member, each on the condition that it is still the claim judged lapsed and has no aliases left).
    A catch-all destination counts a use of the caller's destination (created pending, with a link, if new);
    a lapsed claim's catch-all counts one use fewer of its owner's. The catch-all may not be on a domain
    registered in postmask (a ConditionCheck, store/markers.py; `name` itself is refused at once).
    """
    tree = tree if tree is not None else read_tree(name)
    created_at = now_iso()
    owner_view = {
        "pk": _user_pk(user_id),
        "sk": _PREFIX + name,
        "name": name,
        "created_at": created_at,
        "alias_count": 0,
        "catch_all_destination": catch_all_destination,
        "dkim_tokens": list(dkim_tokens),
        "mail_from_domain": mail_from_domain,
        "dmarc_report_address": dmarc_report_address,
        "version": 1,
    }
    marker = {
        "pk": _marker_pk(name),
        "sk": "DOMAIN",
        "name": name,
        "owner_id": user_id,
        "created_at": created_at,
        "catch_all_destination": catch_all_destination,
    }
    member = {"pk": tree.key, "sk": _PREFIX + name, "name": name, "owner_id": user_id, "created_at": created_at}
    replaced = {claim.name: claim for claim in replacing}
    outside = outside_postmask(
        [catch_all_destination] if catch_all_destination else [],
        loc=("body", "catch_all_destination"),
        own_domain=name,
        leaving=replaced,  # their markers go in this transaction (one action per item: no check on them)
    )
    actions: list[dict[str, Any]] = [
        _put_replacing(marker, replaced.get(name)),
        {"Put": {"Item": db.serialize(owner_view), "ConditionExpression": "attribute_not_exists(pk)"}},
        _put_replacing(member, replaced.get(name)),
        _next_version(tree),
    ]
    lapsed_catch_alls = {claim.name: _catch_all_of(claim) for claim in replacing}
    for claim in replacing:
        actions += _removal(claim, keep_marker=claim.name == name, catch_all=lapsed_catch_alls[claim.name])
    checked_from = len(actions)
    actions += outside.actions
    try:
        links = destinations.transact_with(
            actions,
            _catch_all_usage(user_id, None, catch_all_destination),
            *(_catch_all_usage(claim.owner_id, lapsed_catch_alls[claim.name], None) for claim in replacing),
        )
    except db.TransactionCancelled as exc:
        if exc.failed[0] or exc.failed[1]:
            raise DomainTaken from exc
        outside.raise_if_failed(exc.failed[checked_from:])
        raise TreeChanged from exc
    return Written(_to_model(owner_view), links, version=1)


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


def _put_replacing(item: dict[str, Any], lapsed: Claim | None) -> dict[str, Any]:
    """Put a marker or tree member: new, or over the lapsed claim's own (still that claim's)."""
    if lapsed is None:
        return {"Put": {"Item": db.serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}}
    return {
        "Put": {
            "Item": db.serialize(item),
            "ConditionExpression": "owner_id = :owner AND created_at = :created",
            "ExpressionAttributeValues": db.values({":owner": lapsed.owner_id, ":created": lapsed.created_at}),
        }
    }


def _next_version(tree: Tree) -> dict[str, Any]:
    if tree.version is None:
        item = {"pk": tree.key, "sk": _TREE_VERSION, "version": 1}
        return {"Put": {"Item": db.serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}}
    return {
        "Update": {
            "Key": db.key(tree.key, _TREE_VERSION),
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": db.values({":next": tree.version + 1, ":seen": tree.version}),
        }
    }


def _catch_all_of(claim: Claim) -> str | None:
    """A lapsed claim's catch-all destination (its owner's view: one GetItem, only when a claim lapsed)."""
    item = db.get_item(_user_pk(claim.owner_id), _PREFIX + claim.name)
    return item.get("catch_all_destination") if item else None


def _removal(claim: Claim, *, keep_marker: bool = False, catch_all: str | None = None) -> list[dict[str, Any]]:
    """Delete a lapsed claim's records, each only while it is that claim, it has no aliases and its catch-all is
    still `catch_all` (whose use is counted off in the same transaction)."""
    same = db.values({":owner": claim.owner_id, ":created": claim.created_at})
    seen, seen_values = _catch_all_is(catch_all)
    actions: list[dict[str, Any]] = [
        {
            "Delete": {
                "Key": db.key(_user_pk(claim.owner_id), _PREFIX + claim.name),
                "ConditionExpression": f"created_at = :created AND alias_count = :zero AND {seen}",
                "ExpressionAttributeValues": db.values({":created": claim.created_at, ":zero": 0, **seen_values}),
            }
        }
    ]
    if not keep_marker:  # the new claim's marker and tree member replace these in the same transaction
        for key in (db.key(_marker_pk(claim.name), "DOMAIN"), db.key(tree_key(claim.name), _PREFIX + claim.name)):
            actions.append(
                {
                    "Delete": {
                        "Key": key,
                        "ConditionExpression": "owner_id = :owner AND created_at = :created",
                        "ExpressionAttributeValues": same,
                    }
                }
            )
    return actions


@dataclass(frozen=True)
class Registration:
    """What a domain's marker says: who registered it, and its catch-all (kept in step with the owner's view)."""

    owner_id: str
    catch_all_destination: str | None


def registration(name: str) -> Registration | None:
    """Who registered `name`, and its catch-all (its marker), or None: one GetItem."""
    item = db.get_item(_marker_pk(name), "DOMAIN")
    if item is None:
        return None
    return Registration(str(item["owner_id"]), item.get("catch_all_destination") or None)


def get(user_id: str, name: str) -> Domain:
    return read(user_id, name).value


def read(user_id: str, name: str) -> Versioned[Domain]:
    """One of the user's domains and its version (the ETag of a GET)."""
    item = db.get_item(_user_pk(user_id), _PREFIX + name)
    if item is None:
        raise DomainNotFound
    return Versioned(_to_model(item), versions.of(item))


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


def update(
    user_id: str, name: str, changes: Mapping[str, str | None], *, expected: Expected | None = None
) -> Written[Domain]:
    """Change the fields in `changes` (`catch_all_destination`, `dmarc_report_address`; the others keep theirs).

    A new catch-all goes to the owner's view and to the marker the forwarder reads; the old catch-all destination
    counts one use fewer, the new one one more (created pending if new). Read first (for the old one), written
    while the domain is still the version read: a concurrent change makes it read again. With `expected`
    (If-Match), a version it does not allow is a 412. The new catch-all may not be on a domain registered in
    postmask, this one included (store/markers.py)."""
    catch_all_changes = "catch_all_destination" in changes
    catch_all_destination = changes.get("catch_all_destination")
    outside = outside_postmask(
        [catch_all_destination] if catch_all_destination else [], loc=("body", "catch_all_destination"), own_domain=name
    )
    updated = {field: changes[field] for field in ("catch_all_destination", "dmarc_report_address") if field in changes}
    for _ in range(_CHANGE_ATTEMPTS):
        current = db.get_item(_user_pk(user_id), _PREFIX + name)
        if current is None:
            raise DomainNotFound
        version = versions.of(current)
        if expected is not None and not expected.allows(version):
            raise PreconditionFailed
        old = current.get("catch_all_destination")
        still, still_values = versions.still(version)
        assignments = ", ".join(f"{field} = :{field}" for field in updated)
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": db.key(_user_pk(user_id), _PREFIX + name),
                    "UpdateExpression": f"SET {assignments} {versions.BUMP}",
                    "ConditionExpression": f"attribute_exists(pk) AND {still}",
                    "ExpressionAttributeNames": versions.NAMES,
                    "ExpressionAttributeValues": db.values(
                        {
                            **{f":{field}": value for field, value in updated.items()},
                            **still_values,
                            **versions.BUMP_VALUES,
                        }
                    ),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]
        if catch_all_changes:
            actions.append(
                {
                    "Update": {
                        "Key": db.key(_marker_pk(name), "DOMAIN"),
                        "UpdateExpression": "SET catch_all_destination = :catch_all",
                        "ConditionExpression": "owner_id = :owner",
                        "ExpressionAttributeValues": db.values(
                            {":catch_all": catch_all_destination, ":owner": user_id}
                        ),
                    }
                }
            )
        checked_from = len(actions)
        try:
            links = destinations.transact_with(
                [*actions, *outside.actions],
                _catch_all_usage(user_id, old, catch_all_destination if catch_all_changes else old),
            )
        except db.TransactionCancelled as exc:
            outside.raise_if_failed(exc.failed[checked_from:])
            if exc.failed[0] and exc.old_items[0] is not None:
                continue  # it changed since we read it
            raise DomainNotFound from exc
        changed = {**current, **updated}
        return Written(_to_model(changed), links, version=version + 1)
    raise DomainNotFound("The domain kept changing; try again")


def delete(user_id: str, name: str, *, known: Registration | None = None, expected: Expected | None = None) -> None:
    """Delete a domain that has no aliases left (409 otherwise), with its marker; its catch-all destination
    counts one use fewer. Its catch-all is read first (the owner's view), unless `known` (the marker, read by
    the caller) says it: the delete holds only while it is still that one. With `expected` (If-Match), only
    while the domain is a version it allows (412 otherwise)."""
    condition = "attribute_exists(pk) AND alias_count = :zero"
    condition_values: dict[str, Any] = {}
    if known is None:
        current = db.get_item(_user_pk(user_id), _PREFIX + name)
        if current is None:
            raise DomainNotFound
        catch_all = current.get("catch_all_destination")
        if expected is not None:
            if not expected.allows(versions.of(current)):
                raise PreconditionFailed
            still, condition_values = versions.still(versions.of(current))
            condition += f" AND {still}"
    else:
        catch_all = known.catch_all_destination
    seen, seen_values = _catch_all_is(catch_all)
    owner_view_delete: dict[str, Any] = {
        "Key": db.key(_user_pk(user_id), _PREFIX + name),
        "ConditionExpression": f"{condition} AND {seen}",
        "ExpressionAttributeValues": db.values({":zero": 0, **seen_values, **condition_values}),
        # On failure, the old item tells "still has aliases" (it exists) from "not yours" (absent).
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if versions.NAME in condition:
        owner_view_delete["ExpressionAttributeNames"] = versions.NAMES
    try:
        destinations.transact_with(
            [
                {"Delete": owner_view_delete},
                {
                    "Delete": {
                        "Key": db.key(_marker_pk(name), "DOMAIN"),
                        "ConditionExpression": "owner_id = :owner",
                        "ExpressionAttributeValues": db.values({":owner": user_id}),
                    }
                },
                # Its place in the tree (absent for a domain registered before trees existed: nothing to do).
                {"Delete": {"Key": db.key(tree_key(name), _PREFIX + name)}},
            ],
            _catch_all_usage(user_id, catch_all, None),
        )
    except db.TransactionCancelled as exc:
        old = exc.old_items[0]
        if old is None:
            raise DomainNotFound from exc
        if int(old.get("alias_count") or 0) != 0:
            raise DomainHasAliases from exc
        if expected is not None and not expected.allows(versions.of(old)):
            raise PreconditionFailed from exc
        return delete(user_id, name, expected=expected)  # its catch-all changed since we read it
