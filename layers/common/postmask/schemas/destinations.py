"""The models of /api/destinations: a destination (a real mailbox mail is forwarded to), its verification, and its
OpenPGP key."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from postmask.schemas.common import Email, Model, RequestModel, Timestamp

DestinationStatus = Literal["pending", "verified", "suspended"]


class DestinationCreate(RequestModel):
    email: Email


class Destination(Model):
    id: str
    email: str
    status: DestinationStatus = Field(
        description="`pending` until its verification link is opened; only `verified` destinations receive mail; "
        "`suspended` after a hard bounce or a complaint (a new link revives it)"
    )
    suspended_reason: str | None = Field(description="Why it was suspended, as Amazon SES reported it")
    created_at: Timestamp
    verified_at: Timestamp | None
    alias_count: int = Field(ge=0, description="How many of your aliases forward to it")
    pgp: DestinationPgp | None = Field(
        default=None, description="Its OpenPGP key, when copies to it are encrypted (`/api/destinations/{id}/pgp`)"
    )


class DestinationList(Model):
    items: list[Destination]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


class VerificationRequest(RequestModel):
    token: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(
        description="The secret after `#` in the link of the verification mail"
    )


class Verified(Model):
    email: str
    status: Literal["verified"] = "verified"


# --- encrypted forwarding (OpenPGP) --------------------------------------------------------------------------

PgpFallback = Literal["quarantine", "plain"]
_FALLBACK_DESCRIPTION = (
    "What happens to a copy when the key has expired or cannot be used: `quarantine` (default; never sent in "
    "clear) or `plain` (sent unencrypted)"
)


class PgpKeyPut(RequestModel):
    public_key: Annotated[str, StringConstraints(min_length=1, max_length=70_000)] = Field(
        description="One ASCII-armored OpenPGP public key block (`gpg --armor --export <fingerprint>`): it must be "
        "able to encrypt, unexpired and unrevoked; its user IDs need not name the destination"
    )
    fallback: PgpFallback = Field(default="quarantine", description=_FALLBACK_DESCRIPTION)


class PgpKey(Model):
    fingerprint: str = Field(description="The primary key's fingerprint, upper-case hex")
    algorithm: str = Field(description="The primary key's algorithm as GnuPG names it (`rsa3072`, `ed25519`, ...)")
    expires_at: Timestamp | None = Field(description="When encryption to the key stops working; null: never")
    user_ids: list[str]
    fallback: PgpFallback = Field(description=_FALLBACK_DESCRIPTION)


class DestinationPgp(Model):
    """What a Destination shows of its key."""

    fingerprint: str
    expires_at: Timestamp | None
