"""The models of /api/aliases: an alias, and what creates, replaces and changes one."""

from typing import Any

from pydantic import Field, StrictBool

from postmask.schemas.common import (
    Destinations,
    DomainName,
    LocalPart,
    Model,
    Note,
    RequestModel,
    ShownName,
    Timestamp,
)

_DISPLAY_NAME = "The name shown on mail sent from the alias (replies to contacts); never a destination's"


class AliasCreate(RequestModel):
    domain: DomainName
    local_part: LocalPart | None = Field(default=None, description="Omit for a random, unguessable one")
    destinations: Destinations
    note: Note = ""
    enabled: StrictBool = True
    expires_at: Timestamp | None = None
    display_name: ShownName | None = Field(default=None, description=_DISPLAY_NAME)


class AliasReplace(RequestModel):
    """PUT: a full replacement of the mutable fields; every field is required (expires_at may be null)."""

    destinations: Destinations
    note: Note
    enabled: StrictBool
    expires_at: Timestamp | None
    display_name: ShownName | None = Field(default=None, description=_DISPLAY_NAME + " (absent: none)")


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
    display_name: str | None = Field(default=None, description=_DISPLAY_NAME)


class AliasList(Model):
    items: list[Alias]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")
