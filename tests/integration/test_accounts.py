"""Users for admins (list, disable) and an account's deletion by its owner (issue 28, item 7)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from postmask import signin
from postmask.store import _dynamo as db
from postmask.store import signin as signin_codes
from tests.conftest import _make_api_call as unguarded_call
from tests.integration.conftest import new_user
from tests.support.api import Client
from tests.support.destinations import verify_destinations_of


def me(client: Client) -> dict[str, Any]:
    response = client.get("/api/me")
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


# --- admins: list and disable ----------------------------------------------------------------------------------


def test_an_admin_lists_every_user_oldest_first_in_pages(admin: Client, alice: Client, bob: Client) -> None:
    first = admin.get("/api/users", query={"limit": 2})
    assert first.status == 200, first.body
    page = first.json()
    assert [user["email"] for user in page["items"]] == ["admin@example.org", "alice@example.org"]
    mine = me(alice)
    assert page["items"][1] == {name: mine[name] for name in ("id", "email", "is_admin", "created_at")} | {
        "disabled": False
    }
    rest = admin.get("/api/users", query={"limit": 2, "next_token": page["next_token"]}).json()
    assert [user["email"] for user in rest["items"]] == ["bob@example.org"]
    assert rest["next_token"] is None


def test_only_admins_list_or_disable_users(alice: Client, bob: Client) -> None:
    assert alice.get("/api/users").status == 403
    response = alice.patch(f"/api/users/{me(bob)['id']}", {"disabled": True})
    assert response.status == 403
    assert "message" in response.json()
    assert bob.get("/api/me").status == 200


def test_a_disabled_users_tokens_are_refused_until_enabled_again(admin: Client, alice: Client) -> None:
    alice_id = me(alice)["id"]
    second = alice.post("/api/tokens", {"name": "curl"}).json()["token"]

    disabled = admin.patch(f"/api/users/{alice_id}", {"disabled": True})

    assert disabled.status == 200, disabled.body
    assert disabled.json()["disabled"] is True
    assert alice.get("/api/me").status in (401, 403)
    assert Client(second).get("/api/aliases").status in (401, 403)
    listed = {user["id"]: user for user in admin.get("/api/users").json()["items"]}
    assert listed[alice_id]["disabled"] is True

    assert admin.patch(f"/api/users/{alice_id}", {"disabled": False}).status == 200
    assert alice.get("/api/me").status == 200
    assert Client(second).get("/api/aliases").status == 200


def test_a_disabled_user_gets_no_session_from_a_link(admin: Client, alice: Client) -> None:
    alice_id = me(alice)["id"]
    code = signin_codes.new_code(alice_id, False)  # a link mailed just before the admin disabled her
    admin.patch(f"/api/users/{alice_id}", {"disabled": True})

    response = Client(None).post("/api/sessions/redeem", {"code": code})

    assert response.status == 400, response.body


def test_an_admin_cannot_disable_themselves_and_unknown_users_are_404(admin: Client) -> None:
    assert admin.patch(f"/api/users/{me(admin)['id']}", {"disabled": True}).status == 409
    assert admin.patch("/api/users/01j0000000000000000000000a", {"disabled": True}).status == 404
    assert admin.patch("/api/users/not-an-id", {"disabled": True}).status == 404
    assert admin.patch(f"/api/users/{me(admin)['id']}", {"disabled": "maybe"}).status == 422


def test_a_user_made_before_the_directory_is_listed_once_they_ask_for_a_sign_in_link(admin: Client, table: str) -> None:
    old = new_user("old@example.org")
    old_id = me(old)["id"]
    # As stored before the directory existed: no entry, no `listed` flag.
    db.batch_delete([db.key("USERS", f"USER#{old_id}")])
    boto3.client("dynamodb").update_item(
        TableName=table, Key=db.key(f"USER#{old_id}", "PROFILE"), UpdateExpression="REMOVE listed"
    )
    assert old_id not in {user["id"] for user in admin.get("/api/users").json()["items"]}

    signin.mail_link({"email": "old@example.org", "api_host": "api.test"})  # the sign-in mailer's work

    assert old_id in {user["id"] for user in admin.get("/api/users").json()["items"]}


# --- DELETE /api/me ------------------------------------------------------------------------------------------


def everything_of(table: str, user_id: str, words: list[str]) -> list[dict[str, Any]]:
    """Every item of the table that names the user or one of `words` anywhere (a test may Scan; the code never does)."""
    client = boto3.client("dynamodb")
    found, params = [], {"TableName": table}
    while True:
        page = unguarded_call(client, "Scan", params)  # past the suite's guard against the code scanning
        found += [item for item in page["Items"] if any(word in str(item) for word in [user_id, *words])]
        if "LastEvaluatedKey" not in page:
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_deleting_an_account_needs_the_address_typed(alice: Client) -> None:
    response = alice.request("DELETE", "/api/me", body={"confirm": "someone@else.example"})
    assert response.status == 422, response.body
    assert response.json()["detail"][0]["loc"] == ["body", "confirm"]
    assert alice.request("DELETE", "/api/me", body={}).status == 422
    assert alice.get("/api/me").status == 200


@pytest.mark.usefixtures("mail")
def test_deleting_an_account_removes_every_item_and_its_domains(
    alice: Client, bob: Client, alice_domain: str, table: str
) -> None:
    # Given an account with a domain (and its SES identity), a catch-all, destinations, aliases with contacts,
    # tokens, idempotency records and activity
    alice_id = me(alice)["id"]
    verify_destinations_of(alice, ["alice@real.example"])
    alice.patch(f"/api/domains/{alice_domain}", {"catch_all_destination": "alice@real.example"})
    alias = alice.post(
        "/api/aliases",
        {"domain": alice_domain, "local_part": "shop", "destinations": ["alice@real.example", "new@real.example"]},
        headers={"Idempotency-Key": "once"},
    ).json()
    contact = alice.post(f"/api/aliases/{alias['id']}/contacts", {"email": "them@outside.example"}).json()
    alice.post("/api/tokens", {"name": "curl"})
    bobs = bob.post("/api/domains", {"name": "bob.example"})
    assert bobs.status == 201
    ses_identities = boto3.client("sesv2").list_email_identities()["EmailIdentities"]
    assert alice_domain in {identity["IdentityName"] for identity in ses_identities}

    # When she deletes it, confirming with her address in another case
    response = alice.request("DELETE", "/api/me", body={"confirm": " Alice@Example.org "})

    # Then nothing of hers is left, her token is refused, her address and domain are free; Bob keeps his
    assert response.status == 204, response.body
    words = [alice_domain, "alice@example.org", contact["reply_address"], alias["id"]]
    left = everything_of(table, alice_id, words)
    # The tree's version counter is shared by every registration under alice.example, anyone's: it stays.
    assert [item["pk"]["S"] + "/" + item["sk"]["S"] for item in left] == [f"TREE#{alice_domain}/DOMAIN"]
    assert alice.get("/api/me").status in (401, 403)
    ses_identities = boto3.client("sesv2").list_email_identities()["EmailIdentities"]
    assert alice_domain not in {identity["IdentityName"] for identity in ses_identities}
    assert bob.get("/api/domains/bob.example").status == 200
    again = new_user("alice@example.org")
    assert again.post("/api/domains", {"name": alice_domain}).status == 201
