"""Destinations as the API serves them: the store's records, and their verification links mailed.

The store makes a link whenever a write creates a destination (`POST /api/destinations`, an alias or catch-all
naming a new address) and returns it in a `Written`; `mailed` sends those links through postmask.system_mail.
When mail cannot be sent yet (no verified domain, SES refuses), the write still succeeds and the destination
stays pending: the failure is logged (never the link) and `resend` tells the user what to do (409).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from postmask import system_mail
from postmask.observability import logger, metrics
from postmask.store import destinations
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


def mailed[T](written: Written[T], *, api_host: str | None) -> T:
    """Mail the link of every destination `written` created; what was written. A link that cannot be mailed
    is logged and left: the destination stays pending until the user asks again (`resend`)."""
    for link in written.new_links:
        try:
            _send(link, api_host)
        except system_mail.CannotSend as exc:
            logger.warning("verification link not sent", destination_id=link.destination_id, reason=type(exc).__name__)
            metrics.add_metric(name="VerificationMailNotSent", unit="Count", value=1)
        except Exception:
            logger.exception("verification link not sent", destination_id=link.destination_id)
            metrics.add_metric(name="VerificationMailNotSent", unit="Count", value=1)
    return written.value


def create(user_id: str, email: str, *, api_host: str | None) -> Destination:
    """A new pending destination, its link mailed (201 even when it could not be)."""
    return mailed(destinations.create(user_id, email), api_host=api_host)


def resend(user_id: str, destination_id: str, *, api_host: str | None) -> Destination:
    """A new link, mailed; the old one stops working. 404, 409 verified, 429 too soon, 409 nothing to send
    from (checked before anything changes), 409 SES refused."""
    senders: list[str] = []
    written = destinations.renew_link(
        user_id, destination_id, check_sender=lambda: senders.append(system_mail.sender_for(user_id))
    )
    for link in written.new_links:
        _send(link, api_host, sender=senders[0])
    return written.value


def verify(token: str) -> Verified:
    """The public verify route: the link's destination becomes verified (404 unknown, 410 expired)."""
    from postmask.schemas.destinations import Verified

    destination = destinations.verify(token)
    logger.info("destination verified", destination_id=destination.id)
    return Verified(email=destination.email)
