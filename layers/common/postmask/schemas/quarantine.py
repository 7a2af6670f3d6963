"""The models of /api/quarantine: copies that could not be delivered for good, kept to be resent or deleted."""

from typing import Literal

from pydantic import Field

from postmask.schemas.common import Email, Model, RequestModel, Timestamp

# Why a copy was quarantined (the activity event's `reason` too).
QuarantineReason = Literal[
    "rejected_by_ses",
    "too_large",
    "destination_suspended",
    "retries_exhausted",
    "delivery_unconfirmed",
    "pgp_key_unusable",
]


class HeaderLine(Model):
    name: str = Field(description="The field's name as written (ASCII)")
    value: str = Field(
        description="Unfolded, RFC 2047 encoded words decoded, control and invisible characters removed: text to "
        "show, never to parse"
    )


class QuarantinedMessage(Model):
    id: str
    alias_id: str | None = Field(description="The alias the message was for; null for a catch-all copy")
    address: str = Field(description="The address the message was for (an alias or a catch-all address)")
    sender: str | None = Field(description="The message's From address")
    subject: str | None = Field(description="At most 200 characters")
    size: int = Field(ge=0, description="The stored message's size in bytes")
    reason: QuarantineReason = Field(
        description="rejected_by_ses (SES refused the copy), too_large (over SES's 40 MB), destination_suspended "
        "(a hard bounce or complaint suspended it), retries_exhausted (sending failed after every retry), "
        "delivery_unconfirmed (the forwarder stopped between sending and recording it: it may have arrived), "
        "pgp_key_unusable (the destination's OpenPGP key cannot be used, and its fallback is quarantine)"
    )
    destination: str = Field(description="The mailbox the copy was for")
    quarantined_at: Timestamp = Field(description="When SES received the message")
    expires_at: Timestamp = Field(description="When the stored message is deleted (QuarantineDays)")
    resent_to: list[str] = Field(description="Destinations it was resent to, each at most once")
    headers: list[HeaderLine] | None = Field(
        description="The stored message's header fields, in order, as far as its first 64 KiB hold them. Only "
        "GET /api/quarantine/{quarantine_id} reads them: null in the list, and null when the stored message is gone",
    )


class QuarantinedList(Model):
    items: list[QuarantinedMessage]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")


class ResendRequest(RequestModel):
    destination: Email | None = Field(
        default=None, description="One of your verified destinations; default: the one the copy was for"
    )


class Resent(Model):
    id: str
    destination: str
    status: Literal["sent"] = "sent"
