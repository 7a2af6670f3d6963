"""`python -m local.signin [address] [--ask]`: the sign-in link mailed to an account of `make run`, to open.

The link is in the outbox (`${POSTMASK_OUTBOX:-.postmask/outbox}`), in a quoted-printable `.eml` a text editor
shows cut in pieces: this prints the newest one to `address` (default: the dev admin) whole. With `--ask` it
first asks the running stack (`127.0.0.1:${PORT:-3000}`) for a new link, as the sign-in page does, and waits
for it. Nothing is bypassed: the link is redeemed by the page it opens, once, within 15 minutes.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import re
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from local.outbox import add_stack_options, files_to
from local.resources import DEV_ADMIN_EMAIL

WAIT_SECONDS = 30.0


def messages_to(outbox: Path, address: str) -> list[EmailMessage]:
    """Every message in the outbox to `address`, oldest first (file names start with the time)."""
    paths = files_to(outbox, address)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]


def links_in(message: EmailMessage, path: str) -> list[str]:
    """The links to `path` (`/signin`), with their fragment, in the message's text part."""
    text = message.get_body(("plain",))
    if text is None:
        return []
    return sorted(set(re.findall(rf"https?://[^\s\"'<>]+{re.escape(path)}#[A-Za-z0-9_-]+", text.get_content())))


def newest_link(outbox: Path, address: str) -> str | None:
    for message in reversed(messages_to(outbox, address)):
        found = links_in(message, "/signin")
        if found:
            return found[-1]
    return None


def ask(base_url: str, address: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - the local stack's own URL
        f"{base_url}/api/sessions",
        data=json.dumps({"email": address}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60):  # noqa: S310 - 202, whatever the address
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.signin", description=__doc__.split("\n\n")[0])
    parser.add_argument("address", nargs="?", default=DEV_ADMIN_EMAIL, help=f"an account's e-mail [{DEV_ADMIN_EMAIL}]")
    parser.add_argument("--ask", action="store_true", help="ask the running stack for a new link first")
    add_stack_options(parser)
    args = parser.parse_args(argv)
    before = newest_link(args.outbox, args.address)
    if args.ask:
        try:
            ask(f"http://127.0.0.1:{args.port}", args.address)
        except OSError as error:
            print(f"No postmask on 127.0.0.1:{args.port} ({error}): is `make run` running?")
            return 1
        deadline = time.monotonic() + WAIT_SECONDS
        while newest_link(args.outbox, args.address) == before and time.monotonic() < deadline:
            time.sleep(0.2)  # the interval between looks at the outbox
    link = newest_link(args.outbox, args.address)
    if link is None or (args.ask and link == before):
        print(f"No sign-in link to {args.address} in {args.outbox}: ask for one on the sign-in page (or --ask).")
        return 1
    print(f"Open this link to sign in as {args.address} (once, within 15 minutes):\n{link}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
