"""Export: everything a user has, read from their own partitions (`USER#<id>`: domains and aliases, `DEST#<id>`:
destinations), one Query per megabyte, in sort-key order (aliases oldest first), and each alias's contacts (its
partition `CONTACTS#<alias_id>`: one Query per alias). Only the fields an export carries are read (a projection),
never secrets (link hashes, DKIM tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from postmask.store import _dynamo as db
from postmask.store import contacts

DOMAIN_FIELDS = ("name", "catch_all_destination", "created_at")
DESTINATION_FIELDS = ("email", "status", "created_at", "verified_at")
ALIAS_FIELDS = (
    "id",
    "address",
    "domain",
    "local_part",
    "destinations",
    "note",
    "enabled",
    "expires_at",
    "created_at",
    "display_name",
)
CONTACT_FIELDS = ("email", "name", "blocked", "created_at")


def domains(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"USER#{user_id}", "DOMAIN#", attributes=DOMAIN_FIELDS)


def destinations(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"DEST#{user_id}", "DEST#", attributes=DESTINATION_FIELDS)


def aliases(user_id: str) -> Iterator[dict[str, Any]]:
    return db.all_items(f"USER#{user_id}", "ALIAS#", attributes=ALIAS_FIELDS)


def aliases_with_contacts(user_id: str) -> Iterator[dict[str, Any]]:
    """The caller's aliases, each with its `contacts` (oldest first: an import re-creates them in that order)."""
    for alias in aliases(user_id):
        found = [
            contact.model_dump(mode="json", include=set(CONTACT_FIELDS))
            for contact in contacts.all_of(str(alias["id"]))
        ]
        yield {**alias, "contacts": found[::-1]}
