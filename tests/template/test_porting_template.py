"""The bulk, import and export part of template.yaml, with what serves scripts and browsers: each new route's
least privilege, the Idempotency-Key records, MaxAliasesPerUser where aliases are created, and CorsAllowOrigins."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.sam_template import load
from tests.support.cfn import resolved

# The functions whose POST creates something (postmask.idempotency): they keep records under IDEMPOTENCY#<user>.
IDEMPOTENT = {
    "AliasesCreateFunction",
    "DomainsCreateFunction",
    "DestinationsCreateFunction",
    "TokensCreateFunction",
    "UsersCreateFunction",
    "ImportCreateFunction",
    "ContactsCreateFunction",
    "AliasRandomNewFunction",  # the compatible routes (issue 33)
    "V1AliasesCreateFunction",
}
# The functions that create aliases, and so count them against MaxAliasesPerUser.
# The forwarder too: a catch-all's new address becomes an alias on first receipt (decision 0046).
ALIAS_CREATORS = {
    "AliasesCreateFunction",
    "ImportCreateFunction",
    "AliasRandomNewFunction",
    "V1AliasesCreateFunction",
    "ForwarderFunction",
}


def functions() -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"] for name, r in load()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


def statements(name: str) -> list[dict[str, Any]]:
    # A conditional policy (Fn::If [condition, policy, AWS::NoValue]) counts as if its condition held.
    policies = [p["Fn::If"][1] if "Fn::If" in p else p for p in functions()[name].get("Policies") or []]
    return [statement for policy in policies for statement in policy["Statement"]]


def table_actions(name: str, *, unconditioned: bool = False) -> set[str]:
    return {
        action
        for statement in statements(name)
        if not (unconditioned and statement.get("Condition"))
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    }


def test_bulk_reads_the_callers_aliases_in_one_batch_and_never_creates_queries_or_scans() -> None:
    assert table_actions("AliasesBulkFunction") == {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }


def test_export_only_queries() -> None:
    assert table_actions("ExportGetFunction") == {"dynamodb:Query"}
    assert functions()["ExportGetFunction"]["Timeout"] == 29


def test_import_reads_routes_and_destinations_in_batches_of_named_attributes_only() -> None:
    (batch, contacts_batch) = [
        statement for statement in statements("ImportCreateFunction") if "dynamodb:BatchGetItem" in statement["Action"]
    ]
    assert contacts_batch["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["CONTACTS#*", "USER#*"]
    assert batch["Action"] == ["dynamodb:BatchGetItem"]
    condition = batch["Condition"]
    assert condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ADDRESS#*", "DEST#*", "DOMAIN#*"]
    assert condition["ForAllValues:StringEquals"]["dynamodb:Attributes"] == ["pk", "sk", "owner_id", "id"]
    assert "dynamodb:DeleteItem" not in table_actions("ImportCreateFunction", unconditioned=True)  # it never deletes
    props = functions()["ImportCreateFunction"]
    assert props["Timeout"] == 29  # API Gateway's own limit: the import stops writing before it (decision 0101)


@pytest.mark.parametrize("name", sorted(IDEMPOTENT))
def test_idempotency_records_are_written_and_removed_in_their_own_partitions_only(name: str) -> None:
    kept = [
        statement
        for statement in statements(name)
        if statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        == ["IDEMPOTENCY#*"]
    ]
    assert len(kept) == 1, name
    assert set(kept[0]["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }


def test_no_other_function_keeps_idempotency_records() -> None:
    for name in set(functions()) - IDEMPOTENT - {"MeDeleteFunction"}:  # an account's deletion deletes them
        assert "IDEMPOTENCY#" not in str(statements(name)), name


def test_max_aliases_per_user_reaches_exactly_the_functions_that_create_aliases() -> None:
    parameter = load()["Parameters"]["MaxAliasesPerUser"]
    assert parameter["Default"] == 10000
    assert parameter["MinValue"] == 1
    for name, props in functions().items():
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if name in ALIAS_CREATORS:
            assert variables["MAX_ALIASES_PER_USER"] == {"Ref": "MaxAliasesPerUser"}, name
            assert "MaxAliasesPerUser=${MaxAliasesPerUser}" in props["VersionDescription"]["Fn::Sub"], name
        else:
            assert "MAX_ALIASES_PER_USER" not in variables, name
    assert "MAX_ALIASES_PER_USER" not in load()["Globals"]["Function"]["Environment"]["Variables"]


def _cors(parameters: dict[str, str]) -> Any:
    return resolved(parameters)["Resources"]["Api"]["Properties"]["Body"].get("x-amazon-apigateway-cors")


def test_without_origins_the_api_has_no_cors() -> None:
    assert load()["Parameters"]["CorsAllowOrigins"]["Default"] == ""
    assert _cors({}) is None


def test_the_listed_origins_may_call_with_a_token_and_read_the_headers_the_api_gives() -> None:
    cors = _cors({"CorsAllowOrigins": "https://app.example.org,https://ext.example.net"})
    assert cors["allowOrigins"] == {"Fn::Split": [",", "https://app.example.org,https://ext.example.net"]}
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= set(cors["allowHeaders"])
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(cors["allowMethods"])
    assert {"etag", "location", "idempotent-replayed"} <= set(cors["exposeHeaders"])
    assert "allowCredentials" not in cors  # a bearer token, no cookies


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("https://app.example.org", True),
        ("https://app.example.org,http://localhost:8080", True),
        ("*", True),
        ("https://app.example.org, https://ext.example.net", False),
        ("app.example.org", False),
        ("https://app.example.org/path", False),
    ],
)
def test_the_parameter_takes_origins_only(value: str, valid: bool) -> None:
    pattern = load()["Parameters"]["CorsAllowOrigins"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid
