"""The contacts part of template.yaml: each route's function may do what it does, on the partitions it needs."""

from __future__ import annotations

from typing import Any

import pytest

from local.sam_template import load


def granted(name: str) -> dict[str, set[str]]:
    """{action: the partitions it is limited to} of a function's policy."""
    statements: list[dict[str, Any]] = load()["Resources"][name]["Properties"]["Policies"][0]["Statement"]
    found: dict[str, set[str]] = {}
    for statement in statements:
        keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        for action in statement["Action"]:
            found.setdefault(action, set()).update(keys)
    return found


@pytest.mark.parametrize(
    ("function", "allowed"),
    [
        ("ContactsListFunction", {"dynamodb:GetItem": {"USER#*"}, "dynamodb:Query": {"CONTACTS#*"}}),
        (
            "ContactsCreateFunction",
            {
                "dynamodb:GetItem": {"USER#*"},
                "dynamodb:ConditionCheckItem": {"USER#*"},
                "dynamodb:PutItem": {"CONTACTS#*", "REPLY#*"},
            },
        ),
        ("ContactsGetFunction", {"dynamodb:BatchGetItem": {"USER#*", "CONTACTS#*"}}),
        (
            "ContactsUpdateFunction",
            {"dynamodb:BatchGetItem": {"USER#*", "CONTACTS#*"}, "dynamodb:UpdateItem": {"CONTACTS#*", "REPLY#*"}},
        ),
        (
            "ContactsDeleteFunction",
            {"dynamodb:BatchGetItem": {"USER#*", "CONTACTS#*"}, "dynamodb:DeleteItem": {"CONTACTS#*", "REPLY#*"}},
        ),
    ],
)
def test_each_contacts_route_may_do_only_what_it_does_where_it_does_it(
    function: str, allowed: dict[str, set[str]]
) -> None:
    # The alias is read in the caller's USER# partition; contacts are written only in CONTACTS# and REPLY#.
    assert granted(function) == allowed


def test_contacts_routes_are_routed_to_their_functions() -> None:
    resources = load()["Resources"]
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"]): name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi"
    }
    assert routes[("get", "/api/aliases/{alias_id}/contacts")] == "ContactsListFunction"
    assert routes[("post", "/api/aliases/{alias_id}/contacts")] == "ContactsCreateFunction"
    assert routes[("get", "/api/aliases/{alias_id}/contacts/{contact_id}")] == "ContactsGetFunction"
    assert routes[("patch", "/api/aliases/{alias_id}/contacts/{contact_id}")] == "ContactsUpdateFunction"
    assert routes[("delete", "/api/aliases/{alias_id}/contacts/{contact_id}")] == "ContactsDeleteFunction"
