"""OpenPGP public keys of destinations: what a pasted key is, whether postmask can encrypt to it, and encryption.

Built on pysequoia (Sequoia-PGP, docs/decisions/0027): imported only by the functions that read or use a key, so
that no other function pays for loading it. A key is accepted when it is one public certificate (no secret key
material), not revoked, not expired, and has a subkey (or primary key) that may encrypt, valid now under
Sequoia's standard policy (the proof is an actual encryption to it; expiry is compared here, as pysequoia gives
Sequoia no time to check it against). Its user IDs need not name the destination.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_KEY_BYTES = 64 * 1024  # an armored key block; real ones are 1-20 KB (many signatures push them up)
_ARMOR_HEADER = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_SECRET_HEADER = "-----BEGIN PGP PRIVATE KEY BLOCK-----"  # noqa: S105 - an armor header, not a secret
# Named curves by OID (RFC 9580 section 9.2), for a key's algorithm as people know it (GnuPG's names).
_CURVES = {
    bytes.fromhex("2b06010401da470f01"): "ed25519",
    bytes.fromhex("2b060104019755010501"): "cv25519",
    bytes.fromhex("2a8648ce3d030107"): "nistp256",
    bytes.fromhex("2b81040022"): "nistp384",
    bytes.fromhex("2b81040023"): "nistp521",
    bytes.fromhex("2b2403030208010107"): "brainpoolP256r1",
    bytes.fromhex("2b240303020801010b"): "brainpoolP384r1",
    bytes.fromhex("2b240303020801010d"): "brainpoolP512r1",
}


class KeyRejected(ValueError):
    """The key cannot be used; the message says why, in words for the person who pasted it."""


@dataclass(frozen=True)
class KeyInfo:
    """What postmask shows and keeps of an accepted key."""

    fingerprint: str  # upper-case hex, as OpenPGP tools print it
    algorithm: str  # the primary key's, e.g. `rsa3072`, `ed25519`
    expires_at: datetime | None  # when encryption to it stops working (the earliest of key and encryption subkeys)
    user_ids: tuple[str, ...]
    key: bytes  # the certificate, binary (what is stored and encrypted to)


def _first_line(exc: Exception) -> str:
    # Sequoia's errors carry a Rust backtrace after their first line.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def inspect(armored: str, *, now: datetime | None = None) -> KeyInfo:
    """The key in `armored` (one ASCII-armored public key block), or KeyRejected saying why not."""
    import pysequoia

    moment = now or datetime.now(UTC)
    text = armored.strip()
    if len(text.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        raise KeyRejected(f"the key block is larger than {MAX_KEY_BYTES // 1024} KB")
    if text.startswith(_SECRET_HEADER) or "PRIVATE KEY" in text[:100]:
        raise KeyRejected("this is a secret key: paste the public key (gpg --armor --export <fingerprint>)")
    if not text.startswith(_ARMOR_HEADER):
        raise KeyRejected(f"not an ASCII-armored OpenPGP public key (it must start with {_ARMOR_HEADER})")
    try:
        certs = pysequoia.Cert.split_bytes(text.encode("ascii"))
    except (RuntimeError, ValueError, UnicodeEncodeError) as exc:
        raise KeyRejected(f"not a readable OpenPGP key: {_first_line(exc)}") from exc
    if len(certs) != 1:
        raise KeyRejected(f"the block holds {len(certs)} keys: paste exactly one")
    cert = certs[0]
    key = bytes(cert)  # the public certificate only: secret material is never serialised into it
    algorithm, subkey_expiry = _describe(key)
    if _holds_secrets(text.encode("ascii")):
        raise KeyRejected("this is a secret key: paste the public key (gpg --armor --export <fingerprint>)")
    if cert.is_revoked:
        raise KeyRejected("the key is revoked")
    expires = cert.expiration
    if expires is not None and expires <= moment:
        raise KeyRejected(f"the key expired on {expires.date().isoformat()}")
    if not can_encrypt(key):
        raise KeyRejected("the key has no valid encryption subkey (expired, revoked, or signing only)")
    if subkey_expiry is not None and (expires is None or subkey_expiry < expires):
        expires = subkey_expiry
    return KeyInfo(
        fingerprint=cert.fingerprint.upper(),
        algorithm=algorithm,
        expires_at=expires,
        user_ids=tuple(str(user_id) for user_id in cert.user_ids),
        key=key,
    )


def accepted(armored: str) -> KeyInfo:
    """The key a user pasted, or a 422 (PgpKeyRejected, at `public_key`) saying why postmask cannot use it."""
    from postmask.errors import PgpKeyRejected

    try:
        return inspect(armored)
    except KeyRejected as exc:
        raise PgpKeyRejected(str(exc), loc=("body", "public_key")) from exc


def can_encrypt(key: bytes) -> bool:
    """Whether a message can be encrypted to `key`: Sequoia checks revocation and key flags (an encryption key).
    Not expiry: pysequoia passes Sequoia no time, so callers compare the expiry themselves."""
    import pysequoia

    try:
        pysequoia.encrypt(b"postmask", [pysequoia.Cert.from_bytes(key)], armor=False)
    except (RuntimeError, ValueError):
        return False
    return True


def _holds_secrets(data: bytes) -> bool:
    from pysequoia import packet

    return any(
        found.tag in (packet.Tag.SecretKey, packet.Tag.SecretSubkey) for found in packet.PacketPile.from_bytes(data)
    )


def _describe(key: bytes) -> tuple[str, datetime | None]:
    """(the primary key's algorithm, the latest expiry of its encryption subkeys or None when one never expires)."""
    from pysequoia import packet

    algorithm = "unknown"
    subkey_created: datetime | None = None
    expiries: list[datetime | None] = []
    for found in packet.PacketPile.from_bytes(key):
        if found.tag == packet.Tag.PublicKey:
            algorithm = _algorithm_name(found.key_algorithm, found.body)
        elif found.tag == packet.Tag.PublicSubkey:
            subkey_created = found.key_created
        elif found.tag == packet.Tag.Signature and found.signature_type == packet.SignatureType.SubkeyBinding:
            flags = found.key_flags
            if (
                subkey_created is not None
                and flags is not None
                and (flags.transport_encryption or flags.storage_encryption)
            ):
                period: timedelta | None = found.key_validity_period
                expiries.append(subkey_created + period if period else None)
    if not expiries or None in expiries:
        return algorithm, None
    return algorithm, max(e for e in expiries if e is not None)


def _algorithm_name(algorithm: object, body: bytes) -> str:
    """`rsa3072`, `ed25519`, ... from a v4/v6 key packet's body (version, created, algorithm, key material)."""
    name = str(algorithm).rpartition(".")[2]
    material = body[6:] if body[:1] == b"\x04" else body[10:]  # v6 adds a 4-byte length of the key material
    if name.startswith("RSA") and len(material) >= 2:
        return f"rsa{int.from_bytes(material[:2], 'big')}"
    if name in ("EdDSA", "ECDH", "ECDSA") and material:
        oid = material[1 : 1 + material[0]]
        return _CURVES.get(oid, name.lower())
    return name.lower()


# --- encryption ------------------------------------------------------------------------------------------------


def encrypt_to_file(parts: Iterable[bytes | memoryview], key: bytes, workdir: str, *, armor: bool = True) -> str:
    """Encrypt the concatenation of `parts` to `key` (ASCII-armored, or binary) into a new file under `workdir`; its
    path.

    Streams through files (the plaintext written part by part, Sequoia reading and writing in chunks), so that
    no second copy of a large message is held in memory. The caller removes the file.
    """
    import pysequoia

    cert = pysequoia.Cert.from_bytes(key)
    plain = _temp_path(workdir, "plain")
    sealed = _temp_path(workdir, "asc" if armor else "pgp")
    try:
        with open(plain, "wb") as out:
            for part in parts:
                out.write(part)
        pysequoia.encrypt_file(plain, sealed, [cert], armor=armor)
    except BaseException:
        remove(sealed)
        raise
    finally:
        remove(plain)
    return sealed


def decrypt(data: bytes, secret_key: str) -> bytes:
    """For tests and tools: `data` decrypted with an armored secret key."""
    import pysequoia

    decrypted = pysequoia.decrypt(data, pysequoia.Tsk.from_bytes(secret_key.encode()).decryptor())
    return decrypted.bytes or b""


def _temp_path(workdir: str, suffix: str) -> str:
    return os.path.join(workdir, f"postmask-{os.urandom(8).hex()}.{suffix}")


def remove(path: str) -> None:
    """Remove a file of ours, gone or not."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
