"""The IAM policies of issue 33's functions allow every DynamoDB call they make, key family included.

moto enforces no IAM condition: here each function's calls, recorded with their keys while it serves real
requests (through template.yaml's routes), are held against its own statements, `dynamodb:LeadingKeys` included,
as IAM would evaluate them (an action is allowed when any statement allows it for every partition key it names).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Any

from local.functions import InProcessInvoker
from local.sam_template import load
from postmask.store import _dynamo
from tests.support.api import Client, invoke
from tests.support.destinations import verify_destinations_of

_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _requests(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(IAM action, partition keys) for one DynamoDB API call."""
    if operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            pk = (body.get("Key") or body.get("Item"))["pk"]["S"]
            yield f"dynamodb:{_ITEM_ACTIONS[kind]}", [pk]
    elif operation == "BatchGetItem":
        keys = [key["pk"]["S"] for table in params["RequestItems"].values() for key in table["Keys"]]
        yield "dynamodb:BatchGetItem", keys
    elif operation == "Query":
        placeholder = re.search(r"\bpk = (:\w+)", params["KeyConditionExpression"])
        assert placeholder is not None, params["KeyConditionExpression"]
        yield "dynamodb:Query", [params["ExpressionAttributeValues"][placeholder.group(1)]["S"]]
    else:
        item = params.get("Key") or params.get("Item")
        assert item is not None, (operation, params)
        yield f"dynamodb:{operation}", [item["pk"]["S"]]


def _allowed(function: str, action: str, keys: list[str]) -> bool:
    statements = [s for p in load()["Resources"][function]["Properties"]["Policies"] for s in p["Statement"]]
    for statement in statements:
        if action not in statement["Action"]:
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        patterns = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        if all(any(fnmatchcase(key, pattern) for pattern in patterns) for key in keys):
            return True
    return False


@contextmanager
def held_to(function: str) -> Iterator[None]:
    """Record the DynamoDB calls `function` makes inside the block (its invocations only: not the authorizer's);
    on leaving it, each must be allowed by `function`'s policy."""
    calls: list[tuple[str, dict[str, Any]]] = []
    running: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if running and running[-1] == function:
            calls.append((model.name, params))

    original = InProcessInvoker.invoke

    def invoke_marked(self: InProcessInvoker, name: str, event: dict[str, Any]) -> Any:
        running.append(name)
        try:
            return original(self, name, event)
        finally:
            running.pop()

    events = _dynamo.client().meta.events
    events.register("before-parameter-build.dynamodb", record)
    InProcessInvoker.invoke = invoke_marked  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessInvoker.invoke = original  # type: ignore[method-assign]
        events.unregister("before-parameter-build.dynamodb", record)
    refused = [(a, k) for name, params in calls for a, k in _requests(name, params) if not _allowed(function, a, k)]
    assert calls, f"{function} made no call: nothing was checked"
    assert refused == [], f"{function}'s policy refuses {refused}"


def test_me_update_is_allowed_every_call_it_makes(alice: Client, alice_domain: str) -> None:
    verify_destinations_of(alice, ["me@mailbox.example"])
    body = {"default_alias_domain": alice_domain, "default_alias_destinations": ["me@mailbox.example"]}

    with held_to("MeUpdateFunction"):
        assert alice.patch("/api/me", {**body, "alias_style": "words"}).status == 200
        assert alice.patch("/api/me", {"default_alias_domain": "nobody.example"}).status == 422


def test_the_compatible_routes_are_allowed_every_call_they_make(alice: Client, alice_domain: str) -> None:
    verify_destinations_of(alice, ["me@mailbox.example"])
    simplelogin = {"Authentication": str(alice.token), "Idempotency-Key": "k1"}

    with held_to("AliasRandomNewFunction"):  # no defaults: the oldest verified destination; a retried request
        for _ in range(2):
            assert invoke("POST", "/api/alias/random/new", headers=simplelogin, body={"note": "x"}).status == 201
    # A default destination deleted since: created again, pending, with its link (DEST#, VERIFY#).
    assert alice.post("/api/destinations", {"email": "gone@mailbox.example"}).status == 201
    assert alice.patch("/api/me", {"default_alias_destinations": ["gone@mailbox.example"]}).status == 200
    (gone,) = [d for d in alice.get("/api/destinations").json()["items"] if d["email"] == "gone@mailbox.example"]
    assert alice.delete(f"/api/destinations/{gone['id']}").status == 204
    with held_to("V1AliasesCreateFunction"):
        assert alice.post("/api/v1/aliases", {"domain": alice_domain}).status == 201
        assert alice.post("/api/v1/aliases", {"domain": "nobody.example"}).status == 422
    assert [d["status"] for d in alice.get("/api/destinations").json()["items"] if d["email"] == gone["email"]] == [
        "pending"
    ]
