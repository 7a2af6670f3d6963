"""The models of the compatible routes: SimpleLogin's and addy.io's requests and answers, as their clients send and
read them (docs/decisions/0003). Requests ignore fields postmask does not use: a client of another service may
send more than it needs here, and refusing it would break the client."""

from typing import Literal

from pydantic import ConfigDict, Field

from postmask.schemas.common import DomainName, LocalPart, Model

_IGNORING = ConfigDict(extra="ignore")
_NOTE = "Kept as the alias's note (at most 500 characters); a web address in it sets the alias's `site`"


# --- SimpleLogin: POST /api/alias/random/new ---------------------------------------------------------------


class SimpleLoginAliasCreate(Model):
    model_config = _IGNORING

    note: str | None = Field(default=None, max_length=500, description=_NOTE)


class SimpleLoginMailbox(Model):
    id: str
    email: str


class SimpleLoginAlias(Model):
    """SimpleLogin's alias object. `id` is postmask's (a string; SimpleLogin's are numbers)."""

    id: str
    alias: str = Field(description="The address (what Bitwarden reads)")
    email: str = Field(description="The address again, as SimpleLogin's newer clients read it")
    name: str | None = Field(description="The name shown on mail sent from the alias")
    note: str | None
    enabled: bool
    creation_date: str = Field(description="`YYYY-MM-DD HH:MM:SS+00:00`, as SimpleLogin writes it")
    creation_timestamp: int = Field(description="Seconds since 1970")
    mailbox: SimpleLoginMailbox = Field(description="The first destination")
    mailboxes: list[SimpleLoginMailbox] = Field(description="Every destination")
    nb_forward: int
    nb_block: int
    nb_reply: int
    latest_activity: None = None
    pinned: bool = False
    disable_pgp: bool = False
    support_pgp: bool = False


class SimpleLoginError(Model):
    error: str = Field(description="What went wrong, in words a person can act on (SimpleLogin's clients show it)")
    message: str = Field(description="The same sentence: every postmask error body has a `message`")


class SimpleLoginRefusal(Model):
    """A 401 or 403: API Gateway's or the authorizer's (`message` only: no key, a wrong one), or postmask's (both)."""

    error: str | None = None
    message: str | None = None


# --- addy.io: POST /api/v1/aliases -------------------------------------------------------------------------

AddyFormat = Literal["random_characters", "uuid", "random_words", "custom"]


class AddyAliasCreate(Model):
    model_config = _IGNORING

    domain: DomainName | None = Field(
        default=None, description="One of your domains; omitted: your default domain for new aliases"
    )
    description: str | None = Field(default=None, max_length=500, description=_NOTE)
    format: AddyFormat | None = Field(
        default=None,
        description="`random_words`: words (`quiet.river427`); `random_characters` or `uuid`: random characters; "
        "`custom`: `local_part`; omitted: your alias style",
    )
    local_part: LocalPart | None = Field(default=None, description="With `format: custom`")


class AddyAlias(Model):
    """addy.io's alias object, with postmask's values."""

    id: str
    user_id: str
    local_part: str
    extension: None = None
    domain: str
    email: str
    active: bool
    description: str | None
    from_name: str | None
    emails_forwarded: int
    emails_blocked: int
    emails_replied: int
    emails_sent: int
    recipients: list[str] = Field(description="The destinations' addresses")
    created_at: str = Field(description="`YYYY-MM-DD HH:MM:SS`, UTC, as addy.io writes it")
    updated_at: str
    deleted_at: None = None


class AddyAliasCreated(Model):
    data: AddyAlias


class AddyError(Model):
    message: str = Field(description="What went wrong, in words a person can act on")
    errors: dict[str, list[str]] | None = Field(default=None, description="A 422's messages by field, as Laravel's")
