"""The request field types accept exactly what their JSON schemas (and so the OpenAPI document) say."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from postmask.clock import iso
from postmask.schemas.aliases import AliasCreate, AliasUpdate
from postmask.schemas.common import DOMAIN_NAME_PATTERN, DomainName, Email, LocalPart, Timestamp
from postmask.schemas.tokens import TokenCreate

timestamp = TypeAdapter(Timestamp)
domain_name = TypeAdapter(DomainName)
local_part = TypeAdapter(LocalPart)
email = TypeAdapter(Email)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-23T19:03:37Z", datetime(2026, 11, 23, 19, 3, 37, tzinfo=UTC)),
        ("2026-11-23t19:03:37.5z", datetime(2026, 11, 23, 19, 3, 37, 500000, tzinfo=UTC)),
        ("2026-11-23T21:03:37+02:00", datetime(2026, 11, 23, 19, 3, 37, tzinfo=UTC)),
    ],
)
def test_timestamps_take_rfc_3339_date_times_and_become_utc(text: str, utc: datetime) -> None:
    assert timestamp.validate_python(text) == utc


@pytest.mark.parametrize(
    "value",
    [0, 1_700_000_000, "1700000000", "2026-11-23", "2026-11-23T19:03:37", "2026-11-23 19:03:37Z", "now", None],
)
def test_timestamps_refuse_numbers_bare_dates_and_zone_less_times(value: Any) -> None:
    with pytest.raises(ValidationError, match="RFC 3339"):
        timestamp.validate_python(value)


def test_a_timestamp_before_the_first_representable_instant_is_refused_not_a_crash() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        timestamp.validate_python("0001-01-01T00:00:00+01:00")


def test_timestamps_are_written_with_four_digit_years() -> None:
    assert iso(datetime(5, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "0005-01-02T03:04:05.678Z"


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("example.org", "example.org"),
        ("Mail.Example.ORG", "mail.example.org"),
        ("a-b.c0.example", "a-b.c0.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_domain_names_are_stored_lower_case_and_in_ascii(name: str, stored: str) -> None:
    assert domain_name.validate_python(name) == stored


@pytest.mark.parametrize(
    "name",
    [
        "",
        "example",
        " example.org",
        "example.org.",
        "-example.org",
        "example-.org",
        "exa_mple.org",
        "example.123",
        "a." * 127 + "org",  # 257 characters
        "x" * 64 + ".org",
        "bü cher.example",
        ("a" * 30 + "\u00ad" * 30 + ".") * 5 + "example",  # IDNA drops soft hyphens; still over 253 as sent
    ],
)
def test_invalid_domain_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="domain name"):
        domain_name.validate_python(name)


def test_the_documented_domain_pattern_is_the_one_enforced_for_ascii_names() -> None:
    documented = domain_name.json_schema()
    assert documented["pattern"] == DOMAIN_NAME_PATTERN
    assert documented["maxLength"] == 253
    for name in ("example.org", "exa_mple.org", "example.123", "a.b.c.d.example", "-a.org"):
        accepted = re.fullmatch(DOMAIN_NAME_PATTERN.strip("^$"), name) is not None
        try:
            domain_name.validate_python(name)
        except ValidationError:
            assert not accepted, name
        else:
            assert accepted, name


def test_local_parts_are_case_insensitive_ascii() -> None:
    assert local_part.validate_python("Shop.Online+x") == "shop.online+x"
    for refused in ("", ".shop", "shop.", "sh..op", "shop@", "\u212a"):  # U+212A KELVIN SIGN lower-cases to "k"
        with pytest.raises(ValidationError):
            local_part.validate_python(refused)


@pytest.mark.parametrize("address", ["x@example.test", "x@mail.LOCAL", "x@localhost.localhost", "x@1.in-addr.arpa"])
def test_undeliverable_special_use_addresses_are_refused_and_documented_so(address: str) -> None:
    with pytest.raises(ValidationError):
        email.validate_python(address)
    assert re.search(email.json_schema()["not"]["pattern"], address)


def test_booleans_are_json_booleans_only() -> None:
    body = {"domain": "example.org", "destinations": ["me@example.org"]}
    assert AliasCreate.model_validate({**body, "enabled": False}).enabled is False
    for value in (0, 1, "true", "yes"):
        with pytest.raises(ValidationError, match="valid boolean"):
            AliasCreate.model_validate({**body, "enabled": value})


@pytest.mark.parametrize("field", ["destinations", "note", "enabled"])
def test_a_patch_field_may_be_left_out_but_not_sent_as_null(field: str) -> None:
    assert AliasUpdate.model_validate({}).changes() == {}
    with pytest.raises(ValidationError) as refused:
        AliasUpdate.model_validate({field: None})
    # One plain error at the field itself, not one per member of a union.
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]
    assert AliasUpdate.model_validate({"expires_at": None}).changes() == {"expires_at": None}


def test_token_names_must_not_be_blank() -> None:
    assert TokenCreate.model_validate({"name": " laptop\n"}).name == "laptop"
    for blank in ("", "   ", "\t\n"):
        with pytest.raises(ValidationError):
            TokenCreate.model_validate({"name": blank})
