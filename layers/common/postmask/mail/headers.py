"""Header fields as a sender wrote them, and header fields postmask writes: read strictly, written safely.

Reading: an address header is parsed from its raw value, structure first, by the stdlib's RFC 5322 parser
(`email.policy.default`), so an encoded word (`=?utf-8?q?Bank_=3Csecurity=40bank=2Eexample=3E?=`) can only
ever be the text of a display name, never an address or a separator. Nothing a sender writes can make the
parser fail for good: deeply nested comments (a RecursionError) are stripped and the value parsed again.

Writing: every value postmask writes is serialized by the stdlib (`formataddr` quotes a name, `Header`
encodes one as RFC 2047 words, the SMTP policy folds unstructured and MIME fields), never pasted together,
and is checked before it is used: one line at most 998 bytes, ASCII, no control character. Text shown to a
reader loses every control, format (bidirectional overrides, zero-width characters) and line-separator
character first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.header import Header
from email.utils import formataddr
from typing import Any

MAX_LINE = 998  # RFC 5322's limit for a line, without its line break; SES refuses longer ones
MAX_NAME = 100  # characters of a display name shown; the address after it is always shown whole

_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")
_ANGLES = re.compile(r"[<>]")
_UNFOLD = re.compile(rb"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class Mailbox:
    """One mailbox as written: its display name (decoded, cleaned) and its address (`local@domain`, as parsed,
    not yet checked for SES)."""

    name: str
    address: str


def clean_text(text: str) -> str:
    """`text` as a reader may be shown it: every control character a space; every format (bidi override,
    zero-width...), surrogate, private-use, unassigned and line/paragraph-separator character removed; white
    space runs made one space."""
    kept = "".join(_visible(char) for char in text)
    return _SPACES.sub(" ", kept).strip()


def _visible(char: str) -> str:
    """A control character becomes a space (it separated something), any other invisible one disappears."""
    category = unicodedata.category(char)
    if category == "Cc":
        return " "
    return "" if category in _INVISIBLE else char


def header_text(raw_value: bytes) -> str:
    """A raw header value unfolded and as text: UTF-8 if it is (SMTPUTF8, or a mailer that wrote it raw), else
    Latin-1 (every byte is a character: nothing is lost, nothing raises). Encoded words are left as written."""
    unfolded = _UNFOLD.sub(b"", raw_value)
    try:
        return unfolded.decode("utf-8")
    except UnicodeDecodeError:
        return unfolded.decode("latin-1")


def mailboxes(raw_value: bytes) -> list[Mailbox]:
    """Every mailbox of an address header (groups flattened), parsed from the raw value. Mailboxes without an
    address are left out; an unparseable value has none."""
    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in header_text(raw_value))
    for attempt in (text, _without_comments(text)):
        try:
            parsed = email_policy.default.header_factory("To", attempt)
        except RecursionError:
            continue  # comments nested thousands deep: parse again without them
        except Exception:  # whatever else a sender can make the parser choke on: no mailbox here
            return []
        found = []
        for address in getattr(parsed, "addresses", ()):
            if address.username:
                found.append(Mailbox(clean_text(str(address.display_name)), clean_text(address.addr_spec)))
        return found
    return []


def is_one_mailbox(raw_value: bytes) -> bool:
    """Whether an address header is exactly one mailbox as every reader reads it: no group, one address, and
    nothing the strict parser had to guess at (`From: service@paypal.com: ; <a@evil.example>` is one mailbox to
    the stdlib, another to other clients; issue 25). Comments nested too deep are read without them."""
    from email.errors import InvalidHeaderDefect

    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in header_text(raw_value))
    for attempt in (text, _without_comments(text)):
        try:
            parsed = email_policy.default.header_factory("From", attempt)
        except RecursionError:
            continue
        except Exception:
            return False
        groups: list[Any] = list(getattr(parsed, "groups", ()))
        if len(groups) != 1 or groups[0].display_name is not None or len(groups[0].addresses) != 1:
            return False
        return bool(groups[0].addresses[0].username) and not any(
            isinstance(defect, InvalidHeaderDefect) for defect in getattr(parsed, "defects", ())
        )
    return False


def _without_comments(text: str) -> str:
    """`text` with every RFC 5322 comment removed (nested ones included), quoted strings left alone."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def sendable(address: str) -> str | None:
    """`address` in the one canonical ASCII form SES can carry (postmask.schemas.common.email_address: IDNA
    domain, ASCII local part), or None when SES could not (no domain, non-ASCII local part, invalid syntax)."""
    from postmask.schemas.common import email_address

    try:
        return email_address(address)
    except ValueError:
        return None


def shown_name(name: str, *, limit: int = MAX_NAME) -> str:
    """A display name cleaned for showing: no invisible characters, no angle brackets (which make a name look
    like an address), at most `limit` characters."""
    shown = clean_text(_ANGLES.sub("", name))
    return shown if len(shown) <= limit else shown[: limit - 1].rstrip() + "…"


def sender_display_name(name: str, address: str) -> str:
    """How the forwarded copy shows who wrote it: `Name (address)`, or the address alone. The name is cut, the
    address never: whatever the name says, the real address is the last thing shown."""
    name = shown_name(name)
    address = clean_text(address)
    if not address:
        return name
    if not name or name.casefold() == address.casefold():
        return address
    return f"{name} ({address})"


def mailbox_field(name: str, mailboxes: Sequence[tuple[str, str]], newline: bytes) -> bytes:
    """An address header field (`From`, `To`, `Reply-To`) with these (display name, address) pairs, one per line,
    each serialized by the stdlib: an ASCII name quoted where needed, any other name as RFC 2047 words."""
    rendered = [_mailbox(display, address, newline) for display, address in mailboxes]
    value = (b"," + newline + b" ").join(rendered)
    return name.encode("ascii") + b": " + value + newline


def _mailbox(display: str, address: str, newline: bytes) -> bytes:
    if not display:
        return address.encode("ascii")
    if display.isascii():
        return formataddr((display, address)).encode("ascii")
    # One encoded word where the line allows it: readers disagree on the white space between several (RFC 2047
    # drops it, the stdlib keeps it), so a name is split into words only when it could not fit otherwise.
    room = MAX_LINE - len("Reply-To: ") - len(address) - len(" <>,")
    encoded = Header(display, "utf-8", maxlinelen=room).encode(linesep=newline.decode())
    return encoded.encode("ascii") + b" <" + address.encode("ascii") + b">"


def folded(name: str, value: str, newline: bytes) -> bytes | None:
    """An unstructured or MIME header field, folded by the stdlib's SMTP policy (non-ASCII as RFC 2047 words,
    long parameters in RFC 2231 pieces); None when even that cannot make it a field SES takes."""
    policy = email_policy.SMTP.clone(linesep=newline.decode())
    try:
        field = policy.fold(name, policy.header_factory(name, value)).encode("ascii")
    except (UnicodeError, ValueError, TypeError, IndexError, RecursionError):
        return None
    # The policy may break the line right after the colon; a reader then sees the value start with a space.
    broken_early = f"{name}:".encode("ascii") + newline + b" "
    if field.startswith(broken_early):
        field = f"{name}: ".encode("ascii") + field[len(broken_early) :]
    return field if is_writable(field, newline) else None


def is_writable(field: bytes, newline: bytes) -> bool:
    """Whether a complete header field (ending with `newline`) is one SES takes and no reader misreads: ASCII,
    no control character but its line breaks, each followed by white space, no line over 998 bytes."""
    if not field.endswith(newline) or not field.isascii():
        return False
    lines = field[: -len(newline)].split(newline)
    if any(len(line) > MAX_LINE or _has_control(line) for line in lines):
        return False
    return all(line[:1] in (b" ", b"\t") and line.strip() for line in lines[1:])


def _has_control(line: bytes) -> bool:
    return any((byte < 32 and byte != 9) or byte == 127 for byte in line)


def normalised_breaks(raw: bytes, newline: bytes) -> bytes:
    """The field's inner line breaks (CRLF or LF) all made `newline`; a bare CR is left for is_writable to refuse."""
    return re.sub(rb"\r?\n", lambda _: newline, raw)


def first_valid(candidates: Iterable[Mailbox]) -> tuple[str, str] | None:
    """(display name, canonical address) of the first mailbox SES could carry."""
    for mailbox in candidates:
        address = sendable(mailbox.address)
        if address is not None:
            return shown_name(mailbox.name), address
    return None
