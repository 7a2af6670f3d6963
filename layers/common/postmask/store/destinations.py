"""Destinations: the real mailboxes a user's mail is forwarded to, each proven by its owner.

Two kinds of item (the key design in store/__init__.py):
- `DEST#<user_id>/DEST#<destination_id>`: the destination, in a partition of its owner's that holds nothing
  else, so that the forwarder may read destinations' status (IAM `dynamodb:LeadingKeys` `DEST#*`, attributes
  `pk`, `sk`, `status` only) without reaching any other item of a user. Two users with the same address have
  two destinations, each verified by its own link.
- `VERIFY#<sha256 of the link's secret>/VERIFY`: which destination a verification link is for. Only the hash
  of a secret is stored; the destination keeps the hash of its current link, so a replaced link stops working.

A destination's id is derived from its owner and address (`destination_id`): a write that names an address
(an alias's destinations, a domain's catch-all) finds the destination's key without reading anything, and
keeps its `alias_count` / `catch_all_count` in the same transaction as the alias or domain (`transact_with`).
A destination that does not exist yet is created `pending` there, with a link to mail (`NewLink`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from postmask import ids, versions
from postmask.clock import iso, now
from postmask.errors import (
    DestinationExists,
    DestinationInUse,
    DestinationNotFound,
    DestinationVerified,
    LinkRequestedTooSoon,
    PreconditionFailed,
    VerificationLinkExpired,
    VerificationLinkUnknown,
)
from postmask.store import _dynamo as db
from postmask.store import link_limits
from postmask.store.markers import outside_postmask
from postmask.versions import Expected, Versioned

if TYPE_CHECKING:  # the models are imported where they are made: an alias's function never needs them
    from postmask.schemas.destinations import Destination, DestinationList, DestinationStatus

PK_PREFIX = "DEST#"
_SK_PREFIX = "DEST#"
_VERIFY_PREFIX = "VERIFY#"
LINK_DAYS = 7  # a verification link works this long
# A VERIFY# item outlives its link by this much, so that an expired link is told apart (410) from an unknown one.
_VERIFY_KEPT_DAYS = 30
RESEND_INTERVAL = timedelta(minutes=1)
_USAGE_ATTEMPTS = 4

Counter = Literal["alias_count", "catch_all_count"]
# What the forwarder reads of a destination: its IAM policy allows exactly these attributes (dynamodb:Attributes).
STATUS_ATTRIBUTES = ("pk", "sk", "status")


# --- keys ---------------------------------------------------------------------------------------------------


# RFC 4648's base32 alphabet (a-z, 2-7) onto postmask's Crockford alphabet (postmask.ids), so ids.is_id holds.
_TO_CROCKFORD = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghjkmnpqrstvwxyz")


def canonical(email: str) -> str:
    """An address as destinations are keyed: lower case (the address as given is kept for display)."""
    return email.strip().lower()


def destination_id(user_id: str, email: str) -> str:
    """The id of `user_id`'s destination `email`: 26 characters of Crockford base32, like every postmask id
    (130 bits of a SHA-256 of owner and address, so any write finds it from the address alone)."""
    digest = hashlib.sha256(f"{user_id}\n{canonical(email)}".encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:26].translate(_TO_CROCKFORD)


def _pk(user_id: str) -> str:
    return PK_PREFIX + user_id


def _key(user_id: str, dest_id: str) -> dict[str, Any]:
    return db.key(_pk(user_id), _SK_PREFIX + dest_id)


def item_key(user_id: str, dest_id: str) -> dict[str, Any]:
    """The key of `user_id`'s destination `dest_id` (for the modules that keep more on the item: store.pgp_keys)."""
    return _key(user_id, dest_id)


def key_of(user_id: str, email: str) -> dict[str, Any]:
    return _key(user_id, destination_id(user_id, email))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def account_key(user_id: str) -> dict[str, Any]:
    """`DEST#<user_id>/ACCOUNT`, present (status "disabled") while an admin has disabled the user: in this
    partition because the forwarder, which reads only destinations of a user, must see it (store.users)."""
    return db.key(_pk(user_id), "ACCOUNT")


def verify_key(token_hash: str) -> dict[str, Any]:
    return db.key(_VERIFY_PREFIX + token_hash, "VERIFY")


# --- items --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLink:
    """A verification link made by a write, to be mailed once. The secret never appears in a repr (logs)."""

    user_id: str
    destination_id: str
    email: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class Written[T]:
    """What a write made (an alias, a domain, a destination) and the verification links it created."""

    value: T
    new_links: tuple[NewLink, ...] = ()
    version: int = 0  # the resource's version after the write (its ETag), where it has one


def _to_model(item: Mapping[str, Any]) -> Destination:
    from postmask.schemas.destinations import Destination
    from postmask.store import pgp_keys

    return Destination(
        id=item["id"],
        email=item["email"],
        status=item["status"],
        suspended_reason=item.get("suspended_reason"),
        created_at=item["created_at"],
        verified_at=item.get("verified_at"),
        alias_count=max(0, int(item.get("alias_count") or 0)),
        pgp=pgp_keys.summary_of(item),
    )


def _link_fields(moment_iso: str, expires_iso: str, token_hash: str) -> dict[str, Any]:
    return {"token_hash": token_hash, "token_created_at": moment_iso, "token_expires_at": expires_iso}


def _new_link_items(user_id: str, dest_id: str, email: str) -> tuple[dict[str, Any], dict[str, Any], NewLink]:
    """(the link's fields for the destination, its VERIFY# item, the link to mail)."""
    token = secrets.token_urlsafe(32)  # 256 random bits
    token_hash = _hash(token)
    moment = now()
    expires = moment + timedelta(days=LINK_DAYS)
    verify_item = {
        **verify_key(token_hash),
        **db.serialize(
            {
                "user_id": user_id,
                "destination_id": dest_id,
                "expires_at": iso(expires),
                "purge_at": int(expires.timestamp()) + _VERIFY_KEPT_DAYS * 86_400,
            }
        ),
    }
    return _link_fields(iso(moment), iso(expires), token_hash), verify_item, NewLink(user_id, dest_id, email, token)


def _new_destination(
    user_id: str, email: str, counts: Mapping[Counter, int]
) -> tuple[dict[str, Any], dict[str, Any], NewLink]:
    """A pending destination's item, its link's VERIFY# item, and the link."""
    dest_id = destination_id(user_id, email)
    link_fields, verify_item, link = _new_link_items(user_id, dest_id, email)
    item = {
        **_key(user_id, dest_id),
        **db.serialize(
            {
                "id": dest_id,
                "email": email.strip(),
                "status": "pending",
                "created_at": link_fields["token_created_at"],
                "alias_count": counts.get("alias_count", 0),
                "catch_all_count": counts.get("catch_all_count", 0),
                "version": 1,
                **link_fields,
            }
        ),
    }
    return item, verify_item, link


# --- the API's operations -----------------------------------------------------------------------------------


def create(user_id: str, email: str) -> Written[Destination]:
    """A new pending destination and its first link; 409 if the caller has this address already, 429 past the
    new destinations a user may add a day (store.link_limits)."""
    item, verify_item, link = _new_destination(user_id, email, {})
    # Mail to a domain registered in postmask would loop: refused here as on an alias or a catch-all.
    outside = outside_postmask([email], loc=("body", "email"))
    try:
        db.transact(
            [
                {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": verify_item, "ConditionExpression": "attribute_not_exists(pk)"}},
                link_limits.new_destinations(user_id, 1),
                *outside.actions,
            ]
        )
    except db.TransactionCancelled as exc:
        outside.raise_if_failed(exc.failed[3:])
        if exc.failed[2] and not exc.failed[0]:
            raise link_limits.refused() from exc
        raise DestinationExists from exc
    return Written(_to_model(db.deserialize(item)), (link,))


def _get_item(user_id: str, dest_id: str) -> dict[str, Any]:
    if not ids.is_id(dest_id):
        raise DestinationNotFound
    item = db.get_item(_pk(user_id), _SK_PREFIX + dest_id)
    if item is None:
        raise DestinationNotFound
    return item


def get(user_id: str, dest_id: str) -> Destination:
    return _to_model(_get_item(user_id, dest_id))


def read(user_id: str, dest_id: str) -> Versioned[Destination]:
    """One destination and its version (the ETag of a GET): it moves when the status does."""
    item = _get_item(user_id, dest_id)
    return Versioned(_to_model(item), versions.of(item))


def list_page(user_id: str, *, status: DestinationStatus | None, limit: int, next_token: str | None) -> DestinationList:
    """The caller's destinations, in the order of their ids (no particular order, stable across pages)."""
    from postmask.schemas.destinations import DestinationList

    page = db.query_page(
        _pk(user_id),
        _SK_PREFIX,
        limit=limit,
        next_token=next_token,
        filter_expression="#status = :status" if status else None,
        filter_names={"#status": "status"} if status else None,
        filter_values={":status": status} if status else None,
    )
    return DestinationList(items=[_to_model(item) for item in page.items], next_token=page.next_token)


def delete(user_id: str, dest_id: str, *, expected: Expected | None = None) -> None:
    """Delete a destination no alias or catch-all uses (409 otherwise). Its link, if any, then answers 404.
    With `expected` (If-Match), only while it is a version that allows (412 otherwise): one conditional write."""
    if not ids.is_id(dest_id):
        raise DestinationNotFound
    condition = (
        "attribute_exists(pk) AND "
        "(attribute_not_exists(alias_count) OR alias_count <= :zero) AND "
        "(attribute_not_exists(catch_all_count) OR catch_all_count <= :zero)"
    )
    condition_values: dict[str, Any] = {":zero": 0}
    extra: dict[str, Any] = {}
    if expected is not None:
        if expected.versions is not None and not expected.versions:
            raise PreconditionFailed  # no version of ours named: nothing could match
        allowed, allowed_values = expected.condition()
        condition += f" AND {allowed}"
        condition_values.update(allowed_values)
        if versions.NAME in allowed:
            extra["ExpressionAttributeNames"] = versions.NAMES
    try:
        db.client().delete_item(
            TableName=db.table(),
            Key=_key(user_id, dest_id),
            ConditionExpression=condition,
            ExpressionAttributeValues=db.values(condition_values),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            **extra,
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        old = exc.response.get("Item")
        if not old:
            raise DestinationNotFound from exc
        found = db.deserialize(old)  # type: ignore[arg-type]
        if expected is not None and not expected.allows(versions.of(found)):
            raise PreconditionFailed from exc
        raise DestinationInUse(_in_use_message(found)) from exc


def _in_use_message(item: Mapping[str, Any]) -> str:
    uses = []
    aliases = int(item.get("alias_count") or 0)
    catch_alls = int(item.get("catch_all_count") or 0)
    if aliases:
        uses.append(f"{aliases} alias{'es' if aliases != 1 else ''}")
    if catch_alls:
        uses.append(f"the catch-all of {catch_alls} domain{'s' if catch_alls != 1 else ''}")
    return f"{' and '.join(uses)} still forward to {item['email']}: change them first"


def renew_link(
    user_id: str, dest_id: str, *, check_sender: Callable[[str], object] | None = None
) -> Written[Destination]:
    """A new link for a pending or suspended destination (the old one stops working): 404, 409 when it is
    verified, 429 when the last resend was less than RESEND_INTERVAL ago (the link made when the destination
    was created does not count: the first resend may follow it at once). `check_sender(address)` runs after those
    checks and before anything is written (it raises when no mail could be sent, or may be sent yet)."""
    current = _get_item(user_id, dest_id)
    if current["status"] == "verified":
        raise DestinationVerified
    moment = now()
    too_recent = iso(moment - RESEND_INTERVAL)
    if current.get("resent_at") and current["resent_at"] > too_recent:
        raise LinkRequestedTooSoon
    if check_sender is not None:
        check_sender(current["email"])
    link_fields, verify_item, link = _new_link_items(user_id, dest_id, current["email"])
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": _key(user_id, dest_id),
                "UpdateExpression": "SET token_hash = :hash, token_created_at = :created, "
                "token_expires_at = :expires, resent_at = :created REMOVE token_verified_at",
                "ConditionExpression": "attribute_exists(pk) AND #status <> :verified AND "
                "(attribute_not_exists(resent_at) OR resent_at <= :too_recent)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": db.values(
                    {
                        ":hash": link_fields["token_hash"],
                        ":created": link_fields["token_created_at"],
                        ":expires": link_fields["token_expires_at"],
                        ":verified": "verified",
                        ":too_recent": too_recent,
                    }
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {"Put": {"Item": verify_item, "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    if current.get("token_hash"):
        actions.append({"Delete": {"Key": verify_key(current["token_hash"])}})
    try:
        db.transact(actions)
    except db.TransactionCancelled as exc:
        old = exc.old_items[0]
        if old is None:
            raise DestinationNotFound from exc
        if old.get("status") == "verified":
            raise DestinationVerified from exc
        raise LinkRequestedTooSoon from exc  # another request made a link in between
    return Written(_to_model({**current, **link_fields, "resent_at": link_fields["token_created_at"]}), (link,))


def verify(token: str) -> Destination:
    """Verify the destination of a link: 404 for an unknown or replaced link, 410 for an expired one. Using a
    link again once it verified its destination answers the same (verified), even after it expired."""
    found = db.get_item(_VERIFY_PREFIX + _hash(token), "VERIFY")
    if found is None:
        raise VerificationLinkUnknown
    moment = iso(now())
    try:
        response = db.client().update_item(
            TableName=db.table(),
            Key=_key(found["user_id"], found["destination_id"]),
            UpdateExpression="SET #status = :verified, verified_at = if_not_exists(token_verified_at, :now), "
            "token_verified_at = if_not_exists(token_verified_at, :now) REMOVE suspended_reason, suspended_at "
            f"{versions.BUMP}",
            ConditionExpression="token_hash = :hash AND (token_expires_at > :now OR "
            "(#status = :verified AND attribute_exists(token_verified_at)))",
            ExpressionAttributeNames={"#status": "status", **versions.NAMES},
            ExpressionAttributeValues=db.values(
                {":verified": "verified", ":now": moment, ":hash": _hash(token), **versions.BUMP_VALUES}
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        old = db.deserialize(exc.response.get("Item") or {})  # type: ignore[arg-type]
        if old.get("token_hash") != _hash(token):
            raise VerificationLinkUnknown from exc  # deleted, suspended since, or a newer link replaced it
        raise VerificationLinkExpired from exc
    return _to_model(db.deserialize(response["Attributes"]))


# --- the forwarder's and the feedback's view ------------------------------------------------------------------


def statuses(wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], DestinationStatus]:
    """The status of each (owner id, address); an address its owner has no destination for is left out.

    One BatchGetItem per 100 destinations (consistent reads, only `pk`, `sk` and `status`), retrying what
    DynamoDB leaves unprocessed."""
    by_key: dict[tuple[str, str], tuple[str, str]] = {}
    for owner_id, email in wanted:
        key = key_of(owner_id, email)
        by_key[(key["pk"]["S"], key["sk"]["S"])] = (owner_id, canonical(email))
    found: dict[tuple[str, str], DestinationStatus] = {}
    for item in db.batch_get([db.key(pk, sk) for pk, sk in by_key], attributes=STATUS_ATTRIBUTES):
        found[by_key[(item["pk"], item["sk"])]] = item["status"]
    return found


def suspend(user_id: str, email: str, reason: str) -> bool:
    """Stop forwarding to `user_id`'s destination `email` (a hard bounce or complaint), saying why; its link
    stops working (a new one revives it). False when the user has no such destination."""
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=key_of(user_id, email),
            UpdateExpression="SET #status = :suspended, suspended_reason = :reason, suspended_at = :now "
            f"REMOVE token_hash, token_verified_at {versions.BUMP}",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status", **versions.NAMES},
            ExpressionAttributeValues=db.values(
                {":suspended": "suspended", ":reason": reason, ":now": iso(now()), **versions.BUMP_VALUES}
            ),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        return False
    return True


# --- counting uses, in the transactions of aliases and domains --------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """How a write changes which destinations of `user_id` are used: `added` addresses count one more use in
    `counter`, `removed` ones one fewer."""

    user_id: str
    counter: Counter
    added: Sequence[str] = ()
    removed: Sequence[str] = ()


def changed_addresses(old: Sequence[str], new: Sequence[str]) -> tuple[list[str], list[str]]:
    """(added, removed) between two lists of addresses, compared as destinations are keyed."""
    old_keys = {canonical(address) for address in old}
    new_keys = {canonical(address) for address in new}
    added = [address for address in _unique(new) if canonical(address) not in old_keys]
    removed = [address for address in _unique(old) if canonical(address) not in new_keys]
    return added, removed


def _unique(addresses: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if canonical(address) not in seen:
            seen.add(canonical(address))
            unique.append(address)
    return unique


def transact_with(
    actions: Sequence[dict[str, Any]], *usages: Usage, missing: Iterable[str] = ()
) -> tuple[NewLink, ...]:
    """Run `actions` and the counter changes of `usages` in one transaction; the links of the destinations it
    created.

    Optimistic: a destination counted up is first counted on as it exists (condition: it exists); when DynamoDB
    says it does not, the next attempt creates it pending, with a link. One counted down that does not exist
    (deleted, or named before destinations existed) is simply not counted. Changes to one destination are
    summed into one action (a transaction touches an item once). A failure of one of `actions` is raised as
    `TransactionCancelled` over `actions` alone, for the caller to map. Destinations created count against their
    owner's new destinations of the day (TooManyNewDestinations, 429, nothing written: store.link_limits).
    `missing`: addresses the caller knows do not exist yet, created at the first attempt.
    """
    steps: dict[tuple[str, str], dict[Counter, int]] = {}
    named: dict[tuple[str, str], str] = {}  # the address as first given, for a destination created here
    for usage in usages:
        for address, step in [*((a, 1) for a in _unique(usage.added)), *((a, -1) for a in _unique(usage.removed))]:
            item = (usage.user_id, canonical(address))
            named.setdefault(item, address)
            counts = steps.setdefault(item, {})
            counts[usage.counter] = counts.get(usage.counter, 0) + step
    changes = {item: {c: n for c, n in counts.items() if n} for item, counts in steps.items()}
    changes = {item: counts for item, counts in changes.items() if counts}
    known_missing = {canonical(address) for address in missing}
    exists = {item: item[1] not in known_missing for item in changes}
    for _ in range(_USAGE_ATTEMPTS):
        extra: list[dict[str, Any]] = []
        owners: list[tuple[str, tuple[str, str]]] = []  # (what, destination) of each extra action
        links: list[NewLink] = []
        for item, counts in changes.items():
            user_id = item[0]
            if exists[item]:
                extra.append(_count(user_id, named[item], counts))
                owners.append(("count", item))
            elif any(step > 0 for step in counts.values()):
                created, verify_item, link = _new_destination(
                    user_id, named[item], {counter: max(step, 0) for counter, step in counts.items()}
                )
                extra.append({"Put": {"Item": created, "ConditionExpression": "attribute_not_exists(pk)"}})
                extra.append({"Put": {"Item": verify_item, "ConditionExpression": "attribute_not_exists(pk)"}})
                owners += [("create", item), ("link", item)]
                links.append(link)
            # else: only counted down, and it does not exist: nothing to count
        for owner in sorted({link.user_id for link in links}):
            extra.append(link_limits.new_destinations(owner, sum(link.user_id == owner for link in links)))
            owners.append(("limit", (owner, "")))
        try:
            db.transact([*actions, *extra])
        except db.TransactionCancelled as exc:
            own = len(actions)
            if any(exc.failed[:own]):
                raise db.TransactionCancelled(exc.failed[:own], exc.old_items[:own]) from exc
            for (what, item), failed in zip(owners, exc.failed[own:], strict=True):
                if failed and what in ("count", "create"):
                    exists[item] = what == "create"  # missing: create it; created meanwhile: count on it
            limited = [failed for (what, _), failed in zip(owners, exc.failed[own:], strict=True) if what == "limit"]
            if any(limited):
                raise link_limits.refused() from exc
            continue
        return tuple(links)
    raise RuntimeError("the destinations of this change kept changing under it; try again")


def _count(user_id: str, address: str, counts: Mapping[Counter, int]) -> dict[str, Any]:
    return {
        "Update": {
            "Key": key_of(user_id, address),
            "UpdateExpression": "ADD " + ", ".join(f"{counter} :{counter}" for counter in counts),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": db.values({f":{counter}": step for counter, step in counts.items()}),
        }
    }
