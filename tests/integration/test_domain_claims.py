"""Who may register a domain (issue 14): only postmask's own SES identities are adopted or deleted; no public
suffix; no parent or subdomain of another user's domain; an unverified claim lapses after DomainClaimDays;
an admin removes any domain. Over moto, with SES's duplicate-identity error (local/ses.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from postmask import mail_domains, ses
from postmask.clock import now
from postmask.settings import get_settings
from postmask.store import domains
from tests.integration.conftest import new_user
from tests.integration.test_domain_setup import _ses_like_identities, identity  # noqa: F401 - an autouse fixture
from tests.support.api import Client
from tests.support.ses import ses_says

STACK_TAG = {"Key": "postmask:stack", "Value": "postmask"}  # the stack name outside Lambda: settings' default


def an_identity_postmask_did_not_create(domain: str, tags: list[dict[str, str]] | None = None) -> None:
    """The operator's own sending domain, or another stack's."""
    kwargs: dict[str, Any] = {"Tags": tags} if tags else {}
    boto3.client("sesv2").create_email_identity(EmailIdentity=domain, **kwargs)


def later(days: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let `days` pass, as far as claims lapsing is concerned."""
    moment = now() + timedelta(days=days)
    monkeypatch.setattr(mail_domains, "now", lambda: moment)


def alias_on(client: Client, domain: str, local_part: str) -> str:
    response = client.post(
        "/api/aliases", {"domain": domain, "local_part": local_part, "destinations": ["me@real.example"]}
    )
    assert response.status == 201, response.body
    alias_id: str = response.json()["id"]
    return alias_id


# --- SES identities: only postmask's own -------------------------------------------------------------------------


def test_the_identity_postmask_creates_carries_its_stacks_tag(alice: Client) -> None:
    assert alice.post("/api/domains", {"name": "alice.example"}).status == 201
    found = identity("alice.example")
    assert found is not None
    assert STACK_TAG in found["Tags"]


def test_a_domain_whose_identity_postmask_did_not_create_is_a_409_and_the_identity_stays(alice: Client) -> None:
    an_identity_postmask_did_not_create("operator.example")
    before = identity("operator.example")

    response = alice.post("/api/domains", {"name": "operator.example"})

    assert response.status == 409
    assert "did not create" in response.json()["message"]
    assert identity("operator.example") == before
    assert alice.get("/api/domains/operator.example").status == 404  # nothing registered
    assert alice.get("/api/domains").json()["items"] == []


def test_another_stacks_identity_is_not_adopted_either(alice: Client) -> None:
    an_identity_postmask_did_not_create("other.example", tags=[{"Key": "postmask:stack", "Value": "postmask-staging"}])
    assert alice.post("/api/domains", {"name": "other.example"}).status == 409


def test_deleting_a_domain_leaves_an_identity_postmask_did_not_create(alice: Client, alice_domain: str) -> None:
    # A domain registered before identities were tagged: its identity carries no tag.
    boto3.client("sesv2").untag_resource(
        ResourceArn=f"arn:aws:ses:eu-west-1:123456789012:identity/{alice_domain}", TagKeys=["postmask:stack"]
    )
    ses_backend_identity_tags(alice_domain, None)

    assert alice.delete(f"/api/domains/{alice_domain}").status == 204
    assert identity(alice_domain) is not None
    assert alice.get(f"/api/domains/{alice_domain}").status == 404


def ses_backend_identity_tags(domain: str, tags: list[dict[str, str]] | None) -> None:
    """moto keeps an identity's tags on the identity itself, apart from TagResource's: set them there."""
    from moto.ses.models import ses_backends

    ses_backends["123456789012"]["eu-west-1"].email_identities[domain].tags = tags


def test_an_identity_verified_once_is_never_taken_for_a_lapsed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """SES keeps VerificationInfo.LastSuccessTimestamp after a verified domain's records fail."""

    class _Sesv2:
        def get_email_identity(self, EmailIdentity: str) -> dict[str, Any]:
            return {
                "VerificationStatus": "FAILED",
                "VerificationInfo": {
                    "LastCheckedTimestamp": datetime(2026, 5, 2),
                    "LastSuccessTimestamp": datetime(2026, 1, 1),
                },
                "DkimAttributes": {"Tokens": ["a", "b", "c"]},
                "Tags": [STACK_TAG],
            }

    monkeypatch.setattr(ses, "client", lambda: _Sesv2())
    found = ses.get_domain_identity("once.example")
    assert found is not None
    assert (found.status, found.ever_verified, found.ours) == ("failed", True, True)


# --- public suffixes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["co.uk", "github.io", "s3.amazonaws.com", "CO.UK"])
def test_a_public_suffix_is_refused(alice: Client, name: str) -> None:
    response = alice.post("/api/domains", {"name": name})

    assert response.status == 422
    body = response.json()
    assert "public suffix" in body["message"]
    assert body["detail"][0]["loc"][:2] == ["body", "name"]
    assert identity(name.lower()) is None  # nothing was created in SES


def test_a_domain_under_a_public_suffix_is_fine(alice: Client) -> None:
    assert alice.post("/api/domains", {"name": "example.co.uk"}).status == 201
    assert alice.post("/api/domains", {"name": "alice.github.io"}).status == 201


# --- parents and subdomains ---------------------------------------------------------------------------------------


def test_a_subdomain_of_another_users_domain_is_a_409(alice: Client, bob: Client, alice_domain: str) -> None:
    response = bob.post("/api/domains", {"name": f"mail.{alice_domain}"})

    assert response.status == 409
    assert f"{alice_domain} is registered by another user" in response.json()["message"]
    assert identity(f"mail.{alice_domain}") is None  # refused before SES was asked to create anything


def test_a_parent_of_another_users_subdomain_is_a_409(alice: Client, bob: Client) -> None:
    assert alice.post("/api/domains", {"name": "mail.shared.example"}).status == 201
    response = bob.post("/api/domains", {"name": "shared.example"})
    assert response.status == 409
    assert "A subdomain of shared.example" in response.json()["message"]
    assert bob.post("/api/domains", {"name": "deep.mail.shared.example"}).status == 409


def test_your_own_parents_and_subdomains_and_other_users_siblings_are_fine(alice: Client, bob: Client) -> None:
    assert alice.post("/api/domains", {"name": "mine.example"}).status == 201
    assert alice.post("/api/domains", {"name": "mail.mine.example"}).status == 201
    assert alice.post("/api/domains", {"name": "a.family.example"}).status == 201
    assert bob.post("/api/domains", {"name": "b.family.example"}).status == 201  # neither holds the other
    again = alice.post("/api/domains", {"name": "mine.example"})
    assert again.status == 409
    assert "already" in again.json()["message"]


def test_a_registration_over_a_tree_changed_since_it_was_read_is_refused(alice: Client, bob: Client) -> None:
    alice_id, bob_id = (client.get("/api/me").json()["id"] for client in (alice, bob))
    seen = domains.read_tree("race.example")
    domains.create(alice_id, "mail.race.example", None)  # lands between bob's read and bob's write
    with pytest.raises(domains.TreeChanged):
        domains.create(bob_id, "race.example", None, tree=seen)
    # Read again, bob sees alice's subdomain.
    assert bob.post("/api/domains", {"name": "race.example"}).status == 409


# --- claims lapse -------------------------------------------------------------------------------------------------


def test_an_unverified_claim_lapses_and_the_real_owner_takes_the_domain(
    alice: Client, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice claims bob's domain, never verifies it, and makes aliases on it
    assert alice.post("/api/domains", {"name": "bobs.example"}).status == 201
    ses_says("bobs.example", "PENDING")
    squatted = alias_on(alice, "bobs.example", "info")
    assert bob.post("/api/domains", {"name": "bobs.example"}).status == 409  # not yet

    # When DomainClaimDays have passed
    later(get_settings().domain_claim_days + 0.1, monkeypatch)
    response = bob.post("/api/domains", {"name": "bobs.example"})

    # Then the domain is bob's, with the identity it already had; alice's claim and aliases are gone
    assert response.status == 201, response.body
    assert bob.get("/api/domains/bobs.example").status == 200
    assert alice.get("/api/domains/bobs.example").status == 404
    assert alice.get(f"/api/aliases/{squatted}").status == 404
    assert alias_on(bob, "bobs.example", "info")  # the address is free again
    assert identity("bobs.example") is not None


def test_a_young_claim_or_a_verified_one_does_not_lapse(
    alice: Client, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert alice.post("/api/domains", {"name": "young.example"}).status == 201
    ses_says("young.example", "PENDING")
    assert alice.post("/api/domains", {"name": "verified.example"}).status == 201
    ses_says("verified.example", "SUCCESS")

    later(get_settings().domain_claim_days - 0.5, monkeypatch)
    assert bob.post("/api/domains", {"name": "young.example"}).status == 409
    later(get_settings().domain_claim_days * 10, monkeypatch)
    assert bob.post("/api/domains", {"name": "verified.example"}).status == 409
    assert alice.get("/api/domains/verified.example").status == 200


def test_a_lapsed_subdomain_claim_goes_with_its_identity_when_the_parent_is_registered(
    alice: Client, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert alice.post("/api/domains", {"name": "mail.parent.example"}).status == 201
    ses_says("mail.parent.example", "PENDING")
    later(get_settings().domain_claim_days + 1, monkeypatch)

    assert bob.post("/api/domains", {"name": "parent.example"}).status == 201
    assert alice.get("/api/domains/mail.parent.example").status == 404
    assert identity("mail.parent.example") is None  # postmask created it: it goes with the claim
    assert bob.post("/api/domains", {"name": "mail.parent.example"}).status == 201  # bob's own subdomain now


def test_a_catch_all_on_a_lapsed_claim_the_registration_removes_is_outside_postmask_once_it_commits(
    alice: Client, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catch-all's domain is checked in the registration's transaction (no destination inside postmask),
    and that transaction deletes the lapsed claim's marker: the claim is gone once it commits, so the catch-all
    is outside postmask (and a transaction may name an item only once: no check on a marker it deletes)."""
    assert alice.post("/api/domains", {"name": "mail.parent.example"}).status == 201
    ses_says("mail.parent.example", "PENDING")
    later(get_settings().domain_claim_days + 1, monkeypatch)

    response = bob.post("/api/domains", {"name": "parent.example", "catch_all_destination": "me@mail.parent.example"})

    assert response.status == 201, response.body
    assert response.json()["catch_all_destination"] == "me@mail.parent.example"
    assert alice.get("/api/domains/mail.parent.example").status == 404


def test_a_catch_all_on_a_claim_that_has_not_lapsed_is_refused_and_registers_nothing(
    alice: Client, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert alice.post("/api/domains", {"name": "other.parent.example"}).status == 201
    assert alice.post("/api/domains", {"name": "mail.parent.example"}).status == 201
    ses_says("mail.parent.example", "PENDING")
    later(get_settings().domain_claim_days + 1, monkeypatch)  # mail.parent.example lapses; other.parent is verified

    response = bob.post(
        "/api/domains", {"name": "mail.parent.example", "catch_all_destination": "me@other.parent.example"}
    )

    assert response.status == 422, response.body
    assert "postmask" in response.json()["message"]
    assert bob.get("/api/domains/mail.parent.example").status == 404
    assert alice.get("/api/domains/mail.parent.example").status == 200  # the transaction removed nothing


def test_the_claim_period_is_the_template_parameter() -> None:
    from local import sam_template

    template = sam_template.load()
    assert template["Parameters"]["DomainClaimDays"]["Default"] == 7
    variables = template["Resources"]["DomainsCreateFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["DOMAIN_CLAIM_DAYS"] == {"Ref": "DomainClaimDays"}
    assert variables["STACK_NAME"] == {"Ref": "AWS::StackName"}


# --- admins remove domains ----------------------------------------------------------------------------------------


def test_only_an_admin_removes_another_users_domain(alice: Client, bob: Client, alice_domain: str) -> None:
    response = bob.delete(f"/api/admin/domains/{alice_domain}")
    assert response.status == 403
    assert response.json()["message"]
    assert alice.get(f"/api/domains/{alice_domain}").status == 200


def test_an_admin_removes_a_domain_with_its_aliases_and_identity(
    admin: Client, alice: Client, alice_domain: str
) -> None:
    alias_id = alias_on(alice, alice_domain, "shop")

    assert admin.delete(f"/api/admin/domains/{alice_domain}").status == 204

    assert alice.get(f"/api/domains/{alice_domain}").status == 404
    assert alice.get(f"/api/aliases/{alias_id}").status == 404
    assert identity(alice_domain) is None
    assert admin.delete(f"/api/admin/domains/{alice_domain}").status == 404
    # Anyone may register it again, its addresses free.
    assert admin.post("/api/domains", {"name": alice_domain}).status == 201
    assert alias_on(admin, alice_domain, "shop")


def test_a_domain_with_more_aliases_than_one_request_removes_takes_repeated_requests(
    admin: Client, alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        alias_on(alice, alice_domain, f"a{number}")
    monkeypatch.setattr(mail_domains, "MAX_ALIASES_REMOVED_PER_REQUEST", 2)

    first = admin.delete(f"/api/admin/domains/{alice_domain}")
    assert first.status == 409
    assert "repeat" in first.json()["message"]
    assert admin.delete(f"/api/admin/domains/{alice_domain}").status == 204
    assert alice.get("/api/aliases").json()["items"] == []


def test_an_admins_removal_leaves_an_identity_postmask_did_not_create(admin: Client, alice: Client) -> None:
    assert alice.post("/api/domains", {"name": "legacy.example"}).status == 201
    ses_backend_identity_tags("legacy.example", None)  # registered before identities were tagged

    assert admin.delete("/api/admin/domains/legacy.example").status == 204
    assert identity("legacy.example") is not None


def test_an_unknown_domain_is_a_404_for_the_admin_route(admin: Client) -> None:
    assert admin.delete("/api/admin/domains/nobody.example").status == 404
    assert new_user("carol@example.org").delete("/api/admin/domains/nobody.example").status == 403


def test_the_removal_finds_aliases_behind_pages_of_other_domains_aliases(
    admin: Client, alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postmask.store import _dynamo

    assert alice.post("/api/domains", {"name": "other.example"}).status == 201
    doomed = alias_on(alice, alice_domain, "old")
    kept = [alias_on(alice, "other.example", f"new{number}") for number in range(3)]  # newer: listed first
    monkeypatch.setattr(mail_domains, "_ALIAS_PAGE", 1)
    monkeypatch.setattr(_dynamo, "MAX_FILTERED_ROUNDS", 1)  # a page of none of alice_domain's, with more to come

    assert admin.delete(f"/api/admin/domains/{alice_domain}").status == 204
    assert alice.get(f"/api/aliases/{doomed}").status == 404
    assert all(alice.get(f"/api/aliases/{alias_id}").status == 200 for alias_id in kept)
