"""`python -m local.bounce <address> [--complaint]`: make the last message postmask sent to <address> bounce.

In AWS, a destination whose mailbox does not exist bounces the copy; SES reports it for the configuration set
and the feedback function suspends the destination. This plays the bounce (or, with --complaint, the
recipient marking it as spam) against the running stack: a message to the local SMTP listener
(`127.0.0.1:${SMTP_PORT:-2525}`) asks it to hand the feedback function the event SES would publish
(local/feedback.py). Verifying the destination again revives it.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys

from local.feedback import FEEDBACK_DOMAIN, FEEDBACK_HEADER


def request(address: str, *, complaint: bool, port: int, host: str = "127.0.0.1") -> tuple[int, str]:
    """Ask the stack for feedback on `address`; the SMTP reply (250 when the feedback function ran)."""
    kind = "complaint" if complaint else "bounce"
    message = (
        f"From: postmaster@{FEEDBACK_DOMAIN}\r\nTo: {kind}@{FEEDBACK_DOMAIN}\r\n"
        f"Subject: {kind} for {address}\r\n{FEEDBACK_HEADER}: {address}\r\n\r\n"
    ).encode()
    with smtplib.SMTP(host, port, timeout=60) as smtp:
        smtp.ehlo_or_helo_if_needed()
        smtp.mail("")  # a null sender, as bounces have
        smtp.rcpt(f"{kind}@{FEEDBACK_DOMAIN}")
        reply: bytes | str
        try:
            code, reply = smtp.data(message)
        except smtplib.SMTPDataError as refused:  # the stack said why not (nothing was sent there, ...)
            code, reply = refused.smtp_code, refused.smtp_error
    return code, reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.bounce", description=__doc__.split("\n\n")[0])
    parser.add_argument("address", help="a destination postmask sent mail to")
    parser.add_argument("--complaint", action="store_true", help="a complaint (marked as spam) instead of a bounce")
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("SMTP_PORT", "2525")), help="[SMTP_PORT]")
    args = parser.parse_args(argv)
    try:
        code, reply = request(args.address, complaint=args.complaint, port=args.smtp_port)
    except (OSError, smtplib.SMTPException) as error:
        print(f"No postmask SMTP listener on 127.0.0.1:{args.smtp_port} ({error}): is `make run` running?")
        return 1
    print(reply)
    return 0 if code == 250 else 1


if __name__ == "__main__":
    sys.exit(main())
