"""Per-day counts of a user's mail: `ACT#<user_id>/DAY#<YYYY-MM-DD>` (UTC days).

Kept by one atomic `ADD` per decision, in the same transaction that writes the decision's activity event
(store/activity.py), so a retried decision is counted once. Read with one `Query` of at most 90 items, whatever
the volume of mail: nothing ever reads events to count them. A day's item expires (`purge_at`) after the longest
period `GET /api/stats` shows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from postmask.schemas.activity import DayCounts, Stats
from postmask.store import _dynamo as db

COUNTED = ("forwarded", "sent", "blocked", "refused", "dropped")  # the outcomes a day counts
MAX_DAYS = 90
_KEPT_SECONDS = (MAX_DAYS + 2) * 86_400  # a day's counts outlive the longest period asked for
_PREFIX = "DAY#"


def user_pk(user_id: str) -> str:
    return f"ACT#{user_id}"


def count_action(user_id: str, day: str, outcome: str, *, at_epoch: int) -> dict[str, Any] | None:
    """The transaction action that counts one `outcome` on `day` (YYYY-MM-DD); None for an outcome no day counts."""
    if outcome not in COUNTED:
        return None
    return {
        "Update": {
            "Key": db.key(user_pk(user_id), _PREFIX + day),
            "UpdateExpression": "ADD #outcome :one SET purge_at = :purge",
            "ExpressionAttributeNames": {"#outcome": outcome},
            "ExpressionAttributeValues": db.values({":one": 1, ":purge": at_epoch + _KEPT_SECONDS}),
        }
    }


def days(user_id: str, count: int, today: date) -> Stats:
    """The last `count` UTC days up to `today`, oldest first, zeros included: one `Query`."""
    first = today - timedelta(days=count - 1)
    response = db.client().query(
        TableName=db.table(),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=db.values(
            {":pk": user_pk(user_id), ":first": _PREFIX + first.isoformat(), ":last": _PREFIX + today.isoformat()}
        ),
        ConsistentRead=True,
        Limit=MAX_DAYS,
    )
    found = {item["sk"].removeprefix(_PREFIX): item for item in map(db.deserialize, response.get("Items", []))}
    result = []
    for offset in range(count):
        day = (first + timedelta(days=offset)).isoformat()
        item = found.get(day, {})
        result.append(DayCounts(date=day, **{outcome: int(item.get(outcome, 0)) for outcome in COUNTED}))
    return Stats(days=result)
