"""The API's request and response models (pydantic v2): what the contract says, in code.

Request models forbid unknown fields, so a typo in a field name is a 422, not a silently ignored value.
Response models are what handlers return; Powertools builds the OpenAPI document from both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from postmask.clock import iso

# --- field types ------------------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Timestamp = Annotated[
    AwareDatetime,  # a time without a zone is ambiguous: 422, not a guess
    AfterValidator(_utc),
    PlainSerializer(iso, return_type=str, when_used="json"),
    Field(description="ISO 8601, UTC, with a `Z` suffix", examples=["2026-11-23T19:03:37.123Z"]),
]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _domain_name(value: str) -> str:
    """Lower case, IDNA (punycode) form, syntactically a real host name."""
    import idna  # here, not at the top: most functions never see a domain name

    name = value.strip().removesuffix(".")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"not a valid domain name ({exc})") from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253:
        raise ValueError("a domain name needs at least two labels and at most 253 characters")
    for label in labels:
        ok = 0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        if not ok or label.startswith("-") or label.endswith("-"):
            raise ValueError(f"{label!r} is not a valid label in a domain name")
    if labels[-1].isdigit():
        raise ValueError("the top-level domain cannot be numeric")
    return ascii_name.lower()


DomainName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253),
    AfterValidator(_domain_name),
    Field(
        description="A domain you own; stored lower case, internationalised names in punycode", examples=["example.org"]
    ),
]

LocalPart = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_+-]+(\.[a-z0-9_+-]+)*$"),
    Field(
        description="The part before the @: a-z 0-9 . _ + -, lower case, no leading, trailing or double dot",
        examples=["shop"],
    ),
]


def _unique(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


Destinations = Annotated[
    list[EmailStr],
    Field(min_length=1, max_length=10, description="1 to 10 addresses that receive the alias's mail"),
    AfterValidator(_unique),
]
Note = Annotated[str, Field(max_length=500, description="Free text for you, at most 500 characters")]


class Model(BaseModel):
    """Every API model. Its validator and serializer are built when first used, not when the module is imported:
    a function builds only the few models its route needs, at its first request, and the e-mail validator is
    imported only by a route whose model has an e-mail address."""

    model_config = ConfigDict(defer_build=True)


class RequestModel(Model):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------------------


class ErrorBody(Model):
    message: str = Field(description="What went wrong, in words a person can act on")


class ValidationIssue(Model):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(ErrorBody):
    detail: list[ValidationIssue]


# --- health -----------------------------------------------------------------------------------------------


class Health(Model):
    status: Literal["ok"] = "ok"


# --- domains ----------------------------------------------------------------------------------------------


class DomainCreate(RequestModel):
    name: DomainName
    catch_all_destination: EmailStr | None = Field(
        default=None, description="Where mail to unknown addresses on this domain goes; null drops it"
    )


class DomainUpdate(RequestModel):
    catch_all_destination: EmailStr | None = Field(description="Set an address, or null to drop unknown mail")


class Domain(Model):
    name: str
    created_at: Timestamp
    alias_count: int = Field(ge=0)
    catch_all_destination: str | None


class DomainList(Model):
    items: list[Domain]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


# --- aliases ----------------------------------------------------------------------------------------------


class AliasCreate(RequestModel):
    domain: DomainName
    local_part: LocalPart | None = Field(default=None, description="Omit for a random, unguessable one")
    destinations: Destinations
    note: Note = ""
    enabled: bool = True
    expires_at: Timestamp | None = None


class AliasReplace(RequestModel):
    """PUT: a full replacement of the mutable fields; every field is required (expires_at may be null)."""

    destinations: Destinations
    note: Note
    enabled: bool
    expires_at: Timestamp | None


class AliasUpdate(RequestModel):
    """PATCH: any subset of the PUT fields; a field left out keeps its value, `expires_at: null` clears it."""

    # `SkipJsonSchema[None]`: absent is allowed, but the document (and the validator below) refuse null.
    destinations: Destinations | SkipJsonSchema[None] = None
    note: Note | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None
    expires_at: Timestamp | None = None

    @field_validator("destinations", "note", "enabled", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

    def changes(self) -> dict[str, object]:
        """Only the fields the client sent."""
        return self.model_dump(include=self.model_fields_set)


class Alias(Model):
    id: str
    address: str
    domain: str
    local_part: str
    destinations: list[str]
    note: str
    enabled: bool
    expires_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    forwarded_count: int = Field(ge=0)
    blocked_count: int = Field(ge=0)
    last_forwarded_at: Timestamp | None
    last_blocked_at: Timestamp | None


class AliasList(Model):
    items: list[Alias]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


# --- users and tokens -------------------------------------------------------------------------------------


class User(Model):
    id: str
    email: str
    is_admin: bool
    created_at: Timestamp


class UserCreate(RequestModel):
    email: EmailStr


class UserCreated(Model):
    user: User
    token: str = Field(description="The new user's first API token. Shown once; only its hash is stored.")


class TokenCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    expires_at: Timestamp | None = Field(default=None, description="When the token stops working; null: never")

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class TokenInfo(Model):
    id: str
    name: str
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Updated at most every few minutes")
    expires_at: Timestamp | None


class TokenCreated(Model):
    id: str
    name: str
    token: str = Field(description="The secret. Shown once; only its hash is stored.")
    created_at: Timestamp
    expires_at: Timestamp | None


class TokenList(Model):
    items: list[TokenInfo]
    next_token: str | None
