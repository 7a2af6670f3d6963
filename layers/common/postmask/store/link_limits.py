"""How often postmask mails a verification link to an outside address, and how many new destinations a user adds
a day (docs/decisions/0112): nobody may make postmask mail a stranger without limit.

| item                   | pk                                 | sk                   | holds                        |
|------------------------|------------------------------------|----------------------|------------------------------|
| last link to an address| `RATE#TO#<sha256 of the address>`  | `LAST`               | sent_at, purge_at (TTL)      |
| links to it that day   | `RATE#TO#<sha256 of the address>`  | `DAY#<YYYY-MM-DD>`   | sent, purge_at (TTL)         |
| new destinations a day | `RATE#USER#<user_id>`              | `NEWDEST#<YYYY-MM-DD>` | added, purge_at (TTL)      |

The address is installation-wide (whoever asks, however: create, resend, import) and keyed by a hash of its lower
case, not the address: the table keeps no list of addresses people typed. Days are UTC days. Each limit is one
conditional update (the two of an address in one transaction), so two concurrent requests never both pass it.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from postmask.clock import iso, now
from postmask.errors import TooManyNewDestinations, VerificationMailLimited
from postmask.store import _dynamo as db

LINK_INTERVAL = timedelta(minutes=10)
LINKS_PER_DAY = 5
NEW_DESTINATIONS_PER_DAY = 20
# Only the local stack's end-to-end tests set it (one user adds hundreds of destinations there in a run); no
# deployed function has it (the template declares no such variable), so deployments keep the contract's 20.
_LOCAL_NEW_DESTINATIONS_PER_DAY = "POSTMASK_NEW_DESTINATIONS_PER_DAY"
_PREFIX = "RATE#"
_KEPT = timedelta(days=2)  # a day's counter outlives its day (TTL deletes it lazily anyway)


def _address_pk(email: str) -> str:
    return _PREFIX + "TO#" + hashlib.sha256(("postmask link " + email.strip().lower()).encode()).hexdigest()


def user_pk(user_id: str) -> str:
    """The partition of a user's own counters (deleted with the account, store.accounts)."""
    return f"{_PREFIX}USER#{user_id}"


def _until_tomorrow(moment: datetime) -> int:
    tomorrow = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return int((tomorrow - moment).total_seconds())


def claim_link(email: str) -> None:
    """Count one more verification link to `email`, or VerificationMailLimited (with the seconds to wait) when one
    was sent less than LINK_INTERVAL ago or LINKS_PER_DAY were sent today. 1 TransactWriteItems."""
    moment = now().astimezone(UTC)
    pk = _address_pk(email)
    purge = int((moment + _KEPT).timestamp())
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": db.key(pk, "LAST"),
                "UpdateExpression": "SET sent_at = :now, purge_at = :purge",
                "ConditionExpression": "attribute_not_exists(sent_at) OR sent_at <= :since",
                "ExpressionAttributeValues": db.values(
                    {":now": iso(moment), ":purge": purge, ":since": iso(moment - LINK_INTERVAL)}
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Update": {
                "Key": db.key(pk, f"DAY#{moment.date().isoformat()}"),
                "UpdateExpression": "ADD sent :one SET purge_at = :purge",
                "ConditionExpression": "attribute_not_exists(sent) OR sent < :most",
                "ExpressionAttributeValues": db.values({":one": 1, ":purge": purge, ":most": LINKS_PER_DAY}),
            }
        },
    ]
    try:
        db.transact(actions)
    except db.TransactionCancelled as exc:
        waits = [1]
        last = exc.old_items[0] or {}
        if exc.failed[0] and last.get("sent_at"):
            sent_at = datetime.fromisoformat(str(last["sent_at"]).replace("Z", "+00:00"))
            waits.append(int((sent_at + LINK_INTERVAL - moment).total_seconds()) + 1)
        if exc.failed[1]:
            waits.append(_until_tomorrow(moment))
        raise VerificationMailLimited(retry_after=min(max(waits), _until_tomorrow(moment))) from exc


def new_destinations(user_id: str, added: int) -> dict[str, Any]:
    """The transaction action that counts `added` new destinations of `user_id` today, on condition the day's
    NEW_DESTINATIONS_PER_DAY are not passed (see `refused`)."""
    most = int(os.environ.get(_LOCAL_NEW_DESTINATIONS_PER_DAY) or NEW_DESTINATIONS_PER_DAY)
    if added > most:
        raise refused()
    moment = now().astimezone(UTC)
    return {
        "Update": {
            "Key": db.key(user_pk(user_id), f"NEWDEST#{moment.date().isoformat()}"),
            "UpdateExpression": "ADD added :added SET purge_at = :purge",
            "ConditionExpression": "attribute_not_exists(added) OR added <= :room",
            "ExpressionAttributeValues": db.values(
                {
                    ":added": added,
                    ":purge": int((moment + _KEPT).timestamp()),
                    ":room": most - added,
                }
            ),
        }
    }


def refused() -> TooManyNewDestinations:
    """The error of a write whose `new_destinations` action failed: nothing was written; wait for tomorrow."""
    return TooManyNewDestinations(retry_after=_until_tomorrow(now().astimezone(UTC)))
