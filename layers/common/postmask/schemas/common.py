"""What every API model shares: the field types, the base models, the error bodies (and the health answer).

Each type's JSON schema says exactly which inputs it accepts: the OpenAPI document is built from these,
and the contract fuzzer sends what the schema allows (and what it forbids) and holds the API to it.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

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


def canonical_domain(value: str) -> str:
    """The one canonical form of a domain name, for domains and for the domain of every address alike: lower
    case ASCII, an internationalised name in its IDNA (punycode, UTS 46) form. A name already in punycode must
    be valid IDNA and in that same form (`xn--zz` is refused like the Unicode name it cannot be)."""
    name = value
    if len(name) > MAX_DOMAIN_NAME_LENGTH:  # the documented maxLength, before any conversion
        raise ValueError(f"not a valid domain name: {MAX_DOMAIN_NAME_LENGTH} characters at most")
    if not name.isascii() or "xn--" in name.lower():
        name = _idna_ascii(name)
    if len(name) > MAX_DOMAIN_NAME_LENGTH or not _DOMAIN_NAME.fullmatch(name):
        raise ValueError(
            "not a valid domain name: labels of letters, digits and hyphens (1-63 characters, no hyphen at "
            "either end) joined by dots, at least two, the last starting with a letter; 253 characters at most"
        )
    return name.lower()


def _idna_ascii(name: str) -> str:
    """`name` in IDNA 2008 / UTS 46 ASCII form; a punycode label must decode, and encode back to itself."""
    import idna  # here, not at the top: most functions never see an internationalised name

    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
        if name.isascii() and ascii_name != idna.encode(idna.decode(name), uts46=True).decode("ascii"):
            raise idna.IDNAError("a punycode label that is not in its canonical form")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"not a valid internationalised domain name ({exc})") from exc
    return ascii_name


DomainName = Annotated[
    str,
    AfterValidator(canonical_domain),
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


def _not_reply_namespace(local_part: str) -> str:
    from postmask.ids import REPLY_PREFIX

    if local_part.startswith(REPLY_PREFIX):
        raise ValueError(f"local parts starting with {REPLY_PREFIX!r} are reserved for contacts' reply addresses")
    return local_part


# The reply addresses' namespace (postmask.ids.REPLY_PREFIX), as a pattern JSON Schema can say case-insensitively.
_REPLY_NAMESPACE = "^[Rr][Ee][Pp][Ll][Yy]-"

LocalPart = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$"),
    AfterValidator(str.lower),
    AfterValidator(_not_reply_namespace),
    Field(
        description=(
            "The part before the @: a-z 0-9 . _ + -, no leading, trailing or double dot; stored lower case. "
            "`reply-...` is reserved for contacts' reply addresses"
        ),
        examples=["shop"],
        json_schema_extra={"not": {"pattern": _REPLY_NAMESPACE}},
    ),
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


# A name shown on mail (an alias's display_name, a contact's name): what a mail client shows beside an address.
ShownName = Annotated[
    str,
    StringConstraints(max_length=100),
    AfterValidator(_no_control_characters),
    Field(
        description="At most 100 characters, no control characters",
        examples=["Jane Doe"],
        json_schema_extra={"pattern": "^[^\\x00-\\x1F\\x7F-\\x9F]*$"},
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
    """`value` as a valid address in its one canonical ASCII form (the domain as `DomainName` stores it), or
    pydantic's `value_error`: EmailStr's for invalid syntax, ours for an address SES cannot send to (a local
    part that is not ASCII: SES has no SMTPUTF8)."""
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

    local, _, domain = validate_email(value)[1].rpartition("@")
    if not local.isascii():
        raise ValueError("the part before the @ must be ASCII: Amazon SES cannot send to this address")
    return f"{local}@{canonical_domain(domain)}"


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
    a function builds only the few models its route needs, at its first request."""

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


class TrackersRemoved(Model):
    """Trackers removed from forwarded HTML (an alias's running totals; a forwarded activity event's own)."""

    pixels: int = Field(ge=0, description="Open-tracking images removed")
    links: int = Field(ge=0, description="Click-tracking links unwrapped or stripped of tracking parameters")
