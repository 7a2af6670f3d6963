"""API tokens. Only the SHA-256 of a secret is stored, never the secret.

Two items per token, written and deleted together:
- `TOKEN#<sha256 of the secret>/TOKEN`: what the authorizer needs, found with one `GetItem` from the secret;
- `USER#<user_id>/TOKEN#<token_id>`: the owner's view (name, dates), listed with one `Query`.

Secrets are `pm_` + 256 random bits, so a fast hash is the right one (there is no password to brute-force).

A token's `scope` (`all`, or `aliases:create` for a password manager) is on both items: the authorizer passes it
on, each function refuses a scope it does not serve (postmask.api.observed). A token stored before scopes existed
has none and reads as `all`.

A token's `kind` is `api` (POST /api/tokens, for programs) or `session` (a browser signed in with a link by
e-mail, postmask.signin); a token stored before kinds existed has none and reads as `api`. The authorizer
does not look at it: a session token is an ordinary token with an expiry.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from postmask import ids
from postmask.auth import FULL_SCOPE, Caller
from postmask.clock import iso, now, now_iso
from postmask.errors import TokenNotFound
from postmask.settings import get_settings
from postmask.store import _dynamo as db

if TYPE_CHECKING:
    from postmask.schemas.tokens import TokenCreated, TokenInfo, TokenKind, TokenList, TokenScope

_PREFIX = "TOKEN#"
_SECRET_PREFIX = "pm_"  # noqa: S105 - lets secret scanners recognise a leaked postmask token
_MAX_SECRET_LENGTH = 512


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _lookup_key(secret: str) -> dict[str, Any]:
    return db.key(_PREFIX + hashlib.sha256(secret.encode()).hexdigest(), "TOKEN")


def new_secret() -> str:
    return _SECRET_PREFIX + secrets.token_urlsafe(32)


def put_actions(
    user_id: str,
    is_admin: bool,
    name: str,
    expires_at: datetime | None,
    secret: str | None = None,
    *,
    kind: TokenKind = "api",
    scope: TokenScope = "all",
) -> tuple[list[dict[str, Any]], TokenCreated]:
    """The transaction actions that create a token (for callers that write it with other items), and the
    token as shown once. `secret` is generated unless given (the local stack's fixed dev token)."""
    secret = secret or new_secret()
    token_id = ids.new_id()
    lookup_key = _lookup_key(secret)
    owner_view = {
        "pk": _user_pk(user_id),
        "sk": _PREFIX + token_id,
        "id": token_id,
        "name": name,
        "kind": kind,
        "scope": scope,
        "lookup_pk": lookup_key["pk"]["S"],
        "created_at": now_iso(),
        "expires_at": iso(expires_at) if expires_at else None,
        "last_used_at": None,
    }
    lookup = {
        "pk": lookup_key["pk"]["S"],
        "sk": "TOKEN",
        "user_id": user_id,
        "token_id": token_id,
        "is_admin": is_admin,
        "scope": scope,
        "expires_at": owner_view["expires_at"],
        "last_used_at": None,
    }
    actions = [
        {"Put": {"Item": db.serialize(lookup), "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"Item": db.serialize(owner_view), "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    from postmask.schemas.tokens import TokenCreated  # not at import: the authorizer needs no model (decision 0130)

    return actions, TokenCreated.model_validate({**owner_view, "token": secret})


def _to_info(item: dict[str, Any]) -> TokenInfo:
    from postmask.schemas.tokens import TokenInfo

    return TokenInfo.model_validate(
        {name: item.get(name) for name in TokenInfo.model_fields}
        | {"kind": kind_of(item), "scope": item.get("scope") or FULL_SCOPE}
    )


def kind_of(item: dict[str, Any]) -> TokenKind:
    """A token's kind; one stored before kinds existed is an API token."""
    return "session" if item.get("kind") == "session" else "api"


def create(caller: Caller, name: str, expires_at: datetime | None, scope: TokenScope = "all") -> TokenCreated:
    actions, created = put_actions(caller.user_id, caller.is_admin, name, expires_at, scope=scope)
    db.transact(actions)
    return created


def list_page(user_id: str, *, limit: int, next_token: str | None) -> TokenList:
    """The caller's tokens, newest first. Never the secret, nor its hash."""
    from postmask.schemas.tokens import TokenList

    page = db.query_page(_user_pk(user_id), _PREFIX, limit=limit, next_token=next_token, newest_first=True)
    return TokenList(items=[_to_info(item) for item in page.items], next_token=page.next_token)


def revoke(user_id: str, token_id: str) -> None:
    """Delete both items of one of the caller's tokens; the next request with it is refused."""
    if not ids.is_id(token_id):
        raise TokenNotFound
    owner_view = db.get_item(_user_pk(user_id), _PREFIX + token_id)
    if owner_view is None:
        raise TokenNotFound
    try:
        db.transact(
            [
                {
                    "Delete": {
                        "Key": db.key(owner_view["pk"], owner_view["sk"]),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Delete": {"Key": db.key(owner_view["lookup_pk"], "TOKEN")}},
            ]
        )
    except db.TransactionCancelled as exc:
        raise TokenNotFound from exc


def authenticate(secret: str) -> Caller | None:
    """The caller a token belongs to, or None for an unknown, revoked or expired token.

    One `GetItem`; at most every few minutes per token, one transaction to keep last_used_at roughly
    current without a write on every request.
    """
    if not secret or len(secret) > _MAX_SECRET_LENGTH:
        return None
    lookup_key = _lookup_key(secret)
    item = db.get_item(lookup_key["pk"]["S"], "TOKEN")
    if item is None:
        return None
    moment = now()
    if item.get("expires_at") and item["expires_at"] <= iso(moment):
        return None
    if item.get("disabled"):  # its user was disabled by an admin (store.users.set_disabled)
        return None
    _touch(item, moment)
    return Caller(
        user_id=item["user_id"],
        is_admin=bool(item.get("is_admin")),
        token_id=item["token_id"],
        scope=str(item.get("scope") or FULL_SCOPE),  # a token stored before scopes existed may do anything
    )


def set_disabled(user_id: str, disabled: bool) -> None:
    """Mark every token of a user refused (or accepted again): 1 Query, then 1 UpdateItem per token. A token
    revoked meanwhile is not re-created (the condition)."""
    for owner_view in db.all_items(_user_pk(user_id), _PREFIX, attributes=("lookup_pk",)):
        try:
            db.client().update_item(
                TableName=db.table(),
                Key=db.key(owner_view["lookup_pk"], "TOKEN"),
                UpdateExpression="SET disabled = :disabled",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=db.values({":disabled": disabled}),
            )
        except ClientError as exc:
            if not db.condition_failed(exc):
                raise


def _touch(item: dict[str, Any], moment: datetime) -> None:
    stale_before = iso(moment - timedelta(seconds=get_settings().token_last_used_resolution_seconds))
    if item.get("last_used_at") and item["last_used_at"] > stale_before:
        return
    stamp = db.values({":now": iso(moment)})
    # Revoked meanwhile (a condition fails): this request was already authorised, the next one will not be.
    with contextlib.suppress(db.TransactionCancelled):
        db.transact(
            [
                {
                    "Update": {
                        "Key": db.key(item["pk"], "TOKEN"),
                        "UpdateExpression": "SET last_used_at = :now",
                        "ConditionExpression": "attribute_exists(pk)",  # a revoked token is not re-created
                        "ExpressionAttributeValues": stamp,
                    }
                },
                {
                    "Update": {
                        "Key": db.key(_user_pk(item["user_id"]), _PREFIX + item["token_id"]),
                        "UpdateExpression": "SET last_used_at = :now",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": stamp,
                    }
                },
            ]
        )
