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


class Gone(PostmaskError):
    message = "Gone"


class TooManyRequests(PostmaskError):
    message = "Too many requests"


class PreconditionFailed(PostmaskError):
    """An `If-Match` that does not name the resource's current version: it changed since the client read it."""

    message = "The resource changed since you read it (If-Match does not match its ETag): read it again"


class TooLarge(PostmaskError):
    message = "The request body is too large"


class NotAcceptable(PostmaskError):
    message = "The response cannot be given in a form the request accepts"


class UnsupportedMediaType(PostmaskError):
    message = "Send the body as application/json"


class DomainNotFound(NotFound):
    message = "Domain not found"


class AliasNotFound(NotFound):
    message = "Alias not found"


class ContactNotFound(NotFound):
    message = "Contact not found"


class TokenNotFound(NotFound):
    message = "Token not found"


class UserNotFound(NotFound):
    message = "User not found"


class ConfirmationMismatch(InvalidRequest):
    message = "Type your account's e-mail address exactly to confirm that the account is to be deleted"


class CannotDisableYourself(Conflict):
    message = "You cannot disable your own account: another admin can"


class DestinationNotFound(NotFound):
    message = "Destination not found"


class VerificationLinkUnknown(NotFound):
    message = "This link is not valid (a newer one may have replaced it): ask for a new one"


class VerificationLinkExpired(Gone):
    message = "This link has expired: ask for a new one"


class DomainTaken(Conflict):
    message = "This domain is already registered"


class DomainIdentityNotOurs(Conflict):
    message = (
        "Amazon SES already has an identity for this domain that postmask did not create (the operator's own, "
        "or another stack's); postmask never adopts one. Ask the operator"
    )


class DomainRemovalIncomplete(Conflict):
    message = "Some of the domain's aliases are still to be removed; repeat the request"


class DomainHasAliases(Conflict):
    message = "This domain still has aliases; delete them first"


class AddressTaken(Conflict):
    message = "This address is already taken"


class ContactExists(Conflict):
    message = "This alias already has a contact with this address"


class EmailTaken(Conflict):
    message = "A user with this e-mail address already exists"


class DestinationExists(Conflict):
    message = "You already have this destination"


class DestinationVerified(Conflict):
    message = "This destination is verified already"


class DestinationInUse(Conflict):
    message = "Aliases or a catch-all still forward to this destination; change them first"


class NoSystemMailSender(Conflict):
    """postmask has nothing to send its own mail from: no SenderAddress, and none of the user's domains is
    verified in Amazon SES yet."""

    message = (
        "postmask cannot send mail yet: none of your domains is verified in Amazon SES. Publish a domain's DNS "
        "records (GET /api/domains/<domain>) and wait until it is verified, or ask the operator to set the "
        "SenderAddress parameter; then ask for the link again."
    )


class SystemMailRefused(Conflict):
    """Amazon SES refused to send postmask's own mail (an account still in the SES sandbox, sending paused)."""

    message = "Amazon SES refused to send the mail"


class SignInCodeInvalid(BadRequest):
    message = (
        "This sign-in link does not work: it was used already, has expired (a link works for 15 minutes) "
        "or is incomplete. Ask for a new one."
    )


class InvalidNextToken(BadRequest):
    message = "next_token is not valid for this list"


class AdminRequired(Forbidden):
    message = "Only an admin may do this"


class LinkRequestedTooSoon(TooManyRequests):
    message = "A link was sent less than a minute ago: wait a minute before asking for another"


class DestinationIsPostmask(InvalidRequest):
    message = "This destination is an address on a domain registered in postmask: mail to it would loop"

    @staticmethod
    def about(address: str) -> str:
        return f"{address} is an address on a domain registered in postmask: mail to it would loop"


class AliasQuotaExceeded(Forbidden):
    message = "You have reached the maximum number of aliases"


class IdempotencyKeyReused(InvalidRequest):
    message = "This Idempotency-Key was used with another request in the last 24 hours: use a new key for a new request"


class IdempotentRequestInProgress(Conflict):
    message = "A request with this Idempotency-Key is still being processed: retry in a moment"


class ExportTooLarge(NotAcceptable):
    message = "Your export is larger than a response may be: ask for it compressed (Accept-Encoding: gzip)"
