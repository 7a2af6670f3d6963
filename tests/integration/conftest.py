from __future__ import annotations

import pytest

from postmask.store import users
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
