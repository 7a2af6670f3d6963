"""Timestamps as the contract writes them: ISO 8601, UTC, millisecond precision, `Z` suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`2026-11-23T19:03:37.123Z`; lexicographic order is time order, which the store relies on."""
    utc = moment.astimezone(UTC)
    # isoformat, not strftime: glibc's %Y does not pad years before 1000 to four digits.
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def now_iso() -> str:
    return iso(now())
