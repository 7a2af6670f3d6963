"""The models of /api/destinations: a destination (a real mailbox mail is forwarded to) and its verification."""

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
