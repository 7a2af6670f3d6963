"""Bodies no route can read are refused with a documented 4xx and the contract's error body."""

from __future__ import annotations

import pytest

from postmask.store import users
from tests.support.api import Client


@pytest.fixture
def client(table: str) -> Client:
    return Client(users.create("bodies@example.org", is_admin=False).token)


def test_a_body_that_is_not_utf_8_is_invalid_json(client: Client) -> None:
    response = client.post(
        "/api/tokens", raw_body=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )

    assert response.status == 422
    assert response.json() == {
        "message": "The body is not valid JSON",
        "detail": [{"loc": ["body"], "msg": "JSON text must be UTF-8", "type": "json_invalid"}],
    }


def test_a_body_that_is_not_json_syntax_is_invalid_json(client: Client) -> None:
    response = client.post("/api/tokens", raw_body='{"name": ', headers={"content-type": "application/json"})

    assert response.status == 422
    assert response.json()["message"] == "The body is not valid JSON"
    assert [issue["type"] for issue in response.json()["detail"]] == ["json_invalid"]


def test_a_body_in_another_media_type_is_415(client: Client) -> None:
    response = client.post("/api/tokens", raw_body="name=laptop", headers={"content-type": "text/plain"})

    assert response.status == 415
    assert response.json() == {"message": "Send the body as application/json"}
