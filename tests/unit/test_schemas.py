"""The validation rules of the contract, on the models themselves."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from postmask.schemas import AliasCreate, AliasUpdate, DomainCreate


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.ORG", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
    ],
)
def test_domain_names_are_normalised(given: str, stored: str) -> None:
    assert DomainCreate(name=given).name == stored


@pytest.mark.parametrize(
    "name", ["example.org.", " example.org", "example", "-a.example", "a-.example", "a..b", "a b.example", "x.123", "☃"]
)
def test_invalid_domain_names_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        DomainCreate(name=name)


@pytest.mark.parametrize("local_part", ["a", "Shop", "a.b", "a+b", "a_b-c", "0", "x" * 64])
def test_valid_local_parts_are_lower_cased(local_part: str) -> None:
    alias = AliasCreate(domain="example.org", local_part=local_part, destinations=["me@example.net"])
    assert alias.local_part == local_part.lower()


@pytest.mark.parametrize("local_part", ["", ".a", "a.", "a..b", "a b", "a@b", "x" * 65, "é"])
def test_invalid_local_parts_are_rejected(local_part: str) -> None:
    with pytest.raises(ValidationError):
        AliasCreate(domain="example.org", local_part=local_part, destinations=["me@example.net"])


def test_duplicate_destinations_are_collapsed() -> None:
    alias = AliasCreate(domain="example.org", destinations=["me@example.net", "ME@example.net", "you@example.net"])
    assert alias.destinations == ["me@example.net", "you@example.net"]


def test_patch_changes_are_only_the_fields_sent() -> None:
    assert AliasUpdate.model_validate({"note": "x"}).changes() == {"note": "x"}
    assert AliasUpdate.model_validate({"expires_at": None}).changes() == {"expires_at": None}
    with pytest.raises(ValidationError):
        AliasUpdate.model_validate({"note": None})


def test_patch_document_does_not_advertise_null_for_required_fields() -> None:
    schema = AliasUpdate.model_json_schema()
    assert "anyOf" not in schema["properties"]["note"]
    assert {"type": "null"} in schema["properties"]["expires_at"]["anyOf"]


def test_every_model_builds_its_validator_on_first_use() -> None:
    """A model built at import costs every function's cold start, whether its route uses the model or not."""
    import inspect

    from pydantic import BaseModel

    from postmask import schemas

    models = [
        model
        for model in vars(schemas).values()
        if inspect.isclass(model) and issubclass(model, BaseModel) and model.__module__ == schemas.__name__
    ]
    assert len(models) > 10
    eager = [model.__name__ for model in models if not model.model_config.get("defer_build")]
    assert eager == [], "derive these from schemas.Model, not pydantic's BaseModel"
    assert schemas.AliasCreate.model_config.get("extra") == "forbid"
