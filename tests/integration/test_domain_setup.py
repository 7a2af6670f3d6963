"""Domain setup over moto: the SES identity follows the domain, its DNS records are complete, its verification
is SES's current word, and the forwarder sends only from a verified domain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.ses import emulate_ses
from postmask import ses
from postmask.settings import get_settings
from postmask.store import domains
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import mail_from_says, ses_says

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
    inbound, mail_from = by_type["MX"]
    inbound_value = "inbound-smtp.eu-west-1.amazonaws.com"
    assert inbound == {**inbound, "name": "alice.example", "value": inbound_value, "priority": 10}
    assert "status" not in inbound  # SES checks nothing on the inbound MX
    # The custom MAIL FROM: its MX to SES's feedback servers in the region, and its SPF (decision 0085).
    assert mail_from == {
        **mail_from,
        "name": "bounce.alice.example",
        "value": "feedback-smtp.eu-west-1.amazonses.com",
        "priority": 10,
        "status": "pending",  # just set: SES has not looked for it yet
    }
    spf, dmarc = by_type["TXT"]
    assert (spf["name"], spf["value"]) == ("bounce.alice.example", "v=spf1 include:amazonses.com ~all")
    assert "status" not in spf  # SES checks only the MX of the MAIL FROM domain
    assert (dmarc["name"], dmarc["value"]) == ("_dmarc.alice.example", "v=DMARC1; p=none")
    assert "recommended" in dmarc["purpose"]
    assert "status" not in dmarc
    cnames = by_type["CNAME"]
    assert len(cnames) == 3
    assert [(r["name"], r["value"], r["status"]) for r in cnames] == [
        (f"{token}._domainkey.alice.example", f"{token}.dkim.amazonses.com", "pending") for token in tokens
    ]
    assert all(TOKEN.match(token) for token in tokens)
    # SES has the MAIL FROM domain, falling back to its own when the MX is missing: mail never stops for it.
    assert ses_identity["MailFromAttributes"] == {
        **ses_identity["MailFromAttributes"],
        "MailFromDomain": "bounce.alice.example",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    # The same records on every read, without asking SES for them again; only their statuses are SES's word
    # (locally the identity is verified, and its MAIL FROM found, at once).
    verified = [{**r, "status": "verified"} if "status" in r else r for r in records]
    assert alice.get("/api/domains/alice.example").json()["dns_records"] == verified
    # A page: ListEmailIdentities says nothing of the MAIL FROM, so its MX has no status there.
    listed = alice.get("/api/domains").json()["items"][0]["dns_records"]
    bounce = "bounce.alice.example"
    assert listed == [{k: v for k, v in r.items() if k != "status"} if r["name"] == bounce else r for r in verified]


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


def mail_from_records(domain: dict[str, Any]) -> list[dict[str, Any]]:
    """The custom MAIL FROM's MX and SPF records of a domain as the API shows it."""
    return [record for record in domain["dns_records"] if record["name"] == f"bounce.{domain['name']}"]


def test_the_mail_from_status_follows_what_ses_says_of_its_mx(alice: Client, alice_domain: str) -> None:
    for ses_status, shown in [
        ("PENDING", "pending"),
        ("TEMPORARY_FAILURE", "pending"),  # SES could not tell: it looks again
        ("SUCCESS", "verified"),
        ("FAILED", "failed"),
    ]:
        mail_from_says(alice_domain, ses_status)
        domain = alice.get(f"/api/domains/{alice_domain}").json()
        mx, spf = mail_from_records(domain)
        assert (mx["type"], mx["status"]) == ("MX", shown), ses_status
        assert spf["type"] == "TXT"
        assert "status" not in spf  # SES checks the MX only
        # The domain's own verification is its DKIM records': the MAIL FROM never holds it back.
        assert domain["verification"] == {"status": "verified"}
        assert {r["status"] for r in domain["dns_records"] if r["type"] == "CNAME"} == {"verified"}
        # A page knows no MAIL FROM status (ListEmailIdentities has none): none rather than a stale one.
        (listed,) = alice.get("/api/domains").json()["items"]
        assert all("status" not in record for record in mail_from_records(listed))


def test_a_domain_whose_mail_from_ses_refused_is_registered_with_its_records_and_no_status(
    alice: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(domain: str, mail_from_domain: str) -> None:
        error = {"Error": {"Code": "BadRequestException", "Message": "no"}}
        raise ClientError(error, "PutEmailIdentityMailFromAttributes")  # type: ignore[arg-type]

    monkeypatch.setattr(ses, "set_mail_from", refuse)

    response = alice.post("/api/domains", {"name": "alice.example"})

    assert response.status == 201  # the domain works without it: SES sends from its own MAIL FROM
    assert any("did not take the custom MAIL FROM" in record.getMessage() for record in caplog.records)
    domain = response.json()
    assert mail_from_records(domain) == []  # nothing to publish for a MAIL FROM SES does not have
    assert "MailFromAttributes" not in (identity("alice.example") or {})


def test_the_mail_from_subdomain_is_the_stacks_setting(alice: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_FROM_SUBDOMAIN", "mail")
    get_settings.cache_clear()

    domain = alice.post("/api/domains", {"name": "alice.example"}).json()

    assert [r["name"] for r in domain["dns_records"] if r["name"].endswith(".alice.example")][-3:] == [
        "mail.alice.example",
        "mail.alice.example",
        "_dmarc.alice.example",
    ]
    assert identity("alice.example")["MailFromAttributes"]["MailFromDomain"] == "mail.alice.example"  # type: ignore[index]
    get_settings.cache_clear()


def dmarc(domain: dict[str, Any]) -> dict[str, Any]:
    (record,) = [r for r in domain["dns_records"] if r["name"] == f"_dmarc.{domain['name']}"]
    return record


def test_the_dmarc_record_names_the_report_address_the_owner_gives(alice: Client) -> None:
    created = alice.post(
        "/api/domains", {"name": "alice.example", "dmarc_report_address": "Reports@Alice.Example"}
    ).json()
    assert created["dmarc_report_address"] == "Reports@alice.example"
    assert dmarc(created)["value"] == "v=DMARC1; p=none; rua=mailto:Reports@alice.example"
    assert "Reports@alice.example" in dmarc(created)["purpose"]

    # PATCH changes only what it names: the catch-all stays, and so does the report address.
    alice.patch("/api/domains/alice.example", {"catch_all_destination": "me@real.example"})
    patched = alice.patch("/api/domains/alice.example", {"dmarc_report_address": "dmarc+alice@reports.example"})
    assert patched.status == 200
    assert patched.json()["catch_all_destination"] == "me@real.example"
    assert dmarc(patched.json())["value"] == "v=DMARC1; p=none; rua=mailto:dmarc+alice@reports.example"
    assert alice.get("/api/domains/alice.example").json()["dmarc_report_address"] == "dmarc+alice@reports.example"
    assert alice.get("/api/domains").json()["items"][0]["dmarc_report_address"] == "dmarc+alice@reports.example"

    # `!` and `,` would cut the DMARC URI list short (RFC 7489 6.4): escaped.
    odd = alice.patch("/api/domains/alice.example", {"dmarc_report_address": "a!b@reports.example"}).json()
    assert dmarc(odd)["value"] == "v=DMARC1; p=none; rua=mailto:a%21b@reports.example"

    cleared = alice.patch("/api/domains/alice.example", {"dmarc_report_address": None}).json()
    assert (cleared["dmarc_report_address"], dmarc(cleared)["value"]) == (None, "v=DMARC1; p=none")
    assert cleared["catch_all_destination"] == "me@real.example"


def test_a_bad_report_address_or_an_empty_patch_is_a_422(alice: Client, alice_domain: str) -> None:
    bad = alice.patch(f"/api/domains/{alice_domain}", {"dmarc_report_address": "reports; p=reject"})
    assert bad.status == 422
    assert [error["loc"] for error in bad.json()["detail"]] == [["body", "dmarc_report_address"]]
    assert alice.post("/api/domains", {"name": "b.example", "dmarc_report_address": "nope"}).status == 422
    empty = alice.patch(f"/api/domains/{alice_domain}", {})
    assert empty.status == 422
    assert empty.json()["message"]
    assert dmarc(alice.get(f"/api/domains/{alice_domain}").json())["value"] == "v=DMARC1; p=none"


def test_a_mail_from_domain_cannot_be_registered_to_receive_mail(alice: Client, alice_domain: str) -> None:
    # SES: a MAIL FROM domain receives no mail; a registered domain's MX would send its mail to SES
    refused = alice.post("/api/domains", {"name": f"bounce.{alice_domain}"})
    assert refused.status == 409
    assert "MAIL FROM" in refused.json()["message"]
    assert alice.post("/api/domains", {"name": f"shop.{alice_domain}"}).status == 201  # any other subdomain
    # nor a domain whose MAIL FROM domain is registered already
    assert alice.post("/api/domains", {"name": "bounce.other.example"}).status == 201
    assert alice.post("/api/domains", {"name": "other.example"}).status == 409
