"""Leak detection: which site an alias was given to, and which senders are not that site.

An alias's `site` is a registrable domain (the Public Suffix List: `mail.shop.example.co.uk` is
`example.co.uk`, `user.github.io` stays itself; decision 0071). The owner sets it, or the first sender whose
mail to the alias is forwarded sets it (its `From` address's registrable domain). A sender whose `From` has
another registrable domain, or none, is **foreign**: each foreign sender is counted once on the alias, the first
one marks the leak suspected and mails the owner one notice; with `block_foreign_senders`, their mail is blocked
(the forwarder decides that, `is_foreign`).

The `From` address comes from SES's `commonHeaders` in the receipt event, so nothing here reads the message.
It can be forged like any header: leak detection tells a person what to look at, it authenticates nothing.
Nothing here may cost a message its delivery: failures are logged, never raised (`observe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask.errors import NoSystemMailSender
from postmask.observability import logger, metrics
from postmask.store.routes import Route

NOTICE = "leak_notice"  # the system mail's template folder


@dataclass(frozen=True)
class Sender:
    """The message's `From` address (canonical, lower case) and its site; None where there is none."""

    address: str | None
    site: str | None


NO_SENDER = Sender(None, None)


def sender_of(common_headers: Mapping[str, Any] | None) -> Sender:
    """The first address of SES's `commonHeaders.from`, and its registrable domain."""
    values = (common_headers or {}).get("from")
    if not isinstance(values, list) or not values or not isinstance(values[0], str):
        return NO_SENDER
    from postmask.mail.headers import mailboxes, sendable

    found = mailboxes(values[0].encode("utf-8", errors="replace"))
    if not found:
        return NO_SENDER
    address = sendable(found[0].address) or found[0].address.lower()
    from postmask.public_suffix import site_of

    return Sender(address, site_of(address) if "@" in address else None)


def is_foreign(route: Route, sender: Sender) -> bool:
    """Whether `sender` is not the alias's site (no site yet: nobody is foreign)."""
    return route.site is not None and sender.site != route.site


def observe(route: Route, sender: Sender, *, forwarded: bool, at: str) -> bool:
    """Learn from one message to the alias: its site (the first forwarded message names it) or a foreign sender
    (counted; the first one suspected and noticed). True when the sender is foreign."""
    try:
        return _observe(route, sender, forwarded=forwarded, at=at)
    except Exception:
        logger.exception("leak detection failed for a message; it is forwarded or blocked as decided")
        return is_foreign(route, sender)


def _observe(route: Route, sender: Sender, *, forwarded: bool, at: str) -> bool:
    from postmask.store import leaks

    if route.site is None:
        if forwarded and sender.site is not None and leaks.infer_site(route, sender.site):
            logger.info("site inferred from the first sender", alias_id=route.alias_id, site=sender.site)
        return False
    if not is_foreign(route, sender):
        return False
    if sender.address is None or not leaks.count_foreign(route, sender.address, at):
        return True  # no address to count, or this sender was counted before
    metrics.add_metric(name="LeakForeignSender", unit=MetricUnit.Count, value=1)
    logger.info("foreign sender", alias_id=route.alias_id, site=route.site, sender_site=sender.site)
    if leaks.claim_notice(route, at):
        metrics.add_metric(name="LeakSuspected", unit=MetricUnit.Count, value=1)
        _notify(route, sender.address)
    return True


def _notify(route: Route, sender: str) -> None:
    """Mail the owner the alias's one leak notice; if it cannot go, the next foreign sender tries again."""
    from postmask import ses, system_mail
    from postmask.settings import get_settings
    from postmask.store import leaks

    try:
        to = leaks.owner_email(route.owner_id)
        domain = route.address.rpartition("@")[2]
        # From SenderAddress, else from the alias's own domain (no Query of the owner's domains on the mail path).
        from_address = get_settings().sender_address or (
            f"{system_mail.SENDER_LOCAL_PART}@{domain}" if ses.is_verified(domain) else ""
        )
        if not to or not from_address:
            raise NoSystemMailSender("no account e-mail, or no verified domain to send the notice from")
        link = f"{system_mail.public_url()}/aliases/{route.alias_id}"  # its leak state, activity and contacts
        context = {"alias": route.address, "site": route.site, "sender": sender, "link": link}
        system_mail.send(NOTICE, to=to, user_id=route.owner_id, context=context, sender=from_address)
    except Exception:
        logger.exception("leak notice not sent; the next foreign sender tries again", alias_id=route.alias_id)
        leaks.release_notice(route)
        return
    logger.info("leak notice sent", alias_id=route.alias_id)
