"""The files of import and export: what each format's rows mean, read as a stream (decision 0101).

Import reads a postmask export (JSON, `postmask/1`) or a CSV file, whose format is told by its header:

| format       | header (columns postmask reads; others are ignored)   | destinations                     |
|--------------|-------------------------------------------------------|----------------------------------|
| `postmask`   | `address,destinations,note,enabled,expires_at`, and   | space-separated                  |
|              | `display_name,site,block_foreign_senders` if present  |                                  |
| `simplelogin`| `alias,note,enabled,mailboxes` (SimpleLogin's export) | `mailboxes`, space-separated     |
| `addy-import`| `alias,description,recipient_ids` (addy.io's import)  | addresses among `recipient_ids`  |
| `addy-export`| `email`, `description`, `active` (addy.io's export)   | none: `default_destination`      |

addy.io names recipients by its own ids (UUIDs), which mean nothing here: an address among them is used, the
ids are not, and a row left without a destination takes `default_destination`. SimpleLogin writes `True` and
`False`; addy.io's export `1` and `0` (or nothing); any of `true/false/yes/no/1/0` is taken, in any case.

Both readers are generators over the body: a CSV is parsed by Python's `csv` module one line at a time (no copy
of the text), a JSON export one alias at a time (`json.JSONDecoder.raw_decode` from the position of the next
one), so a 10,000-row import holds one row at a time, not the file twice over.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from postmask.errors import InvalidRequest

FORMAT = "postmask/1"
CSV_COLUMNS = (
    "address",
    "destinations",
    "note",
    "enabled",
    "expires_at",
    "created_at",
    "display_name",
    "site",
    "block_foreign_senders",
)
MAX_BODY_BYTES = 5 * 1024 * 1024  # below Lambda's 6 MB request payload, with room for the event around it
MAX_ROWS = 10_000

_TRUE = {"true", "yes", "1", "y", "on", "enabled", "active"}
_FALSE = {"false", "no", "0", "n", "off", "disabled", "inactive"}
_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Contact:
    """A contact of a postmask export's alias: `reply_address` is the one it had (given back when still free)."""

    email: str
    name: str | None = None
    blocked: bool = False
    reply_address: str | None = None


@dataclass
class Row:
    """One alias of an import, as the file says it (validated later, with the caller's data at hand)."""

    number: int  # CSV: its row as a spreadsheet shows it (the header is row 1); JSON: its place in `aliases`
    address: str
    destinations: list[str] = field(default_factory=list)
    note: str = ""
    enabled: bool = True
    expires_at: str | None = None
    display_name: str | None = None
    site: str | None = None
    block_foreign_senders: bool = False
    contacts: list[Contact] = field(default_factory=list)
    problem: str | None = None  # what is wrong with it already, from the file alone


@dataclass
class Source:
    """A parsed import: its format, and a way to read its rows (again: the import reads them twice)."""

    format: str
    rows: Callable[[], Iterator[Row]]
    destinations: Callable[[], list[str]] = list  # addresses a postmask export lists beside its aliases


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, endings kept (what `csv.reader` wants), without copying it whole."""
    start = 1 if text.startswith("\ufeff") else 0  # a byte-order mark, as spreadsheets write
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _boolean(value: str, column: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{column} must be true or false, not {value.strip()[:20]!r}")


def _addresses(value: str) -> list[str]:
    return [part for part in _ADDRESS_SEPARATORS.split(value.strip()) if part]


def _looks_like_address(value: str) -> bool:
    return "@" in value


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv_format(header: list[str]) -> str:
    columns = {name.strip().lower() for name in header}
    if {"address", "destinations"} <= columns:
        return "postmask"
    if {"alias", "mailboxes"} <= columns:
        return "simplelogin"
    if {"alias", "recipient_ids"} <= columns:
        return "addy-import"
    if {"email", "active"} <= columns:
        return "addy-export"
    shown = ",".join(name.strip() for name in header)[:200]
    raise InvalidRequest(
        f"This CSV header is not one postmask knows ({shown}): use postmask's export "
        "(address,destinations,note,enabled,expires_at), SimpleLogin's (alias,note,enabled,mailboxes) or addy.io's "
        "(alias,description,recipient_ids, or its export with email,description,active)",
        loc=("body",),
    )


def _csv_row(format_: str, number: int, values: dict[str, str]) -> Row:
    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    if format_ == "postmask":
        row = Row(number, get("address"), _addresses(get("destinations")), values.get("note") or "")
        enabled, expires = get("enabled"), get("expires_at")
        row.expires_at = expires or None
        row.display_name = values.get("display_name") or None
        row.site = get("site") or None
        if get("block_foreign_senders"):
            try:
                row.block_foreign_senders = _boolean(get("block_foreign_senders"), "block_foreign_senders")
            except ValueError as exc:
                row.problem = str(exc)
    elif format_ == "simplelogin":
        row = Row(number, get("alias"), _addresses(get("mailboxes")), values.get("note") or "")
        enabled = get("enabled")
    elif format_ == "addy-import":
        recipients = [part for part in re.split(r"[\s,;]+", get("recipient_ids")) if _looks_like_address(part)]
        row = Row(number, get("alias"), recipients, values.get("description") or "")
        enabled = ""
    else:  # addy-export: a deleted alias (deleted_at) comes in disabled
        row = Row(number, get("email"), [], values.get("description") or "")
        enabled = get("active") or "0"
        if get("deleted_at"):
            enabled = "0"
    if enabled:
        try:
            row.enabled = _boolean(enabled, "enabled" if format_ != "addy-export" else "active")
        except ValueError as exc:
            row.problem = str(exc)
    return row


def read_csv(text: str) -> Source:
    """A CSV import: its format from its header; its rows read lazily (422 for an unknown header)."""
    try:
        header = next(csv.reader(_lines(text), strict=True), None)
    except csv.Error as exc:
        raise InvalidRequest(f"The CSV cannot be read: {exc}") from exc
    if not header:
        raise InvalidRequest("The CSV is empty: it needs a header row, then one row per alias")
    format_ = _csv_format(header)

    def rows() -> Iterator[Row]:
        reader = csv.reader(_lines(text), strict=True)
        try:
            names = [name.strip().lower() for name in next(reader)]
            for values in reader:
                number = reader.line_num  # the line a row ends on: its row in a spreadsheet, for one-line rows
                if not any(value.strip() for value in values):
                    continue  # a blank line
                cells = [unneutralised(value) for value in values]  # a round trip changes nothing
                yield _csv_row(format_, number, dict(zip(names, cells, strict=False)))
        except csv.Error as exc:
            raise InvalidRequest(f"The CSV cannot be read after line {reader.line_num}: {exc}") from exc

    return Source(format_, rows)


# --- JSON (a postmask export) ------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")


class _Scanner:
    """A postmask export read value by value: the top-level object's members, and the `aliases` array's items
    one at a time (each decoded alone), so the file is never decoded whole."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.decoder = json.JSONDecoder()

    def _skip(self) -> None:
        found = _SPACE.match(self.text, self.position)
        self.position = found.end() if found else self.position

    def _expect(self, character: str) -> None:
        self._skip()
        if self.text[self.position : self.position + 1] != character:
            raise json.JSONDecodeError(f"Expecting {character!r}", self.text, self.position)
        self.position += 1

    def _peek(self) -> str:
        self._skip()
        return self.text[self.position : self.position + 1]

    def value(self) -> Any:
        self._skip()
        value, self.position = self.decoder.raw_decode(self.text, self.position)
        return value

    def members(self) -> Iterator[str]:
        """The top-level object's keys; after each, the caller reads its value (`value` or `items`)."""
        self._expect("{")
        if self._peek() == "}":
            self.position += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise json.JSONDecodeError("Expecting a property name", self.text, self.position)
            self._expect(":")
            yield key
            if self._peek() == ",":
                self.position += 1
                continue
            self._expect("}")
            break
        self._skip()
        if self.position != len(self.text):
            raise json.JSONDecodeError("Extra data", self.text, self.position)

    def items(self) -> Iterator[Any]:
        """The items of the array at the current position, one decoded at a time."""
        self._expect("[")
        if self._peek() == "]":
            self.position += 1
            return
        while True:
            yield self.value()
            if self._peek() == ",":
                self.position += 1
                continue
            self._expect("]")
            return


def _json_problem(exc: Exception) -> InvalidRequest:
    if isinstance(exc, RecursionError):
        return InvalidRequest("The body is not valid JSON: nested too deeply")
    return InvalidRequest(f"The body is not valid JSON: {exc}")


def _json_row(number: int, value: Any) -> Row:
    if not isinstance(value, dict):
        return Row(number, "", problem="each alias must be an object")
    address = value.get("address")
    row = Row(number, address.strip() if isinstance(address, str) else "")
    destinations = value.get("destinations")
    if isinstance(destinations, list) and all(isinstance(item, str) for item in destinations):
        row.destinations = [item.strip() for item in destinations if item.strip()]
    elif destinations is not None:
        row.problem = "destinations must be a list of addresses"
    note = value.get("note", "")
    if isinstance(note, str):
        row.note = note
    elif note is not None:
        row.problem = "note must be text"
    enabled = value.get("enabled", True)
    if isinstance(enabled, bool):
        row.enabled = enabled
    else:
        row.problem = "enabled must be true or false"
    expires = value.get("expires_at")
    if isinstance(expires, str):
        row.expires_at = expires
    elif expires is not None:
        row.problem = "expires_at must be a date-time or null"
    display_name = value.get("display_name")
    if isinstance(display_name, str):
        row.display_name = display_name
    elif display_name is not None:
        row.problem = "display_name must be text or null"
    site = value.get("site")
    if isinstance(site, str):
        row.site = site
    elif site is not None:
        row.problem = "site must be text or null"
    block = value.get("block_foreign_senders", False)
    if isinstance(block, bool) or block is None:
        row.block_foreign_senders = block is True
    else:
        row.problem = "block_foreign_senders must be true or false"
    listed = value.get("contacts", [])
    if not isinstance(listed, list) or not all(_is_contact(contact) for contact in listed):
        row.problem = "contacts must be a list of {email, name?, blocked?, reply_address?}"
    else:
        row.contacts = [
            Contact(c["email"].strip(), c.get("name"), c.get("blocked") is True, c.get("reply_address")) for c in listed
        ]
    return row


def _is_contact(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("email"), str)
        and isinstance(value.get("name"), str | None)
        and isinstance(value.get("blocked", False), bool)
        and isinstance(value.get("reply_address"), str | None)
    )


def read_json(text: str) -> Source:
    """A postmask export: checked whole once (its format, its structure), its aliases then read lazily."""
    destinations: list[str] = []
    try:
        scanner = _Scanner(text)
        format_ = None
        for key in scanner.members():
            if key == "format":
                format_ = scanner.value()
            elif key == "aliases":
                for _ in scanner.items():
                    pass
            elif key == "destinations":
                listed = scanner.value()
                if isinstance(listed, list):
                    destinations = [
                        item["email"].strip()
                        for item in listed
                        if isinstance(item, dict) and isinstance(item.get("email"), str) and item["email"].strip()
                    ]
            else:
                scanner.value()
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _json_problem(exc) from exc
    if format_ != FORMAT:
        raise InvalidRequest(f'This is not a postmask export: its "format" must be "{FORMAT}" (GET /api/export)')

    def rows() -> Iterator[Row]:
        scanner = _Scanner(text)
        for key in scanner.members():
            if key != "aliases":
                scanner.value()
                continue
            for number, value in enumerate(scanner.items(), start=1):
                yield _json_row(number, value)

    return Source("postmask", rows, lambda: destinations)


def read(text: str, content_type: str) -> Source:
    return read_csv(text) if content_type == "text/csv" else read_json(text)


# --- export ------------------------------------------------------------------------------------------------


# A cell a spreadsheet would run as a formula (OWASP's CSV injection rule): it starts with one of these. One that
# starts with quotes then one of these is prefixed too, so that import's un-prefixing gives back exactly what was
# exported.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_PREFIXED = re.compile(r"'+[=+\-@\t\r]")


def neutralised(cell: str) -> str:
    """A cell as postmask writes it in a CSV: `'` before one a spreadsheet would run as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def unneutralised(cell: str) -> str:
    """A cell as postmask read it back: the `'` of `neutralised` removed again."""
    return cell[1:] if _PREFIXED.match(cell) else cell


def csv_text(rows: Iterable[list[str]]) -> str:
    """Records as `csv.writer` writes them: quoted where needed, CRLF line endings, every cell `neutralised`
    (every CSV postmask writes goes through here)."""
    out = io.StringIO()
    csv.writer(out).writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue()


def export_json(
    exported_at: str,
    domains: Iterable[dict[str, Any]],
    destinations: Iterable[dict[str, Any]],
    aliases: Iterable[dict[str, Any]],
) -> str:
    """A postmask export (`postmask/1`): what an import reads back. Each alias has its `contacts` (email, name,
    blocked, created_at: an import finds or creates them; their reply addresses are new ones then)."""

    def listed(items: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> str:
        return ",".join(
            json.dumps(
                {name: item.get(name) for name in fields},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            for item in items
        )

    return (
        f'{{"format":"{FORMAT}","exported_at":{json.dumps(exported_at)},'
        f'"domains":[{listed(domains, EXPORTED_DOMAIN)}],'
        f'"destinations":[{listed(destinations, EXPORTED_DESTINATION)}],'
        f'"aliases":[{listed(map(_exported_alias, aliases), EXPORTED_ALIAS)}]}}'
    )


EXPORTED_DOMAIN = ("name", "catch_all_destination", "created_at")
EXPORTED_DESTINATION = ("email", "status", "created_at", "verified_at")
EXPORTED_ALIAS = (*CSV_COLUMNS, "contacts")  # the CSV's columns, and the contacts a CSV cannot hold


def _exported_alias(alias: dict[str, Any]) -> dict[str, Any]:
    # An alias written before leak detection has no block_foreign_senders: it did not block.
    return {"contacts": [], **alias, "block_foreign_senders": alias.get("block_foreign_senders") is True}


def export_csv(aliases: Iterable[dict[str, Any]]) -> str:
    """The caller's aliases as postmask's CSV (what an import reads back): destinations space-separated."""

    def record(alias: dict[str, Any]) -> list[str]:
        return [
            alias.get("address") or "",
            " ".join(alias.get("destinations") or []),
            alias.get("note") or "",
            "true" if alias.get("enabled") else "false",
            alias.get("expires_at") or "",
            alias.get("created_at") or "",
            alias.get("display_name") or "",
            alias.get("site") or "",
            "true" if alias.get("block_foreign_senders") else "false",
        ]

    return csv_text([list(CSV_COLUMNS), *(record(alias) for alias in aliases)])
