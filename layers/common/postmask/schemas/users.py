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


class ListedUser(User):
    disabled: bool = Field(description="A disabled user's tokens are refused and their mail is blocked")


class UserList(Model):
    items: list[ListedUser]
    next_token: str | None


class UserUpdate(RequestModel):
    disabled: bool


class AccountDelete(RequestModel):
    confirm: str = Field(max_length=320, description="Your account's e-mail address, typed to confirm")
