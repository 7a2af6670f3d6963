"""The local stack's outbox, read as a person reads their mailbox: the messages to one address, and the link in one.

`make run` writes what SES was asked to send, one `.eml` per message and destination, named
`<time>-<SES message id>-<destination>.eml` (local/outbox.py); mail sent by a function invoked asynchronously
(the sign-in mailer) lands a moment after the request that caused it, so readers wait for it.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path

WAIT_SECONDS = 30.0  # a loaded 2-core machine starts the mailer's worker cold


def messages_to(outbox: Path, address: str) -> list[EmailMessage]:
    """Every message in the outbox to `address`, oldest first."""
    paths = sorted(outbox.glob(f"*-{address}.eml")) if outbox.is_dir() else []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]  # type: ignore[misc]


def wait_for_messages(outbox: Path, address: str, count: int, timeout: float = WAIT_SECONDS) -> list[EmailMessage]:
    """The messages to `address` once there are `count` of them (or what there is after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found = messages_to(outbox, address)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)  # the interval between polls, not a guess at when the mail is there


def link_in(message: EmailMessage, path: str) -> str:
    """The one link to `path` (`/signin`) in a message's text part, with its fragment."""
    text = message.get_body(("plain",))
    assert text is not None, "no text part"
    found = set(re.findall(rf"https?://\S+{re.escape(path)}#[A-Za-z0-9_-]+", text.get_content()))
    assert len(found) == 1, found
    return found.pop()
