"""Aliases through the API: every status the contract lists for /api/aliases."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.support.api import Client


def alias_body(domain: str, **fields: Any) -> dict[str, Any]:
    return {"domain": domain, "destinations": ["me@real.example"], **fields}


def test_create_with_a_local_part(alice: Client, alice_domain: str) -> None:
    response = alice.post("/api/aliases", alias_body(alice_domain, local_part="Shop.Online", note="The shop"))

    assert response.status == 201
    alias = response.json()
    assert alias["address"] == f"shop.online@{alice_domain}"
    assert alias["local_part"] == "shop.online"
    assert alias["domain"] == alice_domain
    assert alias["destinations"] == ["me@real.example"]
    assert alias["note"] == "The shop"
    assert alias["enabled"] is True
    assert alias["expires_at"] is None
    assert alias["forwarded_count"] == alias["blocked_count"] == 0
    assert alias["last_forwarded_at"] is None
    assert alias["last_blocked_at"] is None
    assert alias["created_at"] == alias["updated_at"]
    assert response.header("Location") == f"/api/aliases/{alias['id']}"
    assert alice.get(response.header("Location") or "").json() == alias


def test_without_a_local_part_the_service_picks_a_random_one(alice: Client, alice_domain: str) -> None:
    first = alice.post("/api/aliases", alias_body(alice_domain)).json()
    second = alice.post("/api/aliases", alias_body(alice_domain)).json()

    for alias in (first, second):
        assert re.fullmatch(r"[a-z0-9]{8,64}", alias["local_part"])
    assert first["local_part"] != second["local_part"]


def test_expires_at_is_stored_in_utc_with_z(alice: Client, alice_domain: str) -> None:
    alias = alice.post("/api/aliases", alias_body(alice_domain, expires_at="2031-05-01T12:00:00+02:00")).json()
    assert alias["expires_at"] == "2031-05-01T10:00:00.000Z"


def test_only_the_domain_owner_creates_aliases_on_it(alice_domain: str, bob: Client) -> None:
    response = bob.post("/api/aliases", alias_body(alice_domain, local_part="steal"))

    assert response.status == 404
    assert response.json()["message"]


def test_an_unknown_domain_is_404(alice: Client) -> None:
    assert alice.post("/api/aliases", alias_body("nowhere.example")).status == 404


def test_an_address_is_taken_once(alice: Client, alice_domain: str) -> None:
    assert alice.post("/api/aliases", alias_body(alice_domain, local_part="shop")).status == 201

    again = alice.post("/api/aliases", alias_body(alice_domain, local_part="SHOP"))

    assert again.status == 409
    assert f"shop@{alice_domain}" in again.json()["message"]
    assert alice.get(f"/api/domains/{alice_domain}").json()["alias_count"] == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"local_part": "has space"}, "local_part"),
        ({"local_part": ".leading"}, "local_part"),
        ({"local_part": "trailing."}, "local_part"),
        ({"local_part": "dou..ble"}, "local_part"),
        ({"local_part": "x" * 65}, "local_part"),
        ({"local_part": ""}, "local_part"),
        ({"local_part": "ünï"}, "local_part"),
        ({"destinations": []}, "destinations"),
        ({"destinations": [f"d{i}@real.example" for i in range(11)]}, "destinations"),
        ({"destinations": ["not-an-address"]}, "destinations"),
        ({"destinations": "me@real.example"}, "destinations"),
        ({"note": "n" * 501}, "note"),
        ({"enabled": "maybe"}, "enabled"),
        ({"expires_at": "2031-05-01T12:00:00"}, "expires_at"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_fields_are_422_with_the_field_named(
    alice: Client, alice_domain: str, fields: dict[str, Any], field: str
) -> None:
    response = alice.post("/api/aliases", alias_body(alice_domain, **fields))

    assert response.status == 422
    body = response.json()
    assert isinstance(body["message"], str)
    assert body["message"]
    assert any(issue["loc"][:2] == ["body", field] for issue in body["detail"]), body
    assert all({"loc", "msg", "type"} <= issue.keys() for issue in body["detail"])
    assert alice.get("/api/aliases").json()["items"] == []


def test_boundary_values_are_accepted(alice: Client, alice_domain: str) -> None:
    response = alice.post(
        "/api/aliases",
        alias_body(
            alice_domain,
            local_part="a" * 64,
            destinations=[f"d{i}@real.example" for i in range(10)],
            note="n" * 500,
        ),
    )
    assert response.status == 201
    assert len(response.json()["destinations"]) == 10


@pytest.mark.parametrize(
    ("raw_body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"domain": "a.example",', "application/json"),
        ("[1, 2]", "application/json"),
        ("null", "application/json"),
        ("", "application/json"),
        ("--x\r\n\r\n--x--", "multipart/form-data"),
        ("--x\r\n\r\n--x--", "multipart/form-data; boundary=x"),
        ("domain=a.example", "application/x-www-form-urlencoded"),
        ("hello", "text/plain"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_4xx(
    alice: Client, alice_domain: str, raw_body: str, content_type: str
) -> None:
    response = alice.post("/api/aliases", raw_body=raw_body, headers={"content-type": content_type})

    assert 400 <= response.status < 500
    assert response.json()["message"]


def test_a_binary_body_is_4xx(alice: Client, alice_domain: str) -> None:
    response = alice.post("/api/aliases", raw_body=b"\xff\xfe\x00garbage", headers={"content-type": "application/json"})

    assert 400 <= response.status < 500
    assert response.json()["message"]
    assert base64  # the event factory base64-encodes it, as API Gateway does


def test_get_unknown_ids_are_404(alice: Client) -> None:
    assert alice.get("/api/aliases/01m84x6vvyzqxfrp2xb1ewbbjh").status == 404
    assert alice.get("/api/aliases/not-an-id").status == 404
    assert alice.get(f"/api/aliases/{'x' * 2000}").status == 404


def test_put_replaces_every_mutable_field(alice: Client, alice_domain: str) -> None:
    alias = alice.post("/api/aliases", alias_body(alice_domain, local_part="put", note="old")).json()
    replacement = {
        "destinations": ["a@real.example", "b@real.example"],
        "note": "new",
        "enabled": False,
        "expires_at": "2030-01-01T00:00:00Z",
    }

    response = alice.put(f"/api/aliases/{alias['id']}", replacement)

    assert response.status == 204
    assert response.body == b""
    stored = alice.get(f"/api/aliases/{alias['id']}").json()
    assert {k: stored[k] for k in replacement} == {**replacement, "expires_at": "2030-01-01T00:00:00.000Z"}
    assert stored["address"] == alias["address"]
    assert stored["updated_at"] >= alias["updated_at"]


def test_put_requires_every_field(alice: Client, alice_domain: str) -> None:
    alias = alice.post("/api/aliases", alias_body(alice_domain)).json()

    response = alice.put(f"/api/aliases/{alias['id']}", {"destinations": ["a@real.example"], "note": ""})

    assert response.status == 422
    missing = {issue["loc"][1] for issue in response.json()["detail"]}
    assert missing == {"enabled", "expires_at"}


def test_patch_changes_only_what_is_sent(alice: Client, alice_domain: str) -> None:
    alias = alice.post(
        "/api/aliases", alias_body(alice_domain, note="keep me", expires_at="2030-01-01T00:00:00Z")
    ).json()

    disabled = alice.patch(f"/api/aliases/{alias['id']}", {"enabled": False})

    assert disabled.status == 200
    assert disabled.json()["enabled"] is False
    assert disabled.json()["note"] == "keep me"
    assert disabled.json()["expires_at"] == "2030-01-01T00:00:00.000Z"
    cleared = alice.patch(f"/api/aliases/{alias['id']}", {"expires_at": None}).json()
    assert cleared["expires_at"] is None
    assert alice.get(f"/api/aliases/{alias['id']}").json() == cleared


@pytest.mark.parametrize("body", [{"note": None}, {"destinations": None}, {"enabled": None}, {"address": "x@y.z"}])
def test_patch_rejects_nulls_for_required_fields_and_unknown_fields(
    alice: Client, alice_domain: str, body: dict[str, Any]
) -> None:
    alias = alice.post("/api/aliases", alias_body(alice_domain)).json()

    assert alice.patch(f"/api/aliases/{alias['id']}", body).status == 422
    assert alice.get(f"/api/aliases/{alias['id']}").json() == alias


def test_delete_frees_the_address(alice: Client, alice_domain: str) -> None:
    alias = alice.post("/api/aliases", alias_body(alice_domain, local_part="temp")).json()

    assert alice.delete(f"/api/aliases/{alias['id']}").status == 204

    assert alice.get(f"/api/aliases/{alias['id']}").status == 404
    assert alice.delete(f"/api/aliases/{alias['id']}").status == 404
    assert (
        alice.put(
            f"/api/aliases/{alias['id']}",
            {"destinations": ["a@b.example"], "note": "", "enabled": True, "expires_at": None},
        ).status
        == 404
    )
    assert alice.patch(f"/api/aliases/{alias['id']}", {"note": "x"}).status == 404
    assert alice.post("/api/aliases", alias_body(alice_domain, local_part="temp")).status == 201


def test_list_is_newest_first_and_filters(alice: Client, alice_domain: str) -> None:
    assert alice.post("/api/domains", {"name": "second.example"}).status == 201
    created = [
        alice.post("/api/aliases", alias_body(alice_domain, local_part="news", note="Newsletter Weekly")).json(),
        alice.post("/api/aliases", alias_body(alice_domain, local_part="shop", enabled=False)).json(),
        alice.post("/api/aliases", alias_body("second.example", local_part="bank", note="my BANK")).json(),
    ]

    def addresses(**query: Any) -> list[str]:
        response = alice.get("/api/aliases", query=query)
        assert response.status == 200, response.body
        return [item["address"] for item in response.json()["items"]]

    assert addresses() == [a["address"] for a in reversed(created)]
    assert addresses(q="WEEKLY") == [f"news@{alice_domain}"]
    assert addresses(q="bank") == ["bank@second.example"]
    assert addresses(q="SHOP@") == [f"shop@{alice_domain}"]
    assert addresses(domain="second.example") == ["bank@second.example"]
    assert addresses(enabled="false") == [f"shop@{alice_domain}"]
    assert addresses(enabled="true", domain=alice_domain) == [f"news@{alice_domain}"]
    assert addresses(q="nothing-matches") == []


def test_paging_through_230_aliases_returns_each_exactly_once(alice: Client, alice_domain: str) -> None:
    created = {
        alice.post("/api/aliases", alias_body(alice_domain, local_part=f"a{i:03d}")).json()["id"] for i in range(230)
    }

    seen: list[str] = []
    pages = 0
    next_token = None
    while True:
        response = alice.get("/api/aliases", query={"limit": 50, "next_token": next_token})
        assert response.status == 200
        page = response.json()
        pages += 1
        assert len(page["items"]) <= 50
        seen += [item["id"] for item in page["items"]]
        next_token = page["next_token"]
        if next_token is None:
            break

    assert len(seen) == len(set(seen)) == 230
    assert set(seen) == created
    assert pages == 5
    assert seen == sorted(seen, reverse=True)  # ids sort by time: newest first across pages


def test_a_filtered_search_pages_without_losing_matches(alice: Client, alice_domain: str) -> None:
    for i in range(40):
        note = "needle" if i % 7 == 0 else "hay"
        alice.post("/api/aliases", alias_body(alice_domain, local_part=f"s{i:02d}", note=note))
    expected = {f"s{i:02d}@{alice_domain}" for i in range(40) if i % 7 == 0}

    seen: list[str] = []
    next_token = None
    while True:
        page = alice.get("/api/aliases", query={"q": "needle", "limit": 2, "next_token": next_token}).json()
        seen += [item["address"] for item in page["items"]]
        next_token = page["next_token"]
        if next_token is None:
            break

    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("token", ["garbage", "eyJhZnRlciI6IkRPTUFJTiN4In0", "eyJhZnRlciI6IDF9", "%%%", "e30"])
def test_an_invalid_next_token_is_400(alice: Client, token: str) -> None:
    response = alice.get("/api/aliases", query={"next_token": token})

    assert response.status == 400
    assert "next_token" in response.json()["message"]


def test_invalid_query_parameters_are_422(alice: Client) -> None:
    assert alice.get("/api/aliases", query={"limit": 0}).status == 422
    assert alice.get("/api/aliases", query={"limit": 101}).status == 422
    assert alice.get("/api/aliases", query={"enabled": "perhaps"}).status == 422
    assert alice.get("/api/aliases", query={"domain": "not a domain"}).status == 422
