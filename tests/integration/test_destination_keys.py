"""PUT/GET/DELETE /api/destinations/{destination_id}/pgp as the contract's "Encrypted forwarding (OpenPGP)" says:
a checked key (422 with the reason), shown with fingerprint, algorithm, expiry, user IDs and fallback, on the
Destination object as `pgp`, removed with DELETE, another user's destination a 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import Client
from tests.support.gnupg import GPG, GnuPG, gnupg_home

pytestmark = pytest.mark.skipif(GPG is None, reason="gpg is not installed (apt-get install gnupg)")


@pytest.fixture(scope="module")
def gpg() -> Iterator[GnuPG]:
    with gnupg_home() as home:
        home.generate("Owner <me@real.example>", "future-default", expiry="2y")
        home.generate("Signer <signer@real.example>", "ed25519", "sign")
        yield home


def add(client: Client, email: str = "me@real.example") -> dict[str, Any]:
    response = client.post("/api/destinations", {"email": email})
    assert response.status == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def test_a_key_is_set_shown_and_removed(alice: Client, alice_domain: str, gpg: GnuPG) -> None:
    destination = add(alice)
    path = f"/api/destinations/{destination['id']}/pgp"
    assert alice.get(path).status == 404
    assert alice.get(f"/api/destinations/{destination['id']}").json()["pgp"] is None
    etag = alice.get(f"/api/destinations/{destination['id']}").header("ETag")

    put = alice.put(path, {"public_key": gpg.public_key("me@real.example")})

    assert put.status == 200, put.body
    shown = put.json()
    assert shown["fingerprint"] == gpg.fingerprint("me@real.example")
    assert shown["algorithm"] == "ed25519"
    assert shown["user_ids"] == ["Owner <me@real.example>"]
    assert shown["fallback"] == "quarantine"
    assert shown["expires_at"].endswith("Z")
    assert alice.get(path).json() == shown
    got = alice.get(f"/api/destinations/{destination['id']}")
    assert got.json()["pgp"] == {"fingerprint": shown["fingerprint"], "expires_at": shown["expires_at"]}
    assert got.header("ETag") != etag  # a change of the user's: the version moves
    listed = alice.get("/api/destinations").json()["items"]
    assert [item["pgp"] for item in listed] == [got.json()["pgp"]]

    assert (
        alice.put(path, {"public_key": gpg.public_key("me@real.example"), "fallback": "plain"}).json()["fallback"]
        == "plain"
    )

    assert alice.delete(path).status == 204
    assert alice.get(path).status == 404
    assert alice.get(f"/api/destinations/{destination['id']}").json()["pgp"] is None
    second = alice.delete(path)
    assert second.status == 404
    assert second.json()["message"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"public_key": "hello"}, "ASCII-armored"),
        ({"public_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----"}, "readable"),
        ({}, "public_key"),
        ({"public_key": ""}, "public_key"),
        ({"public_key": 42}, "public_key"),
    ],
)
def test_what_is_not_a_key_is_a_422_with_the_reason(
    alice: Client, alice_domain: str, body: dict[str, Any], says: str
) -> None:
    destination = add(alice)

    response = alice.put(f"/api/destinations/{destination['id']}/pgp", body)

    assert response.status == 422, response.body
    assert says in response.body.decode()
    assert response.json()["detail"]
    assert alice.get(f"/api/destinations/{destination['id']}").json()["pgp"] is None


def test_a_key_that_cannot_encrypt_is_a_422_at_public_key(alice: Client, alice_domain: str, gpg: GnuPG) -> None:
    destination = add(alice)

    response = alice.put(
        f"/api/destinations/{destination['id']}/pgp", {"public_key": gpg.public_key("signer@real.example")}
    )

    assert response.status == 422
    assert "encryption" in response.json()["message"]
    assert response.json()["detail"][0]["loc"] == ["body", "public_key"]


def test_a_bad_fallback_is_a_422(alice: Client, alice_domain: str, gpg: GnuPG) -> None:
    destination = add(alice)

    response = alice.put(
        f"/api/destinations/{destination['id']}/pgp",
        {"public_key": gpg.public_key("me@real.example"), "fallback": "drop"},
    )

    assert response.status == 422


def test_another_users_destination_is_a_404_for_every_method(
    alice: Client, bob: Client, alice_domain: str, gpg: GnuPG
) -> None:
    destination = add(alice)
    path = f"/api/destinations/{destination['id']}/pgp"
    assert alice.put(path, {"public_key": gpg.public_key("me@real.example")}).status == 200

    assert bob.get(path).status == 404
    assert bob.put(path, {"public_key": gpg.public_key("me@real.example")}).status == 404
    assert bob.delete(path).status == 404
    assert alice.get(path).status == 200  # untouched
    assert alice.put("/api/destinations/NOT-AN-ID/pgp", {"public_key": gpg.public_key("me@real.example")}).status == 404


# --- an alias's `encrypt` -----------------------------------------------------------------------------------


def test_an_alias_encrypts_by_default_and_the_switch_reaches_the_forwarder_s_route(
    alice: Client, alice_domain: str
) -> None:
    from postmask.store import routes

    created = alice.post(
        "/api/aliases", {"domain": alice_domain, "local_part": "box", "destinations": ["me@real.example"]}
    ).json()
    assert created["encrypt"] is True
    assert routes.get("box@alice.example").encrypt is True  # type: ignore[union-attr]

    patched = alice.patch(f"/api/aliases/{created['id']}", {"encrypt": False})

    assert patched.status == 200
    assert patched.json()["encrypt"] is False
    assert alice.get(f"/api/aliases/{created['id']}").json()["encrypt"] is False
    assert routes.get("box@alice.example").encrypt is False  # type: ignore[union-attr]
    replaced = {"destinations": ["me@real.example"], "note": "", "enabled": True, "expires_at": None}
    assert alice.put(f"/api/aliases/{created['id']}", replaced).status == 204
    assert alice.get(f"/api/aliases/{created['id']}").json()["encrypt"] is True  # PUT without it: the default
    assert routes.get("box@alice.example").encrypt is True  # type: ignore[union-attr]
    assert alice.patch(f"/api/aliases/{created['id']}", {"encrypt": "no"}).status == 422
    assert alice.patch(f"/api/aliases/{created['id']}", {"encrypt": None}).status == 422
