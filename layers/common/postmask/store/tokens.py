"""API tokens: `USER#<user_id>/TOKEN#<token_id>`, holding the SHA-256 of the secret, never the secret.

The secret is `pm_<user_id>_<token_id>_<random>`: the ids make the lookup one `GetItem`; the 256 random bits
make it unguessable, which is also why a fast hash is the right one (there is no password to brute-force).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from postmask import ids
from postmask.auth import Caller
from postmask.clock import iso, now, now_iso
from postmask.errors import TokenNotFound
from postmask.schemas import TokenCreated, TokenInfo, TokenList
from postmask.settings import get_settings
from postmask.store import _dynamo as db

_PREFIX = "TOKEN#"
_SCHEME = "pm"


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_item(user_id: str, is_admin: bool, name: str, expires_at: datetime | None) -> tuple[dict[str, Any], str]:
    """A token item ready to write, and its secret (to show once)."""
    token_id = ids.new_id()
    secret = f"{_SCHEME}_{user_id}_{token_id}_{secrets.token_urlsafe(32)}"
    item = {
        "pk": _user_pk(user_id),
        "sk": _PREFIX + token_id,
        "id": token_id,
        "name": name,
        "token_sha256": _digest(secret),
        "is_admin": is_admin,
        "created_at": now_iso(),
        "expires_at": iso(expires_at) if expires_at else None,
        "last_used_at": None,
    }
    return item, secret


def _to_info(item: dict[str, Any]) -> TokenInfo:
    return TokenInfo.model_validate({name: item.get(name) for name in TokenInfo.model_fields})


def create(caller: Caller, name: str, expires_at: datetime | None) -> TokenCreated:
    item, secret = new_token_item(caller.user_id, caller.is_admin, name, expires_at)
    db.client().put_item(TableName=db.table(), Item=db.serialize(item), ConditionExpression="attribute_not_exists(pk)")
    return TokenCreated.model_validate({**_to_info(item).model_dump(), "token": secret})


def list_page(user_id: str, *, limit: int, next_token: str | None) -> TokenList:
    """The caller's tokens, newest first. Never the secret, nor its hash."""
    page = db.query_page(_user_pk(user_id), _PREFIX, limit=limit, next_token=next_token, newest_first=True)
    return TokenList(items=[_to_info(item) for item in page.items], next_token=page.next_token)


def revoke(user_id: str, token_id: str) -> None:
    if not ids.is_id(token_id):
        raise TokenNotFound
    try:
        db.client().delete_item(
            TableName=db.table(),
            Key=db.key(_user_pk(user_id), _PREFIX + token_id),
            ConditionExpression="attribute_exists(pk)",
        )
    except ClientError as exc:
        if db.condition_failed(exc):
            raise TokenNotFound from exc
        raise


def authenticate(secret: str) -> Caller | None:
    """The caller a token belongs to, or None for a malformed, unknown, revoked or expired token.

    One `GetItem`; one conditional `UpdateItem` at most every few minutes per token, to keep last_used_at
    roughly current without a write on every request.
    """
    parts = secret.split("_", 3)
    if len(parts) != 4 or parts[0] != _SCHEME or not ids.is_id(parts[1]) or not ids.is_id(parts[2]):
        return None
    user_id, token_id = parts[1], parts[2]
    item = db.get_item(_user_pk(user_id), _PREFIX + token_id)
    if item is None or not hmac.compare_digest(item["token_sha256"], _digest(secret)):
        return None
    moment = now()
    if item.get("expires_at") and item["expires_at"] <= iso(moment):
        return None
    _touch(item, moment)
    return Caller(user_id=user_id, is_admin=bool(item.get("is_admin")), token_id=token_id)


def _touch(item: dict[str, Any], moment: datetime) -> None:
    stale_before = iso(moment - timedelta(seconds=get_settings().token_last_used_resolution_seconds))
    if item.get("last_used_at") and item["last_used_at"] > stale_before:
        return
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=db.key(item["pk"], item["sk"]),
            UpdateExpression="SET last_used_at = :now",
            # Another container may have just written it; and a revoked token must not be re-created.
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_used_at) "
            "OR attribute_type(last_used_at, :null) OR last_used_at < :stale_before)",
            ExpressionAttributeValues=db.values({":now": iso(moment), ":stale_before": stale_before, ":null": "NULL"}),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
