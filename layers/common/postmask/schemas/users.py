"""The models of /api/me and /api/users."""

from typing import Any, Literal

from pydantic import Field, StrictBool

from postmask.schemas.common import Destinations, DomainName, Email, Model, RequestModel, Timestamp

# How a random local part looks: `random` characters (`k3x9q2m7a1pz`) or `words` (`quiet.river427`): postmask.ids.
AliasStyle = Literal["random", "words"]

_DEFAULT_DOMAIN = (
    "Where aliases made without a domain go (the compatible routes: password managers): one of your verified domains"
)
_DEFAULT_DESTINATIONS = (
    "Where aliases made without destinations forward to (the compatible routes); null: your first verified destination"
)
_ALIAS_STYLE = "How random local parts look: `random` characters, or `words` (`quiet.river427`)"


class User(Model):
    id: str
    email: str
    is_admin: bool
    created_at: Timestamp
    default_alias_domain: str | None = Field(default=None, description=_DEFAULT_DOMAIN)
    default_alias_destinations: list[str] | None = Field(default=None, description=_DEFAULT_DESTINATIONS)
    alias_style: AliasStyle = Field(default="random", description=_ALIAS_STYLE)


_LEFT_OUT: Any = None  # the default of a PATCH field that was not sent (typed Any: it is not a field value)


def _optional_not_nullable(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # the marker is not a value a client may send


class UserSettings(RequestModel):
    """PATCH /api/me: any subset; a field left out keeps its value, null clears a default."""

    default_alias_domain: DomainName | None = Field(default=None, description=_DEFAULT_DOMAIN + " (null: none)")
    default_alias_destinations: Destinations | None = Field(
        default=None, description="Some of your destinations (null: none, your first verified destination)"
    )
    # Not nullable: a null sent fails the type with a plain message; left out, it keeps its value.
    alias_style: AliasStyle = Field(
        default=_LEFT_OUT, description=_ALIAS_STYLE, json_schema_extra=_optional_not_nullable
    )

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent."""
        return self.model_dump(include=self.model_fields_set)


class UserCreate(RequestModel):
    email: Email


class UserCreated(Model):
    user: User
    token: str = Field(description="The new user's first API token. Shown once; only its hash is stored.")


class ListedUser(Model):
    """A user as the admins' directory lists them (GET /api/users)."""

    id: str
    email: str
    is_admin: bool
    created_at: Timestamp
    disabled: bool = Field(description="A disabled user's tokens are refused and their mail is blocked")


class UserList(Model):
    items: list[ListedUser]
    next_token: str | None


class UserUpdate(RequestModel):
    disabled: StrictBool = Field(description="true: the user's tokens are refused and their mail blocked")


class AccountDelete(RequestModel):
    confirm: str = Field(max_length=320, description="Your account's e-mail address, typed to confirm")
