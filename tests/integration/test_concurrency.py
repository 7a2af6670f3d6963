"""Uniqueness holds under concurrent requests because it is a conditional transaction, not a check-then-write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.support.api import Client


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
