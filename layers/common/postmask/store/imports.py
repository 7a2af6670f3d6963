"""Import: many aliases (and destinations) at once, each created exactly as `POST /api/aliases` creates one.

Two passes over the rows (the body is read twice, never held parsed: postmask.porting; the plan keeps only the
numbers of the rows to create, which the write reads and validates again):
1. **Plan.** Per 100 rows: each row validated as a create would validate it, its domain looked up among the
   caller's (one Query of their domains, before the first row), its address looked up in one BatchGetItem of
   the routes (`ADDRESS#`, `owner_id` only): the caller's own already -> skipped; someone else's -> an error for
   that row; free -> to create. What would be created is checked against MaxAliasesPerUser (403, nothing
   written), and the destinations the rows name that the caller does not have yet are found (BatchGetItem).
   A dry run answers here.
2. **Write.** Missing destinations created pending, with their links (mailed by the caller). Then the rows to
   create in transactions of up to 100 actions: each alias's two items (alias, route: the address must still be
   free) and, summed per transaction, its domain's alias_count, the caller's (under the quota) and each
   destination's. A transaction refused on some rows (an address taken meanwhile...) is retried without them,
   each such row reported; never half an alias. Past `deadline()`, the rows left are reported "not imported":
   importing the file again completes it (what exists is skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from postmask.errors import AliasQuotaExceeded, DestinationIsPostmask, TooManyNewDestinations
from postmask.porting import MAX_ROWS, Contact, Row, Source
from postmask.schemas.aliases import AliasCreate
from postmask.store import _dynamo as db
from postmask.store import aliases, contacts, destinations, quota
from postmask.store.destinations import NewLink
from postmask.store.markers import OutsideCheck, marker_pk, outside_postmask

_PLAN_BATCH = 100  # rows looked up per BatchGetItem of their routes
_WRITE_ATTEMPTS = 5


@dataclass
class Report:
    format: str
    dry_run: bool
    created: int = 0
    skipped: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (row, message)
    new_destinations: list[str] = field(default_factory=list)
    links: list[NewLink] = field(default_factory=list)  # to be mailed (never in a dry run)
    not_created: set[str] = field(default_factory=set)  # new destinations (canonical) no transaction created yet


@dataclass(frozen=True)
class _Planned:
    number: int
    body: AliasCreate


def run(
    user_id: str,
    source: Source,
    *,
    dry_run: bool,
    default_destination: str | None,
    deadline: Callable[[], bool] = lambda: False,
) -> Report:
    report = Report(format=source.format, dry_run=dry_run)
    owned = {item["name"] for item in db.all_items(f"USER#{user_id}", "DOMAIN#", attributes=("name",))}
    rules = _Rules(owned, default_destination)
    wanted: dict[str, str] = {}
    planned_rows = _plan(user_id, source, rules, report, wanted)

    # Only the destinations of the aliases to create (an export's list of destinations names others too: an
    # import never mails a link to an address no alias it writes uses; decision 0112).
    report.new_destinations = _missing_destinations(user_id, list(wanted.values()))
    report.not_created = {destinations.canonical(address) for address in report.new_destinations}

    if len(planned_rows) > quota.usage(user_id).room:
        raise quota.exceeded(len(planned_rows))
    if dry_run:
        report.created = len(planned_rows)
        return report

    _write(user_id, source, rules, planned_rows, report, deadline)
    _add_contacts(user_id, source, rules, report, deadline)
    report.errors.sort(key=lambda error: (error[0] is not None, error[0] or 0))
    return report


# --- plan ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """What a row is validated against: the caller's domains, and where rows without a destination go; and which
    destination domains are registered in postmask (looked up once each: mail to them would loop)."""

    owned: set[str]
    default_destination: str | None
    registered: dict[str, bool] = field(default_factory=dict)

    def look_up_registered(self, domains: set[str]) -> None:
        unknown = sorted(domains - self.registered.keys())
        if not unknown:
            return
        keys = [db.key(marker_pk(domain), "DOMAIN") for domain in unknown]
        found = {item["pk"] for item in db.batch_get(keys, attributes=("pk",))}
        self.registered.update({domain: marker_pk(domain) in found for domain in unknown})

    def looping(self, body: AliasCreate) -> str | None:
        """The first destination of `body` on a domain registered in postmask, if any."""
        return next((address for address in body.destinations if self.registered.get(_domain_of(address))), None)


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _plan(user_id: str, source: Source, rules: _Rules, report: Report, wanted: dict[str, str]) -> set[int]:
    """The numbers of the rows to create, with every other row counted as skipped or reported; the destinations
    the planned rows name go into `wanted`. Only the numbers are kept: the write reads the rows again."""
    planned: set[int] = set()
    seen: set[str] = set()
    batch: list[tuple[int, AliasCreate]] = []
    count = 0
    for row in source.rows():
        count += 1
        if count > MAX_ROWS:
            report.errors.append((row.number, f"not imported: an import takes at most {MAX_ROWS} rows"))
            continue
        body = _validated(row, rules, report)
        if body is None:
            continue
        address = f"{body.local_part}@{body.domain}"
        if address in seen:
            report.skipped += 1  # the same address twice in one file: created once
            continue
        seen.add(address)
        batch.append((row.number, body))
        if len(batch) == _PLAN_BATCH:
            _look_up(user_id, batch, planned, report, wanted, rules)
            batch = []
    _look_up(user_id, batch, planned, report, wanted, rules)
    return planned


def _validated(row: Row, rules: _Rules, report: Report) -> AliasCreate | None:
    owned, default_destination = rules.owned, rules.default_destination
    if row.problem:
        report.errors.append((row.number, row.problem))
        return None
    local_part, at, domain = row.address.rpartition("@")
    if not row.address or not at:
        report.errors.append((row.number, f"{row.address[:100]!r} is not an address" if row.address else "no address"))
        return None
    destinations_ = row.destinations or ([default_destination] if default_destination else [])
    if not destinations_:
        report.errors.append((row.number, "no destination: the file names none for it, give default_destination"))
        return None
    try:
        body = AliasCreate.model_validate(
            {
                "domain": domain,
                "local_part": local_part,
                "destinations": destinations_,
                "note": row.note,
                "enabled": row.enabled,
                "expires_at": row.expires_at,
                "display_name": row.display_name,
                "site": row.site,
                "block_foreign_senders": row.block_foreign_senders,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        report.errors.append((row.number, f"{row.address[:100]}: {where}: {first['msg']}"))
        return None
    if body.domain not in owned:
        report.errors.append((row.number, f"{body.domain} is not one of your domains"))
        return None
    return body


def _look_up(
    user_id: str,
    batch: Sequence[tuple[int, AliasCreate]],
    planned: set[int],
    report: Report,
    wanted: dict[str, str],
    rules: _Rules,
) -> None:
    """Who holds each address of `batch` (one BatchGetItem of their routes, `owner_id` only), and whether its
    destinations' domains are registered in postmask (one BatchGetItem of the markers not looked up yet)."""
    if not batch:
        return
    keys = [aliases._route_key(f"{body.local_part}@{body.domain}") for _, body in batch]
    owners = {item["pk"]: item.get("owner_id") for item in db.batch_get(keys, attributes=("pk", "owner_id"))}
    rules.look_up_registered({_domain_of(address) for _, body in batch for address in body.destinations})
    for number, body in batch:
        owner = owners.get(f"ADDRESS#{body.local_part}@{body.domain}")
        looping = rules.looping(body)
        if looping is not None and owner != user_id:
            report.errors.append((number, DestinationIsPostmask.about(looping)))
        elif owner is None:
            planned.add(number)
            for destination in body.destinations:
                wanted.setdefault(destinations.canonical(destination), destination)
        elif owner == user_id:
            report.skipped += 1
        else:
            report.errors.append((number, f"{body.local_part}@{body.domain} is already taken"))


def _missing_destinations(user_id: str, addresses: list[str]) -> list[str]:
    """Which of `addresses` the caller has no destination for (one BatchGetItem per 100)."""
    keys = {destinations.destination_id(user_id, address): address for address in addresses}
    existing = db.batch_get([destinations.key_of(user_id, address) for address in addresses], attributes=("id",))
    for item in existing:
        keys.pop(item["id"], None)
    return list(keys.values())


# --- write ---------------------------------------------------------------------------------------------------


def _write(
    user_id: str, source: Source, rules: _Rules, planned: set[int], report: Report, deadline: Callable[[], bool]
) -> None:
    pending = _pending(source, rules, planned)
    while True:
        group = _next_group(user_id, pending)
        if not group:
            return
        if deadline():
            left = [number for number, _, _ in group] + [number for number, _ in pending]
            report.errors.extend(
                (number, "not imported: time ran out; import the file again to add the rest") for number in left
            )
            return
        _write_group(user_id, group, report)


def _pending(source: Source, rules: _Rules, planned: set[int]) -> Iterator[tuple[int, AliasCreate]]:
    """The planned rows, read and validated again (as in the plan: the same file, the same rules)."""
    for row in source.rows():
        if row.number not in planned:
            continue
        planned.discard(row.number)
        body = _validated(row, rules, Report(format=source.format, dry_run=False))
        if body is not None:
            yield row.number, body


_Item = tuple[int, AliasCreate, list[dict[str, Any]]]  # row, body, its own two items (alias, route)


def _next_group(user_id: str, pending: Iterator[tuple[int, AliasCreate]]) -> list[_Item]:
    """The next rows to write, as many as one transaction takes with their shared counts."""
    group: list[_Item] = []
    size = 0
    domains_: set[str] = set()
    addresses: set[str] = set()
    for number, body in pending:
        own = _own_actions(user_id, body)
        domains_.add(body.domain)
        addresses.update(destinations.canonical(address) for address in body.destinations)
        group.append((number, body, own))
        size += len(own)
        # Shared: one count per domain, the caller's, one per destination; kept under the transaction's limit
        # with room for the next row's (at most 2 own + 1 domain + 10 destinations).
        if size + len(domains_) + 1 + len(addresses) + 13 > db.MAX_TRANSACTION_ACTIONS:
            break
    return group


def _own_actions(user_id: str, body: AliasCreate) -> list[dict[str, Any]]:
    """A new alias's two items, as `POST /api/aliases` writes them; the route's old item comes back on failure
    (whose address it is)."""
    item, route = aliases.new_items(user_id, body, body.local_part or "")
    return [
        {"Put": {"Item": db.serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Put": {
                "Item": db.serialize(route),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]


def _write_group(user_id: str, group: list[_Item], report: Report) -> None:
    for _ in range(_WRITE_ATTEMPTS):
        if not group:
            return
        own = [action for _, _, actions in group for action in actions]
        by_domain: dict[str, int] = {}
        for _, body, _ in group:
            by_domain[body.domain] = by_domain.get(body.domain, 0) + 1
        domain_names = list(by_domain)
        counts = [aliases._count_on_domain(user_id, name, count) for name, count in by_domain.items()]
        usages = [destinations.Usage(user_id, "alias_count", added=body.destinations) for _, body, _ in group]
        # No destination on a domain registered in postmask, checked in the transaction too (one registered since
        # the plan): a ConditionCheck per destination domain (store/markers.py).
        outside = outside_postmask([address for _, body, _ in group for address in body.destinations], loc=("body",))
        named = {destinations.canonical(address) for _, body, _ in group for address in body.destinations}
        try:
            report.links.extend(
                destinations.transact_with(
                    [*own, *counts, quota.added(user_id, len(group)), *outside.actions],
                    *usages,
                    missing=named & report.not_created,  # created at the first attempt, not counted on first
                )
            )
        except db.TransactionCancelled as exc:
            group = _without_refused(user_id, group, domain_names, exc, report, outside)
            continue
        except TooManyNewDestinations as exc:  # the day's new destinations are used up: these rows wait
            report.errors.extend((number, f"not imported: {exc.message}") for number, _, _ in group)
            return
        report.not_created -= named
        report.created += len(group)
        return
    report.errors.extend(
        (number, "not imported: the data kept changing; import the file again") for number, _, _ in group
    )


def _without_refused(
    user_id: str,
    group: list[_Item],
    domain_names: list[str],
    exc: db.TransactionCancelled,
    report: Report,
    outside: OutsideCheck,
) -> list[_Item]:
    """The rows of `group` worth trying again, each refused row reported (or counted as skipped)."""
    own_size = 2 * len(group)
    gone_domains = {name for name, failed in zip(domain_names, exc.failed[own_size:], strict=False) if failed}
    quota_index = own_size + len(domain_names)
    checks = exc.failed[quota_index + 1 : quota_index + 1 + len(outside.actions)]
    looping = {_domain_of(address) for (_, address), failed in zip(outside.destinations, checks, strict=True) if failed}
    if exc.failed[quota_index]:
        try:
            quota.after_refusal(user_id, exc.old_items[quota_index], len(group))  # settles, or raises
        except AliasQuotaExceeded:  # reached meanwhile (other creates since the plan): the rest is not imported
            report.errors.extend((number, f"not imported: {quota.exceeded().message}") for number, _, _ in group)
            return []
    kept: list[_Item] = []
    for index, (number, body, actions) in enumerate(group):
        address = f"{body.local_part}@{body.domain}"
        hit = next((address for address in body.destinations if _domain_of(address) in looping), None)
        if body.domain in gone_domains:
            report.errors.append((number, f"{body.domain} is not one of your domains (any more)"))
        elif hit is not None:
            report.errors.append((number, DestinationIsPostmask.about(hit)))
        elif exc.failed[2 * index + 1]:
            holder = exc.old_items[2 * index + 1] or {}
            if holder.get("owner_id") == user_id:
                report.skipped += 1  # created meanwhile by the caller (another import of the same file)
            else:
                report.errors.append((number, f"{address} is already taken"))
        elif exc.failed[2 * index]:  # an id collision: draw another
            kept.append((number, body, _own_actions(user_id, body)))
        else:
            kept.append((number, body, actions))
    return kept


# --- contacts (a postmask export's) ----------------------------------------------------------------------------


def _add_contacts(user_id: str, source: Source, rules: _Rules, report: Report, deadline: Callable[[], bool]) -> None:
    """Each alias of the file that is now the caller's gets the contacts it lacks: found by their address (their
    SENDER# items: importing again adds nothing), the others created, blocked when the file says so, each with the
    reply address the file gives when that is still free or was this alias's (the caller's, at this address: an
    export, the alias deleted, then imported), else a new one (store/contacts.py). Per alias with contacts: its
    route (GetItem), its contacts (BatchGetItem), one transaction."""
    from postmask.schemas.contacts import ContactCreate

    for row in source.rows():
        if not row.contacts or deadline():
            continue
        body = _validated(row, rules, Report(format=source.format, dry_run=False))
        if body is None:
            continue
        address = f"{body.local_part}@{body.domain}"
        route = db.get_item(f"ADDRESS#{address}", "ADDRESS")
        if route is None or route.get("owner_id") != user_id:
            continue  # not imported (its error is reported already)
        wanted: dict[str, Contact] = {}
        for contact in row.contacts:
            try:
                checked = ContactCreate.model_validate({"email": contact.email, "name": contact.name})
            except ValidationError:
                report.errors.append((row.number, f"{address}: contact {contact.email[:100]!r} is not a valid address"))
                continue
            wanted.setdefault(checked.email.lower(), replace(contact, email=checked.email, name=checked.name))
        alias = contacts.AliasRef(user_id, str(route["alias_id"]), address)
        keys = [contacts.sender_key(alias.alias_id, email) for email in wanted]
        read = db.batch_get(keys, attributes=contacts.SENDER_ATTRIBUTES) if keys else []
        known = {email: contact for (_, email), contact in contacts.known_from(read).items()}
        reply_addresses = {
            lowered: contact.reply_address for lowered, contact in wanted.items() if contact.reply_address is not None
        }
        made = contacts.find_or_create(
            alias, [(c.email, c.name) for c in wanted.values()], known, reply_addresses=reply_addresses
        )
        for lowered, contact in wanted.items():
            found = made.get(lowered)
            if contact.blocked and lowered not in known and found is not None and not found.blocked:
                contacts.update(user_id, alias.alias_id, found.contact_id, {"blocked": True})
