"""Contacts (reverse aliases): who writes to an alias, or whom its owner writes to from it (docs/decisions/0110).

Three items per contact, written and deleted together in one transaction:

| pk                        | sk                    | holds                                                      |
|---------------------------|-----------------------|------------------------------------------------------------|
| `CONTACTS#<alias_id>`     | `CONTACT#<contact_id>`| the whole contact: email, name, reply_address, blocked,    |
|                           |                       | counts, owner_id, alias_address (what the API shows)       |
| `CONTACTS#<alias_id>`     | `SENDER#<email>`      | contact_id, reply_address, blocked: the forwarder's lookup |
|                           |                       | by (alias, address), read with the destinations' status    |
| `REPLY#<reply address>`   | `REPLY`               | owner_id, alias_id, alias_address, contact_id, email, name:|
|                           |                       | the reply path's one GetItem, and the address's uniqueness |

A contact's id is ULID-shaped, so "newest first" is a Query of `CONTACT#` backwards. The partition is the alias's
own, not its owner's: the forwarder may read and write contacts (IAM `dynamodb:LeadingKeys` `CONTACTS#*`,
`REPLY#*`) without reaching any other item of a user. Every API read checks the owner: another user's contact is
not there (404). A reply address is `reply-<20 random characters>@<the alias's domain>` (postmask.ids): an alias
may not be created in that namespace, so the forwarder knows a reply address by its shape.

A contact is not deleted with its alias (an alias may have thousands): it becomes unreachable. The API reads a
contact together with its alias, the reply path checks that the alias of a reply address still has its id, and a
re-created address is a new alias with a new id, so a new partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from postmask import ids, versions
from postmask.clock import now_iso
from postmask.errors import AliasNotFound, ContactExists, ContactIsPostmask, ContactNotFound
from postmask.store import _dynamo as db
from postmask.versions import Expected, Versioned

if TYPE_CHECKING:
    from postmask.schemas.contacts import Contact, ContactList

PK_PREFIX = "CONTACTS#"
CONTACT_PREFIX = "CONTACT#"
SENDER_PREFIX = "SENDER#"
REPLY_PREFIX = "REPLY#"
# What the forwarder reads of a SENDER# item (and all it may read of one: the template's IAM names the same).
SENDER_ATTRIBUTES = ("pk", "sk", "contact_id", "reply_address", "blocked")
# The forwarder reads SENDER# items with the destinations' status in one BatchGetItem: these attributes only.
FORWARDER_READS = ("pk", "sk", "status", "contact_id", "reply_address", "blocked")
MAX_NEW_PER_TRANSACTION = 33  # three items each, 100 actions at most
_ATTEMPTS = 3


@dataclass(frozen=True)
class AliasRef:
    """The alias a contact belongs to, as both the API and the forwarder know it."""

    owner_id: str
    alias_id: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class Known:
    """A contact as the forwarder needs it."""

    contact_id: str
    email: str
    reply_address: str
    blocked: bool


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply address leads to: the contact, its alias and the alias's owner (one GetItem)."""

    reply_address: str
    owner_id: str
    alias_id: str
    alias_address: str
    contact_id: str
    email: str
    name: str | None


# --- keys ---------------------------------------------------------------------------------------------------


def pk(alias_id: str) -> str:
    return PK_PREFIX + alias_id


def contact_key(alias_id: str, contact_id: str) -> dict[str, dict[str, str]]:
    return db.key(pk(alias_id), CONTACT_PREFIX + contact_id)


def sender_key(alias_id: str, email: str) -> dict[str, dict[str, str]]:
    return db.key(pk(alias_id), SENDER_PREFIX + email.lower())


def reply_key(reply_address: str) -> dict[str, dict[str, str]]:
    return db.key(REPLY_PREFIX + reply_address.lower(), "REPLY")


def _alias_key(user_id: str, alias_id: str) -> dict[str, dict[str, str]]:
    return db.key(f"USER#{user_id}", f"ALIAS#{alias_id}")


# --- creating -----------------------------------------------------------------------------------------------


def _new_items(
    alias: AliasRef, email: str, name: str | None, at: str, reply_address: str | None = None
) -> tuple[dict[str, Any], ...]:
    contact_id = ids.new_id()
    reply_address = reply_address or f"{ids.random_reply_local_part()}@{alias.domain}"
    contact = {
        **contact_key(alias.alias_id, contact_id),
        **db.serialize(
            {
                "id": contact_id,
                "alias_id": alias.alias_id,
                "owner_id": alias.owner_id,
                "alias_address": alias.address,
                "email": email,
                "email_lc": email.lower(),
                "name": name,
                "name_lc": (name or "").lower(),
                "reply_address": reply_address,
                "blocked": False,
                "created_at": at,
                "last_received_at": None,
                "last_sent_at": None,
                "received_count": 0,
                "sent_count": 0,
                "blocked_count": 0,
                "version": 1,
            }
        ),
    }
    sender = {
        **sender_key(alias.alias_id, email),
        **db.serialize({"contact_id": contact_id, "reply_address": reply_address, "blocked": False}),
    }
    reply = {
        **reply_key(reply_address),
        **db.serialize(
            {
                "owner_id": alias.owner_id,
                "alias_id": alias.alias_id,
                "alias_address": alias.address,
                "contact_id": contact_id,
                "email": email,
                "name": name,
            }
        ),
    }
    return contact, sender, reply


def _puts(items: tuple[dict[str, Any], ...], *, reclaim: AliasRef | None = None) -> list[dict[str, Any]]:
    """The three Puts of a new contact. With `reclaim`, the reply address may already exist if it was this alias
    address's, the same owner's (an alias deleted and imported again): it then leads to the new contact."""
    contact, sender, reply = items
    reply_put: dict[str, Any] = {"Item": reply, "ConditionExpression": "attribute_not_exists(pk)"}
    if reclaim is not None:
        # Never one that still leads to a contact of this very alias (another of its contacts keeps it).
        reply_put["ConditionExpression"] = (
            "attribute_not_exists(pk) OR (owner_id = :owner AND alias_address = :address AND alias_id <> :alias)"
        )
        reply_put["ExpressionAttributeValues"] = db.values(
            {":owner": reclaim.owner_id, ":address": reclaim.address, ":alias": reclaim.alias_id}
        )
    return [
        {"Put": {"Item": contact, "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Put": {
                "Item": sender,
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {"Put": reply_put},
    ]


def _given_reply_address(alias: AliasRef, reply_address: str | None) -> str | None:
    """A reply address an import names, if it can be this alias's: the reply namespace on the alias's domain."""
    if reply_address is None:
        return None
    local_part, _, domain = reply_address.strip().lower().rpartition("@")
    if domain != alias.domain or not ids.is_reply_local_part(local_part) or len(local_part) > 64:
        return None
    return f"{local_part}@{domain}"


def _known(email: str, sender_item: Mapping[str, Any]) -> Known:
    return Known(
        contact_id=str(sender_item["contact_id"]),
        email=email,
        reply_address=str(sender_item["reply_address"]),
        blocked=bool(sender_item.get("blocked")),
    )


def find_or_create(
    alias: AliasRef,
    wanted: Sequence[tuple[str, str | None]],
    known: Mapping[str, Known],
    *,
    reply_addresses: Mapping[str, str] | None = None,
) -> dict[str, Known]:
    """Every (email, name) of `wanted` as a contact of the alias: those in `known` (read before, by email in lower
    case) as they are, the others created in one transaction (up to MAX_NEW_PER_TRANSACTION of them). A contact
    created meanwhile by another invocation is taken as it is. {email in lower case: contact}.

    `reply_addresses` (an import's: email in lower case -> the reply address it had): given back when free, or
    when it was this alias address's and the same owner's; otherwise the contact gets a new one."""
    given = {
        email.lower(): checked
        for email, address in (reply_addresses or {}).items()
        if (checked := _given_reply_address(alias, address)) is not None
    }
    found = {email.lower(): contact for email, contact in known.items()}
    missing: dict[str, str | None] = {}
    for email, name in wanted:
        if email.lower() not in found:
            missing.setdefault(email.lower(), name)
    at = now_iso()
    for _ in range(_ATTEMPTS):
        batch = list(missing.items())[:MAX_NEW_PER_TRANSACTION]
        if not batch:
            return found
        made = [(email, _new_items(alias, email, name, at, given.get(email))) for email, name in batch]
        try:
            db.transact(
                [action for email, items in made for action in _puts(items, reclaim=alias if email in given else None)]
            )
        except db.TransactionCancelled as exc:
            for index, (email, _) in enumerate(made):
                old = exc.old_items[3 * index + 1]
                if exc.failed[3 * index + 1] and old is not None:
                    found[email] = _known(email, old)  # written meanwhile: theirs is the contact
                    missing.pop(email)
                if exc.failed[3 * index + 2]:
                    given.pop(email, None)  # someone else's reply address (or another alias's): a new one
            continue  # the rest again, with new ids and reply addresses
        for email, (_, sender, _) in made:
            found[email] = _known(email, db.deserialize(sender))
            missing.pop(email)
    return found


def create(user_id: str, alias_id: str, email: str, name: str | None) -> Contact:
    """A new contact of the caller's alias (to write to someone new from it). 1 GetItem (the alias) + 1
    TransactWriteItems (the three items, the alias still there)."""
    alias = alias_ref(user_id, alias_id)
    if email.lower() == alias.address.lower() or ids.is_reply_local_part(email.rpartition("@")[0]):
        raise ContactIsPostmask(loc=("body", "email"))  # another user's alias is fine: the loop marker stops loops
    for _ in range(_ATTEMPTS):
        items = _new_items(alias, email, name, now_iso())
        try:
            db.transact(
                [
                    *_puts(items),
                    {
                        "ConditionCheck": {
                            "Key": _alias_key(user_id, alias_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        except db.TransactionCancelled as exc:
            if exc.failed[3]:
                raise AliasNotFound from exc
            if exc.failed[1]:
                raise ContactExists(f"{alias.address} already has a contact {email}") from exc
            continue  # a reply address or id collided: draw again
        return _to_model(db.deserialize(items[0]))
    raise ContactExists("Could not create the contact; try again")


# --- reading ------------------------------------------------------------------------------------------------


def alias_ref(user_id: str, alias_id: str) -> AliasRef:
    """The caller's alias (1 GetItem), or AliasNotFound."""
    if not ids.is_id(alias_id):
        raise AliasNotFound
    item = db.get_item(f"USER#{user_id}", f"ALIAS#{alias_id}")
    if item is None:
        raise AliasNotFound
    return AliasRef(user_id, alias_id, str(item["address"]))


def _to_model(item: Mapping[str, Any]) -> Contact:
    from postmask.schemas.contacts import Contact

    return Contact.model_validate({name: item.get(name) for name in Contact.model_fields})


def _contact_with_alias(user_id: str, alias_id: str, contact_id: str) -> dict[str, Any]:
    """The contact item, read with its alias in one BatchGetItem: either missing, or another user's, is a 404."""
    if not ids.is_id(alias_id):
        raise AliasNotFound
    if not ids.is_id(contact_id):
        raise ContactNotFound
    alias_key, key = _alias_key(user_id, alias_id), contact_key(alias_id, contact_id)
    items = {(item["pk"], item["sk"]): item for item in db.batch_get([alias_key, key])}
    if (alias_key["pk"]["S"], alias_key["sk"]["S"]) not in items:
        raise AliasNotFound
    contact = items.get((key["pk"]["S"], key["sk"]["S"]))
    if contact is None or contact.get("owner_id") != user_id:
        raise ContactNotFound
    return contact


def get(user_id: str, alias_id: str, contact_id: str) -> Contact:
    return _to_model(_contact_with_alias(user_id, alias_id, contact_id))


def read(user_id: str, alias_id: str, contact_id: str) -> Versioned[Contact]:
    """One contact and its version (the ETag of a GET): blocking or renaming moves it, mail counted does not."""
    item = _contact_with_alias(user_id, alias_id, contact_id)
    return Versioned(_to_model(item), versions.of(item))


def list_page(
    user_id: str, alias_id: str, *, q: str | None, blocked: bool | None, limit: int, next_token: str | None
) -> ContactList:
    """The alias's contacts, newest first; `q` matches the address or the name, case-insensitively. 1 GetItem (the
    alias) + 1 Query (more pages only when a filter leaves a page short, see _dynamo.query_page)."""
    from postmask.schemas.contacts import ContactList

    alias_ref(user_id, alias_id)
    clauses: list[str] = []
    values: dict[str, Any] = {}
    if blocked is not None:
        clauses.append("blocked = :blocked")
        values[":blocked"] = blocked
    if q:
        clauses.append("(contains(email_lc, :q) OR contains(name_lc, :q))")
        values[":q"] = q.lower()
    page = db.query_page(
        pk(alias_id),
        CONTACT_PREFIX,
        limit=limit,
        next_token=next_token,
        newest_first=True,
        filter_expression=" AND ".join(clauses) or None,
        filter_values=values,
    )
    return ContactList(items=[_to_model(item) for item in page.items], next_token=page.next_token)


def all_of(alias_id: str) -> Iterable[Contact]:
    """Every contact of an alias, newest first, page by page (an export's view; the caller checked the alias)."""
    token: str | None = None
    while True:
        page = db.query_page(pk(alias_id), CONTACT_PREFIX, limit=100, next_token=token, newest_first=True)
        yield from (_to_model(item) for item in page.items)
        if page.next_token is None:
            return
        token = page.next_token


def reply_target(reply_address: str) -> ReplyTarget | None:
    """The contact a reply address leads to (1 GetItem), or None (never issued, or its contact deleted)."""
    key = reply_key(reply_address)
    item = db.get_item(key["pk"]["S"], key["sk"]["S"])
    return _target(reply_address, item) if item is not None else None


def reply_targets(reply_addresses: Iterable[str]) -> dict[str, ReplyTarget]:
    """Several reply addresses at once (1 BatchGetItem per 100): {address in lower case: target}."""
    wanted = {address.lower() for address in reply_addresses}
    if not wanted:
        return {}
    items = db.batch_get([reply_key(address) for address in sorted(wanted)])
    return {item["pk"][len(REPLY_PREFIX) :]: _target(item["pk"][len(REPLY_PREFIX) :], item) for item in items}


def _target(reply_address: str, item: Mapping[str, Any]) -> ReplyTarget:
    return ReplyTarget(
        reply_address=reply_address.lower(),
        owner_id=str(item["owner_id"]),
        alias_id=str(item["alias_id"]),
        alias_address=str(item["alias_address"]),
        contact_id=str(item["contact_id"]),
        email=str(item["email"]),
        name=item.get("name"),
    )


def known_from(items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Known]:
    """The SENDER# items among `items` (read by the forwarder with SENDER_ATTRIBUTES): {(alias_id, email): contact}."""
    found: dict[tuple[str, str], Known] = {}
    for item in items:
        if str(item["pk"]).startswith(PK_PREFIX) and str(item["sk"]).startswith(SENDER_PREFIX):
            alias_id, email = item["pk"][len(PK_PREFIX) :], item["sk"][len(SENDER_PREFIX) :]
            found[(alias_id, email)] = _known(email, item)
    return found


# --- changing -----------------------------------------------------------------------------------------------


def update(
    user_id: str, alias_id: str, contact_id: str, changes: Mapping[str, Any], *, expected: Expected | None = None
) -> Versioned[Contact]:
    """Block or unblock, rename: the contact (its next version) and its SENDER# (blocked) or REPLY# (name) item in
    one transaction, which holds only while the contact is still the version read (a change meanwhile: read again).
    With `expected` (If-Match), a version it does not allow is a 412, however recent the read."""
    for _ in range(_ATTEMPTS):
        current = _contact_with_alias(user_id, alias_id, contact_id)
        versions.require(expected, versions.of(current))
        if not changes:
            return Versioned(_to_model(current), versions.of(current))
        try:
            return _update(alias_id, contact_id, current, changes)
        except _ChangedMeanwhile:
            continue
    raise ContactNotFound("The contact kept changing; try again")


class _ChangedMeanwhile(Exception):
    pass


def _update(
    alias_id: str, contact_id: str, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> Versioned[Contact]:
    fields = dict(changes)
    if "name" in fields:
        fields["name_lc"] = (fields["name"] or "").lower()
    contact_update = {
        "Key": contact_key(alias_id, contact_id),
        **_set(fields),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    actions: list[dict[str, Any]] = [{"Update": versions.guarded(contact_update, versions.of(current), bump=True)}]
    if "blocked" in changes:
        actions.append(
            {
                "Update": {
                    "Key": sender_key(alias_id, current["email"]),
                    **_set({"blocked": changes["blocked"]}),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
    if "name" in changes:
        actions.append(
            {
                "Update": {
                    "Key": reply_key(current["reply_address"]),
                    **_set({"name": changes["name"]}),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
    try:
        db.transact(actions)
    except db.TransactionCancelled as exc:
        if exc.failed[0] and exc.old_items[0] is not None:
            raise _ChangedMeanwhile from exc
        raise ContactNotFound from exc  # deleted between our read and our write
    return Versioned(_to_model({**current, **fields}), versions.of(current) + 1)


def delete(user_id: str, alias_id: str, contact_id: str, *, expected: Expected | None = None) -> None:
    """Delete the contact and its two lookup items: its reply address stops working at once. The delete holds only
    while the contact is the version read; with `expected` (If-Match), a version it does not allow is a 412."""
    for _ in range(_ATTEMPTS):
        current = _contact_with_alias(user_id, alias_id, contact_id)
        versions.require(expected, versions.of(current))
        contact_delete = {"Key": contact_key(alias_id, contact_id), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        try:
            db.transact(
                [
                    {"Delete": versions.guarded(contact_delete, versions.of(current))},
                    {"Delete": {"Key": sender_key(alias_id, current["email"])}},
                    {"Delete": {"Key": reply_key(current["reply_address"])}},
                ]
            )
        except db.TransactionCancelled as exc:
            if exc.failed[0] and exc.old_items[0] is not None:
                continue  # it changed since we read it
            raise ContactNotFound from exc
        return
    raise ContactNotFound("The contact kept changing; try again")


def _set(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in fields),
        "ExpressionAttributeNames": {f"#{name}": name for name in fields},
        "ExpressionAttributeValues": db.values({f":{name}": value for name, value in fields.items()}),
    }


def counted(alias_id: str, contact_id: str, outcome: str, at: str) -> dict[str, Any]:
    """The transaction action that counts one message on a contact: `received`, `sent` or `blocked`."""
    stamp = f", last_{outcome}_at = :at" if outcome in ("received", "sent") else ""
    return {
        "Update": {
            "Key": contact_key(alias_id, contact_id),
            "UpdateExpression": f"ADD {outcome}_count :one" + (f" SET {stamp[2:]}" if stamp else ""),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": db.values({":one": 1, **({":at": at} if stamp else {})}),
        }
    }
