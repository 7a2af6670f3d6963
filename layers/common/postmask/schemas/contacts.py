"""The models of /api/aliases/{alias_id}/contacts: a contact (reverse alias) and what creates or changes one."""

from typing import Any

from pydantic import Field, StrictBool

from postmask.schemas.common import Email, Model, RequestModel, ShownName, Timestamp

_LEFT_OUT: Any = None  # the default of a PATCH field that was not sent


def _optional_not_nullable(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ContactCreate(RequestModel):
    email: Email = Field(description="The address to write to from the alias")
    name: ShownName | None = Field(default=None, description="How you call them (shown on their mail to you)")


class ContactUpdate(RequestModel):
    """PATCH: `blocked` and/or `name`; a field left out keeps its value, `name: null` clears it."""

    blocked: StrictBool = Field(
        default=_LEFT_OUT,
        json_schema_extra=_optional_not_nullable,
        description="true: their mail to the alias is blocked (and counted)",
    )
    name: ShownName | None = None

    def changes(self) -> dict[str, object]:
        return self.model_dump(include=self.model_fields_set)


class Contact(Model):
    id: str
    alias_id: str
    email: str
    name: str | None
    reply_address: str = Field(
        description="Mail from a verified destination of the alias to this address goes to the contact, from the alias"
    )
    blocked: bool
    created_at: Timestamp
    last_received_at: Timestamp | None
    last_sent_at: Timestamp | None
    received_count: int = Field(ge=0)
    sent_count: int = Field(ge=0)
    blocked_count: int = Field(ge=0)


class ContactList(Model):
    items: list[Contact]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")
