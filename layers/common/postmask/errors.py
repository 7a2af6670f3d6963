"""Domain errors. The store and the handlers raise these; `postmask.api` maps them to HTTP once.

The classes carry no status codes: what an error *means* lives here, how HTTP says it lives in the api module.
"""

from __future__ import annotations


class PostmaskError(Exception):
    """Base of every error a user can cause. `message` is safe to show to them."""

    message = "Request failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.message
        super().__init__(self.message)


class NotFound(PostmaskError):
    message = "Not found"


class Conflict(PostmaskError):
    message = "Conflict"


class BadRequest(PostmaskError):
    message = "Bad request"


class InvalidRequest(PostmaskError):
    """Well-formed, but naming something postmask cannot accept; `loc` points at it, as a validation error's does."""

    message = "Invalid request"

    def __init__(self, message: str | None = None, *, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(message)
        self.loc = list(loc)


class Unauthenticated(PostmaskError):
    message = "Authentication required"


class Forbidden(PostmaskError):
    message = "Forbidden"


class DomainNotFound(NotFound):
    message = "Domain not found"


class AliasNotFound(NotFound):
    message = "Alias not found"


class TokenNotFound(NotFound):
    message = "Token not found"


class UserNotFound(NotFound):
    message = "User not found"


class DomainTaken(Conflict):
    message = "This domain is already registered"


class DomainHasAliases(Conflict):
    message = "This domain still has aliases; delete them first"


class AddressTaken(Conflict):
    message = "This address is already taken"


class EmailTaken(Conflict):
    message = "A user with this e-mail address already exists"


class InvalidNextToken(BadRequest):
    message = "next_token is not valid for this list"


class AdminRequired(Forbidden):
    message = "Only an admin may do this"


class DestinationIsPostmask(InvalidRequest):
    message = "This destination is an address on a domain registered in postmask: mail to it would loop"
