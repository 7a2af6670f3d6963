"""The models of /api/me and /api/users."""

from pydantic import Field

from postmask.schemas.common import Email, Model, RequestModel, Timestamp


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
