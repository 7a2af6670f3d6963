"""The destination's address, taken out of a reply before it leaves: in every header field and every text part that
is not an attachment, decoded first (quoted-printable, base64, RFC 2047 words, any charset), replaced by the alias.

SimpleLogin #2608 and addy.io #173: a person who follows up on their own sent message, or whose client quotes the
mail it answers ("On Monday, Jane <jane@real.example> wrote:"), sends their real address in the body. The reply
path (postmask.mail.reply) hands an AddressSwap to postmask.mail.lines, which walks the MIME tree: a text part in
which the address is found is decoded, changed and re-encoded as base64 in its own charset; every other part,
attachments above all, stays byte for byte. The address is found in any case, as `local@domain`, with the domain
in its Unicode form too (`bücher.example` for `xn--bcher-kva.example`), and as HTML writes it in links and
entities (`local&#64;domain`, `local%40domain`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from postmask.mail import headers
from postmask.mail.header_fields import HeaderField

_AT = r"(?:@|&#0*64;|&#[xX]0*40;|%40)"
_ASCII_LIKE = frozenset({"ascii", "us-ascii", "646", "us"})


def _domain_forms(domain: str) -> list[str]:
    forms = [domain]
    if "xn--" in domain.lower():
        try:
            import idna

            forms.append(idna.decode(domain))
        except (idna.IDNAError, UnicodeError):
            pass
    return forms


class AddressSwap:
    """Replaces each of `addresses` by `replacement` (postmask.mail.lines.Rewrite)."""

    def __init__(self, addresses: Iterable[str], replacement: str) -> None:
        alternatives = []
        for address in addresses:
            local, _, domain = address.rpartition("@")
            if not local or not domain:
                continue
            domains = "|".join(re.escape(form) for form in _domain_forms(domain))
            alternatives.append(re.escape(local) + _AT + f"(?:{domains})")
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        self.replacement = replacement

    def found_in(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None

    def replace(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(self.replacement, text)

    def text(self, data: bytes, charset: str | None, content_type: str = "text/plain") -> bytes | None:
        """`data` (a text part's decoded content in `charset`) with the addresses replaced, in the same charset;
        None when none is in it. An unknown charset, or bytes that are not in it, are read as Latin-1, which
        maps every byte to itself: what is not the address stays byte for byte."""
        codec = _codec(charset)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            codec, text = "latin-1", data.decode("latin-1")
        changed = self.replace(text)
        if changed == text:
            return None
        try:
            return changed.encode(codec)
        except UnicodeEncodeError:
            return None  # cannot happen for an ASCII replacement; never make a part unreadable

    def field(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        """A header field with the addresses replaced in its decoded text, serialized again; None when the field
        does not name one (or could not be written again: then it is dropped by the caller's checks)."""
        field = HeaderField(name, name.encode("ascii", "replace") + b":" + raw_value)
        raw_text = headers.header_text(raw_value)
        decoded = field.text()
        if not (self.found_in(raw_text) or self.found_in(decoded)):
            return None
        written = headers.folded(name, headers.clean_text(self.replace(decoded)), newline)
        return written if written is not None else b""


def _codec(charset: str | None) -> str:
    """The Python codec of a MIME charset; Latin-1 for none, US-ASCII (8-bit text labelled ASCII is common) and
    charsets Python does not know."""
    if not charset:
        return "latin-1"
    name = charset.strip().strip('"').lower()
    if name in _ASCII_LIKE:
        return "latin-1"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "latin-1"
