"""The models of /api/sessions: asking for a sign-in link, redeeming its code for a session token."""

from typing import Annotated

from pydantic import Field, StringConstraints

from postmask.schemas.common import Email, Model, RequestModel, Timestamp

# What POST /api/sessions always answers, whether or not the address has an account.
LINK_REQUESTED = (
    "If this address belongs to a postmask account, a sign-in link is on its way to it. "
    "The link works once, for 15 minutes."
)


class SignInRequest(RequestModel):
    email: Annotated[Email, Field(description="Your account's e-mail address", examples=["you@example.org"])]


class SignInRequested(Model):
    message: str = Field(
        default=LINK_REQUESTED, description="The same for every address: it tells nobody who has an account"
    )


class SignInCode(RequestModel):
    code: Annotated[
        str,
        StringConstraints(min_length=1, max_length=512),
        Field(description="The part of the sign-in link after `#`"),
    ]


class SessionCreated(Model):
    id: str = Field(
        description="The session token's id, as `GET /api/tokens` lists it (to tell this session from others)"
    )
    token: str = Field(description="A session token, for `Authorization: Bearer`. Shown once; only its hash is stored.")
    expires_at: Timestamp = Field(description="When it stops working (SessionDays after signing in)")
