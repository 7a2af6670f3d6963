"""The loop marker, `X-Postmask-Hop: <SES message id>.<token>` (docs/decisions/0060 and 0111): which copies carry
it, and whether a message is one of postmask's own copies come back.

Forwarded copies and reply copies carry markers of their own kinds (store.deliveries). A forwarded copy that
reaches an alias again is dropped (the forwarder); a reply copy that reaches another user's alias is a message
between two postmask users and is forwarded once, its forwarded copy carrying a new marker; any copy that reaches
a reply address is a loop (the reply path).
"""

from __future__ import annotations

import re

from postmask.mail import headers
from postmask.mail.message import HOP_HEADER, RawMessage
from postmask.store import deliveries

MAX_CHECKS = 3  # a sender can add marker headers of their own: at most this many reads per message
_MARKER = re.compile(r"([A-Za-z0-9-]{1,100})\.([0-9a-f]{32})")


def came_back(message: RawMessage, *, reply_copies: bool) -> bool:
    """Whether the message is a copy postmask sent (a forwarded copy; with `reply_copies`, a reply copy too)."""
    for marker in message.all(HOP_HEADER)[:MAX_CHECKS]:
        found = _MARKER.fullmatch(headers.header_text(marker.raw_value).strip())
        if found is None:
            continue
        kinds = (False, True) if reply_copies else (False,)
        if any(deliveries.is_our_hop(found.group(1), found.group(2), reply=kind) for kind in kinds):
            return True
    return False


def reply_marker(message_id: str) -> str:
    """The marker of a message's reply copies (1 conditional PutItem)."""
    return f"{message_id}.{deliveries.hop_token(message_id, reply=True)}"
