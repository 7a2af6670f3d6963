"""Domains as their owners see them: the table's records joined with the domain's Amazon SES identity.

Registering a domain creates its SES identity (Easy DKIM) before the table's records, so the DKIM tokens,
and with them the DNS records, are known from the first response; deleting it deletes the identity after
them. Verification is always SES's current word: one GetEmailIdentity for one domain, one
ListEmailIdentities for a page of them. No function writes when it only reads.

Who may register what (decision 0073): no one a public suffix (the request's schema refuses it); a name, or a
parent or subdomain of it, that another user holds only once that claim has lapsed: older than
DomainClaimDays and never verified by SES. A lapsed claim goes, its aliases with it (they never received
mail: SES only receives for verified domains), in the new registration's transaction. postmask adopts and
deletes only the SES identities it tagged; one it did not create is a 409, never touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta

from botocore.exceptions import ClientError

from postmask import ses, verification
from postmask.clock import iso, now
from postmask.dns import RecordStatuses
from postmask.errors import (
    AliasNotFound,
    DomainHasAliases,
    DomainIdentityNotOurs,
    DomainNotFound,
    DomainRemovalIncomplete,
    DomainTaken,
)
from postmask.observability import logger
from postmask.schemas.domains import DnsRecord, Domain, DomainList, DomainVerification, VerificationStatus
from postmask.settings import get_settings
from postmask.store import aliases, domains
from postmask.versions import Expected, Versioned

_REGISTER_ATTEMPTS = 3  # a tree changed by a concurrent registration is read again, this many times in all
# How many aliases one request removes with a domain (each a GetItem and a transaction): a claim or domain with
# more takes repeated requests (409 DomainRemovalIncomplete until done), within API Gateway's 29 seconds.
MAX_ALIASES_REMOVED_PER_REQUEST = 500
_ALIAS_PAGE = 100


def _with_status(domain: Domain, status: VerificationStatus, records: RecordStatuses | None = None) -> Domain:
    """`domain` with SES's verdicts: on the domain, and on each record SES checks (`records`)."""
    update: dict[str, object] = {"verification": DomainVerification(status=status)}
    if records is not None:
        update["dns_records"] = [_record_with_status(record, domain.name, records) for record in domain.dns_records]
    return domain.model_copy(update=update)


def _record_with_status(record: DnsRecord, name: str, statuses: RecordStatuses) -> DnsRecord:
    if record.type == "CNAME":
        return record.model_copy(update={"status": statuses.dkim})
    if record.type == "MX" and record.name != name:  # the custom MAIL FROM's MX (SES checks only this one of its two)
        return record.model_copy(update={"status": statuses.mail_from})
    return record


def _statuses(identity: ses.DomainIdentity | None, mail_from_domain: str | None) -> RecordStatuses:
    """SES's verdicts on the records it checks. No identity: none will verify. A MAIL FROM domain SES does not have
    (setting it failed): no status, since SES checks nothing for it (decision 0085)."""
    if identity is None:
        return RecordStatuses(dkim="failed", mail_from="failed" if mail_from_domain else None)
    ses_has_it = mail_from_domain is not None and identity.mail_from_domain == mail_from_domain
    mail_from = identity.mail_from_status if ses_has_it else None
    return RecordStatuses(dkim=identity.status, mail_from=mail_from)


def _refreshed(domain: Domain) -> Domain:
    identity = ses.get_domain_identity(domain.name)
    # No identity (deleted outside postmask): nothing will verify it, and SES will not send from it.
    return _with_status(
        domain, identity.status if identity is not None else "failed", _statuses(identity, _mail_from_of(domain))
    )


def _mail_from_of(domain: Domain) -> str | None:
    """The custom MAIL FROM domain listed in `domain`'s records (its second MX), if it has one."""
    return next((r.name for r in domain.dns_records if r.type == "MX" and r.name != domain.name), None)


def mail_from_domain(name: str) -> str:
    return f"{get_settings().mail_from_subdomain}.{name}"


def _set_mail_from(name: str) -> str | None:
    """Set the identity's custom MAIL FROM domain; the domain, or None if SES refused it. A refusal is logged, not
    returned: the domain works without it (SES sends from amazonses.com), and its records say so."""
    chosen = mail_from_domain(name)
    try:
        ses.set_mail_from(name, chosen)
    except ClientError:
        logger.exception("SES did not take the custom MAIL FROM domain", domain=name, mail_from_domain=chosen)
        return None
    return chosen


def register(
    user_id: str,
    name: str,
    catch_all_destination: str | None,
    *,
    dmarc_report_address: str | None = None,
    api_host: str | None = None,
) -> Domain:
    """Register `name` for `user_id` (409 if it, a parent or a subdomain is someone else's unlapsed claim), with
    its SES identity: created tagged, or adopted if this stack tagged it, and given its custom MAIL FROM domain.
    The identity is not deleted on a 409: it is the registered owner's. A new catch-all destination gets its
    verification link (postmask.verification)."""
    for _ in range(_REGISTER_ATTEMPTS):
        tree = domains.read_tree(name)
        lapsed = _lapsed_conflicts(user_id, name, tree)
        _refuse_a_mail_from_domain(name, tree)
        identity = ses.create_domain_identity(name)
        if not identity.ours:
            raise DomainIdentityNotOurs
        mail_from = _set_mail_from(name)
        for claim in lapsed:
            _remove_aliases(claim.owner_id, claim.name)
        try:
            written = domains.create(
                user_id,
                name,
                catch_all_destination,
                dkim_tokens=identity.dkim_tokens,
                mail_from_domain=mail_from,
                dmarc_report_address=dmarc_report_address,
                tree=tree,
                replacing=lapsed,
            )
        except domains.TreeChanged:
            continue  # another registration in this tree, or an alias added to a lapsed claim: read again
        for claim in lapsed:
            if claim.name != name:  # the new claim took over the identity of its own name
                delete_identity(claim.name)
        # Just set: SES has not looked for the MX yet (PENDING), unless it refused it (no status).
        statuses = RecordStatuses(dkim=identity.status, mail_from="pending" if mail_from else None)
        return _with_status(verification.mailed(written, api_host=api_host), identity.status, statuses)
    raise DomainTaken("This domain, a parent or a subdomain of it changed while registering it; try again")


def _lapsed_conflicts(user_id: str, name: str, tree: domains.Tree) -> list[domains.Claim]:
    """The other users' claims on `name`, its parents or its subdomains: every one must have lapsed (else 409)."""
    lapsed = []
    for claim in tree.claims:
        if not domains.related(claim.name, name):
            continue
        if claim.owner_id == user_id:
            if claim.name == name:
                raise DomainTaken("You have registered this domain already")
            continue  # your own parent or subdomain
        if not _has_lapsed(claim):
            raise DomainTaken(_taken_message(name, claim.name))
        lapsed.append(claim)
    return lapsed


def _refuse_a_mail_from_domain(name: str, tree: domains.Tree) -> None:
    """409 for a name that is, or would have as its own, a registered domain's MAIL FROM domain: SES's rule is
    that a MAIL FROM domain receives no mail, and a registered domain's MX sends its mail to SES (decision 0085)."""
    held = {claim.name for claim in tree.claims}
    parent = name.partition(".")[2]
    if parent in held and name == mail_from_domain(parent):
        raise DomainTaken(f"{name} is the MAIL FROM domain of {parent}, which receives no mail: register another")
    if mail_from_domain(name) in held:
        raise DomainTaken(f"{mail_from_domain(name)} is registered: it would be this domain's MAIL FROM domain")


def _taken_message(name: str, held: str) -> str:
    if held == name:
        return DomainTaken.message
    if name.endswith("." + held):
        return f"{held} is registered by another user: only its owner registers names under it"
    return f"A subdomain of {name} is registered by another user"


def _has_lapsed(claim: domains.Claim) -> bool:
    """Older than DomainClaimDays and never verified by SES: its claimant never showed they own the domain."""
    cutoff = iso(now() - timedelta(days=get_settings().domain_claim_days))
    if claim.created_at > cutoff:
        return False
    identity = ses.get_domain_identity(claim.name)
    return identity is None or not identity.ever_verified


def _remove_aliases(owner_id: str, name: str) -> None:
    """Delete the owner's aliases on `name`, each as its owner deleting it would (route, counts, contacts...),
    at most MAX_ALIASES_REMOVED_PER_REQUEST of them."""
    removed = 0
    next_token: str | None = None
    while True:
        # A filtered page may be empty with more to come (the owner's other domains' aliases in between).
        page = aliases.list_page(owner_id, domain=name, q=None, enabled=None, limit=_ALIAS_PAGE, next_token=next_token)
        for alias in page.items:
            if removed >= MAX_ALIASES_REMOVED_PER_REQUEST:
                raise DomainRemovalIncomplete
            with suppress(AliasNotFound):  # deleted meanwhile
                aliases.delete(owner_id, alias.id)
            removed += 1
        if page.next_token is None:
            return
        next_token = page.next_token


def delete_identity(name: str) -> None:
    """Delete the SES identity of a domain that is gone, if this stack created it. A failure is logged, not
    returned: the domain is gone either way, and a leftover tagged identity is adopted if it is registered again."""
    try:
        if not ses.delete_domain_identity(name):
            logger.info("SES identity left alone: postmask did not create it", domain=name)
    except Exception:
        logger.exception("could not delete the SES identity of a deleted domain", domain=name)


def get(user_id: str, name: str) -> Domain:
    return _refreshed(domains.get(user_id, name))


def read(user_id: str, name: str) -> Versioned[Domain]:
    """One domain, verification refreshed, and its version (its ETag)."""
    found = domains.read(user_id, name)
    return Versioned(_refreshed(found.value), found.version)


def list_page(user_id: str, *, name_contains: str | None, limit: int, next_token: str | None) -> DomainList:
    page = domains.list_page(user_id, name_contains=name_contains, limit=limit, next_token=next_token)
    if not page.items:
        return page
    statuses = ses.verification_statuses()
    # ListEmailIdentities reports each identity's status, which for a domain is its DKIM records' verdict, and
    # nothing on the MAIL FROM: those records carry no status in a page (GET /api/domains/{domain} has it).
    return page.model_copy(
        update={
            "items": [
                _with_status(domain, status, RecordStatuses(dkim=status))
                for domain in page.items
                for status in [statuses.get(domain.name, "failed")]
            ]
        }
    )


def update(
    user_id: str,
    name: str,
    changes: Mapping[str, str | None],
    *,
    api_host: str | None = None,
    expected: Expected | None = None,
) -> Versioned[Domain]:
    """Change the catch-all destination, the DMARC report address or both (`changes`: only the fields sent)."""
    written = domains.update(user_id, name, changes, expected=expected)
    domain = verification.mailed(written, api_host=api_host)
    return Versioned(_refreshed(domain), written.version)


def delete(user_id: str, name: str, *, expected: Expected | None = None) -> None:
    """Delete the records (404 / 409 / 412 as the store decides), then the SES identity if postmask created it."""
    domains.delete(user_id, name, expected=expected)
    delete_identity(name)


def remove(name: str) -> None:
    """An admin's removal of anyone's domain: its aliases, its records, its SES identity if postmask created it.
    404 when no one registered it."""
    found = domains.registration(name)
    if found is None:
        raise DomainNotFound
    owner_id = found.owner_id
    try:
        domains.delete(owner_id, name, known=found)  # one transaction when it has no aliases
    except DomainHasAliases:
        _remove_aliases(owner_id, name)
        domains.delete(owner_id, name)
    delete_identity(name)
