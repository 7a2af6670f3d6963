"""The destination's address, taken out of a reply before it leaves: in every header field and every text-like part,
decoded first (quoted-printable, base64, RFC 2047 words, RFC 2231 parameters, any charset), replaced by the alias.

SimpleLogin #2608 and addy.io #173: a person who follows up on their own sent message, or whose client quotes the
mail it answers ("On Monday, Jane <jane@real.example> wrote:"), sends their real address in the body. The reply
path (postmask.mail.reply) hands an AddressSwap to postmask.mail.lines, which walks the MIME tree: a text-like part
(any `text/*`, attached or not, and `.ics`/`.vcf` files) in which the address is found is decoded, changed and
re-encoded as base64 in its own charset; every other part, binary attachments above all, stays byte for byte.

What is found (issue 25, decision 0111): the address in any case, with any `+tag` sub-address, with its domain in
its Unicode form too (`bücher.example` for `xn--bcher-kva.example`), as HTML and URLs write it (`&#64`, `&commat;`,
`&#46;`, `%40`, `%61lice`, with or without the `;`), split by markup (`alice<span>@</span>real.example`, comments)
or invisible characters (soft hyphens, zero-width spaces), and in iCalendar/vCard content unfolded first (lines
folded at 75 octets: `mailto:alice@realm\\r\\n ail.example`). Everything the text is read through maps back to the
bytes it came from, so what is replaced is exactly what named the address.

What cannot be scrubbed is removed (`removes`): S/MIME signatures and certificates, OpenPGP keys and signatures,
and Autocrypt fields; a `multipart/signed` becomes its signed content (postmask.mail.lines; the signature would no
longer verify once the content is rewritten anyway). Every `Content-ID` and every `cid:` reference to it is renamed
to an id on the alias's domain (`<part1.x@realmail.example>` named the provider).
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import html.entities
import re
import secrets
from collections.abc import Iterable
from urllib.parse import unquote

from postmask.mail import headers
from postmask.mail.header_fields import HeaderField

_ASCII_LIKE = frozenset({"ascii", "us-ascii", "646", "us"})
# What the text is read through, each mapped back to the characters it came from: character references (with or
# without their `;`), percent-escapes, and characters no reader sees.
_ESCAPES = (
    r"&#[0-9]{1,7};?|&#[xX][0-9a-fA-F]{1,6};?|&[A-Za-z][A-Za-z0-9]{1,31};?|%[0-9A-Fa-f]{2}"
    r"|[\u00ad\u200b-\u200d\u2060\ufeff]"
)
_PLAIN_VIEW = re.compile(_ESCAPES)
# HTML also splits an address with markup: comments and tags read as nothing (in HTML only: in plain text
# `<alice@real.example>` is an address, not a tag).
_HTML_VIEW = re.compile(r"<!--.*?-->|<[A-Za-z/!?][^<>]{0,2000}>|" + _ESCAPES, re.DOTALL)
_FOLD = re.compile(r"\r?\n[ \t]")  # an iCalendar / vCard continuation line (RFC 5545 3.1, RFC 6350 3.2)
_CID = re.compile(r"(?i)\bcid:([^\s\"'<>()]{1,900})")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
_FOLDED_LINE = 75  # octets, RFC 5545 3.1

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FOLDED_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/vcard", "text/x-vcard", "text/directory", "application/vcard"}
)
_FOLDED_EXTENSIONS = (".ics", ".ifb", ".vcs", ".vcf", ".vcard")
_TEXT_EXTENSIONS = (*_FOLDED_EXTENSIONS, ".txt", ".csv", ".htm", ".html", ".xml", ".json", ".md", ".eml")
# Parts that carry the sender's identity in a form that cannot be scrubbed (signed or encoded data).
IDENTITY_TYPES = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
        "application/pgp-keys",
        "application/pkix-cert",
        "application/x-x509-user-cert",
        "application/x-x509-ca-cert",
        "application/x-pkcs7-certificates",
    }
)
IDENTITY_FIELDS = frozenset({"autocrypt", "autocrypt-gossip"})


def _domain_forms(domain: str) -> list[str]:
    forms = [domain]
    if "xn--" in domain.lower():
        try:
            import idna

            forms.append(idna.decode(domain))
        except (idna.IDNAError, UnicodeError):
            pass
    return forms


def _named(entity: str) -> str | None:
    name = entity[1:]
    return html.entities.html5.get(name if name.endswith(";") else name + ";") or html.entities.html5.get(name)


_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def _read(token: str) -> str:
    """What an escape in `_PLAIN_VIEW` / `_HTML_VIEW` reads as (a reference to an invisible character: nothing)."""
    return _INVISIBLE.sub("", _decoded(token))


def _decoded(token: str) -> str:
    if token.startswith("<") or len(token) == 1:
        return ""  # markup, or a character nobody sees
    if token.startswith("%"):
        value = int(token[1:], 16)
        return chr(value) if value < 0x80 else token  # an 8-bit escape names no ASCII address: left as written
    if token.startswith("&#"):
        digits = token[2:].rstrip(";")
        try:
            value = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
            return chr(value)
        except (ValueError, OverflowError):
            return token
    return _named(token) or token


class _View:
    """`text` as a reader reads it (escapes decoded, markup and invisible characters gone), with where each of
    its characters came from in `text`."""

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        pieces: list[str] = []
        self._view_starts: list[int] = []  # per piece: where it starts in the view
        self._origins: list[tuple[int, int, bool]] = []  # per piece: (start in text, end in text, read one to one)
        position = view = 0
        for match in pattern.finditer(text):
            if match.start() > position:
                self._add(pieces, text[position : match.start()], view, position, match.start(), True)
                view += match.start() - position
            read = _read(match.group())
            self._add(pieces, read, view, match.start(), match.end(), False)
            view += len(read)
            position = match.end()
        if position < len(text):
            self._add(pieces, text[position:], view, position, len(text), True)
        self.text = "".join(pieces)

    def _add(self, pieces: list[str], read: str, view: int, start: int, end: int, one_to_one: bool) -> None:
        pieces.append(read)
        self._view_starts.append(view)
        self._origins.append((start, end, one_to_one))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Where the view's characters `start:end` came from in the text."""
        return self._origin(start, first=True), self._origin(end - 1, first=False)

    def _origin(self, position: int, *, first: bool) -> int:
        # The last piece starting at or before it: pieces that read as nothing (markup) start where the next
        # one does, and are never the one holding a character.
        index = bisect.bisect_right(self._view_starts, position) - 1
        begin, finish, one_to_one = self._origins[index]
        if one_to_one:
            offset = position - self._view_starts[index]
            return begin + offset if first else begin + offset + 1
        return begin if first else finish


class AddressSwap:
    """Replaces each of `addresses` by `replacement` (postmask.mail.lines.Rewrite), renames Content-IDs, and
    tells which parts to remove."""

    def __init__(self, addresses: Iterable[str], replacement: str) -> None:
        alternatives = []
        for address in addresses:
            local, _, domain = address.rpartition("@")
            if not local or not domain:
                continue
            base = local.split("+", 1)[0] or local
            domains = "|".join(re.escape(form) for form in _domain_forms(domain))
            alternatives.append(re.escape(base) + r"(?:\+[^\s@<>\"'(),;:\[\]\\]{0,64})?@" + f"(?:{domains})")
        self._pattern = re.compile("|".join(dict.fromkeys(alternatives)), re.IGNORECASE) if alternatives else None
        self.replacement = replacement
        self._domain = replacement.rpartition("@")[2]
        self._salt = secrets.token_bytes(16)  # renamed ids are consistent within one message, unlinkable across

    # --- text -----------------------------------------------------------------------------------------------

    def found_in(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(_View(text, _PLAIN_VIEW).text) is not None

    def replace(self, text: str, *, html: bool = False) -> str:
        """`text` with every form of the addresses replaced (in HTML, markup may split one too)."""
        if self._pattern is None:
            return text
        for view in (_PLAIN_VIEW, _HTML_VIEW) if html else (_PLAIN_VIEW,):
            text = self._replace_in(text, view)
        return text

    def _replace_in(self, text: str, pattern: re.Pattern[str]) -> str:
        assert self._pattern is not None
        view = _View(text, pattern)
        spans = [view.span(*match.span()) for match in self._pattern.finditer(view.text)]
        if not spans:
            return text
        out, position = [], 0
        for start, end in spans:
            if start < position:
                continue
            out += [text[position:start], self.replacement]
            position = end
        out.append(text[position:])
        return "".join(out)

    def rewrites(self, content_type: str, filename: str | None, size: int = 0) -> bool:
        """Whether a part is text to scrub: any text/* (shown or attached), and calendar and contact files."""
        return (
            not content_type
            or content_type.startswith("text/")
            or content_type in _FOLDED_TYPES
            or (filename or "").lower().endswith(_TEXT_EXTENSIONS)
        )

    def changes_structure(self) -> bool:
        return True  # a preamble or epilogue no reader shows may still carry the address

    def removes(self, content_type: str) -> bool:
        """Whether a part carries the sender's identity in a form that cannot be scrubbed."""
        return content_type in IDENTITY_TYPES

    def text(
        self, data: bytes, charset: str | None, content_type: str = "", filename: str | None = None
    ) -> bytes | None:
        """`data` (a text-like part's decoded content in `charset`) with the addresses replaced (and, in HTML, `cid:`
        references renamed), in the same charset; None when nothing changed. An unknown charset, or bytes that are
        not in it, are read as Latin-1, which maps every byte to itself: what is not the address stays byte for
        byte. UTF-16 without a byte-order mark is big-endian (RFC 2781)."""
        codec = _codec(charset, data)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            codec, text = "latin-1", data.decode("latin-1")
        folded = content_type in _FOLDED_TYPES or (filename or "").lower().endswith(_FOLDED_EXTENSIONS)
        source = _FOLD.sub("", text) if folded else text
        html = content_type in _HTML_TYPES
        changed = self.replace(source, html=html)
        if html:
            changed = _CID.sub(lambda found: "cid:" + self.content_id(unquote(found.group(1))), changed)
        if changed == source:
            return None
        if folded:
            changed = _refolded(changed)
        try:
            return changed.encode(codec)
        except UnicodeEncodeError:
            return None  # cannot happen for an ASCII replacement; never make a part unreadable

    def content_id(self, old: str) -> str:
        """The id a Content-ID (without its angle brackets) is renamed to: the same for the same id in one message."""
        digest = hashlib.sha256(self._salt + old.encode("utf-8", "replace")).hexdigest()[:24]
        return f"{digest}@{self._domain}"

    # --- header fields --------------------------------------------------------------------------------------

    def field(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        """A header field with the addresses replaced in its decoded text (its RFC 2231 parameters too),
        serialized again; b"" to drop it (Autocrypt, or one that could not be written again); None when it names
        no address."""
        key = name.lower()
        if key in IDENTITY_FIELDS:
            return b""
        if key == "content-id":
            found = _MESSAGE_ID.search(headers.header_text(raw_value))
            return f"Content-ID: <{self.content_id(found.group(1))}>".encode("ascii") + newline if found else b""
        if key in ("content-type", "content-disposition"):
            rewritten = self._parameters(name, raw_value, newline)
            if rewritten is not None:
                return rewritten
        field = HeaderField(name, name.encode("ascii", "replace") + b":" + raw_value)
        raw_text = headers.header_text(raw_value)
        decoded = field.text()
        if not (self.found_in(raw_text) or self.found_in(decoded)):
            return None
        written = headers.folded(name, headers.clean_text(self.replace(decoded)), newline)
        return written if written is not None else b""

    def _parameters(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        """A Content-Type or Content-Disposition whose parameters (RFC 2231 continuations joined, encodings
        decoded) name the address, written again with them replaced; None when none does."""
        from email import policy
        from email.message import EmailMessage

        try:
            parsed = policy.default.header_factory(name, headers.header_text(raw_value).strip())
            params = dict(getattr(parsed, "params", {}))
        except Exception:  # a value the parser chokes on: the plain text check below still applies
            return None
        if not any(self.found_in(str(value)) for value in params.values()):
            return None
        main = str(getattr(parsed, "content_type", "") or getattr(parsed, "content_disposition", "") or "")
        message = EmailMessage(policy=policy.SMTP if newline == b"\r\n" else policy.default)
        message[name] = main or "application/octet-stream"
        for param, value in params.items():
            message.set_param(param, self.replace(str(value)), header=name)
        written = message.as_bytes()
        return written[: len(written) - len(newline)]


def _codec(charset: str | None, data: bytes) -> str:
    """The Python codec of a MIME charset; Latin-1 for none, US-ASCII (8-bit text labelled ASCII is common) and
    charsets Python does not know, unless the bytes are plainly UTF-16."""
    name = (charset or "").strip().strip('"').lower()
    try:
        codec = codecs.lookup(name).name if name and name not in _ASCII_LIKE else "latin-1"
    except LookupError:
        codec = "latin-1"
    if codec in ("utf-16", "utf-32") and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return codec + "-be"  # RFC 2781 4.3: without a byte-order mark, big-endian
    if codec == "latin-1" and b"\x00" in data and len(data) % 2 == 0:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        if even > len(data) // 4:
            return "utf-16-be"
        if odd > len(data) // 4:
            return "utf-16-le"
    return codec


def _refolded(text: str) -> str:
    """iCalendar / vCard lines longer than 75 octets folded again (RFC 5545 3.1), never inside a character."""
    out = []
    for line in text.split("\n"):
        ending = "\r" if line.endswith("\r") else ""
        line = line.removesuffix("\r")
        pieces, current, size, limit = [], "", 0, _FOLDED_LINE
        for char in line:
            width = len(char.encode("utf-8"))
            if size + width > limit:
                pieces.append(current)
                current, size, limit = "", 0, _FOLDED_LINE - 1
            current += char
            size += width
        pieces.append(current)
        out.append((ending + "\n ").join(pieces) + ending)
    return "\n".join(out)
