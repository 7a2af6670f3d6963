"""moto's DynamoDB transactions, made as cheap as DynamoDB's for the local stack.

moto backs up a whole table before a transaction (a deep copy, once per action of the transaction) and puts the
copy back when the transaction is cancelled. A transaction then costs time in proportion to the table: a local
stack that has served a few thousand requests (the end-to-end tests' contract fuzzing) answers in seconds
instead of milliseconds, and the copies it let go take their time being freed when it stops.
`item_level_rollback()` makes moto back up only the items the transaction names, and put those back when it
is cancelled: what DynamoDB's atomicity promises, for the cost of the items. The embedded AWS serves one
request at a time (local/aws.py), so nothing sees a transaction half done either way.
"""

from __future__ import annotations

import copy
from typing import Any


def item_level_rollback() -> None:
    """Patch moto's DynamoDB backend in this process (once)."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend: Any = models.DynamoDBBackend
    if getattr(backend, "postmask_item_level_rollback", False):
        return

    class _NoTableCopies:
        """`copy` as moto.dynamodb.models sees it: everything but a whole table is deep-copied as before."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = [_backup(self, entry, DynamoType) for entry in transact_items]
        try:
            original(self, transact_items)
        except Exception:
            for found in reversed(saved):
                if found is not None:
                    _restore(*found)
            raise

    models.copy = _NoTableCopies()  # type: ignore[assignment]
    backend.transact_write_items = transact_write_items
    backend.postmask_item_level_rollback = True


def _backup(backend: Any, entry: Any, dynamo_type: Any) -> tuple[Any, Any, Any, Any] | None:
    """(table, hash key, range key, a copy of the item or None) for one action of a transaction."""
    if not isinstance(entry, dict) or len(entry) != 1:
        return None
    (action,) = entry.values()
    table = backend.tables.get(action.get("TableName")) if isinstance(action, dict) else None
    if table is None:
        return None
    attributes = action.get("Key") or action.get("Item")
    if not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
        return None
    range_key = None
    if table.range_key_attr:
        if table.range_key_attr not in attributes:
            return None
        range_key = dynamo_type(attributes[table.range_key_attr])
    hash_key = dynamo_type(attributes[table.hash_key_attr])
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item
