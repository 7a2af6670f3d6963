"""The embedded AWS answers one request at a time, as DynamoDB applies each request atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3
import pytest

from local.aws import FAKE_CREDENTIALS, EmbeddedAws, _OneAtATime


def test_two_requests_are_never_inside_moto_at_once() -> None:
    """Each request waits (briefly) for another to join it inside the app: with the lock, none ever does."""
    meeting = threading.Barrier(2, timeout=0.5)
    met: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            meeting.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)
            meeting.reset()
        start_response("200 OK", [])
        return [b"ok"]

    serial = _OneAtATime(app)
    threads = [threading.Thread(target=lambda: serial({}, lambda *args: None)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert met == [False, False]


def test_the_embedded_aws_serves_boto3_on_loopback() -> None:
    aws = EmbeddedAws()
    aws.start()
    try:
        assert aws.url.startswith("http://127.0.0.1:")
        client = boto3.client(
            "dynamodb",
            endpoint_url=aws.url,
            region_name="eu-west-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        assert client.list_tables()["TableNames"] == []
    finally:
        aws.stop()


def test_transactions_do_not_leak_copies_of_the_table() -> None:
    """moto deep-copies a table for every TransactWriteItems (its rollback point) and keeps every model it ever
    made in `instances_tracked`: without help, a long `make run` (or the e2e session) kept one copy of the
    whole table per transaction, and took minutes to free them when stopped."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    aws = EmbeddedAws()
    aws.start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=aws.url,
            region_name="eu-west-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_table(
            TableName="leak",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        tracked = len(Table.instances_tracked), len(Item.instances_tracked)  # type: ignore[attr-defined]
        for number in range(20):
            put = {"Put": {"TableName": "leak", "Item": {"pk": {"S": f"item-{number}"}}}}
            client.transact_write_items(TransactItems=[put])
        assert (len(Table.instances_tracked), len(Item.instances_tracked)) == tracked  # type: ignore[attr-defined]
        assert client.get_item(TableName="leak", Key={"pk": {"S": "item-19"}})["Item"]

        # A cancelled transaction (moto puts its copy in place of the table) leaks nothing either.
        for _ in range(5):
            taken = {"Put": {**put["Put"], "ConditionExpression": "attribute_not_exists(pk)"}}
            with pytest.raises(client.exceptions.TransactionCanceledException):
                client.transact_write_items(TransactItems=[taken])
        assert (len(Table.instances_tracked), len(Item.instances_tracked)) == tracked  # type: ignore[attr-defined]
        assert client.get_item(TableName="leak", Key={"pk": {"S": "item-19"}})["Item"]
    finally:
        aws.stop()
