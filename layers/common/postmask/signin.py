"""People sign in to the web pages with a link mailed to their account's address (the contract's "Sign-in
for people"); API tokens stay for programs. Decision 0090 says why it is built this way.

- `POST /api/sessions` -> `request_link`: counts one link against the address's hourly allowance and hands
  the address to the sign-in mailer, an asynchronous invocation of SignInMailerFunction, then answers 202.
  It does exactly that for every address: it does not know whether the address has an account (its role
  may not even read users), so neither its answer nor its time can tell anyone.
- SignInMailerFunction -> `mail_link`: looks the address up; for an account, stores a new code (hashed,
  15 minutes, single use) and mails `<PublicUrl>/signin#<code>` through postmask.system_mail. An address
  without an account gets nothing. Mail that cannot be sent is logged (never the link) and counted.
- `POST /api/sessions/redeem` -> `redeem`: the code, once, for a session token (`kind: "session"`, expiring
  after SessionDays), named after the browser that redeemed it.
- `DELETE /api/sessions/current` -> `sign_out`: the calling token, of any kind, is revoked.

Nothing here logs an address, a code or a token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from postmask import aws
from postmask.auth import Caller
from postmask.errors import TokenNotFound, Unauthenticated
from postmask.observability import logger, metrics
from postmask.schemas.sessions import SessionCreated
from postmask.settings import get_settings
from postmask.store import signin as store
from postmask.store import tokens

TEMPLATE = "signin"
SIGNIN_PATH = "/signin"
MAX_DEVICE_NAME = 100

# --- asking for a link (the public route) ---------------------------------------------------------------------


@cache
def _lambda() -> Any:  # botocore builds client classes at run time: nothing static to name
    return aws.new_client("lambda")


def request_link(email: str, *, api_host: str | None) -> None:
    """What `POST /api/sessions` does, the same for every address: count, then hand over to the mailer."""
    if not store.claim_link(email):
        logger.info("sign-in link not sent: the address had its links for this hour")
        metrics.add_metric(name="SignInLinkLimited", unit="Count", value=1)
        return
    mailer = get_settings().signin_mailer
    if not mailer:
        raise RuntimeError("SIGNIN_MAILER is not set: template.yaml names the sign-in mailer function")
    payload = {"email": email, "api_host": api_host}
    _lambda().invoke(FunctionName=mailer, InvocationType="Event", Payload=json.dumps(payload).encode())


# --- mailing it (SignInMailerFunction) --------------------------------------------------------------------------


def mail_link(event: Mapping[str, Any]) -> None:
    """The mailer's work for one request: a link to an account's address, nothing to any other address."""
    from postmask import system_mail
    from postmask.store import users

    email, api_host = event.get("email"), event.get("api_host")
    if not isinstance(email, str) or not (api_host is None or isinstance(api_host, str)):
        logger.error("sign-in mailer: an event it cannot read", keys=sorted(map(str, event)))
        return
    user = users.find_by_email(email)
    if user is None:
        logger.info("sign-in link not sent: no account has this address")
        return
    code = store.new_code(user.id, user.is_admin)
    context = {
        "email": user.email,
        "link": system_mail.link(SIGNIN_PATH, code, api_host=api_host),
        "minutes": store.CODE_MINUTES,
    }
    try:
        system_mail.send(TEMPLATE, to=user.email, user_id=user.id, context=context)
    except system_mail.CannotSend as exc:
        # The person sees "check your mail" and gets none: the README says what an operator does about it.
        logger.warning("sign-in link not sent", user_id=user.id, reason=type(exc).__name__, detail=exc.message)
        metrics.add_metric(name="SignInMailNotSent", unit="Count", value=1)
        return
    logger.info("sign-in link sent", user_id=user.id)
    metrics.add_metric(name="SignInLinkSent", unit="Count", value=1)


# --- redeeming it, signing out ------------------------------------------------------------------------------------

# (what the user agent says, what people call it), the first match wins: Edge and Opera also say "Chrome/",
# Chrome also says "Safari/", every browser on an iPhone says "Mac OS X".
_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str | None) -> str:
    """A session's name, from the browser that signed in: "Firefox on Android"; any other user agent as it
    is, cut to MAX_DEVICE_NAME characters, with control and formatting characters dropped."""
    text = " ".join("".join(char if char.isprintable() else " " for char in user_agent or "").split())
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    if browser and system:
        return f"{browser} on {system}"
    return (browser or system or text or "Unknown browser")[:MAX_DEVICE_NAME]


def redeem(code: str, *, user_agent: str | None) -> SessionCreated:
    """A sign-in link's code for a session token; SignInCodeInvalid (400) if unknown, used or expired."""
    session = store.redeem(code, name=device_name(user_agent), days=get_settings().session_days)
    logger.info("signed in with a link")
    metrics.add_metric(name="SignedIn", unit="Count", value=1)
    return session


def sign_out(caller: Caller) -> None:
    """Revoke the token the caller called with. Twice is harmless: the second finds it gone already."""
    if caller.token_id is None:  # an authorizer answer cached before tokens ids were in its context
        raise Unauthenticated("Sign in again: this sign-in cannot be told apart from your others")
    try:
        tokens.revoke(caller.user_id, caller.token_id)
    except TokenNotFound:
        return
    logger.info("signed out", token_id=caller.token_id)
