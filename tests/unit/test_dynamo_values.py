"""The store's attribute values are boto3's: postmask serialises without importing boto3 (postmask.aws says why),
so boto3's own TypeSerializer and TypeDeserializer are the reference here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from postmask.store import _dynamo

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**62,
    Decimal("1.5"),
    "",
    "text with ünïcode",
    b"\x00\xffbytes",
    ["me@real.example", "you@real.example"],
    [],
    [1, "two", None, [True]],
    {"nested": {"count": 3, "list": ["a"]}},
    {"a", "b"},
    {1, 2, 3},
    {b"x", b"y"},
]
IDS = [f"{type(value).__name__}-{number}" for number, value in enumerate(VALUES)]  # a set's repr varies by process


def _comparable(serialized: dict[str, Any]) -> Any:
    """Sets come out in any order: compare them as sorted lists (recursively)."""
    (kind, value), *_ = serialized.items()
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(value)}
    if kind == "L":
        return {kind: [_comparable(element) for element in value]}
    if kind == "M":
        return {kind: {name: _comparable(element) for name, element in value.items()}}
    if kind == "B":
        return {kind: bytes(value)}
    return serialized


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_serialised_as_boto3_serialises(value: Any) -> None:
    assert _comparable(_dynamo.attribute_value(value)) == _comparable(TypeSerializer().serialize(value))


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_read_back_as_plain_python(value: Any) -> None:
    wire = TypeSerializer().serialize(value)
    expected = _plain(TypeDeserializer().deserialize(wire))
    assert _dynamo.python_value(wire) == expected


def _plain(value: Any) -> Any:
    """boto3's result as the store hands it out: numbers as int (float when not integral), sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(element) for element in value)
    if isinstance(value, dict):
        return {name: _plain(element) for name, element in value.items()}
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3's Binary
        return value.value
    return value


@pytest.mark.parametrize(
    "value", [1.5, float("nan"), Decimal("Infinity"), set(), {1, "a"}, object()], ids=lambda value: type(value).__name__
)
def test_what_dynamodb_cannot_store_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        _dynamo.attribute_value(value)


def test_a_whole_item_round_trips() -> None:
    item = {"pk": "USER#1", "sk": "ALIAS#2", "destinations": ["a@b.example"], "enabled": True, "count": 0, "x": None}
    assert _dynamo.deserialize(_dynamo.serialize(item)) == item


@pytest.mark.parametrize("initialization", ["snap-start", "on-demand"])
def test_with_snapstart_the_client_is_made_before_the_snapshot(
    monkeypatch: pytest.MonkeyPatch, initialization: str
) -> None:
    """Lambda's runtime provides `snapshot_restore_py`; a stand-in records what the store registers with it."""
    import importlib.util
    import sys
    import types

    registered: list[Any] = []
    hooks = types.ModuleType("snapshot_restore_py")
    hooks.register_before_snapshot = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", hooks)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", initialization)

    # A fresh copy of the module, imported as Lambda imports it while it initialises the function.
    spec = importlib.util.spec_from_file_location("snapstart_dynamo", _dynamo.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "snapstart_dynamo", module)
    spec.loader.exec_module(module)

    assert registered == ([module.client] if initialization == "snap-start" else [])
