"""template.yaml, checked the way CloudFormation will see it: linted, transformed, every route and policy."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local import sam_template
from tests.support.transform import transformed

ROOT = sam_template.ROOT
BIN = Path(sys.executable).parent

# The routes of shared/api-contract.md, with whether they are public (no authorizer).
CONTRACT_ROUTES = {
    "GET /api/me": False,
    "POST /api/users": False,
    "GET /api/tokens": False,
    "POST /api/tokens": False,
    "DELETE /api/tokens/{token_id}": False,
    "GET /api/domains": False,
    "POST /api/domains": False,
    "GET /api/domains/{domain}": False,
    "PATCH /api/domains/{domain}": False,
    "DELETE /api/domains/{domain}": False,
    "GET /api/aliases": False,
    "POST /api/aliases": False,
    "GET /api/aliases/{alias_id}": False,
    "PUT /api/aliases/{alias_id}": False,
    "PATCH /api/aliases/{alias_id}": False,
    "DELETE /api/aliases/{alias_id}": False,
    "POST /api/aliases/bulk": False,
    "GET /api/export": False,
    "POST /api/import": False,
    "GET /api/destinations": False,
    "POST /api/destinations": False,
    "GET /api/destinations/{destination_id}": False,
    "POST /api/destinations/{destination_id}/resend": False,
    "DELETE /api/destinations/{destination_id}": False,
    "POST /api/destinations/verify": True,
    "GET /api/aliases/{alias_id}/contacts": False,
    "POST /api/aliases/{alias_id}/contacts": False,
    "GET /api/aliases/{alias_id}/contacts/{contact_id}": False,
    "PATCH /api/aliases/{alias_id}/contacts/{contact_id}": False,
    "DELETE /api/aliases/{alias_id}/contacts/{contact_id}": False,
    "POST /api/sessions": True,
    "POST /api/sessions/redeem": True,
    "DELETE /api/sessions/current": False,
    "GET /api/activity": False,
    "GET /api/stats": False,
    "GET /api/health": True,
    "GET /api/openapi.json": True,
    "GET /api/docs": True,
}
# Routes beyond the contract's that are public too: Swagger UI's assets (and the web pages, outside /api).
EXTRA_PUBLIC_API_ROUTES = {"GET /api/docs/{asset}"}
# One function serves the document, its UI and the UI's assets: they are one thing.
SHARED_FUNCTION_ROUTES = {"GET /api/openapi.json", "GET /api/docs", "GET /api/docs/{asset}"}
READ_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "ses:GetEmailIdentity",
    "ses:ListEmailIdentities",
}
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def _lint_env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }


def test_sam_validate_lint_is_clean() -> None:
    sam = shutil.which("sam", path=str(BIN)) or "sam"
    result = subprocess.run(
        [sam, "validate", "--lint"], cwd=ROOT, env=_lint_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_is_clean() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(BIN)) or "cfn-lint"
    result = subprocess.run(
        [cfn_lint, "template.yaml"], cwd=ROOT, env=_lint_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _api_paths(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    api = cfn["Resources"]["Api"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    paths: dict[str, dict[str, Any]] = api["Properties"]["Body"]["paths"]
    return paths


def _operations(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, methods in _api_paths(cfn).items()
        for method, operation in methods.items()
        if method in {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}
    }


ALIAS = "live"  # Globals.Function.AutoPublishAlias: the API invokes each function's alias


def _function_of(operation: dict[str, Any]) -> str:
    uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    found = re.search(r"\$\{(\w+)\.Arn\}", uri) or re.search(rf"\$\{{(\w+)Alias{ALIAS}\}}", uri)
    assert found, uri
    return found.group(1)


def test_every_contract_route_goes_to_a_function_of_its_own(cfn: dict[str, Any]) -> None:
    operations = _operations(cfn)
    missing = set(CONTRACT_ROUTES) - set(operations)
    assert not missing, f"routes of the contract missing from template.yaml: {sorted(missing)}"

    functions = [_function_of(operations[route]) for route in CONTRACT_ROUTES if route not in SHARED_FUNCTION_ROUTES]
    assert len(set(functions)) == len(functions), "two contract routes share a function"
    for route in CONTRACT_ROUTES:
        integration = operations[route]["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0"
        assert integration["type"] == "aws_proxy"


def test_the_authorizer_guards_every_protected_route_and_no_public_one(cfn: dict[str, Any]) -> None:
    for route, operation in _operations(cfn).items():
        security = operation.get("security")
        public = CONTRACT_ROUTES.get(
            route, route in EXTRA_PUBLIC_API_ROUTES or not route.split(" ")[1].startswith("/api/")
        )
        if public:
            assert security == [{"NONE": []}], f"{route} should be public"
        elif route == SIMPLELOGIN_ROUTE:
            assert security == [{"SimpleLoginKeyAuthorizer": []}], f"{route} must carry SimpleLogin's authorizer"
        else:
            assert security == [{"TokenAuthorizer": []}], f"{route} must carry the authorizer"


SIMPLELOGIN_ROUTE = "POST /api/alias/random/new"


def test_simplelogins_route_has_the_same_authorizer_uncached_on_either_header(cfn: dict[str, Any]) -> None:
    """SimpleLogin's clients send `Authentication: <key>`; `Authorization: Bearer` is taken too, so no header can
    be required (an identity source), and without one nothing can be cached (decision 0003)."""
    schemes = cfn["Resources"]["Api"]["Properties"]["Body"]["components"]["securitySchemes"]
    authorizer = schemes["SimpleLoginKeyAuthorizer"]["x-amazon-apigateway-authorizer"]
    token_authorizer = schemes["TokenAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["authorizerUri"] == token_authorizer["authorizerUri"]
    assert authorizer["authorizerResultTtlInSeconds"] == 0
    assert not authorizer.get("identitySource")
    assert authorizer["enableSimpleResponses"] is True
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0"
    guarded = [route for route, operation in _operations(cfn).items() if "SimpleLoginKeyAuthorizer" in str(operation)]
    assert guarded == [SIMPLELOGIN_ROUTE]


def test_the_authorizer_is_a_cached_request_authorizer_on_the_authorization_header(cfn: dict[str, Any]) -> None:
    scheme = cfn["Resources"]["Api"]["Properties"]["Body"]["components"]["securitySchemes"]["TokenAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "request"
    assert authorizer["identitySource"] == ["$request.header.Authorization"]
    assert authorizer["enableSimpleResponses"] is True
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["authorizerResultTtlInSeconds"] == {"Ref": "AuthorizerCacheTtl"}
    assert cfn["Parameters"]["AuthorizerCacheTtl"]["Default"] == 60
    assert "AuthorizerFunction" in str(authorizer["authorizerUri"])


def _lambda_functions(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def test_every_function_runs_python313_on_arm64_with_the_common_layer(cfn: dict[str, Any]) -> None:
    functions = _lambda_functions(cfn)
    assert len(functions) >= len(CONTRACT_ROUTES) + 1  # + the authorizer
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        layers = [layer["Ref"] for layer in props["Layers"]]
        assert any(layer.startswith("CommonLayer") for layer in layers), name


def _allowed_actions(cfn: dict[str, Any], function: str) -> set[str]:
    role_name = _lambda_functions(cfn)[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = cfn["Resources"][role_name]["Properties"]
    actions: set[str] = set()
    for listed_policy in role.get("Policies", []):
        # A conditional policy (Fn::If [condition, policy, AWS::NoValue]) counts as if its condition held.
        policy = listed_policy["Fn::If"][1] if "Fn::If" in listed_policy else listed_policy
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                listed = statement["Action"]
                actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_reading_routes_cannot_write_the_table(cfn: dict[str, Any]) -> None:
    operations = _operations(cfn)
    for route in CONTRACT_ROUTES:
        if route.startswith("GET "):
            actions = _allowed_actions(cfn, _function_of(operations[route]))
            assert not actions & WRITE_ACTIONS, f"{route} may write: {sorted(actions & WRITE_ACTIONS)}"
            assert actions <= READ_ACTIONS, f"{route} may do more than read: {sorted(actions - READ_ACTIONS)}"


def test_no_function_may_scan_or_use_wildcards(cfn: dict[str, Any]) -> None:
    for function in _lambda_functions(cfn):
        actions = _allowed_actions(cfn, function)
        assert "dynamodb:Scan" not in actions, function
        assert not any(action.endswith("*") for action in actions), (function, actions)


def unscoped_statements(cfn: dict[str, Any]) -> list[str]:
    """Statements that undo the scoping: IAM allows a call if *any* statement allows it, so one statement on the
    table without `ForAllValues:StringLike` `dynamodb:LeadingKeys` (or one naming every key) lets its function
    touch any item, and one `ses:SendEmail` on identities without a condition lets it send as any (decision 0074)."""
    wrong = []
    for function, resource in _lambda_functions(cfn).items():
        role = cfn["Resources"][resource["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        for given in role.get("Policies", []):
            # A conditional policy (Fn::If [condition, policy, AWS::NoValue]) counts as if its condition held.
            policy = given["Fn::If"][1] if "Fn::If" in given else given
            for statement in policy["PolicyDocument"]["Statement"]:
                listed = statement["Action"]
                actions = [listed] if isinstance(listed, str) else listed
                condition = statement.get("Condition", {})
                if any(action.startswith("dynamodb:") for action in actions):
                    keys = condition.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys") or ["*"]
                    # A family (`USER#*`, or a narrower one: `RATE#USER#*`) or one partition by name (`USERS`, the
                    # admin directory): never a wildcard.
                    if any(not re.fullmatch(r"[A-Z]+(#[A-Z]+)*#\*|[A-Z]+", key) for key in keys):
                        wrong.append(f"{function}: {actions} on {keys}: name the key families it touches")
                if "ses:SendEmail" in actions and "identity/" in str(statement["Resource"]) and not condition:
                    wrong.append(f"{function}: {actions} as any identity")
    return wrong


def test_every_table_statement_names_its_key_families_and_sending_is_conditioned(cfn: dict[str, Any]) -> None:
    assert unscoped_statements(cfn) == []


def test_an_unscoped_statement_would_be_caught() -> None:
    template = copy.deepcopy(sam_template.load())
    template["Resources"]["MeFunction"]["Properties"]["Policies"][0]["Statement"].append(
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}
    )
    assert unscoped_statements(transformed(template)) == [
        "MeFunction: ['dynamodb:PutItem'] on ['*']: name the key families it touches"
    ]


def test_the_health_function_has_no_table_access(cfn: dict[str, Any]) -> None:
    health = _function_of(_operations(cfn)["GET /api/health"])
    assert _allowed_actions(cfn, health) == set()


def test_the_table_is_protected_and_recoverable(cfn: dict[str, Any]) -> None:
    table = cfn["Resources"]["Table"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # Encrypted with the AWS-owned key: SSEEnabled true would mean the AWS-managed KMS key, billed per request.
    assert props.get("SSESpecification", {}).get("SSEEnabled", False) is False
    assert "KMSMasterKeyId" not in props.get("SSESpecification", {})
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_outputs_name_the_api_url_and_the_table(cfn: dict[str, Any]) -> None:
    assert {"ApiUrl", "TableName"} <= set(cfn["Outputs"])


@pytest.mark.parametrize("name", ["CommonLayer", "WebLayer"])
def test_each_layer_is_built_for_python313_on_arm64_with_bytecode(name: str) -> None:
    layer = sam_template.load()["Resources"][name]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # decision 0050
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text(encoding="utf-8")
    assert f"build-{name}:" in makefile
    assert "--platform manylinux2014_aarch64" in makefile
    assert "--python-version 3.13" in makefile
    assert "--no-deps" in makefile
    assert "compileall" in makefile


# What the python3.13 runtime provides: the common layer must not ship (nor shadow) it.
RUNTIME_PACKAGES = {"boto3", "botocore", "jmespath", "python-dateutil", "urllib3", "s3transfer", "six"}


def _requirements(path: Path) -> dict[str, str]:
    pinned = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            assert version, f"{requirement!r} is not pinned"
            pinned[_normalised(name)] = version
    return pinned


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_common_layer_lists_every_dependency_it_needs_and_none_the_runtime_has() -> None:
    """The layer is installed with --no-deps: a dependency missing from requirements.txt is missing in Lambda."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement

    listed = _requirements(ROOT / "layers" / "common" / "requirements.txt")
    assert not set(listed) & RUNTIME_PACKAGES
    for name, version in listed.items():
        installed = distribution(name)
        assert installed.version == version, f"{name}: the venv has {installed.version}, the layer pins {version}"
        for dependency in map(Requirement, installed.requires or []):
            if dependency.marker is not None and not dependency.marker.evaluate({"extra": ""}):
                continue
            needed = _normalised(dependency.name)
            assert needed in listed or needed in RUNTIME_PACKAGES, f"{name} needs {needed}: pin it in requirements.txt"


def test_every_handler_file_exists_and_each_folder_is_one_route() -> None:
    seen: dict[Path, str] = {}
    for route in sam_template.routes():
        if route.key in SHARED_FUNCTION_ROUTES and route.code_dir.name == "docs":
            continue
        module = route.code_dir / (route.handler.rpartition(".")[0] + ".py")
        assert module.is_file(), f"{route.key}: {module} missing"
        assert route.code_dir not in seen, f"{route.key} and {seen.get(route.code_dir)} share {route.code_dir}"
        seen[route.code_dir] = route.key


def test_every_function_is_invoked_through_its_alias_and_snapstart_is_a_parameter(cfn: dict[str, Any]) -> None:
    assert cfn["Parameters"]["EnableSnapStart"]["Default"] == "false"
    for name, function in _lambda_functions(cfn).items():
        # The parameter, or off where it does not pay (tests/template/test_operations.py says where).
        assert function["Properties"]["SnapStart"] in (
            {"ApplyOn": {"Fn::FindInMap": ["SnapStart", {"Ref": "EnableSnapStart"}, "ApplyOn"]}},
            {"ApplyOn": "None"},
        ), name
        assert f"{name}Alias{ALIAS}" in cfn["Resources"], f"{name} has no alias {ALIAS}"
    assert cfn["Mappings"]["SnapStart"] == {"true": {"ApplyOn": "PublishedVersions"}, "false": {"ApplyOn": "None"}}
    uris = _integration_uris(cfn["Resources"]["Api"]["Properties"]["Body"])
    assert len(uris) >= len(CONTRACT_ROUTES)
    assert [uri for uri in uris if f"Alias{ALIAS}" not in uri] == []


def _subs(node: Any) -> list[str]:
    """The `Fn::Sub` strings in a value, also inside an `Fn::If` (a route behind a feature switch)."""
    if isinstance(node, dict):
        if "Fn::Sub" in node:
            return [node["Fn::Sub"]]
        return [sub for value in node.values() for sub in _subs(value)]
    if isinstance(node, list):
        return [sub for item in node for sub in _subs(item)]
    return []


def _integration_uris(node: Any) -> list[str]:
    """Every route integration's URI in the API's OpenAPI body, wherever it sits (a conditional route's
    operation is inside an Fn::If)."""
    if isinstance(node, list):
        return [uri for item in node for uri in _integration_uris(item)]
    if not isinstance(node, dict):
        return []
    if "x-amazon-apigateway-integration" in node:
        return _subs(node["x-amazon-apigateway-integration"]["uri"])
    return [uri for value in node.values() for uri in _integration_uris(value)]


def _invokers_missing_the_alias(cfn: dict[str, Any]) -> list[str]:
    """Permissions that let a service invoke a function unqualified while its EventInvokeConfig (retries, where
    failures go) is set on a qualifier: such invocations get Lambda's defaults, with no failure destination."""
    configured = {
        config["Properties"]["FunctionName"]["Ref"]: config["Properties"]["Qualifier"]
        for config in cfn["Resources"].values()
        if config["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    wrong = []
    for name, permission in cfn["Resources"].items():
        if permission["Type"] != "AWS::Lambda::Permission":
            continue
        target = permission["Properties"]["FunctionName"]
        function = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
        if function in configured and target != {"Ref": f"{function}Alias{configured[function]}"}:
            wrong.append(f"{name} lets {permission['Properties']['Principal']} invoke {function} unqualified")
    return wrong


def test_asynchronous_invokers_invoke_the_alias_their_retries_and_failure_destination_are_set_on(
    cfn: dict[str, Any],
) -> None:
    assert _invokers_missing_the_alias(cfn) == [], (
        "invoke the function's alias instead (`!Ref <Function>.Alias` in the permission and the invoker)"
    )


def test_an_invoker_of_the_unqualified_function_would_be_caught() -> None:
    template = copy.deepcopy(sam_template.load())
    template["Resources"]["AsyncFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/health/",
            "Handler": "app.lambda_handler",
            "EventInvokeConfig": {"MaximumRetryAttempts": 2},
        },
    }
    permission = {"Action": "lambda:InvokeFunction", "Principal": "ses.amazonaws.com"}
    template["Resources"]["Unqualified"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {**permission, "FunctionName": {"Fn::GetAtt": ["AsyncFunction", "Arn"]}},
    }
    template["Resources"]["Qualified"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {**permission, "FunctionName": {"Ref": "AsyncFunction.Alias"}},
    }
    caught = [entry for entry in _invokers_missing_the_alias(transformed(template)) if "AsyncFunction" in entry]
    assert caught == ["Unqualified lets ses.amazonaws.com invoke AsyncFunction unqualified"]


@pytest.mark.parametrize(
    "route",
    [
        "POST /api/aliases",
        "PUT /api/aliases/{alias_id}",
        "PATCH /api/aliases/{alias_id}",
        "POST /api/domains",
        "PATCH /api/domains/{domain}",
        "POST /api/import",
    ],
)
def test_routes_that_set_destinations_may_check_that_none_is_inside_postmask(cfn: dict[str, Any], route: str) -> None:
    """Their transaction holds a ConditionCheck on each destination's domain marker (issue 13, item 4)."""
    assert "dynamodb:ConditionCheckItem" in _allowed_actions(cfn, _function_of(_operations(cfn)[route]))
