"""`python -m local.verify <address>`: open the verification link mailed to a destination, as its owner would.

It finds the newest verification mail to <address> in the outbox (`${POSTMASK_OUTBOX:-.postmask/outbox}`),
takes the secret from its link (`<PublicUrl>/verify#<secret>`) and posts it to the running stack's public route
`POST /api/destinations/verify` on `127.0.0.1:${PORT:-3000}`: what the /verify page does when the link is
clicked. Nothing is bypassed: a link that expired or was replaced is refused as it would be in a browser.
"""

from __future__ import annotations

import argparse
import json
import quopri
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

from local.outbox import add_stack_options, files_to

_LINK = re.compile(rb"https?://[^\s\"'<>]+/verify#([A-Za-z0-9_-]{20,})")


def newest_link(outbox: Path, address: str) -> str | None:
    """The newest verification link mailed to `address` (`<PublicUrl>/verify#<secret>`), or None."""
    for path in reversed(files_to(outbox, address)):  # newest first
        found = _LINK.search(quopri.decodestring(path.read_bytes()))
        if found:
            return found.group(0).decode("ascii")
    return None


def newest_secret(outbox: Path, address: str) -> str | None:
    """The secret of the newest verification link mailed to `address`, or None."""
    link = newest_link(outbox, address)
    return link.partition("#")[2] if link else None


def verify(base_url: str, secret: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - the local stack's own URL
        f"{base_url}/api/destinations/verify",
        data=json.dumps({"token": secret}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("address", help="the destination, as it was added (me@real.example)")
    add_stack_options(parser)
    args = parser.parse_args(argv)
    secret = newest_secret(args.outbox, args.address)
    if secret is None:
        print(f"No verification mail to {args.address} in {args.outbox}: add it (or resend its link) first.")
        return 1
    try:
        status, body = verify(f"http://127.0.0.1:{args.port}", secret)
    except OSError as error:
        print(f"No postmask on 127.0.0.1:{args.port} ({error}): is `make run` running?")
        return 1
    if status == 200:
        print(f"{body.get('email')} is verified: mail to it is forwarded from now on.")
        return 0
    print(f"Not verified ({status}): {body.get('message')}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
