"""Destinations as the API serves them: the store's records, and their verification links mailed.

The store makes a link whenever a write creates a destination (`POST /api/destinations`, an alias or catch-all
naming a new address) and returns it in a `Written`; `mailed` sends those links through postmask.system_mail.
When mail cannot be sent yet (no verified domain, SES refuses), the write still succeeds and the destination
stays pending: the failure is logged (never the link) and `resend` tells the user what to do (409).

Every link counts against its address's limits, installation-wide (store.link_limits, decision 0112): one per 10
minutes, 5 a day. Past them the link is not mailed; the destination is still created (pending), and
`POST /api/destinations` and resend answer 429 with Retry-After.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from postmask import system_mail
from postmask.errors import VerificationMailLimited
from postmask.observability import logger, metrics
from postmask.store import destinations, link_limits
from postmask.store.destinations import LINK_DAYS, NewLink, Written

if TYPE_CHECKING:  # made only by the destinations' own functions: an alias's function never builds them
    from postmask.schemas.destinations import Destination, Verified

TEMPLATE = "verify_destination"
VERIFY_PATH = "/verify"


def _send(link: NewLink, api_host: str | None, sender: str | None = None) -> None:
    system_mail.send(
        TEMPLATE,
        to=link.email,
        user_id=link.user_id,
        context={
            "email": link.email,
            "link": system_mail.link(VERIFY_PATH, link.token, api_host=api_host),
            "days": LINK_DAYS,
        },
        sender=sender,
    )
    logger.info("verification link sent", destination_id=link.destination_id)


def mailed[T](written: Written[T], *, api_host: str | None, refuse_when_limited: bool = False) -> T:
    """Mail the link of every destination `written` created; what was written. A link that cannot be mailed
    is logged and left: the destination stays pending until the user asks again (`resend`). A link past its
    address's limits is not mailed either: with `refuse_when_limited`, VerificationMailLimited (429) is raised
    once every other link was mailed (the destination is written all the same)."""
    limited: list[VerificationMailLimited] = []
    for link in written.new_links:
        try:
            sender = system_mail.sender_for(link.user_id)  # before the link is counted: one never sent never counts
            link_limits.claim_link(link.email)
            _send(link, api_host, sender=sender)
        except VerificationMailLimited as exc:
            logger.info("verification link not sent: rate limit", destination_id=link.destination_id)
            metrics.add_metric(name="VerificationMailLimited", unit="Count", value=1)
            limited.append(exc)
        except system_mail.CannotSend as exc:
            logger.warning("verification link not sent", destination_id=link.destination_id, reason=type(exc).__name__)
            metrics.add_metric(name="VerificationMailNotSent", unit="Count", value=1)
        except Exception:
            logger.exception("verification link not sent", destination_id=link.destination_id)
            metrics.add_metric(name="VerificationMailNotSent", unit="Count", value=1)
    if limited and refuse_when_limited:
        raise limited[0]
    return written.value


def create(user_id: str, email: str, *, api_host: str | None) -> Destination:
    """A new pending destination, its link mailed (201 even when it could not be; 429 when the address's limits
    held it back: the destination is created all the same)."""
    return mailed(destinations.create(user_id, email), api_host=api_host, refuse_when_limited=True)


def resend(user_id: str, destination_id: str, *, api_host: str | None) -> Destination:
    """A new link, mailed; the old one stops working. 404, 409 verified, 429 too soon (for this destination, or
    for its address), 409 nothing to send from (checked before anything changes), 409 SES refused."""
    senders: list[str] = []

    def check_sender(address: str) -> None:
        senders.append(system_mail.sender_for(user_id))
        link_limits.claim_link(address)  # 429 past the address's limits, before the old link is replaced

    written = destinations.renew_link(user_id, destination_id, check_sender=check_sender)
    for link in written.new_links:
        _send(link, api_host, sender=senders[0])
    return written.value


def verify(token: str) -> Verified:
    """The public verify route: the link's destination becomes verified (404 unknown, 410 expired)."""
    from postmask.schemas.destinations import Verified

    destination = destinations.verify(token)
    logger.info("destination verified", destination_id=destination.id)
    return Verified(email=destination.email)
