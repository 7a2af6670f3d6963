"""The destinations API as the contract writes it: create, list, get, resend, delete, the public verify route,
per-user ownership, and the use counts aliases and catch-alls keep on them."""

from __future__ import annotations

import hashlib
import logging
import quopri
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from postmask import clock, ses
from postmask.settings import get_settings
from postmask.store import destinations
from tests.support.api import Client, invoke
from tests.support.destinations import link_secret
from tests.support.ses import SesRecorder, ses_says

ME = "me@real.example"


def add(client: Client, email: str = ME) -> dict[str, Any]:
    response = client.post("/api/destinations", {"email": email})
    assert response.status == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def secret_mailed_to(mail: SesRecorder, email: str) -> str:
    return link_secret(mail.system_to(email)[-1].raw)


def verify(secret: str) -> Any:
    return invoke("POST", "/api/destinations/verify", body={"token": secret})


def later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Move postmask's clock forward by `delta` (no sleeping): the destinations' and the link limits'."""
    from postmask.store import link_limits

    moment = clock.now() + delta
    monkeypatch.setattr(destinations, "now", lambda: moment)
    monkeypatch.setattr(link_limits, "now", lambda: moment)


# An address is sent one link per 10 minutes, whoever asks (issue 25): a resend waits this long after the last.
LINK_INTERVAL = timedelta(minutes=10, seconds=1)


# --- creating, and the link ---------------------------------------------------------------------------------


def test_a_new_destination_is_pending_and_its_link_is_mailed(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    response = alice.post("/api/destinations", {"email": ME})

    assert response.status == 201
    created = response.json()
    assert response.header("Location") == f"/api/destinations/{created['id']}"
    assert {key: created[key] for key in ("email", "status", "suspended_reason", "verified_at", "alias_count")} == {
        "email": ME,
        "status": "pending",
        "suspended_reason": None,
        "verified_at": None,
        "alias_count": 0,
    }
    (sent,) = mail.system_to(ME)
    assert sent.sender == f"postmask@{alice_domain}"
    assert sent.tags == {"postmask-user": alice.get("/api/me").json()["id"], "postmask-mail": "verify_destination"}
    # The link starts with the API's own URL (the request's host): PublicUrl is not set.
    assert b"https://api.test/verify#" in quopri.decodestring(sent.raw)
    assert len(secret_mailed_to(mail, ME)) >= 43  # 256 random bits, URL-safe base64


def test_opening_the_link_verifies_it_and_opening_it_again_is_harmless(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    created = add(alice)
    secret = secret_mailed_to(mail, ME)

    first = verify(secret)
    again = verify(secret)

    assert (first.status, first.json()) == (200, {"email": ME, "status": "verified"})
    assert (again.status, again.json()) == (200, {"email": ME, "status": "verified"})
    shown = alice.get(f"/api/destinations/{created['id']}").json()
    assert shown["status"] == "verified"
    assert shown["verified_at"] is not None


def test_the_verify_route_is_public_and_says_nothing_about_an_unknown_or_expired_link(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(alice)
    secret = secret_mailed_to(mail, ME)

    unknown = verify("x" * 43)
    later(monkeypatch, timedelta(days=7, seconds=1))
    expired = verify(secret)

    assert unknown.status == 404
    assert expired.status == 410
    for response in (unknown, expired):
        assert set(response.json()) == {"message"}
        assert ME not in response.body.decode()
    assert alice.get("/api/destinations").json()["items"][0]["status"] == "pending"


def test_a_used_link_keeps_answering_verified_after_it_expired(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(alice)
    secret = secret_mailed_to(mail, ME)
    assert verify(secret).status == 200
    later(monkeypatch, timedelta(days=30))
    assert verify(secret).json() == {"email": ME, "status": "verified"}


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "x" * 513}, {"token": 5}, {"token": "x", "extra": 1}])
def test_a_malformed_verify_body_is_a_422(table: str, body: dict[str, Any]) -> None:
    response = verify_raw(body)
    assert response.status == 422
    assert response.json()["message"]


def verify_raw(body: dict[str, Any]) -> Any:
    return invoke("POST", "/api/destinations/verify", body=body)


def test_having_the_address_already_is_a_409_whatever_its_case(alice: Client, mail: SesRecorder) -> None:
    add(alice)
    response = alice.post("/api/destinations", {"email": "Me@REAL.example"})
    assert response.status == 409
    assert response.json()["message"] == "You already have this destination"


@pytest.mark.parametrize("body", [{"email": "not-an-address"}, {}, {"email": ME, "note": "x"}])
def test_an_invalid_destination_is_a_422(alice: Client, body: dict[str, Any]) -> None:
    assert alice.post("/api/destinations", body).status == 422


# --- ownership ----------------------------------------------------------------------------------------------


def test_two_users_verify_the_same_address_each_for_themselves(
    alice: Client, bob: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    add(alice)
    alices_secret = secret_mailed_to(mail, ME)
    later(monkeypatch, LINK_INTERVAL)  # one link per 10 minutes to an address, whoever asks
    add(bob)

    assert verify(alices_secret).status == 200

    assert [d["status"] for d in alice.get("/api/destinations").json()["items"]] == ["verified"]
    assert [d["status"] for d in bob.get("/api/destinations").json()["items"]] == ["pending"]
    assert mail.system_to(ME)[-1].sender == "postmask@bob.example"  # each from their own domain


def test_another_users_destination_is_not_found(alice: Client, bob: Client, mail: SesRecorder) -> None:
    created = add(alice)
    path = f"/api/destinations/{created['id']}"
    assert bob.get(path).status == 404
    assert bob.post(f"{path}/resend").status == 404
    assert bob.delete(path).status == 404
    assert bob.get("/api/destinations").json() == {"items": [], "next_token": None}
    assert alice.get(path).status == 200


def test_the_list_pages_and_filters_by_status(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    for number in range(5):
        add(alice, f"box{number}@real.example")
    assert verify(secret_mailed_to(mail, "box3@real.example")).status == 200

    first = alice.get("/api/destinations", query={"limit": 3}).json()
    rest = alice.get("/api/destinations", query={"limit": 3, "next_token": first["next_token"]}).json()
    verified = alice.get("/api/destinations", query={"status": "verified"}).json()

    assert len(first["items"]) == 3
    assert rest["next_token"] is None
    assert sorted(d["email"] for d in first["items"] + rest["items"]) == [f"box{n}@real.example" for n in range(5)]
    assert [d["email"] for d in verified["items"]] == ["box3@real.example"]
    assert alice.get("/api/destinations", query={"status": "gone"}).status == 422
    assert alice.get("/api/destinations", query={"next_token": "garbage"}).status == 400


# --- resending ----------------------------------------------------------------------------------------------


def test_resend_mails_a_new_link_and_the_old_one_stops_working(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = add(alice)
    old = secret_mailed_to(mail, ME)
    later(monkeypatch, LINK_INTERVAL)

    response = alice.post(f"/api/destinations/{created['id']}/resend")

    assert response.status == 202
    assert response.json()["status"] == "pending"
    new = secret_mailed_to(mail, ME)
    assert new != old
    assert verify(old).status == 404
    assert verify(new).status == 200
    assert alice.post(f"/api/destinations/{created['id']}/resend").status == 409  # verified now


def test_a_resend_within_10_minutes_of_the_last_link_is_a_429(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = add(alice)
    path = f"/api/destinations/{created['id']}/resend"

    right_after = alice.post(path)  # the creation's link was mailed just now
    later(monkeypatch, LINK_INTERVAL)
    first = alice.post(path)
    too_soon = alice.post(path)

    assert (right_after.status, first.status, too_soon.status) == (429, 202, 429)
    assert 1 <= int(too_soon.header("Retry-After") or 0) <= 600
    assert too_soon.json()["message"]
    assert len(mail.system_to(ME)) == 2  # the creation's link and one resend, not the refused ones


def test_without_a_verified_domain_creating_succeeds_and_resend_says_what_to_do(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ses_says(alice_domain, "PENDING")
    created = add(alice)
    assert created["status"] == "pending"
    assert mail.system == []

    later(monkeypatch, timedelta(minutes=2))
    response = alice.post(f"/api/destinations/{created['id']}/resend")

    assert response.status == 409
    assert "SenderAddress" in response.json()["message"]
    assert "verified" in response.json()["message"]
    assert mail.system == []
    # Nothing changed: once the domain is verified, the resend works at once.
    ses_says(alice_domain, "SUCCESS")
    ses.forget_verifications()
    assert alice.post(f"/api/destinations/{created['id']}/resend").status == 202
    assert len(mail.system_to(ME)) == 1


def test_a_refusal_by_ses_is_a_409_that_says_so(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = add(alice)
    later(monkeypatch, LINK_INTERVAL)
    mail.fail_next(400, "MessageRejected", "Email address is not verified.")
    response = alice.post(f"/api/destinations/{created['id']}/resend")
    assert response.status == 409
    assert "sandbox" in response.json()["message"]


# --- use by aliases and catch-alls -----------------------------------------------------------------------------


def counts(client: Client) -> dict[str, int]:
    return {d["email"]: d["alias_count"] for d in client.get("/api/destinations").json()["items"]}


def test_aliases_create_their_new_destinations_and_count_every_use(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    created = alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["a@real.example", "b@real.example"]})
    assert created.status == 201
    alias = created.json()
    assert {d["email"]: d["status"] for d in alice.get("/api/destinations").json()["items"]} == {
        "a@real.example": "pending",
        "b@real.example": "pending",
    }
    assert sorted(m.destinations[0] for m in mail.system) == ["a@real.example", "b@real.example"]
    second = alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["A@real.example"]})
    assert second.status == 201
    assert counts(alice) == {"a@real.example": 2, "b@real.example": 1}
    assert len(mail.system) == 2  # an address the user has already gets no second link

    patched = alice.patch(f"/api/aliases/{alias['id']}", {"destinations": ["b@real.example", "c@real.example"]})
    assert patched.status == 200
    assert counts(alice) == {"a@real.example": 1, "b@real.example": 1, "c@real.example": 1}
    assert [m.destinations for m in mail.system[2:]] == [["c@real.example"]]

    replaced = {"destinations": ["c@real.example"], "note": "", "enabled": True, "expires_at": None}
    assert alice.put(f"/api/aliases/{alias['id']}", replaced).status == 204
    assert counts(alice) == {"a@real.example": 1, "b@real.example": 0, "c@real.example": 1}

    assert alice.patch(f"/api/aliases/{alias['id']}", {"note": "no change of destinations"}).status == 200
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204
    assert alice.delete(f"/api/aliases/{second.json()['id']}").status == 204
    assert counts(alice) == {"a@real.example": 0, "b@real.example": 0, "c@real.example": 0}


def test_a_destination_in_use_cannot_be_deleted(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    alias = alice.post("/api/aliases", {"domain": alice_domain, "destinations": [ME]}).json()
    destination = alice.get("/api/destinations").json()["items"][0]
    path = f"/api/destinations/{destination['id']}"

    in_use = alice.delete(path)
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204
    deleted = alice.delete(path)

    assert in_use.status == 409
    assert "1 alias" in in_use.json()["message"]
    assert deleted.status == 204
    assert alice.get(path).status == 404
    assert alice.delete(path).status == 404


def test_a_catch_all_creates_and_uses_its_destination(alice: Client, mail: SesRecorder) -> None:
    assert alice.post("/api/domains", {"name": "alice.example", "catch_all_destination": ME}).status == 201
    (destination,) = alice.get("/api/destinations").json()["items"]
    assert destination["status"] == "pending"
    assert [m.destinations for m in mail.system] == [[ME]]
    path = f"/api/destinations/{destination['id']}"

    assert "catch-all" in alice.delete(path).json()["message"]
    assert alice.patch("/api/domains/alice.example", {"catch_all_destination": "other@real.example"}).status == 200
    assert alice.delete(path).status == 204  # no longer the catch-all
    other = next(d for d in alice.get("/api/destinations").json()["items"] if d["email"] == "other@real.example")
    assert alice.delete(f"/api/destinations/{other['id']}").status == 409
    assert alice.delete("/api/domains/alice.example").status == 204
    assert alice.delete(f"/api/destinations/{other['id']}").status == 204


def test_creating_an_alias_succeeds_when_no_link_can_be_mailed_yet(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    ses_says(alice_domain, "PENDING")
    response = alice.post("/api/aliases", {"domain": alice_domain, "destinations": [ME]})
    assert response.status == 201
    assert [d["status"] for d in alice.get("/api/destinations").json()["items"]] == ["pending"]
    assert mail.system == []


def test_a_suspended_destination_is_revived_by_a_new_link_and_not_by_its_old_one(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = add(alice)
    first = secret_mailed_to(mail, ME)
    assert verify(first).status == 200
    user_id = alice.get("/api/me").json()["id"]

    assert destinations.suspend(user_id, "ME@real.example", "Hard bounce (General): 550 5.1.1 user unknown")

    suspended = alice.get(f"/api/destinations/{created['id']}").json()
    assert (suspended["status"], suspended["suspended_reason"]) == (
        "suspended",
        "Hard bounce (General): 550 5.1.1 user unknown",
    )
    assert verify(first).status == 404  # the old link proves nothing about the mailbox now
    later(monkeypatch, LINK_INTERVAL)
    assert alice.post(f"/api/destinations/{created['id']}/resend").status == 202
    assert verify(secret_mailed_to(mail, ME)).json() == {"email": ME, "status": "verified"}
    revived = alice.get(f"/api/destinations/{created['id']}").json()
    assert (revived["status"], revived["suspended_reason"]) == ("verified", None)
    assert datetime.fromisoformat(revived["verified_at"]) > datetime.fromisoformat(suspended["verified_at"])


def test_no_secret_of_a_link_is_ever_logged(
    alice: Client,
    alice_domain: str,
    mail: SesRecorder,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="postmask")
    created = add(alice)
    alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["other@real.example"]})
    later(monkeypatch, LINK_INTERVAL)
    alice.post(f"/api/destinations/{created['id']}/resend")
    secrets = [link_secret(sent.raw) for sent in mail.system]
    verify(secrets[-1])
    verify(secrets[0])  # replaced by the resend: refused
    verify(secrets[-1][:-1] + "A")  # unknown

    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert logged.count("verification link sent") == 3, "the flow logged nothing: this test would prove nothing"
    assert len(secrets) == 3
    for secret in secrets:
        assert secret not in logged
        assert hashlib.sha256(secret.encode()).hexdigest() not in logged


# --- domains going away for other reasons (issue 14): their destinations' counts follow ----------------------------


def test_a_lapsed_claim_that_goes_counts_off_its_catch_all_and_its_aliases(
    alice: Client, bob: Client, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postmask import mail_domains

    assert alice.post("/api/domains", {"name": "lapse.example", "catch_all_destination": ME}).status == 201
    assert alice.post("/api/aliases", {"domain": "lapse.example", "destinations": [ME]}).status == 201
    (mine,) = alice.get("/api/destinations").json()["items"]
    assert "1 alias" in alice.delete(f"/api/destinations/{mine['id']}").json()["message"]
    ses_says("lapse.example", "PENDING")  # never verified
    moment = clock.now() + timedelta(days=get_settings().domain_claim_days + 1)
    monkeypatch.setattr(mail_domains, "now", lambda: moment)

    assert bob.post("/api/domains", {"name": "lapse.example"}).status == 201  # alice's claim lapsed: it goes

    assert alice.get(f"/api/destinations/{mine['id']}").json()["alias_count"] == 0
    assert alice.delete(f"/api/destinations/{mine['id']}").status == 204  # no alias, no catch-all uses it now


def test_an_admins_removal_of_a_domain_counts_off_its_catch_all_and_its_aliases(
    admin: Client, alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    assert alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": ME}).status == 200
    assert alice.post("/api/aliases", {"domain": alice_domain, "destinations": [ME, "b@real.example"]}).status == 201
    assert counts(alice) == {ME: 1, "b@real.example": 1}

    assert admin.delete(f"/api/admin/domains/{alice_domain}").status == 204

    assert counts(alice) == {ME: 0, "b@real.example": 0}
    for destination in alice.get("/api/destinations").json()["items"]:
        assert alice.delete(f"/api/destinations/{destination['id']}").status == 204


# --- issue 25 item 5: nobody makes postmask mail a stranger without limit ----------------------------------------


def retry_after(response: Any) -> int:
    assert response.status == 429, response.body
    assert response.json()["message"]
    return int(response.header("Retry-After"))


def test_an_address_gets_one_link_per_10_minutes_whoever_asks_and_the_destination_is_still_created(
    alice: Client, bob: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    created = add(alice, "victim@outside.example")
    assert alice.delete(f"/api/destinations/{created['id']}").status == 204

    again = alice.post("/api/destinations", {"email": "victim@outside.example"})
    by_bob = bob.post("/api/destinations", {"email": "Victim@Outside.Example"})

    assert 590 <= retry_after(again) <= 600
    assert 590 <= retry_after(by_bob) <= 600
    assert "resend" in again.json()["message"]
    (pending,) = bob.get("/api/destinations").json()["items"]  # created, its link not mailed
    assert pending["status"] == "pending"
    assert len(mail.system_to("victim@outside.example")) + len(mail.system_to("Victim@Outside.Example")) == 1
    resent_too_soon = bob.post(f"/api/destinations/{pending['id']}/resend")
    assert retry_after(resent_too_soon) > 0
    later(monkeypatch, LINK_INTERVAL)
    assert bob.post(f"/api/destinations/{pending['id']}/resend").status == 202
    assert [sent.destinations for sent in mail.system] == [["victim@outside.example"], ["Victim@outside.example"]]


def test_an_address_gets_at_most_five_links_a_day(
    alice: Client, alice_domain: str, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postmask.store import link_limits

    base = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    def at(moment: datetime) -> None:
        monkeypatch.setattr(destinations, "now", lambda: moment)
        monkeypatch.setattr(link_limits, "now", lambda: moment)

    at(base)
    created = add(alice, "victim@outside.example")  # the first link
    path = f"/api/destinations/{created['id']}/resend"
    answers = []
    for step in range(1, 6):
        at(base + timedelta(minutes=11 * step))
        answers.append(alice.post(path))

    assert [answer.status for answer in answers] == [202, 202, 202, 202, 429]
    assert retry_after(answers[-1]) == (datetime(2026, 12, 8, tzinfo=UTC) - (base + timedelta(minutes=55))).seconds
    assert len(mail.system_to("victim@outside.example")) == 5


def test_a_user_adds_at_most_20_new_destinations_a_day(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    for number in range(20):
        add(alice, f"box{number}@outside.example")

    refused = alice.post("/api/destinations", {"email": "box20@outside.example"})
    by_alias = alice.post(
        "/api/aliases", {"domain": alice_domain, "local_part": "shop", "destinations": ["box21@outside.example"]}
    )

    assert retry_after(refused) > 0
    assert retry_after(by_alias) > 0
    listed = alice.get("/api/destinations", query={"limit": "100"})
    assert len(listed.json()["items"]) == 20, listed.body  # nothing created past the limit
    assert alice.get("/api/aliases").json()["items"] == []
    # An alias naming destinations the user has is no new destination.
    assert (
        alice.post(
            "/api/aliases", {"domain": alice_domain, "local_part": "shop", "destinations": ["box1@outside.example"]}
        ).status
        == 201
    )
