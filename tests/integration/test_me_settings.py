"""PATCH /api/me: where aliases made without a domain or destinations go, and how random local parts look."""

from __future__ import annotations

import re
from typing import Any

import pytest

from postmask import ids
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of

WORDS = re.compile(r"^([a-z]{3,8})\.([a-z]{3,8})([0-9]{3})$")


def test_me_shows_the_defaults_of_a_new_user(alice: Client) -> None:
    me = alice.get("/api/me").json()

    assert me["default_alias_domain"] is None
    assert me["default_alias_destinations"] is None
    assert me["alias_style"] == "random"


def test_settings_are_stored_shown_and_cleared(alice: Client, alice_domain: str) -> None:
    verify_destinations_of(alice, ["me@mailbox.example", "work@mailbox.example"])

    changed = alice.patch(
        "/api/me",
        {
            "default_alias_domain": "ALICE.example",
            "default_alias_destinations": ["work@mailbox.example", "Me@mailbox.example"],
            "alias_style": "words",
        },
    )

    assert changed.status == 200, changed.body
    assert changed.json() == alice.get("/api/me").json()
    assert changed.json()["default_alias_domain"] == "alice.example"
    assert changed.json()["default_alias_destinations"] == ["work@mailbox.example", "Me@mailbox.example"]
    assert changed.json()["alias_style"] == "words"

    # A field left out keeps its value; null clears a default.
    cleared = alice.patch("/api/me", {"default_alias_destinations": None})
    assert cleared.status == 200
    assert cleared.json()["default_alias_destinations"] is None
    assert cleared.json()["default_alias_domain"] == "alice.example"
    assert cleared.json()["alias_style"] == "words"
    assert alice.patch("/api/me", {"default_alias_domain": None}).json()["default_alias_domain"] is None
    assert alice.patch("/api/me", {}).json() == alice.get("/api/me").json()


def test_the_default_domain_must_be_one_of_yours(alice: Client, bob: Client, alice_domain: str) -> None:
    bob_domain = bob.post("/api/domains", {"name": "bob.example"})
    assert bob_domain.status == 201

    for name in ("bob.example", "nobody.example"):
        response = alice.patch("/api/me", {"default_alias_domain": name})
        assert response.status == 422
        assert response.json()["detail"][0]["loc"] == ["body", "default_alias_domain"]
        assert f"{name} is not one of your domains" in response.json()["message"]
    assert alice.get("/api/me").json()["default_alias_domain"] is None


def test_an_unverified_domain_is_refused(alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from postmask import ses

    pending = ses.DomainIdentity("pending", ())
    monkeypatch.setattr(ses, "get_domain_identity", lambda name: pending)

    response = alice.patch("/api/me", {"default_alias_domain": alice_domain})

    assert response.status == 422
    assert "not verified yet" in response.json()["message"]


def test_default_destinations_must_be_yours(alice: Client, bob: Client) -> None:
    verify_destinations_of(bob, ["bob@mailbox.example"])
    verify_destinations_of(alice, ["me@mailbox.example"])

    response = alice.patch("/api/me", {"default_alias_destinations": ["me@mailbox.example", "bob@mailbox.example"]})

    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["body", "default_alias_destinations", 1]
    assert "bob@mailbox.example is not one of your destinations" in response.json()["message"]
    assert alice.get("/api/me").json()["default_alias_destinations"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"alias_style": None},
        {"alias_style": "emoji"},
        {"default_alias_destinations": []},
        {"default_alias_destinations": ["not an address"]},
        {"default_alias_destinations": [f"d{n}@mailbox.example" for n in range(11)]},
        {"default_alias_domain": "not a domain"},
        {"is_admin": True},
        {"email": "someone@else.example"},
    ],
)
def test_invalid_settings_are_422_and_change_nothing(alice: Client, body: dict[str, Any]) -> None:
    before = alice.get("/api/me").json()

    response = alice.patch("/api/me", body)

    assert response.status == 422
    assert response.json()["message"]
    assert alice.get("/api/me").json() == before


def test_settings_are_the_callers_own(alice: Client, bob: Client) -> None:
    assert alice.patch("/api/me", {"alias_style": "words"}).status == 200

    assert bob.get("/api/me").json()["alias_style"] == "random"


def test_words_style_makes_readable_random_local_parts(alice: Client, alice_domain: str) -> None:
    assert alice.patch("/api/me", {"alias_style": "words"}).status == 200
    made = [
        alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["me@mailbox.example"]}).json()
        for _ in range(5)
    ]

    for alias in made:
        assert WORDS.fullmatch(alias["local_part"]), alias["local_part"]
        assert len(alias["local_part"]) >= 8
    assert len({alias["local_part"] for alias in made}) == 5
    # A local part given is kept as it is, whatever the style.
    named = alice.post("/api/aliases", {"domain": alice_domain, "local_part": "shop", "destinations": ["me@x.example"]})
    assert named.json()["local_part"] == "shop"

    assert alice.patch("/api/me", {"alias_style": "random"}).status == 200
    plain = alice.post("/api/aliases", {"domain": alice_domain, "destinations": ["me@mailbox.example"]}).json()
    assert re.fullmatch(r"[a-z0-9]{12}", plain["local_part"])


def test_the_word_list_gives_the_entropy_the_code_claims() -> None:
    words = ids._words()
    assert len(words) == 2048 == len(set(words))
    assert all(re.fullmatch(r"[a-z]{3,8}", word) for word in words)
    drawn = {ids.words_local_part() for _ in range(2000)}
    assert len(drawn) == 2000  # 32 bits: no collision expected in 2000 draws (p ~ 0.05%)
    assert all(WORDS.fullmatch(local_part) for local_part in drawn)
    firsts = {WORDS.fullmatch(local_part)[1] for local_part in drawn}  # type: ignore[index]
    assert len(firsts) > 1000  # both words are drawn from the whole list, not a corner of it
