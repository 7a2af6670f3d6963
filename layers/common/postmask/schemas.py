"""The API's request and response models (pydantic v2): what the contract says, in code.

Request models forbid unknown fields, so a typo in a field name is a 422, not a silently ignored value.
Response models are what handlers return; Powertools builds the OpenAPI document from both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from postmask.clock import iso

# --- field types ------------------------------------------------------------------------------------------
# Each type's JSON schema says exactly which inputs it accepts: the OpenAPI document is built from these,
# and the contract fuzzer sends what the schema allows (and what it forbids) and holds the API to it.

# RFC 3339 `date-time`, what the JSON Schema format means: a full date, a time and a zone, nothing looser.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    # pydantic alone also takes numbers (Unix time), bare dates and zone-less times; the contract does not.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with a time zone, such as 2026-11-23T19:03:37Z")


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before the first representable instant
        raise ValueError("is out of range") from exc


Timestamp = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    AfterValidator(_utc),
    PlainSerializer(iso, return_type=str, when_used="json"),
    Field(
        description="ISO 8601, UTC, with a `Z` suffix",
        examples=["2026-11-23T19:03:37.123Z"],
        json_schema_extra={"format": "date-time"},  # also in responses, where the serializer only says "string"
    ),
]

# A host name in ASCII: letters, digits and hyphens, at least two labels, the last one starting with a letter.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_NAME_PATTERN = rf"^(?:{_LABEL}\.)+{_TOP_LABEL}$"
_DOMAIN_NAME = re.compile(rf"(?:{_LABEL}\.)+{_TOP_LABEL}")
MAX_DOMAIN_NAME_LENGTH = 253


def _domain_name(value: str) -> str:
    """Lower case; an internationalised name is converted to its IDNA (punycode) form first."""
    name = value
    if len(name) > MAX_DOMAIN_NAME_LENGTH:  # the documented maxLength, before any conversion
        raise ValueError(f"not a valid domain name: {MAX_DOMAIN_NAME_LENGTH} characters at most")
    if not name.isascii():
        import idna  # here, not at the top: most functions never see a domain name

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(f"not a valid internationalised domain name ({exc})") from exc
    if len(name) > MAX_DOMAIN_NAME_LENGTH or not _DOMAIN_NAME.fullmatch(name):
        raise ValueError(
            "not a valid domain name: labels of letters, digits and hyphens (1-63 characters, no hyphen at "
            "either end) joined by dots, at least two, the last starting with a letter; 253 characters at most"
        )
    return name.lower()


DomainName = Annotated[
    str,
    AfterValidator(_domain_name),
    Field(
        description=(
            "A domain you own, stored in lower case. An internationalised name (`bücher.example`) is also "
            "accepted and stored in its punycode form (`xn--bcher-kva.example`)."
        ),
        examples=["example.org"],
        # The pattern documents the ASCII form; it is not enforced as such, or no internationalised name
        # would reach the conversion above.
        json_schema_extra={"pattern": DOMAIN_NAME_PATTERN, "minLength": 1, "maxLength": MAX_DOMAIN_NAME_LENGTH},
    ),
]

# In a URL path the name arrives percent-encoded (API Gateway passes the raw path on): decode, then validate.
DomainInPath = Annotated[DomainName, BeforeValidator(lambda value: unquote(value) if isinstance(value, str) else value)]

LocalPart = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$"),
    AfterValidator(str.lower),
    Field(
        description="The part before the @: a-z 0-9 . _ + -, no leading, trailing or double dot; stored lower case",
        examples=["shop"],
    ),
]

# email-validator refuses the special-use domains of RFC 6761 and friends (mail to them can never be
# delivered); the schema says so, case-insensitively, since JSON Schema patterns have no flags.
_SPECIAL_USE_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_SPECIAL_USE_DOMAIN = r"\.(?:{})$".format("|".join("".join(f"[{c}{c.upper()}]" for c in t) for t in _SPECIAL_USE_TLDS))

# An address everyone writes: an ASCII dot-atom before the @, a host name of LDH labels (no "--") ending in
# an alphabetic TLD, within email-validator's lengths. email-validator accepts every such address and
# normalises it by lower-casing the domain; its import alone costs ~30 ms of a cold start (it compiles
# regular expressions over all of Unicode), so such an address is validated here and any other one
# (internationalised, quoted, "Name <address>", invalid...) by pydantic's EmailStr validation, as before.
# tests/unit/test_email_address.py holds the two to the same answers.
_EMAIL_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_EMAIL_LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_PLAIN_ADDRESS = re.compile(
    rf"(?P<local>{_EMAIL_ATEXT}+(?:\.{_EMAIL_ATEXT}+)*)@(?P<domain>(?:{_EMAIL_LABEL}\.)+(?P<tld>[A-Za-z]+))"
)
_MAX_LOCAL_PART, _MAX_ADDRESS, _MAX_LABEL = 64, 254, 63


def email_address(value: str) -> str:
    """`value` as a valid, normalised e-mail address, or pydantic's `value_error` for EmailStr."""
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if (
        plain is not None
        and len(value) <= _MAX_ADDRESS
        and len(plain["local"]) <= _MAX_LOCAL_PART
        and plain["tld"].lower() not in _SPECIAL_USE_TLDS
        and all(len(label) <= _MAX_LABEL for label in plain["domain"].split("."))
    ):
        return f"{plain['local']}@{plain['domain'].lower()}"
    from pydantic.networks import validate_email  # imports email-validator: for the unusual address only

    return validate_email(value)[1]


Email = Annotated[
    str,
    AfterValidator(email_address),
    Field(json_schema_extra={"format": "email", "not": {"pattern": _SPECIAL_USE_DOMAIN}}),
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
    list[Email],
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
    # Their booleans are declared StrictBool: JSON has true and false, and pydantic alone also takes 0, 1, "yes".
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
    catch_all_destination: Email | None = Field(
        default=None, description="Where mail to unknown addresses on this domain goes; null drops it"
    )


class DomainUpdate(RequestModel):
    catch_all_destination: Email | None = Field(description="Set an address, or null to drop unknown mail")


VerificationStatus = Literal["pending", "verified", "failed"]


class DomainVerification(Model):
    status: VerificationStatus = Field(
        description="Amazon SES's verdict on the domain's DKIM records: `verified` once they resolve; mail is "
        "forwarded only from a verified domain"
    )


class DnsRecord(Model):
    type: Literal["MX", "TXT", "CNAME"]
    name: str = Field(description="The fully qualified name to publish the record at", examples=["alice.example"])
    value: str
    # Absent rather than null on records other than MX, so the document says "integer" only.
    priority: int | SkipJsonSchema[None] = Field(
        default=None, exclude_if=lambda value: value is None, description="MX records only", examples=[10]
    )
    purpose: str = Field(description="What the record is for, in plain words")


class Domain(Model):
    name: str
    created_at: Timestamp
    alias_count: int = Field(ge=0)
    catch_all_destination: str | None
    verification: DomainVerification
    dns_records: list[DnsRecord] = Field(
        description="Every record to publish for mail to flow through Amazon SES: MX, SPF, 3 DKIM CNAMEs, DMARC"
    )


class DomainList(Model):
    items: list[Domain]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


# --- aliases ----------------------------------------------------------------------------------------------


class AliasCreate(RequestModel):
    domain: DomainName
    local_part: LocalPart | None = Field(default=None, description="Omit for a random, unguessable one")
    destinations: Destinations
    note: Note = ""
    enabled: StrictBool = True
    expires_at: Timestamp | None = None


class AliasReplace(RequestModel):
    """PUT: a full replacement of the mutable fields; every field is required (expires_at may be null)."""

    destinations: Destinations
    note: Note
    enabled: StrictBool
    expires_at: Timestamp | None


_LEFT_OUT: Any = None  # the default of a PATCH field that was not sent (typed Any: it is not a field value)


def _optional_not_nullable(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # the marker is not a value a client may send


class AliasUpdate(RequestModel):
    """PATCH: any subset of the PUT fields; a field left out keeps its value, `expires_at: null` clears it."""

    # A field left out is not validated, so its None default means "keep"; a null that is sent fails the
    # field's own type, with a plain message. (A `| None` in the type would make null a valid value.)
    destinations: Destinations = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)
    note: Note = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)
    enabled: StrictBool = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)
    expires_at: Timestamp | None = None

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
    email: Email


class UserCreated(Model):
    user: User
    token: str = Field(description="The new user's first API token. Shown once; only its hash is stored.")


_ASCII_SPACE = " \t\n\r\f\v"


class TokenCreate(RequestModel):
    # Not blank: at least one character that is not an ASCII space (an explicit class, so that Python's,
    # JavaScript's and pydantic's regular expressions all agree on it); those spaces are trimmed.
    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100, pattern=r"[^ \t\n\r\f\v]"),  # _ASCII_SPACE
        AfterValidator(lambda name: name.strip(_ASCII_SPACE)),
    ]
    expires_at: Timestamp | None = Field(
        default=None, description="When the token stops working, in the future; null: never"
    )

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
