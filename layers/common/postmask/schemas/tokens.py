"""The models of /api/tokens: what the caller sees of a token, and the one time its secret is shown."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from postmask.schemas.common import Model, RequestModel, Timestamp

_ASCII_SPACE = " \t\n\r\f\v"

# "all": the token may do anything its user may; "aliases:create": only create aliases (POST /api/aliases and the
# compatible routes), for a token pasted into a password manager (docs/decisions/0004).
TokenScope = Literal["all", "aliases:create"]
_SCOPE = (
    "`all`: anything you may do; `aliases:create`: only create aliases (`POST /api/aliases` and the routes of "
    "password managers), a 403 everywhere else"
)


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
    scope: TokenScope = Field(default="all", description=_SCOPE)

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


# "api": made with POST /api/tokens, for programs; "session": made by signing in with a link (/api/sessions).
TokenKind = Literal["api", "session"]


class TokenInfo(Model):
    id: str
    name: str
    kind: TokenKind = Field(
        description="`session`: a browser signed in with a link by e-mail; `api`: a token for programs"
    )
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Updated at most every few minutes")
    expires_at: Timestamp | None
    scope: TokenScope = Field(default="all", description=_SCOPE)


class TokenCreated(Model):
    id: str
    name: str
    token: str = Field(description="The secret. Shown once; only its hash is stored.")
    created_at: Timestamp
    expires_at: Timestamp | None
    scope: TokenScope = Field(default="all", description=_SCOPE)


class TokenList(Model):
    items: list[TokenInfo]
    next_token: str | None
