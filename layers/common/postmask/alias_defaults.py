"""Where an alias made without a domain or destinations goes, and the user's settings that say so (PATCH /api/me).

A password manager asks for "an alias" and names neither a domain nor a mailbox (the compatible routes,
docs/decisions/0003). The user says once where such aliases go:
- `default_alias_domain`: one of their domains that SES has verified (an alias on an unverified one receives
  nothing). Unset, a user with one domain gets it; with several, the request is refused with a message saying
  to choose.
- `default_alias_destinations`: some of their own destinations. Unset: their first verified destination
  (the oldest); none verified, the request is refused with a message saying to verify one.
- `alias_style`: how a random local part looks (postmask.ids: random characters or words).
"""

from __future__ import annotations

from dataclasses import dataclass

from postmask import ses
from postmask.errors import DomainNotFound, InvalidRequest
from postmask.schemas.users import User, UserSettings
from postmask.store import _dynamo as db
from postmask.store import destinations, domains, users

_VERIFIED_SCAN = 100  # verified destinations looked at for the oldest one (one Query page)


def update(user_id: str, settings: UserSettings) -> User:
    """Check and store what the caller sent; the profile as it is now."""
    changes = settings.changes()
    if changes.get("default_alias_domain") is not None:
        _check_domain(user_id, changes["default_alias_domain"], loc=("body", "default_alias_domain"))
    if changes.get("default_alias_destinations") is not None:
        _check_destinations(user_id, changes["default_alias_destinations"])
    return users.update_settings(user_id, changes)


def _check_domain(user_id: str, name: str, *, loc: tuple[str, ...]) -> None:
    try:
        domains.get(user_id, name)
    except DomainNotFound as exc:
        raise InvalidRequest(f"{name} is not one of your domains: add it on the Domains page first", loc=loc) from exc
    identity = ses.get_domain_identity(name)
    if identity is None or identity.status != "verified":
        raise InvalidRequest(
            f"{name} is not verified yet: publish its DNS records (Domains page), then choose it again", loc=loc
        )


def _check_destinations(user_id: str, addresses: list[str]) -> None:
    found = db.batch_get([destinations.key_of(user_id, address) for address in addresses], attributes=("email",))
    have = {destinations.canonical(str(item["email"])) for item in found}
    for index, address in enumerate(addresses):
        if destinations.canonical(address) not in have:
            raise InvalidRequest(
                f"{address} is not one of your destinations: add it on the Destinations page first",
                loc=("body", "default_alias_destinations", index),
            )


@dataclass(frozen=True)
class Target:
    """Where a new alias made by a client that names no domain or mailbox goes, and how its local part looks."""

    domain: str
    destinations: list[str]
    style: str


def for_new_alias(user_id: str, *, domain: str | None = None) -> Target:
    """The domain (`domain` when the client names one, which must be the caller's; else their default), the
    destinations and the style of a new alias. InvalidRequest with a message the person can act on otherwise.
    One Query (the profile and the domains' names), and one more without default destinations."""
    profile, names = users.profile_and_domains(user_id)
    if domain is not None:
        if domain not in names:
            raise InvalidRequest(f"{domain} is not one of your domains", loc=("body", "domain"))
        chosen = domain
    else:
        chosen = profile.default_alias_domain or _only(names)
    return Target(
        chosen, profile.default_alias_destinations or [_first_verified_destination(user_id)], profile.alias_style
    )


def _only(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if not names:
        raise InvalidRequest("You have no domain yet: add one on postmask's Domains page first")
    raise InvalidRequest(
        "You have several domains: choose the one for new aliases (Account page, default domain for new aliases)"
    )


def _first_verified_destination(user_id: str) -> str:
    verified = destinations.list_page(user_id, status="verified", limit=_VERIFIED_SCAN, next_token=None).items
    if not verified:
        raise InvalidRequest(
            "You have no verified destination yet: add your mailbox on postmask's Destinations page and open the "
            "link mailed to it"
        )
    return min(verified, key=lambda destination: destination.created_at).email
