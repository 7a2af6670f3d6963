"""Idempotency-Key on the POSTs that create: the same key and body -> the first response again, nothing created;
another body -> 422; per user; a failure is not kept; the kept response is not readable from the table."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from postmask.settings import get_settings
from tests.support.api import Client

KEY = "6f1c2a9e-1b0c-4a57-9a7e-2c8f3f6d0b11"


def alias_body(domain: str, **fields: Any) -> dict[str, Any]:
    return {"domain": domain, "destinations": ["me@real.example"], **fields}


def test_a_retry_gets_the_first_response_and_creates_nothing(alice: Client, alice_domain: str) -> None:
    first = alice.post("/api/aliases", alias_body(alice_domain), headers={"Idempotency-Key": KEY})
    again = alice.post("/api/aliases", alias_body(alice_domain), headers={"Idempotency-Key": KEY})

    assert first.status == again.status == 201
    assert again.json() == first.json()  # the same random address: the very same alias
    assert again.header("Location") == first.header("Location")
    assert again.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert len(alice.get("/api/aliases").json()["items"]) == 1
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 1


def test_without_a_key_each_post_creates(alice: Client, alice_domain: str) -> None:
    alice.post("/api/aliases", alias_body(alice_domain))
    alice.post("/api/aliases", alias_body(alice_domain))
    assert len(alice.get("/api/aliases").json()["items"]) == 2


def test_the_same_key_with_another_body_is_422(alice: Client, alice_domain: str) -> None:
    assert (
        alice.post("/api/aliases", alias_body(alice_domain, note="a"), headers={"Idempotency-Key": KEY}).status == 201
    )

    other = alice.post("/api/aliases", alias_body(alice_domain, note="b"), headers={"Idempotency-Key": KEY})

    assert other.status == 422
    assert other.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert "another request" in other.json()["message"]
    assert len(alice.get("/api/aliases").json()["items"]) == 1


def test_keys_are_per_user(alice: Client, alice_domain: str, bob: Client) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    mine = alice.post("/api/aliases", alias_body(alice_domain), headers={"Idempotency-Key": KEY})
    theirs = bob.post("/api/aliases", alias_body("bob.example"), headers={"Idempotency-Key": KEY})

    assert mine.status == theirs.status == 201
    assert theirs.json()["domain"] == "bob.example"
    assert theirs.header("Idempotent-Replayed") is None


def test_a_refused_request_is_not_kept(alice: Client, alice_domain: str) -> None:
    taken = alias_body(alice_domain, local_part="shop")
    assert alice.post("/api/aliases", taken).status == 201
    other = alias_body("not-yet.example", local_part="shop")

    refused = alice.post("/api/aliases", other, headers={"Idempotency-Key": KEY})
    assert refused.status == 404
    assert alice.post("/api/domains", {"name": "not-yet.example"}).status == 201
    retried = alice.post("/api/aliases", other, headers={"Idempotency-Key": KEY})

    assert retried.status == 201  # the cause is fixed: the same key runs again


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é"])
def test_a_malformed_key_is_422(alice: Client, alice_domain: str, key: str) -> None:
    response = alice.post("/api/aliases", alias_body(alice_domain), headers={"Idempotency-Key": key})
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert alice.get("/api/aliases").json()["items"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/tokens", {"name": "laptop"}),
        ("/api/destinations", {"email": "new@real.example"}),
        ("/api/domains", {"name": "other.example"}),
    ],
)
def test_every_creating_post_takes_a_key(alice: Client, path: str, body: dict[str, Any]) -> None:
    first = alice.post(path, body, headers={"Idempotency-Key": KEY})
    again = alice.post(path, body, headers={"Idempotency-Key": KEY})

    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert again.header("Idempotent-Replayed") == "true"


def test_a_contact_is_created_once_and_the_key_is_per_alias(alice: Client, alice_domain: str) -> None:
    first_alias = alice.post("/api/aliases", alias_body(alice_domain)).json()["id"]
    other_alias = alice.post("/api/aliases", alias_body(alice_domain)).json()["id"]
    body = {"email": "shop@outside.example", "name": "Shop"}

    first = alice.post(f"/api/aliases/{first_alias}/contacts", body, headers={"Idempotency-Key": KEY})
    again = alice.post(f"/api/aliases/{first_alias}/contacts", body, headers={"Idempotency-Key": KEY})
    elsewhere = alice.post(f"/api/aliases/{other_alias}/contacts", body, headers={"Idempotency-Key": KEY})

    assert first.status == again.status == 201  # not a 409 "already has a contact": the first response again
    assert again.json() == first.json()
    assert again.header("Idempotent-Replayed") == "true"
    assert len(alice.get(f"/api/aliases/{first_alias}/contacts").json()["items"]) == 1
    assert elsewhere.status == 422  # the same key for another alias is another request
    assert alice.get(f"/api/aliases/{other_alias}/contacts").json()["items"] == []


def test_an_admin_creating_a_user(admin: Client) -> None:
    first = admin.post("/api/users", {"email": "new@example.org"}, headers={"Idempotency-Key": KEY})
    again = admin.post("/api/users", {"email": "new@example.org"}, headers={"Idempotency-Key": KEY})
    assert first.status == again.status == 201
    assert again.json() == first.json()


def test_a_kept_token_is_not_readable_from_the_table(alice: Client) -> None:
    created = alice.post("/api/tokens", {"name": "laptop"}, headers={"Idempotency-Key": KEY}).json()
    user_id = alice.get("/api/me").json()["id"]

    records = boto3.client("dynamodb").query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"IDEMPOTENCY#{user_id}"}},
    )["Items"]

    assert len(records) == 1
    (record,) = records
    assert record["status"] == {"S": "COMPLETED"}
    assert int(record["purge_at"]["N"]) > 0  # the table's TTL removes it
    assert created["token"] not in str(record)
    assert KEY not in str(record)
