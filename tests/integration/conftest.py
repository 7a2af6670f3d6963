from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from postmask.store import _dynamo, users
from tests.support.api import Client


def new_user(email: str, *, is_admin: bool = False) -> Client:
    return Client(users.create(email, is_admin=is_admin).token)


@pytest.fixture
def admin(table: str) -> Client:
    return new_user("admin@example.org", is_admin=True)


@pytest.fixture
def alice(table: str) -> Client:
    return new_user("alice@example.org")


@pytest.fixture
def bob(table: str) -> Client:
    return new_user("bob@example.org")


@pytest.fixture
def alice_domain(alice: Client) -> str:
    response = alice.post("/api/domains", {"name": "alice.example"})
    assert response.status == 201, response.body
    return "alice.example"


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
