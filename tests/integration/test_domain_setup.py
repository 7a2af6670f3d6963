"""Domain setup over moto: the SES identity follows the domain, its DNS records are complete, its verification
is SES's current word, and the forwarder sends only from a verified domain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.ses import emulate_ses
from postmask import ses
from postmask.store import domains
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import ses_says

TOKEN = re.compile(r"^[a-z0-9]{32}$")


@pytest.fixture(autouse=True)
def _ses_like_identities() -> Iterator[None]:
    emulate_ses()
    ses.client.cache_clear()
    ses.forget_verifications()
    yield
    ses.forget_verifications()


def identity(domain: str) -> dict[str, Any] | None:
    """SES's identity for the domain, without the response metadata; None when there is none."""
    client = boto3.client("sesv2")
    try:
        found: dict[str, Any] = client.get_email_identity(EmailIdentity=domain)
    except client.exceptions.NotFoundException:
        return None
    found.pop("ResponseMetadata", None)
    return found


def test_registering_a_domain_creates_its_ses_identity_and_lists_every_record(alice: Client) -> None:
    response = alice.post("/api/domains", {"name": "Alice.Example"})

    assert response.status == 201
    domain = response.json()
    assert domain["verification"] == {"status": "pending"}  # SES has not seen the DKIM records yet
    ses_identity = identity("alice.example")
    assert ses_identity is not None
    assert ses_identity["IdentityType"] == "DOMAIN"
    tokens = ses_identity["DkimAttributes"]["Tokens"]

    records = domain["dns_records"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_type.setdefault(record["type"], []).append(record)
        assert record["purpose"].strip(), "every record says what it is for"
        assert ("priority" in record) == (record["type"] == "MX")
    (mx,) = by_type["MX"]
    assert mx == {**mx, "name": "alice.example", "value": "inbound-smtp.eu-west-1.amazonaws.com", "priority": 10}
    spf, dmarc = sorted(by_type["TXT"], key=lambda record: record["name"])[::-1]
    assert (spf["name"], spf["value"]) == ("alice.example", "v=spf1 include:amazonses.com ~all")
    assert dmarc["name"] == "_dmarc.alice.example"
    assert dmarc["value"].startswith("v=DMARC1; p=")
    cnames = by_type["CNAME"]
    assert len(cnames) == 3
    assert [(r["name"], r["value"]) for r in cnames] == [
        (f"{token}._domainkey.alice.example", f"{token}.dkim.amazonses.com") for token in tokens
    ]
    assert all(TOKEN.match(token) for token in tokens)
    # The same records on every read, without asking SES for them again.
    assert alice.get("/api/domains/alice.example").json()["dns_records"] == records
    assert alice.get("/api/domains").json()["items"][0]["dns_records"] == records


def test_verification_follows_what_ses_says(alice: Client, alice_domain: str) -> None:
    ses_says(alice_domain, "PENDING")
    assert alice.get(f"/api/domains/{alice_domain}").json()["verification"] == {"status": "pending"}
    assert alice.get("/api/domains").json()["items"][0]["verification"] == {"status": "pending"}

    ses_says(alice_domain, "SUCCESS")
    assert alice.get(f"/api/domains/{alice_domain}").json()["verification"] == {"status": "verified"}
    assert alice.get("/api/domains").json()["items"][0]["verification"] == {"status": "verified"}
    patched = alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": None}).json()
    assert patched["verification"] == {"status": "verified"}

    ses_says(alice_domain, "FAILED")
    assert alice.get(f"/api/domains/{alice_domain}").json()["verification"] == {"status": "failed"}


def test_deleting_the_domain_deletes_its_identity(alice: Client, alice_domain: str) -> None:
    assert identity(alice_domain) is not None
    assert alice.delete(f"/api/domains/{alice_domain}").status == 204
    assert identity(alice_domain) is None


def test_a_domain_with_aliases_keeps_its_identity(alice: Client, alice_domain: str) -> None:
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    assert alice.delete(f"/api/domains/{alice_domain}").status == 409
    assert identity(alice_domain) is not None


def test_someone_elses_domain_is_a_409_and_its_identity_stays(alice: Client, bob: Client, alice_domain: str) -> None:
    before = identity(alice_domain)
    assert bob.post("/api/domains", {"name": alice_domain}).status == 409
    assert identity(alice_domain) == before
    assert bob.delete(f"/api/domains/{alice_domain}").status == 404
    assert identity(alice_domain) is not None


def test_registering_again_after_a_delete_reuses_a_leftover_identity(alice: Client, alice_domain: str) -> None:
    # An identity left behind (say, its deletion failed): registering the domain again adopts it.
    tokens = identity(alice_domain)["DkimAttributes"]["Tokens"]  # type: ignore[index]
    domains.delete(alice.get("/api/me").json()["id"], alice_domain)  # the table's records go, not the identity
    again = alice.post("/api/domains", {"name": alice_domain})
    assert again.status == 201
    assert [r["value"] for r in again.json()["dns_records"] if r["type"] == "CNAME"] == [
        f"{token}.dkim.amazonses.com" for token in tokens
    ]


def test_an_identity_deleted_outside_postmask_shows_as_failed(alice: Client, alice_domain: str) -> None:
    boto3.client("sesv2").delete_email_identity(EmailIdentity=alice_domain)
    assert alice.get(f"/api/domains/{alice_domain}").json()["verification"] == {"status": "failed"}
    assert alice.get("/api/domains").json()["items"][0]["verification"] == {"status": "failed"}
