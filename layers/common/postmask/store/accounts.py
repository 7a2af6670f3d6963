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
from dataclasses import dataclass
from typing import Any

from postmask.store import _dynamo as db
from postmask.store import contacts, deliveries, destinations, domains, link_limits, quarantine, signin, threads, users
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


@dataclass(frozen=True)
class Mail:
    """What the user's activity says of the mail SES stored for them (deleted first, decision 0042)."""

    own: list[str]  # SES message ids of the stored messages that were theirs alone, accounted for
    records: list[dict[str, Any]]  # keys of the MAIL# records that name their addresses, of those accounted for


def mail_of(user_id: str) -> Mail:
    """The stored messages that were the user's alone: every recipient of the message (its `MAIL#<id>/ACCOUNTED`
    record, so every one has ended: forwarded, refused or quarantined) is an address the user's activity events
    name for that message. A message another user (or nobody) also received, or not yet accounted for, is not
    theirs alone: its stored copy stays, and expires with the bucket's lifecycle. And the delivery records
    (`MAIL#<id>`) of the accounted messages that name their addresses: all of a message that was theirs alone,
    their recipients' `SEND#` and `COUNTED#` records of one shared with others."""
    theirs: dict[str, set[str]] = {}
    named: dict[str, list[dict[str, Any]]] = {}
    for event in _all(f"ACT#{user_id}", "EV#", (*_KEY_ONLY, "message_id", "address", "destination")):
        message_id, address = event.get("message_id"), event.get("address")
        if not message_id or not address:
            continue
        message_id, address = str(message_id), str(address)
        theirs.setdefault(message_id, set()).add(address.lower())
        pk = deliveries.mail_pk(message_id)
        keys = named.setdefault(message_id, [])
        keys.append(db.key(pk, f"COUNTED#{address}"))
        if event.get("destination"):
            keys.append(db.key(pk, f"SEND#{address}#{str(event['destination']).lower()}"))
    ended = deliveries.accounted(sorted(theirs))
    own = sorted(
        message_id
        for message_id, outcomes in ended.items()
        if outcomes and {recipient.lower() for recipient in outcomes} <= theirs[message_id]
    )
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for message_id in ended:
        keys = named[message_id]
        if message_id in own:
            pk = deliveries.mail_pk(message_id)
            keys = [*keys, *(db.key(pk, sk) for sk in deliveries.MESSAGE_RECORDS)]
        for key in keys:
            records[(key["pk"]["S"], key["sk"]["S"])] = key
    return Mail(own=own, records=list(records.values()))


def delete_mail_records(mail: Mail) -> None:
    """Delete the MAIL# records `mail_of` found (in batches of their own: the function may only delete them)."""
    db.batch_delete(mail.records)


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
    for pk in (f"ACT#{user_id}", f"IDEMPOTENCY#{user_id}", link_limits.user_pk(user_id), quarantine.pk(user_id)):
        keys.extend(_key(item) for item in _all(pk))
    keys.append(signin.voided_key(user_id))
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
