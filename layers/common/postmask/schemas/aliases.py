"""The models of /api/aliases: an alias, and what creates, replaces and changes one."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool

from postmask.schemas.common import (
    DOMAIN_NAME_PATTERN,
    MAX_DOMAIN_NAME_LENGTH,
    Destinations,
    DomainName,
    LocalPart,
    Model,
    Note,
    RequestModel,
    ShownName,
    Timestamp,
    TrackersRemoved,
)

_DISPLAY_NAME = "The name shown on mail sent from the alias (replies to contacts); never a destination's"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PATH = re.compile(r"[/?#]")
_PORT = re.compile(r":[0-9]*$")


def site_from(value: str) -> str:
    """The registrable domain of a domain name or a web address (`https://www.shop.example/x` -> `shop.example`)."""
    from postmask.public_suffix import site_of  # here: only a request that names a site pays for the list

    host = _PATH.split(_SCHEME.sub("", value.strip()), maxsplit=1)[0]  # the host of a web address
    host = _PORT.sub("", host)
    site = site_of(host) if host and "@" not in host else None
    if site is None:
        raise ValueError("must be a website's domain name (such as shop.example), not a public suffix")
    return site


# A domain name or a web address. Like DomainName's, the pattern documents the ASCII form without being enforced:
# an internationalised name reaches the conversion (`site_from`), which refuses what no site can be.
SITE_PATTERN = rf"^(?:https?://)?{DOMAIN_NAME_PATTERN[1:-1]}\.?(?:[/?#]\S*)?$"
Site = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_DOMAIN_NAME_LENGTH,
        description="The website the alias was given to: a domain name or a web address; stored as its registrable "
        "domain (`mail.shop.example.co.uk` -> `example.co.uk`, an internationalised name in punycode)",
        examples=["shop.example"],
        json_schema_extra={"pattern": SITE_PATTERN},
    ),
    AfterValidator(site_from),
]
BlockForeignSenders = Annotated[
    StrictBool, Field(description="Block mail whose From is not on the alias's site (reason `foreign_sender`)")
]

Encrypt = Annotated[
    StrictBool,
    Field(
        description="Encrypt copies to destinations that have an OpenPGP key (`/api/destinations/{id}/pgp`): the "
        "whole message, headers included (PGP/MIME)"
    ),
]

TrackersMode = Annotated[
    Literal["off", "pixels", "pixels_and_links"],
    Field(
        description="What is removed from forwarded HTML: nothing, open-tracking images, or those and click tracking"
    ),
]


class AliasCreate(RequestModel):
    domain: DomainName
    local_part: LocalPart | None = Field(default=None, description="Omit for a random, unguessable one")
    destinations: Destinations
    note: Note = ""
    enabled: StrictBool = True
    expires_at: Timestamp | None = None
    display_name: ShownName | None = Field(default=None, description=_DISPLAY_NAME)
    site: Site | None = None
    block_foreign_senders: BlockForeignSenders = False
    encrypt: Encrypt = True
    trackers: TrackersMode = "pixels"


class AliasReplace(RequestModel):
    """PUT: a full replacement of the mutable fields; every field is required (expires_at may be null), except
    the leak-detection ones, which an absent field sets to null / false, and `encrypt`, which an absent field sets to
    true (its default)."""

    destinations: Destinations
    note: Note
    enabled: StrictBool
    expires_at: Timestamp | None
    display_name: ShownName | None = Field(default=None, description=_DISPLAY_NAME + " (absent: none)")
    site: Site | None = None
    block_foreign_senders: BlockForeignSenders = False
    encrypt: Encrypt = True
    trackers: TrackersMode = "pixels"


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
    display_name: ShownName | None = Field(default=None, description=_DISPLAY_NAME + " (null: none)")
    site: Site | None = None
    block_foreign_senders: BlockForeignSenders = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)
    encrypt: Encrypt = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)
    trackers: TrackersMode = Field(default=_LEFT_OUT, json_schema_extra=_optional_not_nullable)

    def changes(self) -> dict[str, object]:
        """Only the fields the client sent."""
        return self.model_dump(include=self.model_fields_set)


class Leak(Model):
    """Read-only: what leak detection saw (contract: "Activity and leak detection")."""

    suspected: bool = Field(description="A sender from outside the alias's site wrote to it")
    foreign_senders: int = Field(ge=0, description="How many different senders outside the site wrote to it")
    first_foreign_at: Timestamp | None


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
    display_name: str | None = Field(default=None, description=_DISPLAY_NAME)
    site: str | None = Field(description="The registrable domain of the website the alias was given to")
    block_foreign_senders: bool
    encrypt: bool = Field(default=True, description="Copies to destinations with an OpenPGP key are encrypted")
    leak: Leak
    trackers: TrackersMode
    trackers_removed: TrackersRemoved = Field(description="Running totals over the alias's forwarded mail")


class AliasList(Model):
    items: list[Alias]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")
