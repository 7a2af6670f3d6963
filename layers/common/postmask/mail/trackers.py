"""Trackers out of a forwarded copy's HTML parts: open pixels removed, click-tracking links unwrapped
(docs/decisions/0029).

A `lines.Rewrite` of `text/html` parts only, the second transform of the copy stage (after the reply path's
scrub). The HTML is read with the standard library's tokenizer (`html.parser`): it is the one of the kept
tokenizers that says where each start tag is in the source (`getpos`, `get_starttag_text`), so the rewrite can
cut or replace exactly the tags and attribute values it changes and leave every other character as it was.
Each start tag's attributes are located with the tokenizer's own attribute pattern and checked against the
attributes the tokenizer reported; a tag where the two disagree is left alone.

What counts as a tracker:
- an open pixel: a remote `<img>` (http, https or protocol-relative; a `cid:` or `data:` image tells nobody
  anything) whose declared size is at most 2x2 or 0 in either dimension, or that is hidden (`hidden`,
  `display:none`, `visibility:hidden`), or that is served from a tracking host or at a known open-tracking
  path; the whole tag goes. A `background` attribute pointing at a tracking host goes too (counted as a pixel).
- a click-tracking link (mode `pixels_and_links`): an `<a>`/`<area>` href on a tracking host whose target is in
  the URL (`url=`, `u=`, `redirect=`, ... parameters; plain or base64) is replaced by its target; utm_* and the
  common click ids are dropped from every link's query. One changed href counts one link.
The tracking hosts are postmask's own list (`tracking_hosts.py`, each entry with its public source) and the
operator's (`TrackerListS3Uri`, read once per cold start).
"""

from __future__ import annotations

import base64
import binascii
import html
from dataclasses import dataclass
from enum import StrEnum
from html import parser as html_parser
from urllib.parse import unquote, urlsplit, urlunsplit

from postmask.mail.scrub import _codec
from postmask.observability import logger

# Measured in `make bench` (bench/trackers.py, decision 0029): rewriting a part holds about 10x its decoded size at
# its peak (12x for base64: mostly the decode) and takes about 0.3 s a MiB on the benchmark's machine. An HTML
# part larger than MAX_HTML_BYTES as it arrives is forwarded untouched, never decoded (and logged): at most ~24 MiB
# over the forward path's own (97 MB resident for a 30 MB message; MemorySize 512 MB). Real HTML parts are far
# below it (the corpus's largest is under 100 KB). A message's HTML parts are rewritten until
# MAX_HTML_BYTES_PER_MESSAGE of them have been (each mode's body its own): the time a message costs stays a few
# seconds whatever the number of its parts, within the forwarder's 120 s on Lambda's share of a CPU.
MAX_HTML_BYTES = 2 * 1024 * 1024
MAX_HTML_BYTES_PER_MESSAGE = 8 * 1024 * 1024


class Mode(StrEnum):
    OFF = "off"
    PIXELS = "pixels"
    PIXELS_AND_LINKS = "pixels_and_links"


DEFAULT_MODE = Mode.PIXELS


def mode_of(value: str | None) -> Mode:
    """An alias's `trackers` as stored; no alias (a catch-all's copy), or a value no version wrote: the default."""
    return next((mode for mode in Mode if mode.value == value), DEFAULT_MODE)


@dataclass
class Removed:
    pixels: int = 0
    links: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"pixels": self.pixels, "links": self.links}


# Query parameters a click-tracking redirect carries its target in.
_TARGET_PARAMS = ("url", "u", "redirect", "redirect_url", "redirecturl", "target", "link", "dest", "destination")
# Parameters that only identify the click: utm_* (Google Analytics' campaign parameters) and the click ids of
# Facebook, Google Ads, Microsoft Ads, Mailchimp, HubSpot, Marketo, Yandex, Instagram.
_CLICK_ID_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_eid",
        "mc_cid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "yclid",
        "igshid",
    }
)
# Paths ESPs serve their open pixels at, on whatever host (Mailchimp/Mandrill `/track/open.php`, SendGrid
# `/wf/open`, Amazon SES `/I0/`-style hosts are caught by host instead).
_OPEN_PATHS = ("/track/open", "/wf/open", "/open.php", "/e/o/")
_MAX_UNWRAP = 3  # redirects through redirects


class Hosts:
    """Tracking hosts: a host matches an entry when it is the entry or a subdomain of it."""

    def __init__(self, entries: frozenset[str]) -> None:
        self._entries = entries

    def tracked(self, host: str | None) -> bool:
        if not host:
            return False
        host = host.lower().rstrip(".")
        while True:
            if host in self._entries:
                return True
            if "." not in host:
                return False
            host = host.split(".", 1)[1]


def strip(text: str, hosts: Hosts, *, links: bool) -> tuple[str, Removed]:
    """`text` (an HTML document) without its trackers, and what was removed; `text` itself when nothing was."""
    found = _TrackerTags(text, hosts, links=links)
    try:
        found.feed(text)
        found.close()
    except Exception:  # the tokenizer is tolerant; anything it (or a check of a tag) still raises leaves the part
        logger.exception("HTML part could not be read for trackers; left untouched")
        return text, Removed()
    edits, removed = found.edits, found.removed
    if not edits:
        return text, removed
    pieces, position = [], 0
    for begin, end, replacement in sorted(edits):
        pieces.append(text[position:begin])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces), removed


class TrackerRemoval:
    """The `lines.Rewrite` of a forwarded body: `removed` adds up what it took out of every HTML part."""

    def __init__(self, mode: Mode, hosts: Hosts, message_id: str) -> None:
        self._links = mode is Mode.PIXELS_AND_LINKS
        self._hosts = hosts
        self._message_id = message_id
        self._left = MAX_HTML_BYTES_PER_MESSAGE  # HTML bytes (as they arrived) this body may still rewrite
        self.removed = Removed()

    def rewrites(self, content_type: str, filename: str | None, size: int = 0) -> bool:
        """HTML parts only (every other part leaves byte for byte), and not one too large to decode and rewrite
        within the forwarder's memory, nor one past the message's budget (a part's size as it arrived bounds its
        decoded size: base64 and quoted-printable only shrink when decoded). Asked once per part, in order."""
        if content_type != "text/html":
            return False
        if size > MAX_HTML_BYTES:
            logger.info(
                "HTML part too large to remove trackers from; left untouched", message_id=self._message_id, size=size
            )
            return False
        if size > self._left:
            logger.info(
                "the message's HTML parts are too large to remove trackers from all of them; this one left untouched",
                message_id=self._message_id,
                size=size,
            )
            return False
        self._left -= size
        return True

    def removes(self, content_type: str) -> bool:
        return False  # a tracker is taken out of a part, never a whole part

    def changes_structure(self) -> bool:
        return False  # every byte outside the HTML parts leaves as it came

    def text(
        self, data: bytes, charset: str | None, content_type: str = "text/html", filename: str | None = None
    ) -> bytes | None:
        if content_type != "text/html":
            return None
        if len(data) > MAX_HTML_BYTES:  # a caller that did not ask `rewrites` with the part's size
            logger.info("HTML part too large to remove trackers from; left untouched", message_id=self._message_id)
            return None
        codec = _codec(charset, data)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            codec, text = "latin-1", data.decode("latin-1")  # every byte maps to itself: the rest stays as it was
        try:
            changed, removed = strip(text, self._hosts, links=self._links)
        except Exception:  # a tracker left in costs less than a message not forwarded
            logger.exception(
                "trackers could not be removed from an HTML part; left untouched", message_id=self._message_id
            )
            return None
        if changed is text:
            return None
        try:
            written = changed.encode(codec)
        except UnicodeEncodeError:
            return None  # the inserted URLs are ASCII; never make a part unreadable
        self.removed.pixels += removed.pixels
        self.removed.links += removed.links
        return written

    def field(self, name: str, raw_value: bytes, newline: bytes) -> bytes | None:
        return None  # trackers live in HTML, not in part headers


class _TrackerTags(html_parser.HTMLParser):
    """The edits that take the trackers out of a document, found tag by tag as the tokenizer reads it: only the
    edits are kept, never the tags (a part's peak memory stays a few times its size, bench/trackers.py)."""

    _WANTED = frozenset({"img", "a", "area"})

    def __init__(self, text: str, hosts: Hosts, *, links: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the text
        self.removed = Removed()
        self._hosts = hosts
        self._links = links
        self._line_starts = [0]
        position = text.find("\n")
        while position != -1:
            self._line_starts.append(position + 1)
            position = text.find("\n", position + 1)
        self._text = text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._WANTED and not any(name == "background" for name, _ in attrs):
            return
        raw = self.get_starttag_text()
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        if raw is None or not self._text.startswith(raw, start):
            return
        spans = _attribute_spans(raw)
        if spans is None or [(name, value) for name, value, *_ in spans] != attrs:
            return  # not where the tokenizer says it is: never cut what we cannot place
        if tag == "img" and _is_pixel(dict(attrs), self._hosts):
            self.edits.append((start, start + len(raw), ""))
            self.removed.pixels += 1
            return
        for name, value, begin, end, through in spans:
            if name == "background" and value and self._hosts.tracked(_host(value)):
                self.edits.append((start + begin, start + through, ""))  # with the space after it
                self.removed.pixels += 1
            elif self._links and name == "href" and tag in ("a", "area") and value:
                target = _clean_link(value, self._hosts)
                if target != value:
                    self.edits.append((start + begin, start + end, f'href="{html.escape(target, quote=True)}"'))
                    self.removed.links += 1

    handle_startendtag = handle_starttag


# The tokenizer's own patterns for a tag name and an attribute (what `HTMLParser.parse_starttag` uses); a Python
# without them leaves every tag alone rather than guess.
_TAG_NAME = getattr(html_parser, "tagfind_tolerant", None)
_ATTRIBUTE = getattr(html_parser, "attrfind_tolerant", None)


def _attribute_spans(raw: str) -> list[tuple[str, str | None, int, int, int]] | None:
    """(name, value as the tokenizer reads it, start, end, end of the space after it) of each attribute of a start
    tag's source, found as `HTMLParser.parse_starttag` finds them; None when the tag does not read as one."""
    match = _TAG_NAME.match(raw, 1) if _TAG_NAME is not None and _ATTRIBUTE is not None else None
    if match is None or _ATTRIBUTE is None:
        return None
    spans: list[tuple[str, str | None, int, int, int]] = []
    position, end = match.end(), len(raw) - (2 if raw.endswith("/>") else 1)
    while position < end:
        found = _ATTRIBUTE.match(raw, position)
        if found is None:
            break
        name, rest, value = found.group(1, 2, 3)
        if not rest:
            value = None
        elif value[:1] == "'" == value[-1:] or value[:1] == '"' == value[-1:]:
            value = value[1:-1]
        if value:
            value = html.unescape(value)
        spans.append((name.lower(), value, found.start(1), found.end(3) if rest else found.end(1), found.end()))
        position = found.end()
    return spans


def _is_pixel(attrs: dict[str, str | None], hosts: Hosts) -> bool:
    source = (attrs.get("src") or "").strip()
    if not source.lower().startswith(("http://", "https://", "//")):
        return False
    style = _declarations(attrs.get("style") or "")
    width = _pixels(attrs.get("width")) if "width" not in style else _pixels(style["width"])
    height = _pixels(attrs.get("height")) if "height" not in style else _pixels(style["height"])
    if width == 0 or height == 0:
        return True
    if width is not None and height is not None and width <= 2 and height <= 2:
        return True
    if "hidden" in attrs or style.get("display") == "none" or style.get("visibility") == "hidden":
        return True
    parts = urlsplit(source if not source.startswith("//") else "https:" + source)
    if hosts.tracked(parts.hostname):
        return True
    path = parts.path.lower()
    return any(shape in path for shape in _OPEN_PATHS)


def _declarations(style: str) -> dict[str, str]:
    """A style attribute's CSS declarations, lower case, `!important` dropped (CSS, not HTML)."""
    found = {}
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip().lower()] = value.lower().replace("!important", "").strip()
    return found


def _pixels(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip().lower().removesuffix("px").strip()
    try:
        return float(value)
    except ValueError:
        return None  # a percentage, `auto`, anything else: not a declared size


def _host(url: str) -> str | None:
    url = url.strip()
    try:
        return urlsplit("https:" + url if url.startswith("//") else url).hostname
    except ValueError:
        return None


def _clean_link(url: str, hosts: Hosts) -> str:
    """The link's target when it is a redirect through a tracking host, without click-identifying parameters."""
    current = url
    for _ in range(_MAX_UNWRAP):
        target = _redirect_target(current, hosts)
        if target is None:
            break
        current = target
    return _without_click_ids(current)


def _redirect_target(url: str, hosts: Hosts) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hosts.tracked(parts.hostname):
        return None
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if unquote(name).lower() in _TARGET_PARAMS:
            target = _as_url(unquote(value))
            if target is not None:
                return target
    for segment in parts.path.split("/"):  # a target in a path segment: base64, or URL-encoded (Amazon SES's /L0/)
        target = _as_url(unquote(segment)) if len(segment) >= 16 else None
        if target is not None:
            return target
    return None


def _as_url(value: str) -> str | None:
    """An http(s) URL given plainly or in base64 (standard or URL-safe, padded or not), else None."""
    if value.lower().startswith(("http://", "https://")):
        return value if value.isascii() and value.isprintable() else None
    candidate = value.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("ascii")
    except UnicodeDecodeError:
        return None
    if text.lower().startswith(("http://", "https://")) and text.isprintable() and " " not in text:
        return text
    return None


def _without_click_ids(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = parts.query.split("&")
    kept = [pair for pair in pairs if not _identifies_click(unquote(pair.partition("=")[0]).lower())]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query="&".join(kept)))


def _identifies_click(name: str) -> bool:
    return name.startswith("utm_") or name in _CLICK_ID_PARAMS
