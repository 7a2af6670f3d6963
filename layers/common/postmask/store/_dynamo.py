"""DynamoDB plumbing shared by the store modules: the client, (de)serialisation, paging, transactions."""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from postmask import aws
from postmask.errors import InvalidNextToken
from postmask.settings import get_settings

Item = dict[str, Any]

# A filtered list reads at most this many DynamoDB pages per request, then returns what it found with a
# next_token: a page can hold fewer than `limit` items while more follow, the cost of a request stays bounded.
MAX_FILTERED_ROUNDS = 5
_TRANSACTION_ATTEMPTS = 4


@cache
def client() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    """One low-level client per container, made on first use (see postmask.aws)."""
    return aws.new_client("dynamodb")


# With SnapStart (template parameter EnableSnapStart), Lambda initialises the function once and snapshots it:
# make the client then, so that it is in the snapshot instead of being made after every restore. The hook
# module exists only in Lambda's Python runtime, and is looked for only when the snapshot is being prepared.
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
    from snapshot_restore_py import register_before_snapshot

    register_before_snapshot(client)


def table() -> str:
    return get_settings().table_name


def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# --- DynamoDB's attribute values --------------------------------------------------------------------------
# What boto3.dynamodb.types does, for the types postmask stores, without importing boto3 (see postmask.aws).
# Numbers come back as int, or float when they are not integral; sets as sorted lists.


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: attribute_value(value) for name, value in item.items()}


def values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """ExpressionAttributeValues from plain Python values."""
    return serialize(mapping)


def attribute_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        return _set(value)
    if isinstance(value, Sequence):
        return {"L": [attribute_value(element) for element in value]}
    if isinstance(value, Mapping):
        return {"M": serialize(value)}
    raise TypeError(f"{type(value).__name__} cannot be stored in DynamoDB (a float must be a Decimal)")


def _number(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError(f"{value} cannot be stored in DynamoDB")
    return str(value)


def _set(value: Set[Any]) -> dict[str, Any]:
    if not value:
        raise TypeError("DynamoDB cannot store an empty set")
    if all(isinstance(element, str) for element in value):
        return {"SS": list(value)}
    if all(isinstance(element, int | Decimal) and not isinstance(element, bool) for element in value):
        return {"NS": [_number(element) for element in value]}
    if all(isinstance(element, bytes | bytearray) for element in value):
        return {"BS": [bytes(element) for element in value]}
    raise TypeError("a DynamoDB set holds strings, numbers or bytes, all of one kind")


def deserialize(raw: Mapping[str, Any]) -> Item:
    return {name: python_value(value) for name, value in raw.items()}


def python_value(raw: Mapping[str, Any]) -> Any:
    (kind, value), *_ = raw.items()
    if kind == "S":
        return value
    if kind == "N":
        return _plain_number(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "L":
        return [python_value(element) for element in value]
    if kind == "M":
        return deserialize(value)
    if kind == "B":
        return bytes(value)
    if kind == "SS":
        return sorted(value)
    if kind == "NS":
        return sorted(_plain_number(element) for element in value)
    if kind == "BS":
        return sorted(bytes(element) for element in value)
    raise TypeError(f"unknown DynamoDB type {kind!r}")


def _plain_number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def get_item(pk: str, sk: str) -> Item | None:
    response = client().get_item(TableName=table(), Key=key(pk, sk), ConsistentRead=True)
    raw = response.get("Item")
    return deserialize(raw) if raw else None


MAX_BATCH_KEYS = 100  # BatchGetItem's limit per call
_BATCH_ATTEMPTS = 5


def batch_get(keys: Sequence[Mapping[str, Any]], *, attributes: Sequence[str] | None = None) -> list[Item]:
    """The items of `keys` that exist (consistent reads; in no particular order), `attributes` only if given:
    one BatchGetItem per 100 keys, retrying what DynamoDB leaves unprocessed (with a back-off, as it asks)."""
    found: list[Item] = []
    for start in range(0, len(keys), MAX_BATCH_KEYS):
        request: dict[str, Any] = {"Keys": list(keys[start : start + MAX_BATCH_KEYS]), "ConsistentRead": True}
        if attributes:
            names = {f"#a{index}": name for index, name in enumerate(attributes)}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        pending: dict[str, Any] = {table(): request}
        for attempt in range(_BATCH_ATTEMPTS):
            response = client().batch_get_item(RequestItems=pending)
            found.extend(deserialize(raw) for raw in response.get("Responses", {}).get(table(), []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError("DynamoDB left keys unprocessed after retries; try again")
    return found


# --- transactions -----------------------------------------------------------------------------------------


class TransactionCancelled(Exception):
    """A conditional transaction failed; `failed[i]` is True where the i-th action's condition failed."""

    def __init__(self, failed: list[bool], old_items: list[Item | None]) -> None:
        super().__init__(f"transaction cancelled: {failed}")
        self.failed = failed
        self.old_items = old_items


def transact(actions: Sequence[dict[str, Any]]) -> None:
    """TransactWriteItems, with the table name filled in. A lost race against another transaction
    (`TransactionConflict`) is retried: the retry then sees the winner's write and fails its condition cleanly.
    """
    items = [{kind: {"TableName": table(), **body} for kind, body in action.items()} for action in actions]
    for attempt in range(_TRANSACTION_ATTEMPTS):
        try:
            client().transact_write_items(TransactItems=items)
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or [{} for _ in items]
            codes = [reason.get("Code", "None") for reason in reasons]
            retryable = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
            if retryable & set(codes) and attempt + 1 < _TRANSACTION_ATTEMPTS:
                time.sleep(0.05 * 2**attempt)  # back off before retrying a conflicting or throttled transaction
                continue
            if "ConditionalCheckFailed" not in codes:
                raise
            failed = [code == "ConditionalCheckFailed" for code in codes]
            old = [deserialize(reason["Item"]) if reason.get("Item") else None for reason in reasons]
            raise TransactionCancelled(failed, old) from exc


_BATCH_WRITE_SIZE = 25  # BatchWriteItem's limit


def batch_delete(keys: Sequence[Mapping[str, Any]]) -> None:
    """Delete `keys` (unconditionally), 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed."""
    for start in range(0, len(keys), _BATCH_WRITE_SIZE):
        pending: dict[str, Any] = {
            table(): [{"DeleteRequest": {"Key": dict(key)}} for key in keys[start : start + _BATCH_WRITE_SIZE]]
        }
        for attempt in range(_TRANSACTION_ATTEMPTS + 2):
            pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)  # back off before retrying what was throttled
        else:
            raise RuntimeError("DynamoDB left items undeleted after retries")


MAX_TRANSACTION_ACTIONS = 100  # TransactWriteItems' limit


def transaction_groups[T](
    items: Sequence[T],
    own_actions: Callable[[T], list[dict[str, Any]]],
    shared: Callable[[list[T]], int] = lambda _: 0,
) -> Iterator[list[tuple[T, list[dict[str, Any]]]]]:
    """`items` with their own actions, grouped so that a group's actions, and the actions it shares with the
    rest of its group (`shared(group)` says how many: counters summed per item), fit in one transaction."""
    group: list[tuple[T, list[dict[str, Any]]]] = []
    size = 0
    for item in items:
        actions = own_actions(item)
        extra = shared([*(chosen for chosen, _ in group), item])
        if group and size + len(actions) + extra > MAX_TRANSACTION_ACTIONS:
            yield group
            group, size = [], 0
        group.append((item, actions))
        size += len(actions)
    if group:
        yield group


def condition_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


# --- paging -----------------------------------------------------------------------------------------------


def all_items(pk: str, sk_prefix: str, *, attributes: Sequence[str] | None = None) -> Iterator[Item]:
    """Every item of a partition whose sort key starts with `sk_prefix` ("": all), in sort-key order: one Query per
    megabyte DynamoDB returns (the export, the import's look at a user's domains)."""
    params: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": values({":pk": pk, ":prefix": sk_prefix}),
        "ConsistentRead": True,
    }
    if not sk_prefix:  # the whole partition (DynamoDB refuses an empty prefix)
        params["KeyConditionExpression"] = "pk = :pk"
        params["ExpressionAttributeValues"] = values({":pk": pk})
    if attributes:
        names = {f"#a{index}": name for index, name in enumerate(attributes)}
        params["ProjectionExpression"] = ", ".join(names)
        params["ExpressionAttributeNames"] = names
    while True:
        response = client().query(**params)
        for raw in response.get("Items", []):
            yield deserialize(raw)
        if not response.get("LastEvaluatedKey"):
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_token: str | None


def encode_token(sk: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": sk}).encode()).decode().rstrip("=")


def decode_token(token: str, sk_prefix: str) -> str:
    """The sort key to continue after. Anything not made by `encode_token` for this list is a 400,
    including a token from another user's list (it could never point into the caller's partition anyway)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidNextToken from exc
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, str) or not after.startswith(sk_prefix) or len(after.encode()) > 1024:
        raise InvalidNextToken
    return after


def query_page(
    pk: str,
    sk_prefix: str,
    *,
    limit: int,
    next_token: str | None,
    newest_first: bool = False,
    filter_expression: str | None = None,
    filter_values: Mapping[str, Any] | None = None,
    filter_names: Mapping[str, str] | None = None,
) -> Page:
    """One page of a partition's items whose sort key starts with `sk_prefix`.

    Without a filter this is exactly one `Query` with `Limit`. With one, DynamoDB applies `Limit` before the
    filter, so we read further pages (at most MAX_FILTERED_ROUNDS) until `limit` items match. The returned
    token points after the last item *returned*, so nothing is skipped or repeated.
    """
    params: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": values({":pk": pk, ":prefix": sk_prefix, **(filter_values or {})}),
        "ScanIndexForward": not newest_first,
        "ConsistentRead": True,
        # One more than asked: if it comes back, there is a next page and we know it without an empty last page.
        "Limit": limit + 1,
    }
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if filter_names:
        params["ExpressionAttributeNames"] = dict(filter_names)
    if next_token is not None:
        params["ExclusiveStartKey"] = key(pk, decode_token(next_token, sk_prefix))

    found: list[Item] = []
    rounds = MAX_FILTERED_ROUNDS if filter_expression else 1
    last_key: dict[str, Any] | None = None
    for _ in range(rounds):
        response = client().query(**params)
        found.extend(deserialize(raw) for raw in response.get("Items", []))
        last_key = response.get("LastEvaluatedKey")
        if len(found) > limit or not last_key:
            break
        params["ExclusiveStartKey"] = last_key

    if len(found) > limit:
        found = found[:limit]
        return Page(found, encode_token(found[-1]["sk"]))
    if last_key:
        return Page(found, encode_token(last_key["sk"]["S"]))
    return Page(found, None)
