"""local/dynamodb.py: moto's transactions backed up per item instead of per table, as atomic as before."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.dynamodb import item_level_rollback


def put(table: str, pk: str, value: int) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": "X"}, "v": {"N": str(value)}}}}


def value(table: str, pk: str) -> int | None:
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "X"}}).get("Item")
    return int(item["v"]["N"]) if item else None


def table_object(table: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["eu-west-1"].tables[table]


@pytest.fixture
def patched(table: str) -> str:
    item_level_rollback()
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=[put(table, "A", 1), put(table, "B", 1)])
    return table


def test_a_cancelled_transaction_changes_nothing_and_copies_no_table(patched: str) -> None:
    client = boto3.client("dynamodb")
    before = table_object(patched)
    update_a = {
        "Update": {
            "TableName": patched,
            "Key": {"pk": {"S": "A"}, "sk": {"S": "X"}},
            "UpdateExpression": "SET v = :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        }
    }
    new_c = put(patched, "C", 1)
    delete_b = {"Delete": {"TableName": patched, "Key": {"pk": {"S": "B"}, "sk": {"S": "X"}}}}
    refused = {**put(patched, "B", 9)}
    refused["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[update_a, new_c, refused])
    check = {"ConditionCheck": {**delete_b["Delete"], "ConditionExpression": "attribute_not_exists(pk)"}}
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[update_a, put(patched, "D", 1), check])

    assert (value(patched, "A"), value(patched, "B"), value(patched, "C"), value(patched, "D")) == (1, 1, None, None)
    assert table_object(patched) is before

    client.transact_write_items(TransactItems=[update_a, new_c, delete_b])
    assert (value(patched, "A"), value(patched, "B"), value(patched, "C")) == (2, None, 1)


def test_two_actions_on_one_item_are_refused_and_change_nothing(patched: str) -> None:
    with pytest.raises(ClientError):
        boto3.client("dynamodb").transact_write_items(TransactItems=[put(patched, "A", 5), put(patched, "A", 6)])
    assert value(patched, "A") == 1
