"""The web front end in template.yaml: public page routes, served by functions that cannot touch the table."""

from __future__ import annotations

import json

import pytest

from local import sam_template
from tests.support.sam import transformed

WEB_ROUTES = {
    "GET /": "WebHomeFunction",
    "GET /aliases": "WebAliasesFunction",
    "GET /aliases/{alias_id}": "WebAliasFunction",
    "GET /activity": "WebActivityFunction",
    "GET /domains": "WebDomainsFunction",
    "GET /destinations": "WebDestinationsFunction",
    "GET /quarantine": "WebQuarantineFunction",
    "GET /verify": "WebVerifyFunction",
    "GET /account": "WebAccountFunction",
    "GET /settings": "WebSettingsFunction",
    "GET /users": "WebUsersFunction",
    "GET /signin": "WebSigninFunction",
    "GET /static/{path+}": "WebStaticFunction",
}
WEB_FUNCTIONS = sorted(set(WEB_ROUTES.values()))
# What SAM gives a function with no Policies and `Tracing: Active`: logs and traces, nothing else.
BASIC_EXECUTION = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def test_each_page_has_its_own_public_function() -> None:
    routes = {route.key: route for route in sam_template.routes()}
    for key, function in WEB_ROUTES.items():
        assert routes[key].function == function
        assert routes[key].public, f"{key} must not need a token: the page asks for one itself"


def test_the_web_functions_are_the_only_functions_under_functions_web() -> None:
    web = {
        name
        for name, resource in sam_template.functions().items()
        if resource["Properties"]["CodeUri"].startswith("functions/web_")
    }
    assert web == set(WEB_FUNCTIONS)


@pytest.mark.parametrize("function", WEB_FUNCTIONS)
def test_web_functions_declare_no_permissions(function: str) -> None:
    properties = sam_template.functions()[function]["Properties"]
    for key in ("Policies", "Role", "Connectors"):
        assert key not in properties, f"{function} must get no {key}: a page never touches AWS"


@pytest.mark.parametrize("function", WEB_FUNCTIONS)
def test_deployed_web_function_roles_have_no_dynamodb_access(function: str) -> None:
    resources = transformed()["Resources"]
    role = resources[f"{function}Role"]["Properties"]
    assert set(role["ManagedPolicyArns"]) == BASIC_EXECUTION
    assert "Policies" not in role
    assert "dynamodb" not in json.dumps(role).lower()
    assert resources[function]["Properties"]["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}


def test_api_functions_do_get_table_access_so_the_check_above_can_see_it() -> None:
    # The same check on a function that does read the table finds it: the absence above is meaningful.
    role = transformed()["Resources"]["AliasesListFunctionRole"]["Properties"]
    assert "dynamodb:Query" in json.dumps(role)


@pytest.mark.parametrize("function", WEB_FUNCTIONS)
def test_web_functions_load_the_common_and_the_web_layer(function: str) -> None:
    resources = transformed()["Resources"]
    layers = resources[function]["Properties"]["Layers"]
    layer_types = {resources[layer["Ref"]]["Properties"]["LayerName"]["Fn::Sub"] for layer in layers}
    assert layer_types == {"${AWS::StackName}-common", "${AWS::StackName}-web"}


def test_only_the_web_functions_load_the_web_layer() -> None:
    for name, resource in sam_template.functions().items():
        uses_web = {"Ref": "WebLayer"} in resource["Properties"].get("Layers", [])
        assert uses_web == (name in WEB_FUNCTIONS), name


def test_enable_web_switches_every_web_resource() -> None:
    template = sam_template.load()
    parameter = template["Parameters"]["EnableWeb"]
    assert parameter["Default"] == "true"
    assert parameter["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["WebEnabled"] == {"Fn::Equals": [{"Ref": "EnableWeb"}, "true"]}
    for name in [*WEB_FUNCTIONS, "WebLayer"]:
        assert template["Resources"][name]["Condition"] == "WebEnabled", name
    # The routes go with their functions: SAM wraps each web path of the API in the condition.
    paths = transformed()["Resources"]["Api"]["Properties"]["Body"]["paths"]
    for key in WEB_ROUTES:
        path = key.split(" ", 1)[1]
        assert paths[path]["Fn::If"][0] == "WebEnabled", path


def test_web_layer_is_built_with_its_requirements() -> None:
    layer = sam_template.load()["Resources"]["WebLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/web/"
    requirements = (sam_template.ROOT / "layers/web/requirements.txt").read_text()
    assert "Jinja2==" in requirements
