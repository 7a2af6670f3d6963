"""Users: `USER#<id>/PROFILE`, with `EMAIL#<email>/EMAIL` keeping e-mail addresses unique."""

from __future__ import annotations

from typing import Any

from postmask import ids
from postmask.clock import now_iso
from postmask.errors import EmailTaken, UserNotFound
from postmask.schemas.users import User, UserCreated
from postmask.store import _dynamo as db
from postmask.store import tokens


def _to_model(item: dict[str, Any]) -> User:
    return User.model_validate({name: item.get(name) for name in User.model_fields})


def create(
    email: str,
    *,
    is_admin: bool,
    token_name: str = "first token",  # noqa: S107 - a label, not a secret
    token_secret: str | None = None,
) -> UserCreated:
    """A user and their first token, in one transaction; the e-mail address must be free.

    `token_secret` fixes the first token's secret (the local stack's POSTMASK_DEV_TOKEN); normally random."""
    user_id = ids.new_id()
    profile = {
        "pk": f"USER#{user_id}",
        "sk": "PROFILE",
        "id": user_id,
        "email": email,
        "is_admin": is_admin,
        "created_at": now_iso(),
    }
    marker = {"pk": f"EMAIL#{email.lower()}", "sk": "EMAIL", "user_id": user_id}
    token_actions, token = tokens.put_actions(user_id, is_admin, token_name, None, secret=token_secret)
    try:
        db.transact(
            [
                {"Put": {"Item": db.serialize(marker), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": db.serialize(profile), "ConditionExpression": "attribute_not_exists(pk)"}},
                *token_actions,
            ]
        )
    except db.TransactionCancelled as exc:
        raise EmailTaken from exc
    return UserCreated(user=_to_model(profile), token=token.token)


def find_by_email(email: str) -> User | None:
    """The user whose account e-mail is `email` (in any case), or None. 2 `GetItem`s: marker, then profile."""
    marker = db.get_item(f"EMAIL#{email.strip().lower()}", "EMAIL")
    if marker is None:
        return None
    item = db.get_item(f"USER#{marker['user_id']}", "PROFILE")
    return _to_model(item) if item is not None else None


def get(user_id: str) -> User:
    item = db.get_item(f"USER#{user_id}", "PROFILE")
    if item is None:
        raise UserNotFound
    return _to_model(item)
