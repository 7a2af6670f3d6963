"""Users: `USER#<id>/PROFILE`, with `EMAIL#<email>/EMAIL` keeping e-mail addresses unique, and
`USERS/USER#<id>` the admins' directory (GET /api/users, one Query; decision 0041).

A disabled user (PATCH /api/users/{id}) has `disabled` on the profile and the directory entry, on each of
their tokens' lookup items (the authorizer refuses them, one GetItem as before), and `DEST#<id>/ACCOUNT`, which
the forwarder reads in the BatchGetItem it already makes of the owner's destinations (their mail is blocked)."""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from postmask import ids
from postmask.clock import now_iso
from postmask.errors import CannotDisableYourself, EmailTaken, UserNotFound
from postmask.schemas.users import ListedUser, User, UserCreated, UserList
from postmask.store import _dynamo as db
from postmask.store import destinations, quota, tokens

DIRECTORY_PK = "USERS"
_DIRECTORY_FIELDS = ("id", "email", "is_admin", "created_at", "disabled")


def _to_model(item: dict[str, Any]) -> User:
    # Attributes a profile does not have (written before them, or cleared) take the model's defaults.
    return User.model_validate({name: item[name] for name in User.model_fields if item.get(name) is not None})


def _to_listed(item: dict[str, Any]) -> ListedUser:
    fields = {name: item.get(name) for name in ListedUser.model_fields}
    return ListedUser.model_validate(fields | {"disabled": bool(item.get("disabled"))})


def _directory_item(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "pk": DIRECTORY_PK,
        "sk": f"USER#{profile['id']}",
        **{name: profile.get(name) for name in _DIRECTORY_FIELDS},
    }


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
        "listed": True,  # in the admins' directory
        **quota.new_profile_fields(),
    }
    marker = {"pk": f"EMAIL#{email.lower()}", "sk": "EMAIL", "user_id": user_id}
    token_actions, token = tokens.put_actions(user_id, is_admin, token_name, None, secret=token_secret)
    try:
        db.transact(
            [
                {"Put": {"Item": db.serialize(marker), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": db.serialize(profile), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": db.serialize(_directory_item(profile))}},
                *token_actions,
            ]
        )
    except db.TransactionCancelled as exc:
        raise EmailTaken from exc
    return UserCreated(user=_to_model(profile), token=token.token)


def find_by_email(email: str) -> User | None:
    """The user whose account e-mail is `email` (in any case), or None. 2 `GetItem`s: marker, then profile; the
    first time for a user made before the admins' directory existed, 1 transaction that enters them in it (the
    sign-in mailer: the directory fills as people sign in, decision 0041)."""
    marker = db.get_item(f"EMAIL#{email.strip().lower()}", "EMAIL")
    if marker is None:
        return None
    item = db.get_item(f"USER#{marker['user_id']}", "PROFILE")
    if item is None:
        return None
    if not item.get("listed"):  # made before the admins' directory existed: entered in it now, once
        _enter_in_directory(item)
    return _to_model(item)


def get(user_id: str) -> User:
    item = db.get_item(f"USER#{user_id}", "PROFILE")
    if item is None:
        raise UserNotFound
    return _to_model(item)


def _enter_in_directory(profile: dict[str, Any]) -> None:
    with contextlib.suppress(db.TransactionCancelled):  # deleted meanwhile: nothing to list
        db.transact(
            [
                {
                    "Update": {
                        "Key": db.key(profile["pk"], "PROFILE"),
                        "UpdateExpression": "SET listed = :yes",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": db.values({":yes": True}),
                    }
                },
                {"Put": {"Item": db.serialize(_directory_item(profile))}},
            ]
        )


def list_page(*, limit: int, next_token: str | None) -> UserList:
    """Every user, oldest first (ids are time-ordered): the admins' directory, one Query."""
    page = db.query_page(DIRECTORY_PK, "USER#", limit=limit, next_token=next_token, newest_first=False)
    return UserList(items=[_to_listed(item) for item in page.items], next_token=page.next_token)


def set_disabled(admin_id: str, user_id: str, disabled: bool) -> ListedUser:
    """Disable (or enable again) a user: their tokens are refused from the next uncached request, their mail
    is blocked. 1 GetItem, 1 transaction, then 1 Query of their tokens and 1 UpdateItem per token."""
    if user_id == admin_id and disabled:
        raise CannotDisableYourself
    profile = db.get_item(f"USER#{user_id}", "PROFILE") if ids.is_id(user_id) else None
    if profile is None:
        raise UserNotFound
    account = (
        {"Put": {"Item": {**destinations.account_key(user_id), **db.serialize({"status": "disabled"})}}}
        if disabled
        else {"Delete": {"Key": destinations.account_key(user_id)}}
    )
    try:
        db.transact(
            [
                {
                    "Update": {
                        "Key": db.key(f"USER#{user_id}", "PROFILE"),
                        "UpdateExpression": "SET disabled = :disabled, listed = :yes",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": db.values({":disabled": disabled, ":yes": True}),
                    }
                },
                {"Put": {"Item": db.serialize(_directory_item({**profile, "disabled": disabled}))}},
                account,
            ]
        )
    except db.TransactionCancelled as exc:
        raise UserNotFound from exc
    tokens.set_disabled(user_id, disabled)
    return _to_listed({**profile, "disabled": disabled})


# What PATCH /api/me sets on the profile (postmask.alias_defaults checks the values first).
SETTINGS = ("default_alias_domain", "default_alias_destinations", "alias_style")


def update_settings(user_id: str, changes: dict[str, Any]) -> User:
    """Set the given settings on the user's profile (a null one removed) and answer the profile as it is now."""
    if not changes:
        return get(user_id)
    names = {f"#{name}": name for name in changes if name in SETTINGS}
    setting = {f":{name}": value for name, value in changes.items() if name in SETTINGS and value is not None}
    removing = [f"#{name}" for name, value in changes.items() if name in SETTINGS and value is None]
    expression = ("SET " + ", ".join(f"#{name[1:]} = {name}" for name in setting) if setting else "") + (
        " REMOVE " + ", ".join(removing) if removing else ""
    )
    try:
        response = db.client().update_item(
            TableName=db.table(),
            Key=db.key(f"USER#{user_id}", "PROFILE"),
            UpdateExpression=expression.strip(),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": db.values(setting)} if setting else {}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        raise UserNotFound from exc
    return _to_model(db.deserialize(response["Attributes"]))


def alias_style(user_id: str) -> str:
    """The user's `alias_style` (`random` unless set): one GetItem of that attribute."""
    response = db.client().get_item(
        TableName=db.table(),
        Key=db.key(f"USER#{user_id}", "PROFILE"),
        ProjectionExpression="alias_style",
        ConsistentRead=True,
    )
    return str(db.deserialize(response.get("Item") or {}).get("alias_style") or "random")


# The profile's attributes a new alias needs, and a domain's name (postmask.alias_defaults).
_PROFILE_AND_DOMAINS = ("sk", "#name", "id", "email", "is_admin", "created_at", *SETTINGS)


def profile_and_domains(user_id: str) -> tuple[User, list[str]]:
    """The user's profile and the names of their domains, in one Query of their partition from `DOMAIN#` to
    `PROFILE` (in sort-key order the domains come right before the profile; aliases sort before them, tokens
    after), only the attributes named (more pages only past a megabyte of domains)."""
    profile: dict[str, Any] | None = None
    names: list[str] = []
    kwargs: dict[str, Any] = {
        "TableName": db.table(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": db.values({":pk": f"USER#{user_id}", ":first": "DOMAIN#", ":last": "PROFILE"}),
        "ProjectionExpression": ", ".join(_PROFILE_AND_DOMAINS),
        "ExpressionAttributeNames": {"#name": "name"},
        "ConsistentRead": True,
    }
    while True:
        response = db.client().query(**kwargs)
        for raw in response.get("Items", []):
            item = db.deserialize(raw)
            if item["sk"] == "PROFILE":
                profile = item
            elif str(item["sk"]).startswith("DOMAIN#"):
                names.append(str(item["name"]))
        if "LastEvaluatedKey" not in response:
            break
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if profile is None:
        raise UserNotFound
    return _to_model(profile), names
