"""Export: everything a user has, read from their own partitions (`USER#<id>`: domains and aliases, `DEST#<id>`:
destinations), one Query per megabyte, in sort-key order (aliases oldest first), and each alias's contacts (its
partition `CONTACTS#<alias_id>`: one Query per alias). Only the fields an export carries are read (a projection),
never secrets (link hashes, DKIM tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from postmask.porting import CSV_COLUMNS
from postmask.store import _dynamo as db
from postmask.store import contacts

DOMAIN_FIELDS = ("name", "catch_all_destination", "created_at")
DESTINATION_FIELDS = ("email", "status", "created_at", "verified_at")
# What an export writes of an alias (postmask.porting's columns), and its id to read its contacts by.
ALIAS_FIELDS = ("id", "domain", "local_part", *CSV_COLUMNS)
CONTACT_FIELDS = ("email", "name", "blocked", "created_at", "reply_address")


def domains(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"USER#{user_id}", "DOMAIN#", attributes=DOMAIN_FIELDS)


def destinations(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"DEST#{user_id}", "DEST#", attributes=DESTINATION_FIELDS)


def aliases(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"USER#{user_id}", "ALIAS#", attributes=ALIAS_FIELDS)


def aliases_with_contacts(user_id: str) -> Iterator[dict[str, Any]]:
    """The caller's aliases, each with its `contacts` (oldest first: an import re-creates them in that order).

    A Query per alias: there is no per-user index of contacts. Made one after another, 10,000 aliases would be
    10,000 round trips in series (about 50 s at a few ms each, past API Gateway's 29 s), so they are made
    CONTACT_READERS at a time, a window of aliases at once, in the aliases' order (decision 0101)."""
    from concurrent.futures import ThreadPoolExecutor  # only an export pays for the import

    with ThreadPoolExecutor(max_workers=CONTACT_READERS) as readers:
        window: list[dict[str, Any]] = []
        for alias in aliases(user_id):
            window.append(alias)
            if len(window) == CONTACT_WINDOW:
                yield from _with_contacts(readers, window)
                window = []
        yield from _with_contacts(readers, window)


CONTACT_READERS = 10  # botocore's connection pool holds 10 (max_pool_connections): one each, none discarded
CONTACT_WINDOW = 256  # aliases whose contacts are read at once: bounds what is held beside the stream


def _with_contacts(readers: Executor, window: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    def contacts_of(alias: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            contact.model_dump(mode="json", include=set(CONTACT_FIELDS))
            for contact in contacts.all_of(str(alias["id"]))
        ]

    for alias, found in zip(window, readers.map(contacts_of, window), strict=True):
        yield {**alias, "contacts": found[::-1]}
