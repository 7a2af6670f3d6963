"""Activity events: every decision about a message, kept ActivityRetentionDays days (the table's TTL, `purge_at`).

| item                 | pk                         | sk                      | holds                           |
|----------------------|----------------------------|-------------------------|---------------------------------|
| event, user's view   | `ACT#<user_id>`            | `EV#<at>#<event id>`    | the ActivityEvent, message_id,  |
|                      |                            |                         | purge_at                        |
| event, alias's view  | `ACT#<user_id>#<alias_id>` | `EV#<at>#<event id>`    | the same event                  |
| day's counts         | `ACT#<user_id>`            | `DAY#<YYYY-MM-DD>`      | store/stats.py                  |

One decision is one `TransactWriteItems`: the event in the user's partition (on condition it is new), its copy
in the alias's partition, and the day's counter (store/stats.py). The event's id is derived from what makes the
decision unique (the SES message id, the recipient, the destination, the outcome) and `at` is when SES received
the message, so a retried invocation writes the same key, fails the condition, and neither adds an event nor
counts twice. Newest first is a `Query` with `ScanIndexForward=False`, for a user or for one alias: the alias's
events have a partition of their own, keyed by its owner too, so `?alias_id=` never reads another alias's
events, and another user's alias is simply empty (then one `GetItem` tells 404 from "no events yet").

Nothing here may cost a message its delivery: `record` logs a failure and returns (postmask.activity).
No body is ever stored; a subject is cut to 200 characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postmask.clock import now
from postmask.schemas.activity import ActivityEvent, ActivityList
from postmask.settings import get_settings
from postmask.store import _dynamo as db
from postmask.store import stats

MAX_SUBJECT = 200
_PREFIX = "EV#"
_FIELDS = (
    "id",
    "at",
    "alias_id",
    "address",
    "direction",
    "outcome",
    "reason",
    "sender",
    "destination",
    "subject",
    "trackers_removed",
)
MAX_NOTES = 10  # a message can make many notes (parts removed, ...): the first ten tell the story


@dataclass(frozen=True)
class Event:
    """One decision. `key` is what makes it unique among retries of the same decision (never shown)."""

    user_id: str
    key: str
    at: str  # postmask.clock.iso form
    address: str
    outcome: str
    reason: str | None = None
    alias_id: str | None = None
    direction: str = "inbound"
    sender: str | None = None
    destination: str | None = None
    subject: str | None = None
    encrypted: bool = False  # the copy went encrypted to the destination's OpenPGP key
    # What more the owner should know: what the sender's domain must publish, parts removed, from_ambiguous.
    notes: tuple[str, ...] = ()
    trackers_removed: dict[str, int] | None = None  # a forwarded copy's: {"pixels": n, "links": n}
    # The SES message id of the stored message the decision was about (inbound mail and replies; never shown):
    # deleting an account finds its stored mail by it (postmask.accounts, decision 0042).
    message_id: str | None = None

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.direction}\n{self.outcome}\n{self.key}".encode()).hexdigest()[:24]


def _alias_pk(user_id: str, alias_id: str) -> str:
    return f"ACT#{user_id}#{alias_id}"


def _epoch(at: str) -> int:
    return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


def item(event: Event) -> dict[str, Any]:
    """The event's item in the user's partition (the alias's copy differs only in `pk`)."""
    subject = event.subject[:MAX_SUBJECT] if event.subject else None
    return {
        "pk": stats.user_pk(event.user_id),
        "sk": f"{_PREFIX}{event.at}#{event.id}",
        "id": event.id,
        "at": event.at,
        "alias_id": event.alias_id,
        "address": event.address,
        "direction": event.direction,
        "outcome": event.outcome,
        "reason": event.reason,
        "sender": event.sender,
        "destination": event.destination,
        "subject": subject,
        **({"encrypted": True} if event.encrypted else {}),
        **({"notes": [note[: MAX_SUBJECT * 2] for note in event.notes[:MAX_NOTES]]} if event.notes else {}),
        **({"trackers_removed": event.trackers_removed} if event.trackers_removed is not None else {}),
        **({"message_id": event.message_id} if event.message_id else {}),
        "purge_at": _epoch(event.at) + get_settings().activity_retention_days * 86_400,
    }


def write(event: Event) -> bool:
    """Write the event and count it on its day, in one transaction; False when it was written before."""
    written = item(event)
    actions: list[dict[str, Any]] = [
        {"Put": {"Item": db.serialize(written), "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    if event.alias_id:
        actions.append({"Put": {"Item": db.serialize({**written, "pk": _alias_pk(event.user_id, event.alias_id)})}})
    counted = stats.count_action(event.user_id, event.at[:10], event.outcome, at_epoch=_epoch(event.at))
    if counted is not None:
        actions.append(counted)
    try:
        db.transact(actions)
    except db.TransactionCancelled:
        return False
    return True


def list_page(
    user_id: str, *, alias_id: str | None, outcome: str | None, limit: int, next_token: str | None
) -> ActivityList:
    """The caller's events (or one alias's), newest first; expired ones (TTL deletes them lazily) left out."""
    pk = _alias_pk(user_id, alias_id) if alias_id else stats.user_pk(user_id)
    clauses = ["purge_at > :now"]
    filter_values: dict[str, Any] = {":now": int(now().timestamp())}
    if outcome is not None:
        clauses.append("outcome = :outcome")
        filter_values[":outcome"] = outcome
    page = db.query_page(
        pk,
        _PREFIX,
        limit=limit,
        next_token=next_token,
        newest_first=True,
        filter_expression=" AND ".join(clauses),
        filter_values=filter_values,
    )
    if alias_id and not page.items and next_token is None:
        from postmask.store import aliases

        aliases.get(user_id, alias_id)  # no event yet, or not the caller's alias: AliasNotFound (404)
    return ActivityList(
        items=[
            ActivityEvent.model_validate(
                {
                    **{name: raw.get(name) for name in _FIELDS},
                    "encrypted": bool(raw.get("encrypted")),
                    "notes": raw.get("notes") or [],
                }
            )
            for raw in page.items
        ],
        next_token=page.next_token,
    )
