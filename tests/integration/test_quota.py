"""MaxAliasesPerUser: a counter on the user's profile, kept in the alias transactions; past it, 403."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from postmask.settings import get_settings
from postmask.store import quota
from tests.support.api import Client


@pytest.fixture
def at_most_three(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAX_ALIASES_PER_USER", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def create(client: Client, domain: str, local_part: str) -> int:
    body = {"domain": domain, "local_part": local_part, "destinations": ["me@real.example"]}
    return client.post("/api/aliases", body).status


def user_id(client: Client) -> str:
    found: str = client.get("/api/me").json()["id"]
    return found


def test_past_the_quota_a_create_is_403_and_a_delete_makes_room(
    alice: Client, alice_domain: str, at_most_three: None
) -> None:
    assert [create(alice, alice_domain, name) for name in ("a", "b", "c")] == [201, 201, 201]

    refused = alice.post("/api/aliases", {"domain": alice_domain, "local_part": "d", "destinations": ["me@x.example"]})

    assert refused.status == 403
    assert "maximum of 3 aliases" in refused.json()["message"]
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 3  # nothing half written
    first = alice.get("/api/aliases").json()["items"][-1]
    assert alice.delete(f"/api/aliases/{first['id']}").status == 204
    assert create(alice, alice_domain, "d") == 201


def test_the_quota_is_per_user(alice: Client, alice_domain: str, bob: Client, at_most_three: None) -> None:
    assert [create(alice, alice_domain, name) for name in ("a", "b", "c")] == [201, 201, 201]
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    assert create(bob, "bob.example", "a") == 201


def _forget_the_counter(client: Client) -> None:
    """The user's profile as it was before the quota existed: no counter, no flag."""
    boto3.client("dynamodb").update_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"USER#{user_id(client)}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="REMOVE alias_count, aliases_counted",
    )


def test_a_profile_from_before_the_quota_is_counted_once_from_its_domains(
    alice: Client, alice_domain: str, at_most_three: None
) -> None:
    assert [create(alice, alice_domain, name) for name in ("a", "b")] == [201, 201]
    _forget_the_counter(alice)
    # Deleted before the first create after the upgrade: the counter goes below zero, the domain knows better.
    first = alice.get("/api/aliases").json()["items"][-1]
    assert alice.delete(f"/api/aliases/{first['id']}").status == 204

    assert create(alice, alice_domain, "c") == 201  # settles: 1 left + this one
    assert quota.usage(user_id(alice)).count == 2
    assert create(alice, alice_domain, "d") == 201
    assert create(alice, alice_domain, "e") == 403


def test_a_profile_from_before_the_quota_past_it_already_is_refused(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [create(alice, alice_domain, name) for name in ("a", "b", "c")] == [201, 201, 201]
    _forget_the_counter(alice)
    monkeypatch.setenv("MAX_ALIASES_PER_USER", "2")  # lowered by the operator since
    get_settings.cache_clear()

    assert create(alice, alice_domain, "d") == 403
    assert quota.usage(user_id(alice)).count == 3
    get_settings.cache_clear()
