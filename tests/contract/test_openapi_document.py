"""The committed OpenAPI document: current, valid, and saying what the API does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from local import sam_template
from scripts import openapi

DOCS_FUNCTION = "DocsFunction"
# What the contract (shared/api-contract.md) says each operation can answer, besides its success.
CONTRACT_ERRORS = {
    "getMe": {401},
    "updateMe": {401, 422},  # issue 33: defaults for new aliases, alias style
    "createUser": {401, 403, 409, 422},
    "listUsers": {400, 401, 403},  # issue 28: admins list users, disable them; a user deletes their account
    "updateUser": {401, 403, 404, 409, 422},
    "deleteMe": {401, 422},
    "listTokens": {400, 401},
    "createToken": {401, 422},
    "deleteToken": {401, 404},
    "listDomains": {400, 401},
    "createDomain": {401, 409, 422},
    "getDomain": {401, 404},
    "updateDomain": {401, 404, 412, 422},
    "deleteDomain": {401, 404, 409, 412},
    "adminRemoveDomain": {401, 403, 404, 409},  # issue 14: an admin removes any domain
    "listAliases": {400, 401, 422},
    "createAlias": {401, 403, 404, 409, 422},  # 403: MaxAliasesPerUser
    "getAlias": {401, 404},
    "replaceAlias": {401, 404, 412, 422},  # 412: If-Match
    "updateAlias": {401, 404, 412, 422},
    "deleteAlias": {401, 404, 412},
    "bulkAliases": {401, 422},  # issue 19: bulk work, import and export
    "exportAll": {401},
    "importAliases": {401, 403, 413, 415, 422},
    "listDestinations": {400, 401},
    "createDestination": {401, 409, 422, 429},  # 429: the verification links' limits (decision 0112)
    "getDestination": {401, 404},
    "resendDestinationLink": {401, 404, 409, 429},
    "deleteDestination": {401, 404, 409, 412},
    "verifyDestination": {404, 410},
    "putDestinationPgpKey": {401, 404, 415, 422},
    "getDestinationPgpKey": {401, 404},
    "deleteDestinationPgpKey": {401, 404},
    "listContacts": {400, 401, 404, 422},
    "createContact": {401, 404, 409, 422},
    "getContact": {401, 404},
    "updateContact": {401, 404, 412, 422},
    "deleteContact": {401, 404, 412},
    "createSession": {422},
    "redeemSession": {400, 422},
    "deleteCurrentSession": {401},
    "listActivity": {400, 401, 404, 422},
    "getStats": {401, 422},
    "getHealth": set(),
    # Quarantine (issue 30, decision 0025): 413 when a copy can never fit SES, 409 when delivered since.
    "listQuarantine": {400, 401, 404, 422},
    "getQuarantined": {401, 404},
    "resendQuarantined": {401, 404, 409, 413, 415, 422},
    "deleteQuarantined": {401, 404},
    # The compatible routes (issue 33, decision 0003): errors in SimpleLogin's and addy.io's shapes.
    "createSimpleLoginRandomAlias": {401, 403, 422, 429},
    "createAddyAlias": {401, 403, 422, 429},
}
# The models of the compatible routes' errors: (their own, and a 401's or 403's, which API Gateway also answers).
COMPATIBLE_ERRORS = {
    "createSimpleLoginRandomAlias": ("SimpleLoginError", "SimpleLoginRefusal"),
    "createAddyAlias": ("AddyError", "AddyError"),
}
SUCCESS = (
    dict.fromkeys(
        (
            "createUser",
            "createToken",
            "createDomain",
            "createAlias",
            "createDestination",
            "createContact",
            "createSimpleLoginRandomAlias",
            "createAddyAlias",
        ),
        "201",
    )
    | dict.fromkeys(
        (
            "deleteToken",
            "deleteMe",
            "deleteDomain",
            "adminRemoveDomain",
            "replaceAlias",
            "deleteAlias",
            "deleteDestination",
            "deleteDestinationPgpKey",
            "deleteContact",
            "deleteQuarantined",
        ),
        "204",
    )
    | {"resendQuarantined": "202"}
    | {"resendDestinationLink": "202", "createSession": "202", "redeemSession": "201", "deleteCurrentSession": "204"}
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    committed: dict[str, Any] = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))
    return committed


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation for item in document["paths"].values() for operation in item.values()}


def test_the_committed_document_is_what_the_code_builds() -> None:
    built = openapi.render(openapi.build())
    committed = openapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == built, "functions/docs/openapi.json is out of date: run make openapi"


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_has_exactly_the_templates_routes_except_the_docs_own(document: dict[str, Any]) -> None:
    routes = sam_template.routes()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    # The web pages are HTML outside /api: not part of the JSON API's document.
    api_routes = {
        (route.method, route.path)
        for route in routes
        if route.function != DOCS_FUNCTION and route.path.startswith("/api")
    }
    docs_routes = {(route.method, route.path) for route in routes if route.function == DOCS_FUNCTION}

    assert documented == api_routes
    # The docs function's routes describe the document rather than the API, so they are left out of it.
    assert docs_routes == {("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/api/docs/{asset}")}


def test_protected_routes_require_the_bearer_token_and_public_ones_do_not(document: dict[str, Any]) -> None:
    public = {(route.method, route.path) for route in sam_template.routes() if route.public}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method.upper(), path) in public:
                assert "security" not in operation, (method, path)
                assert not {"401", "403"} & set(operation["responses"]), (method, path)
            elif path == "/api/alias/random/new":  # SimpleLogin's key header, or the bearer token (decision 0003)
                assert operation["security"] == [{"simpleLoginKey": []}, {"bearerAuth": []}]
                assert {"401", "403"} <= set(operation["responses"])
            else:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                # API Gateway: no token is a 401, a wrong, revoked or expired one a 401 or 403.
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert document["components"]["securitySchemes"]["bearerAuth"]["type"] == "http"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["components"]["securitySchemes"]["simpleLoginKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authentication",
        "description": document["components"]["securitySchemes"]["simpleLoginKey"]["description"],
    }


def test_info_tags_and_operation_ids(document: dict[str, Any]) -> None:
    assert document["info"]["title"] == "postmask API"
    assert document["info"]["version"] == openapi.api_version()
    assert document["info"]["description"]
    assert [tag["name"] for tag in document["tags"]] == [
        "Domains",
        "Aliases",
        "Destinations",
        "Contacts",
        "Import and export",
        "Activity",
        "Quarantine",
        "Users",
        "Tokens",
        "Sessions",
        "Compatible",
        "Health",
    ]
    assert all(tag["description"] for tag in document["tags"])
    by_id = operations(document)
    assert set(by_id) == set(CONTRACT_ERRORS)  # every operation id is meaningful, and unique
    for operation in by_id.values():
        assert len(operation["tags"]) == 1
        assert operation["tags"][0] in {tag["name"] for tag in document["tags"]}
        assert operation["summary"]


@pytest.mark.parametrize("operation_id", sorted(CONTRACT_ERRORS))
def test_every_status_the_contract_names_is_documented_with_its_model(
    document: dict[str, Any], operation_id: str
) -> None:
    operation = operations(document)[operation_id]
    responses = operation["responses"]
    success = SUCCESS.get(operation_id, "200")

    assert success in responses
    assert {str(status) for status in CONTRACT_ERRORS[operation_id]} <= set(responses)
    for status, response in responses.items():
        if status.startswith("2"):
            continue
        schema = response["content"]["application/json"]["schema"]
        if operation_id in COMPATIBLE_ERRORS:
            own, gateway = COMPATIBLE_ERRORS[operation_id]
            model = gateway if status in ("401", "403") else own
        else:
            model = "ValidationErrorBody" if status == "422" else "ErrorBody"
        assert schema == {"$ref": f"#/components/schemas/{model}"}, (operation_id, status)
    if success == "204":
        assert "content" not in responses["204"]
    else:
        assert "$ref" in responses[success]["content"]["application/json"]["schema"]


def test_a_body_that_can_be_refused_documents_422_and_415(document: dict[str, Any]) -> None:
    for operation_id, operation in operations(document).items():
        if "requestBody" in operation:
            assert {"415", "422"} <= set(operation["responses"]), operation_id


def test_422_is_the_body_the_api_sends(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ValidationErrorBody"]["required"] == ["message", "detail"]
    issue = schemas["ValidationErrorBody"]["properties"]["detail"]["items"]
    assert issue == {"$ref": "#/components/schemas/ValidationIssue"}
    assert schemas["ValidationIssue"]["required"] == ["loc", "msg", "type"]
    # Powertools' own 422 model (no `msg`) is never sent, so it is nowhere in the document.
    assert "HTTPValidationError" not in json.dumps(document)


def test_creations_say_where_the_new_resource_is(document: dict[str, Any]) -> None:
    by_id = operations(document)
    for operation_id in ("createAlias", "createDomain"):
        assert "Location" in by_id[operation_id]["responses"]["201"]["headers"]


def test_nullable_fields_are_nullable_and_only_those(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def nullable(model: str, field: str) -> bool:
        types = schemas[model]["properties"][field].get("anyOf", [])
        return {"type": "null"} in types

    for model, field in [
        ("Alias", "expires_at"),
        ("Alias", "last_forwarded_at"),
        ("Alias", "last_blocked_at"),
        ("Domain", "catch_all_destination"),
        ("TokenInfo", "last_used_at"),
        ("TokenInfo", "expires_at"),
        ("AliasList", "next_token"),
        ("DomainUpdate", "catch_all_destination"),
        ("AliasUpdate", "expires_at"),
    ]:
        assert nullable(model, field), (model, field)
    for model, field in [("Alias", "note"), ("Alias", "destinations"), ("AliasUpdate", "destinations")]:
        assert not nullable(model, field), (model, field)
    # PATCH: a field may be left out, but not sent as null.
    assert "required" not in schemas["AliasUpdate"]
    assert schemas["AliasUpdate"]["properties"]["enabled"] == {"type": "boolean", "title": "Enabled"}


def test_check_mode_fails_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(openapi, "DOCUMENT", stale)

    assert openapi.main(["--check"]) == 1
    assert "run make openapi" in capsys.readouterr().err
    assert openapi.main([]) == 0
    assert openapi.main(["--check"]) == 0


def _header_parameters(operation: dict[str, Any]) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}


def test_every_creating_post_documents_the_idempotency_key(document: dict[str, Any]) -> None:
    # A sign-in code is redeemed once by itself, with no caller to keep a response for (decision 0102).
    single_use = {"redeemSession"}
    creating = {operation_id for operation_id, success in SUCCESS.items() if success == "201"} - single_use
    creating |= {"importAliases"}
    for operation_id, operation in operations(document).items():
        takes_key = "idempotency-key" in _header_parameters(operation)
        assert takes_key == (operation_id in creating), operation_id
        if takes_key:
            assert {"409", "422"} <= set(operation["responses"]), operation_id  # in progress, reused


VERSIONED = {"Alias": "alias", "Domain": "domain", "Destination": "destination", "Contact": "contact"}


@pytest.mark.parametrize("resource", sorted(VERSIONED))
def test_a_single_resource_has_an_etag_and_its_changes_take_if_match(document: dict[str, Any], resource: str) -> None:
    by_id = operations(document)
    assert "ETag" in by_id[f"get{resource}"]["responses"]["200"]["headers"]
    changes = [
        operation_id
        for operation_id in by_id
        if operation_id.startswith(("replace", "update", "delete")) and operation_id.endswith(resource)
    ]
    assert changes
    for operation_id in changes:
        assert "if-match" in _header_parameters(by_id[operation_id]), operation_id
        assert "412" in by_id[operation_id]["responses"], operation_id


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without its `null` alternative (an optional parameter is `anyOf: [X, null]`)."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    assert len(options) == 1, schema
    return options[0]


def test_a_parameter_that_takes_an_address_says_so(document: dict[str, Any]) -> None:
    # Issue 25 item 9: contract fuzzing found `default_destination` documented as any string while the route wants
    # an e-mail address (and answers 422 for anything else).
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"].endswith(("destination", "email")):
                    found.append((method, path, parameter["name"]))
                    schema = _non_null(parameter["schema"])
                    assert schema.get("format") == "email", (method, path, parameter["name"], schema)
                    assert schema.get("maxLength") == 254, (method, path, parameter["name"], schema)
    assert ("post", "/api/import", "default_destination") in found
