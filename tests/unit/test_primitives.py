"""ids, page tokens, bearer parsing and timestamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from postmask import ids
from postmask.auth import bearer_token
from postmask.clock import iso
from postmask.errors import InvalidNextToken
from postmask.store._dynamo import decode_token, encode_token


def test_ids_are_26_characters_and_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ns = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns)
    first = ids.new_id()
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns + 1_000_000)  # one millisecond later
    second = ids.new_id()
    assert ids.is_id(first)
    assert ids.is_id(second)
    assert first < second


def test_ids_are_unique() -> None:
    assert len({ids.new_id() for _ in range(10_000)}) == 10_000


def test_random_local_parts_are_long_and_varied() -> None:
    parts = {ids.random_local_part() for _ in range(1_000)}
    assert len(parts) == 1_000
    assert all(len(part) >= 8 and part.isalnum() and part.islower() for part in parts)


def test_a_page_token_round_trips_for_its_own_list_only() -> None:
    token = encode_token("ALIAS#01m84x6vvyzqxfrp2xb1ewbbjh")
    assert decode_token(token, "ALIAS#") == "ALIAS#01m84x6vvyzqxfrp2xb1ewbbjh"
    with pytest.raises(InvalidNextToken):
        decode_token(token, "DOMAIN#")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token"])
def test_headers_without_a_bearer_token(header: str | None) -> None:
    assert bearer_token(header) is None


def test_bearer_token_is_read_case_insensitively() -> None:
    assert bearer_token("bearer pm_abc") == "pm_abc"
    assert bearer_token("Bearer  pm_abc ") == "pm_abc"


def test_timestamps_are_utc_with_z_and_milliseconds() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2026-01-02T01:04:05.678Z"
    assert iso(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000Z"
