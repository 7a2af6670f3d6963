"""Domain markers, `DOMAIN#<name>/DOMAIN`: the registration of a domain in the whole installation (written
by store.domains), and the check that a destination lies outside postmask.

Mail forwarded to an address on a domain registered in postmask comes back to postmask: a loop, every hop a
new SES message. The writes that set destinations (aliases, catch-alls) check, in their own transaction, that
no marker exists for any destination's domain: a ConditionCheck each, no extra request, no race with a
registration in between. (A module of its own: the alias routes use it without the domain models.)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from postmask.errors import DestinationIsPostmask
from postmask.store import _dynamo as db


def marker_pk(name: str) -> str:
    return f"DOMAIN#{name}"


@dataclass(frozen=True)
class OutsideCheck:
    """The ConditionCheck actions for some destinations, and how to tell which one failed."""

    actions: list[dict[str, Any]]
    destinations: list[tuple[int, str]]  # (index in the request, address) of the first address of each domain
    loc: tuple[str, ...]

    def raise_if_failed(self, failed: Sequence[bool]) -> None:
        """Raise DestinationIsPostmask for the first check of `failed` (this check's own slice) that failed."""
        for (index, address), hit in zip(self.destinations, failed, strict=True):
            if hit:
                loc: tuple[str | int, ...] = (*self.loc, index) if self.loc[-1] == "destinations" else self.loc
                raise DestinationIsPostmask(DestinationIsPostmask.about(address), loc=loc)


def outside_postmask(
    destinations: Sequence[str],
    *,
    loc: tuple[str, ...],
    own_domain: str | None = None,
    leaving: Collection[str] = (),
) -> OutsideCheck:
    """The checks that every destination is outside postmask. A destination on `own_domain` (the domain being
    registered or changed, whose marker the same transaction writes) is refused at once. One on a domain of
    `leaving` (lapsed claims whose markers the same transaction deletes) is outside postmask once it commits:
    not checked (a transaction may name an item once)."""
    by_domain: dict[str, tuple[int, str]] = {}
    for index, address in enumerate(destinations):
        domain = address.rpartition("@")[2].lower()
        if domain == own_domain:
            OutsideCheck([], [(index, address)], loc).raise_if_failed([True])
        if domain not in leaving:
            by_domain.setdefault(domain, (index, address))
    actions = [
        {
            "ConditionCheck": {
                "Key": db.key(marker_pk(domain), "DOMAIN"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for domain in by_domain
    ]
    return OutsideCheck(actions, list(by_domain.values()), loc)
