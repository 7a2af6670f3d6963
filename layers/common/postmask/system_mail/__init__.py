"""postmask's own mail (system mail): plain text plus HTML from Jinja2 templates, sent through Amazon SES.

How a feature sends one (the verification links of destinations do exactly this; sign-in links and leak
notices are meant to):

    from postmask import system_mail

    link = system_mail.link("/verify", token, api_host=app.current_event.request_context.domain_name)
    system_mail.send("verify_destination", to="me@real.example", user_id=user_id, context={"link": link, ...})

- `kind` names a folder of `templates/`: `subject.txt`, `text.txt` and `html.html` (which extends
  `layout.html`), rendered with `context` (a name the template uses and the context lacks is an error). The
  text templates are not escaped; the HTML one is (autoescape), so any value may come from a user.
- The message comes from the template parameter `SenderAddress` when it is set, else from
  `postmask@<a verified domain of user_id>` (the first of their domains, by name, that SES has verified), and
  is sent with the stack's configuration set and the tags `postmask-user` = `user_id` and `postmask-mail` =
  `kind`: a bounce or complaint is then reported for that user (postmask.feedback).
- Links start with `public_url()`: the template parameter `PublicUrl` when set, else the API's own URL,
  which only a function behind the API knows (`api_host`, from its request); other functions get PUBLIC_URL
  from the template.
- Errors: `NoSystemMailSender` (409) when there is nothing to send from; `SystemMailRefused` (409) when SES
  refuses (`ses.SendRefused`: an account in the SES sandbox sends only to addresses verified in SES; or one of
  `ses.ACCOUNT_ERRORS`: sending paused...); anything else SES says (throttling) is raised as it comes. A
  caller that must not fail because mail could not go (creating a destination) catches `CannotSend`, the base
  of the two, and logs it.

Nothing here is imported at cold start by a function that sends no mail: Jinja2 and the `email` package are
imported on first use (tests/unit/test_lean_imports.py holds every handler to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from postmask import clock, ses
from postmask.errors import NoSystemMailSender, SystemMailRefused
from postmask.observability import logger
from postmask.settings import get_settings

if TYPE_CHECKING:
    import jinja2

__all__ = ["CannotSend", "Rendered", "compose", "link", "public_url", "render", "send", "sender_for"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
SENDER_LOCAL_PART = "postmask"
SENDER_NAME = "postmask"
# At most this many of a user's domains are asked about (by name) when looking for one to send from.
MAX_DOMAINS_TRIED = 20

CannotSend = (NoSystemMailSender, SystemMailRefused)

# What to do when SES will not send (postmask.ses: a SendRefused, or one of ses.ACCOUNT_ERRORS); other errors
# (throttling) are raised as they come.
_REFUSALS = {
    "MessageRejected": "an account in the SES sandbox sends only to addresses verified in SES: request "
    "production access, or verify the recipient in SES",
    "MailFromDomainNotVerifiedException": "the sending domain's MAIL FROM domain is not verified",
    "AccountSuspendedException": "sending is suspended for this AWS account",
    "SendingPausedException": "sending is paused for this account or configuration set",
    "BadRequestException": "SES refused the request",
    "InvalidParameterValue": "SES does not accept this address",
    "InvalidParameterValueException": "SES does not accept this address",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a name missing from the context is an error, not an empty string
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def render(kind: str, context: Mapping[str, Any]) -> Rendered:
    """The subject (one line), plain text and HTML of `templates/<kind>/`."""
    environment = _environment()
    values = dict(context)
    subject = environment.get_template(f"{kind}/subject.txt").render(values)
    return Rendered(
        subject=" ".join(subject.split()),  # one line: a header never carries a line break from a value
        text=environment.get_template(f"{kind}/text.txt").render(values),
        html=environment.get_template(f"{kind}/html.html").render(values),
    )


def _ascii_address(address: str) -> str:
    """`address` as SES takes it: the domain in IDNA form; SES cannot send to a non-ASCII local part."""
    local, _, domain = address.strip().rpartition("@")
    if not local.isascii():
        raise SystemMailRefused(f"Amazon SES cannot send to {address}: it takes only ASCII before the @")
    if not domain.isascii():
        import idna

        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise SystemMailRefused(f"{address} has a domain name that cannot be written in ASCII") from exc
    return f"{local}@{domain}"


def compose(rendered: Rendered, *, sender: str, to: str) -> bytes:
    """The raw message: multipart/alternative (text, then HTML), quoted-printable so that no line comes near
    SES's 998-byte limit, CRLF line ends. SES adds its own Message-ID and signs it (Easy DKIM)."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import format_datetime, formataddr

    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((SENDER_NAME, sender))
    message["To"] = _ascii_address(to)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(clock.now())
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders do not answer it
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def sender_for(user_id: str) -> str:
    """Where `user_id`'s system mail comes from: SenderAddress, else postmask@ their first verified domain."""
    configured = get_settings().sender_address
    if configured:
        return configured
    from postmask.store import domains

    for name in domains.names(user_id, limit=MAX_DOMAINS_TRIED):
        if ses.is_verified(name):
            return f"{SENDER_LOCAL_PART}@{name}"
    raise NoSystemMailSender


def public_url(api_host: str | None = None) -> str:
    """The start of every link in postmask's mail: PublicUrl, else the API's own URL (`https://<api_host>`)."""
    configured = get_settings().public_url
    if configured:
        return configured
    if api_host:
        return f"https://{api_host}"
    raise RuntimeError("PUBLIC_URL is not set: a function that is not behind the API must have it (template.yaml)")


def link(path: str, secret: str, *, api_host: str | None = None) -> str:
    """`<public_url><path>#<secret>`: the secret is in the fragment, which browsers never send to a server."""
    return f"{public_url(api_host)}{path}#{secret}"


def send(kind: str, *, to: str, user_id: str, context: Mapping[str, Any], sender: str | None = None) -> str:
    """Render `kind` with `context`, send it to `to` for `user_id`; SES's message id. See the module's doc.

    `sender`: what `sender_for(user_id)` answered already (a caller that checks there is one before it
    changes anything), so it is not looked up twice."""
    rendered = render(kind, context)
    sender = sender or sender_for(user_id)
    raw = compose(rendered, sender=sender, to=to)
    try:
        return ses.send_raw(
            sender=sender,
            destination=_ascii_address(to),
            parts=(raw,),
            tags={ses.USER_TAG: user_id, ses.KIND_TAG: kind},
        )
    except ses.SendRefused as exc:
        raise _refused(kind, user_id, exc.code, exc.detail) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code not in ses.ACCOUNT_ERRORS:
            raise
        raise _refused(kind, user_id, code, str(error.get("Message", ""))) from exc


def _refused(kind: str, user_id: str, code: str, detail: str) -> SystemMailRefused:
    logger.warning("system mail refused by Amazon SES", kind=kind, code=code, user_id=user_id)
    detail = detail.strip()
    what_to_do = _REFUSALS.get(code, "SES refused the request")
    return SystemMailRefused(
        f"Amazon SES refused to send the mail ({code}{': ' + detail if detail else ''}); {what_to_do}"
    )
