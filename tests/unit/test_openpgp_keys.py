"""postmask.openpgp.inspect: which pasted keys postmask accepts for a destination, and what it says of the others.

The keys are made by GnuPG (tests/support/gnupg.py), as users make theirs; a 422 reason must tell them what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from postmask import openpgp
from tests.support.gnupg import GPG, GnuPG, gnupg_home

pytestmark = pytest.mark.skipif(GPG is None, reason="gpg is not installed (apt-get install gnupg)")


@pytest.fixture(scope="module")
def home() -> Iterator[GnuPG]:
    with gnupg_home() as made:
        yield made


def test_a_curve25519_key_is_described_as_gpg_does(home: GnuPG) -> None:
    armored = home.generate("Ann Example <ann@real.example>", "future-default", expiry="2y")

    info = openpgp.inspect(armored)

    assert info.fingerprint == home.fingerprint("ann@real.example")
    assert info.algorithm == "ed25519"
    assert info.user_ids == ("Ann Example <ann@real.example>",)
    assert info.expires_at is not None
    assert timedelta(days=720) < info.expires_at - datetime.now(UTC) < timedelta(days=740)
    assert openpgp.can_encrypt(info.key)


def test_an_rsa_key_with_an_encryption_subkey_is_accepted_and_user_ids_need_not_match(home: GnuPG) -> None:
    armored = home.generate(
        "Someone Else <other@elsewhere.example>", "rsa3072", expiry="never", encryption_subkey="rsa3072"
    )

    info = openpgp.inspect(armored)

    assert info.algorithm == "rsa3072"
    assert info.expires_at is None


def test_the_expiry_shown_is_when_encryption_stops_the_subkey_s(home: GnuPG) -> None:
    """A primary key that never expires with an encryption subkey of 30 days: mail stops being encryptable then."""
    armored = home.generate("Sub <sub@real.example>", "ed25519", "sign", expiry="never", encryption_subkey="cv25519")
    assert openpgp.inspect(armored).expires_at is None
    home.run("--quick-set-expire", home.fingerprint("sub@real.example"), "30d", "*")  # every subkey: 30 days

    expires = openpgp.inspect(home.public_key("sub@real.example")).expires_at

    assert expires is not None
    assert timedelta(days=29) < expires - datetime.now(UTC) < timedelta(days=31)


def test_an_expired_key_is_refused(home: GnuPG) -> None:
    armored = home.generate("Soon <soon@real.example>", "future-default", expiry="10d")

    with pytest.raises(openpgp.KeyRejected, match="expired"):
        openpgp.inspect(armored, now=datetime.now(UTC) + timedelta(days=11))


def test_a_revoked_key_is_refused(home: GnuPG) -> None:
    home.generate("Gone <gone@real.example>", "future-default")

    with pytest.raises(openpgp.KeyRejected, match="revoked"):
        openpgp.inspect(home.revoke("gone@real.example"))


def test_a_signing_only_key_is_refused(home: GnuPG) -> None:
    armored = home.generate("Signer <signer@real.example>", "ed25519", "sign")

    with pytest.raises(openpgp.KeyRejected, match="no valid encryption subkey"):
        openpgp.inspect(armored)


def test_a_secret_key_is_refused_and_never_kept(home: GnuPG) -> None:
    home.generate("Secret <secret@real.example>", "future-default")
    armored = home.secret_key("secret@real.example")

    with pytest.raises(openpgp.KeyRejected, match="secret key"):
        openpgp.inspect(armored)
    # The same material without its armor header's word "PRIVATE" is still found out from the packets.
    body = armored.replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK")
    with pytest.raises(openpgp.KeyRejected, match="secret key"):
        openpgp.inspect(body)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not an ASCII-armored"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE", "not an ASCII-armored"),
        (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----\n",
            "not a readable",
        ),
        ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n" + "A" * 70_000, "larger than"),
    ],
)
def test_what_is_no_key_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(openpgp.KeyRejected, match=reason):
        openpgp.inspect(text)


def test_two_keys_in_one_block_are_refused(home: GnuPG) -> None:
    home.generate("First <first@real.example>", "future-default")
    home.generate("Second <second@real.example>", "future-default")
    both = home.run("--armor", "--export", "first@real.example", "second@real.example").stdout.decode()

    with pytest.raises(openpgp.KeyRejected, match="2 keys"):
        openpgp.inspect(both)
