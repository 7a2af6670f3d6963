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


class PgpKeyNotFound(NotFound):
    message = "This destination has no OpenPGP key"


class PgpKeyRejected(InvalidRequest):
    """A pasted OpenPGP key postmask cannot encrypt to; the message says why (postmask.openpgp)."""

    message = "This OpenPGP key cannot be used"


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


class RateLimited(TooManyRequests):
    """Past a rate limit: `retry_after` seconds until the request may succeed (the `Retry-After` header)."""

    retry_after = 60

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = max(1, retry_after)


class LinkRequestedTooSoon(RateLimited):
    message = "A link was sent less than a minute ago: wait a minute before asking for another"


class VerificationMailLimited(RateLimited):
    message = (
        "This address was sent a verification link too recently (one per 10 minutes and 5 a day, whoever asks): "
        "the destination stays pending; resend its link later (POST /api/destinations/{id}/resend)"
    )


class TooManyNewDestinations(RateLimited):
    message = "You have added 20 new destinations today, the most a day: nothing was created; try again tomorrow"


class DestinationIsPostmask(InvalidRequest):
    message = "This destination is an address on a domain registered in postmask: mail to it would loop"

    @staticmethod
    def about(address: str) -> str:
        return f"{address} is an address on a domain registered in postmask: mail to it would loop"


class ContactIsPostmask(InvalidRequest):
    message = "A contact cannot be the alias itself nor a reply address: mail to it would loop"


class AliasQuotaExceeded(Forbidden):
    message = "You have reached the maximum number of aliases"


class IdempotencyKeyReused(InvalidRequest):
    message = "This Idempotency-Key was used with another request in the last 24 hours: use a new key for a new request"


class IdempotentRequestInProgress(Conflict):
    message = "A request with this Idempotency-Key is still being processed: retry in a moment"


class ExportTooLarge(NotAcceptable):
    message = "Your export is larger than a response may be: ask for it compressed (Accept-Encoding: gzip)"


class QuarantinedNotFound(NotFound):
    message = "Quarantined message not found (it may have expired after QuarantineDays, or been deleted)"


class QuarantinedDeliveredAlready(Conflict):
    message = "This message was delivered to that destination already: it is sent at most once per destination"


class QuarantinedMessageGone(Conflict):
    message = (
        "The stored message is gone (it expired, or was deleted): it can no longer be resent. "
        "Delete this entry, or ask the sender to send it again."
    )


class QuarantinedAddressGone(Conflict):
    message = "The address this message came to is no longer yours: it can no longer be resent. Delete this entry."


class QuarantinedKeyUnusable(InvalidRequest):
    message = (
        "The destination's OpenPGP key cannot be used, and its fallback keeps mail in quarantine rather than send it "
        "in clear: replace the key (PUT /api/destinations/{destination_id}/pgp), or set its fallback to plain. "
        "The message stays quarantined."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, loc=("body", "destination"))


class QuarantinedNeverFits(TooLarge):
    message = (
        "This message is larger than Amazon SES sends (40 MB, headers included): it can never be resent. "
        "Ask the sender to share the large files as a link instead."
    )


class ResendDestinationInvalid(InvalidRequest):
    message = "destination must be one of your verified destinations (GET /api/destinations?status=verified)"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, loc=("body", "destination"))
