"""The models of /api/activity and /api/stats: what happened to each message, and per-day counts."""

from typing import Literal

from pydantic import Field

from postmask.schemas.common import Model, Timestamp, TrackersRemoved

Outcome = Literal[
    "forwarded", "sent", "blocked", "dropped", "refused", "failed", "quarantined", "bounced", "complained"
]
Direction = Literal["inbound", "reply"]


class ActivityEvent(Model):
    id: str
    at: Timestamp = Field(description="When SES received the message (or reported the bounce or complaint)")
    alias_id: str | None = Field(description="The alias the message was for; null for a catch-all or unknown address")
    address: str = Field(description="The address the message was for (an alias, a reply address, a catch-all)")
    direction: Direction
    outcome: Outcome
    reason: str | None = Field(
        description="Why, in snake_case (alias_disabled, spam, foreign_sender, destination_unverified, ...)"
    )
    sender: str | None = Field(description="The message's From address")
    destination: str | None = Field(description="The mailbox a copy went (or was to go) to")
    subject: str | None = Field(description="At most 200 characters; bodies are never stored")
    encrypted: bool = Field(
        default=False, description="The copy was sent encrypted to the destination's OpenPGP key (PGP/MIME)"
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What more there is to know: for an unauthenticated reply, what the sender's domain must "
        "publish; parts removed from a reply (S/MIME signatures, OpenPGP keys); from_ambiguous (a From that is not "
        "exactly one mailbox: the copy shows the envelope sender)",
    )
    trackers_removed: TrackersRemoved | None = Field(
        default=None, description="On a forwarded event: the trackers removed from its HTML parts"
    )


class ActivityList(Model):
    items: list[ActivityEvent]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


class DayCounts(Model):
    date: str = Field(description="A UTC day, YYYY-MM-DD", examples=["2026-01-31"])
    forwarded: int = Field(ge=0)
    sent: int = Field(ge=0)
    blocked: int = Field(ge=0)
    refused: int = Field(ge=0)
    dropped: int = Field(ge=0)


class Stats(Model):
    days: list[DayCounts] = Field(description="Oldest first, one entry per day, zeros included")
