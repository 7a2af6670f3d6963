"""The local stack's outbox, read as a person reads their mailbox (local/signin.py reads it the same way).

Mail sent by a function invoked asynchronously (the sign-in mailer) lands a moment after the request that
caused it, so readers wait for it.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path

from local.signin import links_in, messages_to

WAIT_SECONDS = 30.0  # a loaded 2-core machine starts the mailer's worker cold

__all__ = ["link_in", "messages_to", "wait_for_messages"]


def wait_for_messages(outbox: Path, address: str, count: int, timeout: float = WAIT_SECONDS) -> list[EmailMessage]:
    """The messages to `address` once there are `count` of them (or what there is after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found = messages_to(outbox, address)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)  # the interval between polls, not a guess at when the mail is there


def link_in(message: EmailMessage, path: str) -> str:
    """The one link to `path` (`/signin`) in a message, with its fragment."""
    (link,) = links_in(message, path)
    return link
