"""Destinations in tests. Mail is forwarded only to verified destinations: a test about forwarding first makes
its destinations verified the way their owner does, or reads the link from the mail and opens it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from postmask.errors import DestinationExists
from postmask.store import destinations
from tests.support.api import Client

if TYPE_CHECKING:
    from tests.support.stack import Stack

# The link of a verification mail: <PublicUrl>/verify#<secret>, the secret URL-safe base64 (token_urlsafe).
_LINK = re.compile(rb"/verify#([A-Za-z0-9_-]{20,})")


def verify_destinations_through_the_store(user_id: str, addresses: Iterable[str]) -> None:
    """Each address a verified destination of `user_id`, made as its owner makes it: created as
    `POST /api/destinations` creates it (pending, with a link), then that link opened as the public verify route
    opens it. The link is taken from the store's answer instead of being mailed: no system mail is sent. An
    address the user already has is left as it is."""
    for address in addresses:
        try:
            written = destinations.create(user_id, address)
        except DestinationExists:
            continue
        (link,) = written.new_links
        destinations.verify(link.token)


def verify_destinations_of(client: Client, addresses: Iterable[str]) -> None:
    """`verify_destinations_through_the_store` for the user behind an API client."""
    user_id = client.get("/api/me").json()["id"]
    verify_destinations_through_the_store(user_id, addresses)


def link_secret(raw_mail: bytes) -> str:
    """The secret in a verification mail's link (quoted-printable undone first), for the public verify route."""
    import quopri

    found = _LINK.findall(quopri.decodestring(raw_mail))
    assert found, "no verification link in this mail"
    return found[-1].decode("ascii")


def open_link_from_the_outbox(stack: Stack, address: str) -> None:
    """Open the newest verification link mailed to `address`, read from the running stack's outbox, as the
    /verify page does: its secret posted to the public `POST /api/destinations/verify`."""
    from local.verify import newest_secret

    secret = newest_secret(stack.outbox, address)
    assert secret is not None, f"no verification mail to {address} in {stack.outbox}"
    response = stack.request("POST", "/api/destinations/verify", token=None, body={"token": secret})
    assert response.status == 200, response.body
