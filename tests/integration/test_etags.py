"""ETag on the GET of one alias, domain, destination or contact; If-Match on their PUT, PATCH and DELETE: a version
that is not the current one is a 412 and changes nothing, decided by a condition on the write itself."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local.functions import running
from postmask.settings import get_settings
from postmask.store import _dynamo as db
from postmask.store import aliases, contacts, destinations, routes
from tests.support.api import Client


@pytest.fixture
def alias(alice: Client, alice_domain: str) -> dict[str, Any]:
    body = {"domain": alice_domain, "local_part": "shop", "destinations": ["a@x.example"]}
    response = alice.post("/api/aliases", body)
    assert response.status == 201
    created: dict[str, Any] = response.json()
    return created


def path(alias: dict[str, Any]) -> str:
    return f"/api/aliases/{alias['id']}"


def test_a_get_has_an_etag_and_each_change_a_new_one(alice: Client, alias: dict[str, Any]) -> None:
    first = alice.get(path(alias)).header("ETag")
    changed = alice.patch(path(alias), {"note": "one"}, headers={"If-Match": first or ""})

    assert first == '"1"'
    assert changed.status == 200
    assert changed.header("ETag") == '"2"'
    assert alice.get(path(alias)).header("ETag") == '"2"'
    replaced = alice.put(
        path(alias),
        {"destinations": ["a@x.example"], "note": "two", "enabled": True, "expires_at": None},
        headers={"If-Match": '"2"'},
    )
    assert replaced.status == 204
    assert replaced.header("ETag") == '"3"'


def test_a_stale_if_match_is_412_and_changes_nothing(alice: Client, alias: dict[str, Any]) -> None:
    stale = alice.get(path(alias)).header("ETag") or ""
    assert alice.patch(path(alias), {"note": "someone else's edit"}).status == 200  # no If-Match: as before
    now = alice.get(path(alias)).json()

    patched = alice.patch(path(alias), {"note": "mine"}, headers={"If-Match": stale})
    put = alice.put(
        path(alias),
        {"destinations": ["b@x.example"], "note": "mine", "enabled": False, "expires_at": None},
        headers={"If-Match": stale},
    )
    deleted = alice.delete(path(alias), headers={"If-Match": stale})

    assert [patched.status, put.status, deleted.status] == [412, 412, 412]
    assert "changed since you read it" in patched.json()["message"]
    assert alice.get(path(alias)).json() == now
    route = routes.get(alias["address"])
    assert route is not None
    assert route.destinations == ("a@x.example",)


@pytest.mark.parametrize("header", ['W/"1"', '"01x"', "1", '"999"', "", "garbage"])
def test_a_weak_or_foreign_tag_never_matches(alice: Client, alias: dict[str, Any], header: str) -> None:
    assert alice.patch(path(alias), {"note": "x"}, headers={"If-Match": header}).status == 412


@pytest.mark.parametrize("header", ["*", '"1"', '"7", "1"'])
def test_a_star_or_a_list_naming_the_current_version_matches(alice: Client, alias: dict[str, Any], header: str) -> None:
    assert alice.patch(path(alias), {"note": "x"}, headers={"If-Match": header}).status == 200


def test_a_delete_with_the_current_tag_deletes(alice: Client, alias: dict[str, Any]) -> None:
    assert alice.delete(path(alias), headers={"If-Match": '"1"'}).status == 204
    assert alice.get(path(alias)).status == 404


def test_a_change_between_the_read_and_the_write_is_caught_by_the_condition(
    alice: Client, alias: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The If-Match matches the version read, but another edit lands before the transaction: 412, not a lost
    update (the write is conditioned on the version read, and the read done again sees the new one)."""
    read = aliases._get_item
    raced: list[bool] = []

    def read_then_race(user_id: str, alias_id: str) -> dict[str, Any]:
        item = read(user_id, alias_id)
        if not raced:
            raced.append(True)
            aliases.update(user_id, alias_id, {"note": "the other writer"})
        return item

    monkeypatch.setattr(aliases, "_get_item", read_then_race)
    response = alice.patch(path(alias), {"note": "mine"}, headers={"If-Match": '"1"'})

    assert response.status == 412
    assert alice.get(path(alias)).json()["note"] == "the other writer"


def test_mail_counted_on_an_alias_leaves_its_etag(alice: Client, alias: dict[str, Any]) -> None:
    route = routes.get(alias["address"])
    assert route is not None
    assert routes.count("message-1", route, routes.Outcome.FORWARDED, "2030-01-01T00:00:00.000Z")

    assert alice.get(path(alias)).json()["forwarded_count"] == 1
    assert alice.patch(path(alias), {"note": "x"}, headers={"If-Match": '"1"'}).status == 200


def test_an_alias_written_before_versions_is_version_0(alice: Client, alias: dict[str, Any]) -> None:
    boto3.client("dynamodb").update_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"USER#{alice.get('/api/me').json()['id']}"}, "sk": {"S": f"ALIAS#{alias['id']}"}},
        UpdateExpression="REMOVE version",
    )
    assert alice.get(path(alias)).header("ETag") == '"0"'
    assert alice.patch(path(alias), {"note": "x"}, headers={"If-Match": '"1"'}).status == 412
    assert alice.patch(path(alias), {"note": "x"}, headers={"If-Match": '"0"'}).header("ETag") == '"1"'


def test_another_users_alias_is_404_whatever_the_if_match(alias: dict[str, Any], bob: Client) -> None:
    assert bob.patch(path(alias), {"note": "x"}, headers={"If-Match": '"1"'}).status == 404
    assert bob.delete(path(alias), headers={"If-Match": "*"}).status == 404


def test_domains(alice: Client, alice_domain: str) -> None:
    domain = f"/api/domains/{alice_domain}"
    tag = alice.get(domain).header("ETag")
    assert tag == '"1"'

    changed = alice.patch(domain, {"catch_all_destination": "c@x.example"}, headers={"If-Match": tag})
    stale_patch = alice.patch(domain, {"catch_all_destination": None}, headers={"If-Match": tag})
    stale_delete = alice.delete(domain, headers={"If-Match": tag})

    assert changed.status == 200
    assert changed.header("ETag") == '"2"'
    assert [stale_patch.status, stale_delete.status] == [412, 412]
    assert alice.get(domain).json()["catch_all_destination"] == "c@x.example"
    assert alice.patch(domain, {"catch_all_destination": None}, headers={"If-Match": '"2"'}).status == 200
    assert alice.delete(domain, headers={"If-Match": '"3"'}).status == 204


def test_destinations(alice: Client) -> None:
    created = alice.post("/api/destinations", {"email": "d@x.example"}).json()
    one = f"/api/destinations/{created['id']}"
    tag = alice.get(one).header("ETag")
    assert tag == '"1"'

    user_id = alice.get("/api/me").json()["id"]
    assert destinations.suspend(user_id, "d@x.example", "bounce")  # its status moved: a new version

    assert alice.get(one).header("ETag") == '"2"'
    assert alice.delete(one, headers={"If-Match": tag or ""}).status == 412
    assert alice.get(one).status == 200
    assert alice.delete(one, headers={"If-Match": '"2"'}).status == 204


@pytest.fixture
def contact(alice: Client, alias: dict[str, Any]) -> str:
    """The path of a contact of alice's alias."""
    response = alice.post(f"{path(alias)}/contacts", {"email": "jane@example.com", "name": "Jane"})
    assert response.status == 201
    return f"{path(alias)}/contacts/{response.json()['id']}"


def test_a_contact_has_an_etag_and_each_change_a_new_one(alice: Client, contact: str) -> None:
    first = alice.get(contact).header("ETag")
    blocked = alice.patch(contact, {"blocked": True}, headers={"If-Match": first or ""})

    assert first == '"1"'
    assert blocked.status == 200
    assert blocked.json()["blocked"] is True
    assert blocked.header("ETag") == '"2"'
    assert alice.get(contact).header("ETag") == '"2"'
    assert alice.patch(contact, {"name": "Jane Doe"}, headers={"If-Match": '"2"'}).header("ETag") == '"3"'
    assert alice.patch(contact, {}, headers={"If-Match": '"3"'}).header("ETag") == '"3"'  # nothing to change


def test_a_stale_if_match_on_a_contact_is_412_and_changes_nothing(
    alice: Client, alias: dict[str, Any], contact: str
) -> None:
    stale = alice.get(contact).header("ETag") or ""
    assert alice.patch(contact, {"name": "someone else's edit"}).status == 200  # no If-Match: as before
    now = alice.get(contact).json()

    patched = alice.patch(contact, {"blocked": True, "name": "mine"}, headers={"If-Match": stale})
    deleted = alice.delete(contact, headers={"If-Match": stale})
    emptied = alice.patch(contact, {}, headers={"If-Match": stale})

    assert [patched.status, deleted.status, emptied.status] == [412, 412, 412]
    assert "changed since you read it" in patched.json()["message"]
    assert alice.get(contact).json() == now
    # Its lookup items too: the forwarder still lets the sender through, the reply path still knows the name.
    key = contacts.sender_key(alias["id"], "jane@example.com")
    sender = db.get_item(key["pk"]["S"], key["sk"]["S"])
    assert sender is not None
    assert sender["blocked"] is False
    target = contacts.reply_target(now["reply_address"])
    assert target is not None
    assert target.name == "someone else's edit"


@pytest.mark.parametrize("header", ['W/"1"', '"01x"', "1", '"999"', "", "garbage"])
def test_a_weak_or_foreign_tag_never_matches_a_contact(alice: Client, contact: str, header: str) -> None:
    assert alice.patch(contact, {"blocked": True}, headers={"If-Match": header}).status == 412
    assert alice.delete(contact, headers={"If-Match": header}).status == 412
    assert alice.get(contact).json()["blocked"] is False


@pytest.mark.parametrize("header", ["*", '"1"', '"7", "1"'])
def test_a_star_or_a_list_naming_the_contacts_version_matches(alice: Client, contact: str, header: str) -> None:
    assert alice.patch(contact, {"blocked": True}, headers={"If-Match": header}).status == 200


def test_a_contact_deleted_with_its_current_tag_is_gone_with_its_reply_address(alice: Client, contact: str) -> None:
    reply_address = alice.get(contact).json()["reply_address"]
    assert alice.delete(contact, headers={"If-Match": '"1"'}).status == 204
    assert alice.get(contact).status == 404
    assert contacts.reply_target(reply_address) is None


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_contact_changed_between_the_read_and_the_write_is_caught_by_the_condition(
    alice: Client, contact: str, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """The If-Match matches the version read, but another edit lands before the transaction: 412, not a lost
    update or a delete of what the client never saw."""
    read = contacts._contact_with_alias
    raced: list[bool] = []

    def read_then_race(user_id: str, alias_id: str, contact_id: str) -> dict[str, Any]:
        item = read(user_id, alias_id, contact_id)
        if not raced:
            raced.append(True)
            token = running.set(None)  # another request's write, not the function's (its IAM calls: decision 0074)
            try:
                contacts.update(user_id, alias_id, contact_id, {"name": "the other writer"})
            finally:
                running.reset(token)
        return item

    monkeypatch.setattr(contacts, "_contact_with_alias", read_then_race)
    if method == "patch":
        response = alice.patch(contact, {"name": "mine"}, headers={"If-Match": '"1"'})
    else:
        response = alice.delete(contact, headers={"If-Match": '"1"'})

    assert response.status == 412
    assert alice.get(contact).json()["name"] == "the other writer"


def test_mail_counted_on_a_contact_leaves_its_etag(alice: Client, alias: dict[str, Any], contact: str) -> None:
    contact_id = contact.rpartition("/")[2]
    db.transact([contacts.counted(alias["id"], contact_id, "received", "2030-01-01T00:00:00.000Z")])

    assert alice.get(contact).json()["received_count"] == 1
    assert alice.get(contact).header("ETag") == '"1"'
    assert alice.patch(contact, {"blocked": True}, headers={"If-Match": '"1"'}).status == 200


def test_a_contact_written_before_versions_is_version_0(alice: Client, alias: dict[str, Any], contact: str) -> None:
    boto3.client("dynamodb").update_item(
        TableName=get_settings().table_name,
        Key=contacts.contact_key(alias["id"], contact.rpartition("/")[2]),
        UpdateExpression="REMOVE version",
    )
    assert alice.get(contact).header("ETag") == '"0"'
    assert alice.patch(contact, {"blocked": True}, headers={"If-Match": '"1"'}).status == 412
    assert alice.patch(contact, {"blocked": True}, headers={"If-Match": '"0"'}).header("ETag") == '"1"'


def test_another_users_contact_is_404_whatever_the_if_match(bob: Client, contact: str) -> None:
    assert bob.get(contact).status == 404
    assert bob.patch(contact, {"blocked": True}, headers={"If-Match": '"1"'}).status == 404
    assert bob.delete(contact, headers={"If-Match": "*"}).status == 404
