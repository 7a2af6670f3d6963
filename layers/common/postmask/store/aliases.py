"""Aliases: `USER#<owner>/ALIAS#<id>` (the whole alias) and `ADDRESS#<address>/ADDRESS` (its route).

The route is the forwarder's one-read view of an alias and the guard of the address's global uniqueness;
every write that changes what the forwarder needs writes both items in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postmask import ids, versions
from postmask.clock import iso, now_iso
from postmask.errors import AddressTaken, AliasNotFound, DomainNotFound
from postmask.schemas.aliases import Alias, AliasCreate, AliasList
from postmask.store import _dynamo as db
from postmask.store import destinations, quota
from postmask.store.destinations import Written
from postmask.store.markers import outside_postmask
from postmask.versions import Expected, Versioned

_PREFIX = "ALIAS#"
# Copied onto the route for the forwarder (display_name: the name on replies sent from the alias; site and
# block_foreign_senders: leak detection; encrypt: OpenPGP, to destinations with a key).
_ROUTED_FIELDS = ("destinations", "enabled", "expires_at", "display_name", "site", "block_foreign_senders", "encrypt")
_RANDOM_ADDRESS_ATTEMPTS = 3
_UPDATE_ATTEMPTS = 3


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _route_key(address: str) -> dict[str, Any]:
    return db.key(f"ADDRESS#{address}", "ADDRESS")


def _to_model(item: Mapping[str, Any]) -> Alias:
    fields = {name: item.get(name) for name in Alias.model_fields}
    # Leak detection's state is flat on the item (store/leaks.py updates it attribute by attribute); an alias
    # written before it existed has none of it.
    fields["block_foreign_senders"] = bool(item.get("block_foreign_senders"))
    fields["encrypt"] = item.get("encrypt") is not False  # an alias from before encryption existed: on
    fields["leak"] = {
        "suspected": bool(item.get("leak_suspected")),
        "foreign_senders": int(item.get("leak_foreign_senders") or 0),
        "first_foreign_at": item.get("leak_first_foreign_at"),
    }
    return Alias.model_validate(fields)


def _alias_item(user_id: str, alias_id: str, local_part: str, body: AliasCreate) -> dict[str, Any]:
    now = now_iso()
    return {
        "pk": _user_pk(user_id),
        "sk": _PREFIX + alias_id,
        "id": alias_id,
        "address": f"{local_part}@{body.domain}",
        "domain": body.domain,
        "local_part": local_part,
        "destinations": list(body.destinations),
        "note": body.note,
        "note_lc": body.note.lower(),  # `q` is case-insensitive; DynamoDB's contains() is not
        "enabled": body.enabled,
        "expires_at": iso(body.expires_at) if body.expires_at else None,
        "created_at": now,
        "updated_at": now,
        "forwarded_count": 0,
        "blocked_count": 0,
        "last_forwarded_at": None,
        "last_blocked_at": None,
        "version": 1,
        "display_name": body.display_name,
        "site": body.site,
        "block_foreign_senders": body.block_foreign_senders,
        "encrypt": body.encrypt,
        # No leak_* attribute until leak detection sees a foreign sender (store/leaks.py sets them if absent).
    }


def new_items(user_id: str, body: AliasCreate, local_part: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new alias's two items, as `create` writes them: the alias itself and its address route.

    (The benchmark seeds large lists with them, through BatchWriteItem.)"""
    item = _alias_item(user_id, ids.new_id(), local_part, body)
    route = {
        "pk": f"ADDRESS#{item['address']}",
        "sk": "ADDRESS",
        "address": item["address"],
        "owner_id": user_id,
        "alias_id": item["id"],
        **{name: item[name] for name in _ROUTED_FIELDS},
    }
    return item, route


def create(user_id: str, body: AliasCreate, *, style: str | None = None) -> Written[Alias]:
    """Create an alias on one of the caller's domains. One transaction: the alias, its route (the address
    must be free in the whole installation), the domain's alias_count (the domain must be the caller's), the
    caller's own alias_count (under MaxAliasesPerUser: store/quota.py) and each destination's alias_count; a
    destination the caller does not have yet is created pending, and its link is returned to be mailed
    (store/destinations.py: a second transaction then, the first time only).
    No destination may be on a domain registered in postmask (a ConditionCheck each, store/markers.py).
    A random local part is drawn in `style` (postmask.ids), by default the user's `alias_style` (one GetItem)."""
    draws = 1 if body.local_part else _RANDOM_ADDRESS_ATTEMPTS
    if not body.local_part and style is None:
        from postmask.store import users  # here: the other alias routes build no user model (tests/unit/test_schemas)

        style = users.alias_style(user_id)
    settled = False
    outside = outside_postmask(body.destinations, loc=("body", "destinations"))
    while True:
        item, route = new_items(user_id, body, body.local_part or ids.styled_local_part(style or "random"))
        try:
            links = destinations.transact_with(
                [
                    {"Put": {"Item": db.serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"Item": db.serialize(route), "ConditionExpression": "attribute_not_exists(pk)"}},
                    _count_on_domain(user_id, body.domain, 1),
                    quota.added(user_id, 1),
                    *outside.actions,
                ],
                destinations.Usage(user_id, "alias_count", added=body.destinations),
            )
        except db.TransactionCancelled as exc:
            if exc.failed[2]:
                raise DomainNotFound("Domain not found among your domains") from exc
            outside.raise_if_failed(exc.failed[4:])
            if exc.failed[3]:
                if settled:
                    raise quota.exceeded() from exc
                quota.after_refusal(user_id, exc.old_items[3], 1)  # raises when the quota refused
                settled = True
                continue
            draws -= 1
            if draws > 0:
                continue  # a random local part collided: draw another
            raise AddressTaken(f"{item['address']} is already taken") from exc
        return Written(_to_model(item), links, version=1)


def _count_on_domain(user_id: str, domain: str, step: int) -> dict[str, Any]:
    """The domain's alias_count moved by `step`, on the condition that the domain is the user's."""
    return {
        "Update": {
            "Key": db.key(_user_pk(user_id), f"DOMAIN#{domain}"),
            "UpdateExpression": "ADD alias_count :step",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": db.values({":step": step}),
        }
    }


def _get_item(user_id: str, alias_id: str) -> dict[str, Any]:
    if not ids.is_id(alias_id):
        raise AliasNotFound  # not an id we could have issued: no need to ask DynamoDB
    item = db.get_item(_user_pk(user_id), _PREFIX + alias_id)
    if item is None:
        raise AliasNotFound
    return item


def get(user_id: str, alias_id: str) -> Alias:
    return _to_model(_get_item(user_id, alias_id))


def read(user_id: str, alias_id: str) -> Versioned[Alias]:
    """One alias and its version (the ETag of a GET)."""
    item = _get_item(user_id, alias_id)
    return Versioned(_to_model(item), versions.of(item))


def list_page(
    user_id: str,
    *,
    domain: str | None,
    q: str | None,
    enabled: bool | None,
    limit: int,
    next_token: str | None,
    leaked: bool | None = None,
) -> AliasList:
    """The caller's aliases, newest first; `q` matches the address or the note, case-insensitively; `leaked`
    picks those leak detection suspects (true) or does not (false)."""
    clauses: list[str] = []
    filter_values: dict[str, Any] = {}
    if domain is not None:
        clauses.append("#domain = :domain")
        filter_values[":domain"] = domain
    if enabled is not None:
        clauses.append("enabled = :enabled")
        filter_values[":enabled"] = enabled
    if leaked:
        clauses.append("leak_suspected = :leaked")
        filter_values[":leaked"] = True
    elif leaked is False:
        clauses.append("(attribute_not_exists(leak_suspected) OR leak_suspected = :leaked)")
        filter_values[":leaked"] = False
    if q:
        clauses.append("(contains(address, :q) OR contains(note_lc, :q))")
        filter_values[":q"] = q.lower()
    page = db.query_page(
        _user_pk(user_id),
        _PREFIX,
        limit=limit,
        next_token=next_token,
        newest_first=True,
        filter_expression=" AND ".join(clauses) or None,
        filter_names={"#domain": "domain"} if domain is not None else None,
        filter_values=filter_values,
    )
    return AliasList(items=[_to_model(item) for item in page.items], next_token=page.next_token)


def update(
    user_id: str, alias_id: str, changes: Mapping[str, Any], *, expected: Expected | None = None
) -> Written[Alias]:
    """Set some of destinations / note / enabled / expires_at (PUT passes all four, PATCH a subset).

    New destinations count one more alias (created pending, with a link, the first time), dropped ones one
    fewer, in the same transaction. That transaction holds only if the alias is still the version read (its
    destinations with it): a concurrent change makes it read again, so no use is counted twice or lost. The
    destinations given are checked to be outside postmask in it too (store/markers.py). With `expected`
    (If-Match), a version it does not allow is a 412, however recent the read."""
    for _ in range(_UPDATE_ATTEMPTS):
        current = _get_item(user_id, alias_id)
        versions.require(expected, versions.of(current))
        try:
            return _update(user_id, current, changes)
        except _ChangedMeanwhile:
            continue
    raise AliasNotFound("The alias kept changing; try again")


class _ChangedMeanwhile(Exception):
    pass


def _update(user_id: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> Written[Alias]:
    alias_id = current["id"]
    fields = {name: (iso(value) if name == "expires_at" and value else value) for name, value in changes.items()}
    if "note" in fields:
        fields["note_lc"] = fields["note"].lower()
    fields["updated_at"] = now_iso()
    added, removed = destinations.changed_addresses(current["destinations"], fields.get("destinations", []))
    if "destinations" not in fields:
        added, removed = [], []

    routed = {name: fields[name] for name in _ROUTED_FIELDS if name in fields}
    actions: list[dict[str, Any]] = [{"Update": _alias_update(user_id, current, fields)}]
    if routed:
        actions.append(
            {
                "Update": {
                    "Key": _route_key(current["address"]),
                    **_set_expression(routed, extra_values={":alias_id": alias_id}),
                    "ConditionExpression": "alias_id = :alias_id",
                }
            }
        )
    outside = outside_postmask(fields.get("destinations") or [], loc=("body", "destinations"))
    checked_from = len(actions)  # the checks' place in the transaction: failed[checked_from:] below
    actions.extend(outside.actions)
    try:
        links = destinations.transact_with(
            actions, destinations.Usage(user_id, "alias_count", added=added, removed=removed)
        )
    except db.TransactionCancelled as exc:
        outside.raise_if_failed(exc.failed[checked_from:])
        if exc.failed[0] and exc.old_items[0] is not None:
            raise _ChangedMeanwhile from exc
        raise AliasNotFound from exc  # deleted between our read and our write
    version = versions.of(current) + 1
    return Written(_to_model({**current, **fields}), links, version=version)


def _alias_update(user_id: str, current: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The alias item's update: `fields` set and the next version, while it is still the version read."""
    update = {
        "Key": db.key(_user_pk(user_id), _PREFIX + current["id"]),
        **_set_expression(fields),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return versions.guarded(update, versions.of(current), bump=True)


def delete(user_id: str, alias_id: str, *, expected: Expected | None = None) -> None:
    """Delete the alias and its route (the address becomes free again), count it off its domain, its owner
    and each of its destinations. With `expected` (If-Match), a version it does not allow is a 412."""
    for _ in range(_UPDATE_ATTEMPTS):
        current = _get_item(user_id, alias_id)
        versions.require(expected, versions.of(current))
        try:
            destinations.transact_with(
                _delete_actions(user_id, current),
                destinations.Usage(user_id, "alias_count", removed=current["destinations"]),
            )
        except db.TransactionCancelled as exc:
            if exc.failed[0] and _exists(user_id, alias_id):
                continue  # it changed meanwhile (its destinations: count off the new ones)
            raise AliasNotFound from exc
        return
    raise AliasNotFound("The alias kept changing; try again")


def _delete_actions(user_id: str, current: Mapping[str, Any], *, counted: bool = True) -> list[dict[str, Any]]:
    """Delete the alias (while it is the version read) and its route; with `counted`, count it off its domain
    and its owner too (a bulk delete counts several at once instead)."""
    actions: list[dict[str, Any]] = [
        {"Delete": versions.guarded({"Key": db.key(_user_pk(user_id), _PREFIX + current["id"])}, versions.of(current))},
        {
            "Delete": {
                "Key": _route_key(current["address"]),
                "ConditionExpression": "alias_id = :alias_id",
                "ExpressionAttributeValues": db.values({":alias_id": current["id"]}),
            }
        },
    ]
    if counted:
        actions += [_count_on_domain(user_id, current["domain"], -1), quota.removed(user_id)]
    return actions


def _exists(user_id: str, alias_id: str) -> bool:
    return db.get_item(_user_pk(user_id), _PREFIX + alias_id) is not None


def _set_expression(fields: Mapping[str, Any], extra_values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    names = {f"#{name}": name for name in fields}
    assignments = ", ".join(f"#{name} = :{name}" for name in fields)
    return {
        "UpdateExpression": f"SET {assignments}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": db.values(
            {**{f":{name}": v for name, v in fields.items()}, **(extra_values or {})}
        ),
    }
