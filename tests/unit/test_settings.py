"""postmask.settings: read from the environment on first use, each setting held to its bounds."""

from __future__ import annotations

import re

import pytest

from postmask.settings import InvalidSettings, Settings, get_settings


def test_the_environment_gives_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "postmask-table")
    monkeypatch.setenv("SESSION_DAYS", "7")
    monkeypatch.setenv("PUBLIC_URL", " https://mail.example.org/ ")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert (settings.table_name, settings.session_days, settings.public_url) == (
            "postmask-table",
            7,
            "https://mail.example.org",
        )
        assert settings.token_last_used_resolution_seconds == 300  # a default
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"table_name": ""}, "table_name must have at least 1 character(s)"),
        ({"session_days": 0}, "session_days must be at least 1"),
        ({"session_days": 366}, "session_days must be at most 365"),
        ({"session_days": True}, "session_days must be int"),
        ({"token_last_used_resolution_seconds": -1}, "token_last_used_resolution_seconds must be at least 0"),
        ({"stack_name": ""}, "stack_name must have at least 1 character(s)"),
    ],
)
def test_a_setting_out_of_bounds_is_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSettings, match=re.escape(message)):
        Settings(**{"table_name": "t", **changes})  # type: ignore[arg-type]


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidSettings) as raised:
        Settings(table_name="", session_days=0, domain_claim_days=0)
    assert str(raised.value).count(";") == 2


def test_settings_cannot_be_changed_once_read() -> None:
    settings = Settings(table_name="t")
    with pytest.raises(AttributeError):
        settings.table_name = "other"  # type: ignore[misc]
