"""The validation rules of the contract, on the models themselves."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from postmask.schemas.aliases import AliasCreate, AliasUpdate
from postmask.schemas.domains import DomainCreate


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
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    from postmask import schemas

    modules = [
        importlib.import_module(f"{schemas.__name__}.{info.name}") for info in pkgutil.iter_modules(schemas.__path__)
    ]
    models = [
        model
        for module in modules
        for model in vars(module).values()
        if inspect.isclass(model) and issubclass(model, BaseModel) and model.__module__ == module.__name__
    ]
    assert len(models) > 20
    eager = [model.__name__ for model in models if not model.model_config.get("defer_build")]
    assert eager == [], "derive these from schemas.common.Model, not pydantic's BaseModel"
    assert AliasCreate.model_config.get("extra") == "forbid"


def test_a_function_imports_only_its_own_resources_models() -> None:
    """One module per resource: the alias routes do not build the other resources' models, and the authorizer
    none at all (test_lean_imports holds it to no pydantic, at import and during a request)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "import app; print(sorted(name for name in sys.modules if name.startswith('postmask.schemas.')))"
    )
    loaded = {
        function: subprocess.run(
            [sys.executable, "-c", script, str(root / "functions" / function), str(root / "layers" / "common")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for function in ("authorizer", "aliases_get")
    }
    assert loaded == {
        "authorizer": "[]",
        "aliases_get": "['postmask.schemas.aliases', 'postmask.schemas.common']",
    }
