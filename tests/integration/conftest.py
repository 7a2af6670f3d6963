from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.ses import emulate_ses_identities
from postmask import ses
from postmask.settings import get_settings
from postmask.store import users
from tests.support.api import Client
from tests.support.ses import SesRecorder


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
def mail(table: str) -> Iterator[SesRecorder]:
    """postmask's own mail, recorded (SES as moto plays it for domain identities)."""
    emulate_ses_identities()
    get_settings.cache_clear()
    ses.client.cache_clear()
    ses.forget_verifications()
    yield SesRecorder().install(ses.client())
    ses.client.cache_clear()
