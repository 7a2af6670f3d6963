"""Uniqueness holds under concurrent requests because it is a conditional transaction, not a check-then-write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from postmask.store import _dynamo
from tests.support.api import Client


@pytest.fixture
def racing_transactions(monkeypatch: pytest.MonkeyPatch, table: str) -> Iterator[threading.Barrier]:
    """Hold both requests at their TransactWriteItems call until both have got there, so neither can have
    seen the other's write when it decided to write. DynamoDB executes transactions on an item one at a
    time; moto does not lock, so that serialisation is added here (it is DynamoDB's, not ours)."""
    barrier = threading.Barrier(2, timeout=10)
    atomic = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def serialised(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with atomic:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", serialised)

    def wait_for_the_other(**_: Any) -> None:
        barrier.wait()

    events = _dynamo.client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", wait_for_the_other)
    yield barrier
    events.unregister("before-call.dynamodb.TransactWriteItems", wait_for_the_other)


def test_two_concurrent_creates_of_one_address_give_one_201_and_one_409(
    alice: Client, alice_domain: str, racing_transactions: threading.Barrier
) -> None:
    body = {"domain": alice_domain, "local_part": "race", "destinations": ["me@real.example"]}

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(response.status for response in pool.map(lambda _: alice.post("/api/aliases", body), [1, 2]))

    assert statuses == [201, 409]
    assert len(alice.get("/api/aliases").json()["items"]) == 1
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 1


def test_two_users_racing_for_one_domain_give_one_201_and_one_409(
    alice: Client, bob: Client, racing_transactions: threading.Barrier
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda who: who.post("/api/domains", {"name": "race.example"}), [alice, bob]))

    assert sorted(response.status for response in responses) == [201, 409]
    owners = [who for who, response in zip([alice, bob], responses, strict=True) if response.status == 201]
    assert owners[0].get("/api/domains/race.example").status == 200
