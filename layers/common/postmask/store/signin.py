"""Sign-in by link: the codes mailed in links, and how many links an address was sent in the last hour.

- `SIGNIN#<sha256 of the code>/CODE`: user_id, is_admin, created_at, expires_at (CODE_MINUTES after it was made),
  purge_at (the table's TTL). A code is good once: the transaction that writes the session token deletes it,
  on condition that it is still there and unexpired, so of two concurrent redeems one wins.
- `SIGNIN#USER#<user_id>/VOIDED`: voided_before, purge_at. Redeeming a code voids every other code of the account
  made before it (issue 25: no second live code once one was used): the same transaction moves `voided_before`
  to now, on condition that the code was made after the last redeem.
- `SIGNINLIMIT#<sha256 of the address>/LIMIT`: `sent`, the times of the links asked for in the last hour,
  a `version` for the conditional write that adds one, purge_at (an hour after the last). Keyed by a hash of
  the address, not the address: it is written for any address anyone types, and the table should not keep
  a list of those.

Codes are 256 random bits, so a fast hash is the right one, as for tokens (decision 0002).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from postmask.clock import iso, now
from postmask.errors import SignInCodeInvalid
from postmask.schemas.sessions import SessionCreated
from postmask.store import _dynamo as db
from postmask.store import tokens

CODE_MINUTES = 15
LINKS_PER_HOUR = 5
MAX_CODE_LENGTH = 512
_CODE_PREFIX = "SIGNIN#"
_LIMIT_PREFIX = "SIGNINLIMIT#"
_HOUR = timedelta(hours=1)
# Concurrent requests for one address race for the same item; one that loses this often is counted as over
# the limit (refusing a link is the safe way to fail).
_LIMIT_ATTEMPTS = 3


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def address_key(email: str) -> dict[str, Any]:
    """The key of an address's link count: a hash of the address as the marker of its account spells it."""
    return db.key(_LIMIT_PREFIX + _sha256("postmask sign-in " + email.strip().lower()), "LIMIT")


def claim_link(email: str) -> bool:
    """Count one more link for `email` unless LINKS_PER_HOUR were asked for in the last hour (then False).

    The same calls whatever the address: 1 `GetItem` and 1 conditional `PutItem` (a concurrent request for
    the same address makes the write fail; it is read and tried again)."""
    key = address_key(email)
    for _ in range(_LIMIT_ATTEMPTS):
        moment = now()
        raw = db.client().get_item(TableName=db.table(), Key=key, ConsistentRead=True).get("Item")
        item = db.deserialize(raw) if raw else None
        hour_ago = iso(moment - _HOUR)
        recent = [sent for sent in (item or {}).get("sent", []) if isinstance(sent, str) and sent > hour_ago]
        if len(recent) >= LINKS_PER_HOUR:
            return False
        version = int((item or {}).get("version", 0))
        counted = {"sent": [*recent, iso(moment)], "version": version + 1, "purge_at": _epoch(moment + _HOUR)}
        try:
            db.client().put_item(
                TableName=db.table(),
                Item={**key, **db.serialize(counted)},
                ConditionExpression="attribute_not_exists(pk) OR version = :version",
                ExpressionAttributeValues=db.values({":version": version}),
            )
        except ClientError as exc:
            if not db.condition_failed(exc):
                raise
            continue
        return True
    return False


def _made_at(expires_at: str) -> datetime:
    """When a code stored before codes had `created_at` was made."""
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")) - timedelta(minutes=CODE_MINUTES)


def _code_key(code: str) -> dict[str, Any]:
    return db.key(_CODE_PREFIX + _sha256(code), "CODE")


def new_code(user_id: str, is_admin: bool) -> str:
    """A new sign-in code for the user (shown once, in the link); only its hash is stored."""
    code = secrets.token_urlsafe(32)
    moment = now()
    expires = moment + timedelta(minutes=CODE_MINUTES)
    item = {
        "user_id": user_id,
        "is_admin": is_admin,
        "created_at": iso(moment),
        "expires_at": iso(expires),
        "purge_at": _epoch(expires),
    }
    db.client().put_item(
        TableName=db.table(),
        Item={**_code_key(code), **db.serialize(item)},
        ConditionExpression="attribute_not_exists(pk)",
    )
    return code


def redeem(code: str, *, name: str, days: int) -> SessionCreated:
    """The code, once, for a session token of its user that expires in `days`; SignInCodeInvalid (400) for
    a code that is unknown, used, expired or voided (made before another code of the account was redeemed).
    1 `GetItem`, 1 `TransactWriteItems` (code out, the account's other codes voided, token in)."""
    if not code or len(code) > MAX_CODE_LENGTH:
        raise SignInCodeInvalid
    key = _code_key(code)
    raw = db.client().get_item(TableName=db.table(), Key=key, ConsistentRead=True).get("Item")
    item = db.deserialize(raw) if raw else None
    moment = now()
    if item is None or str(item.get("expires_at", "")) <= iso(moment):
        raise SignInCodeInvalid
    expires = moment + timedelta(days=days)
    actions, created = tokens.put_actions(item["user_id"], bool(item.get("is_admin")), name, expires, kind="session")
    spend = {
        "Delete": {
            "Key": key,
            "ConditionExpression": "attribute_exists(pk) AND expires_at > :now",
            "ExpressionAttributeValues": db.values({":now": iso(moment)}),
        }
    }
    made = str(item.get("created_at") or iso(_made_at(str(item["expires_at"]))))
    void_others = {
        "Update": {
            "Key": db.key(f"{_CODE_PREFIX}USER#{item['user_id']}", "VOIDED"),
            "UpdateExpression": "SET voided_before = :now, purge_at = :purge",
            "ConditionExpression": "attribute_not_exists(voided_before) OR voided_before < :made",
            "ExpressionAttributeValues": db.values(
                {
                    ":now": iso(moment),
                    ":made": made,
                    ":purge": _epoch(moment + timedelta(minutes=CODE_MINUTES, hours=1)),
                }
            ),
        }
    }
    # A user disabled by an admin gets no new session, even with a code sent before (store.users.set_disabled).
    enabled = {
        "ConditionCheck": {
            "Key": db.key(f"USER#{item['user_id']}", "PROFILE"),
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(disabled) OR disabled = :no)",
            "ExpressionAttributeValues": db.values({":no": False}),
        }
    }
    try:
        db.transact([spend, void_others, enabled, *actions])
    except db.TransactionCancelled as exc:  # redeemed, expired or voided since it was made, or its user disabled
        raise SignInCodeInvalid from exc
    return SessionCreated(id=created.id, token=created.token, expires_at=expires)
