"""Domains as their owners see them: the table's records joined with the domain's Amazon SES identity.

Registering a domain creates its SES identity (Easy DKIM) before the table's records, so the DKIM tokens,
and with them the DNS records, are known from the first response; deleting it deletes the identity after
them. Verification is always SES's current word: one GetEmailIdentity for one domain, one
ListEmailIdentities for a page of them. No function writes when it only reads.
"""

from __future__ import annotations

from postmask import ses, verification
from postmask.observability import logger
from postmask.schemas.domains import Domain, DomainList, DomainVerification, VerificationStatus
from postmask.store import domains


def _with_status(domain: Domain, status: VerificationStatus) -> Domain:
    return domain.model_copy(update={"verification": DomainVerification(status=status)})


def _refreshed(domain: Domain) -> Domain:
    identity = ses.get_domain_identity(domain.name)
    # No identity (deleted outside postmask): nothing will verify it, and SES will not send from it.
    return _with_status(domain, identity.status if identity is not None else "failed")


def register(user_id: str, name: str, catch_all_destination: str | None, *, api_host: str | None = None) -> Domain:
    """Create the SES identity (or reuse the existing one), then the records; 409 if anyone registered it.
    A new catch-all destination gets its verification link (postmask.verification).

    The identity is not deleted on a 409: it is the registered owner's."""
    identity = ses.create_domain_identity(name)
    written = domains.create(user_id, name, catch_all_destination, dkim_tokens=identity.dkim_tokens)
    return _with_status(verification.mailed(written, api_host=api_host), identity.status)


def get(user_id: str, name: str) -> Domain:
    return _refreshed(domains.get(user_id, name))


def list_page(user_id: str, *, name_contains: str | None, limit: int, next_token: str | None) -> DomainList:
    page = domains.list_page(user_id, name_contains=name_contains, limit=limit, next_token=next_token)
    if not page.items:
        return page
    statuses = ses.verification_statuses()
    return page.model_copy(
        update={"items": [_with_status(domain, statuses.get(domain.name, "failed")) for domain in page.items]}
    )


def set_catch_all(user_id: str, name: str, catch_all_destination: str | None, *, api_host: str | None = None) -> Domain:
    written = domains.set_catch_all(user_id, name, catch_all_destination)
    return _refreshed(verification.mailed(written, api_host=api_host))


def delete(user_id: str, name: str) -> None:
    """Delete the records (404 / 409 as the store decides), then the SES identity."""
    domains.delete(user_id, name)
    try:
        ses.delete_domain_identity(name)
    except Exception:
        # The domain is gone for the user either way; a leftover identity is reused if it is registered again.
        logger.exception("could not delete the SES identity of a deleted domain", domain=name)
