"""Upgrades reach the functions: whatever a deploy changes in what a function runs (its code, a layer it uses,
a parameter its configuration reads) publishes a new version, and `live` (what the API and SES invoke) moves
to it. And nothing else does: CloudFormation fails a deploy that asks Lambda for a version of an unchanged
function ("A version for this Lambda function exists"). Decision 0070.

SAM hashes a function's properties into its version's logical id (`AutoPublishAliasAllProperties`), and a layer's
properties into the versions of the functions using it (`PublishLambdaVersion`), but not parameter values (SAM
issue #3820): those reach the version through its `VersionDescription`, which CloudFormation resolves, and a
version whose description changes is replaced, that is published again.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local import sam_template

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def _transformed(
    template: dict[str, Any] | None = None,
    *,
    layers: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The template as `sam deploy` submits it: code and layer folders packaged to S3, a layer's key carrying its
    content's hash as `sam package` makes it (`layers` maps a layer to a stand-in for that hash)."""
    source = copy.deepcopy(template or sam_template.load())
    for name, resource in source["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == FUNCTION:
            props["CodeUri"] = f"s3://artifacts/{name}.zip"
        elif resource["Type"] == LAYER:
            props["ContentUri"] = f"s3://artifacts/{name}-{(layers or {}).get(name, 'v1')}.zip"
    result: dict[str, Any] = transform(source, {"AWS::Region": "eu-west-1", **(parameters or {})}, _NoManagedPolicies())
    return result


def _parameter_values(cfn: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    values = {name: str(spec.get("Default", "")) for name, spec in cfn["Parameters"].items()}
    return {**values, **(overrides or {})}


def _resolved(value: Any, parameters: dict[str, str]) -> Any:
    """A version's Description as CloudFormation resolves it: its `Fn::Sub` with the stack's parameter values."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda match: parameters[match.group(1)], value["Fn::Sub"])
    return value


def versions(cfn: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, tuple[str, Any]]:
    """Each function's published version: (logical id, its Description as deployed). A different logical id is
    a new version; the same id with another Description is the same resource replaced, also a new version."""
    parameters = _parameter_values(cfn, overrides)
    found = {}
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Version":
            function = resource["Properties"]["FunctionName"]["Ref"]
            found[function] = (logical_id, _resolved(resource["Properties"].get("Description"), parameters))
    return found


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in (template or sam_template.load())["Resources"].items()
        if resource["Type"] == FUNCTION
    }


def _layer_users(layer: str) -> set[str]:
    template = sam_template.load()
    return {
        name
        for name in functions()
        if {"Ref": layer} in (sam_template.function_properties(template, name).get("Layers") or [])
    }


def _configuration(template: dict[str, Any], function: str) -> dict[str, Any]:
    """A function's properties (Globals merged in), without the version description that announces them."""
    properties = dict(sam_template.function_properties(template, function))
    properties.pop("VersionDescription", None)
    return properties


def changed(before: dict[str, tuple[str, Any]], after: dict[str, tuple[str, Any]]) -> set[str]:
    assert set(before) == set(after)
    return {function for function in before if before[function] != after[function]}


# --- code and layers ----------------------------------------------------------------------------------------


def test_versions_follow_every_property_and_the_layers_content() -> None:
    template = sam_template.load()
    assert template["Globals"]["Function"]["AutoPublishAlias"] == "live"
    assert template["Globals"]["Function"]["AutoPublishAliasAllProperties"] is True
    for name, resource in template["Resources"].items():
        if resource["Type"] == LAYER:
            assert resource["Properties"].get("PublishLambdaVersion") is True, f"{name}: set PublishLambdaVersion: true"


@pytest.mark.parametrize("layer", ["CommonLayer", "WebLayer"])
def test_a_new_layer_publishes_a_new_version_of_every_function_using_it_and_of_no_other(layer: str) -> None:
    before = versions(_transformed(layers={layer: "one-content"}))
    after = versions(_transformed(layers={layer: "another-content"}))

    users = _layer_users(layer)
    assert users, f"no function uses {layer}"
    assert changed(before, after) == users
    if layer == "CommonLayer":  # nearly all the code: every function, the API's routes and the forwarder
        assert users == set(functions())


def test_a_function_of_its_own_code_changes_alone() -> None:
    template = copy.deepcopy(sam_template.load())
    before = versions(_transformed(template))
    template["Resources"]["MeFunction"]["Properties"]["MemorySize"] = 512  # any property, not only the code
    assert changed(before, versions(_transformed(template))) == {"MeFunction"}


# --- parameters ---------------------------------------------------------------------------------------------

_PARAMETER_NAME = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _parameters_used(node: Any, declared: set[str], conditions: dict[str, Any]) -> set[str]:
    """The template parameters a (transformed) value depends on: `Ref`, `Fn::Sub`, `Fn::FindInMap` keys, and the
    parameters of the condition of any `Fn::If`."""
    if isinstance(node, list):
        return set().union(*(_parameters_used(item, declared, conditions) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    used: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and value in declared:
            used.add(value)
        elif key == "Fn::Sub":
            text = value if isinstance(value, str) else value[0]
            used |= set(_PARAMETER_NAME.findall(text)) & declared
            if isinstance(value, list):
                used |= _parameters_used(value[1], declared, conditions)
        elif key == "Fn::If":
            used |= _parameters_used(conditions[value[0]], declared, conditions)
            used |= _parameters_used(value[1:], declared, conditions)
        elif key == "Condition" and isinstance(value, str):
            used |= _parameters_used(conditions[value], declared, conditions)
        else:
            used |= _parameters_used(value, declared, conditions)
    return used


def unannounced_parameters(cfn: dict[str, Any]) -> list[str]:
    """Functions whose version description does not name exactly the parameters their configuration reads.

    One missing: changing it changes `$LATEST` but publishes nothing (SAM issue #3820). One too many: changing it
    asks Lambda for a version of an unchanged function, and the deploy fails."""
    declared = set(cfn["Parameters"])
    conditions = cfn.get("Conditions", {})
    published = {
        resource["Properties"]["FunctionName"]["Ref"]: resource["Properties"].get("Description")
        for resource in cfn["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Version"
    }
    wrong = []
    for name, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function" or name not in published:
            continue
        needed = _parameters_used(resource["Properties"], declared, conditions)
        announced = _parameters_used(published[name], declared, conditions)
        if needed != announced:
            line = " ".join(f"{parameter}=${{{parameter}}}" for parameter in sorted(needed))
            wrong.append(f'{name}: give it  VersionDescription: !Sub "{line}"  (its configuration reads these)')
    return wrong


def test_every_function_announces_the_parameters_its_configuration_reads() -> None:
    assert unannounced_parameters(_transformed()) == []


def test_a_function_that_reads_a_parameter_without_announcing_it_would_be_caught() -> None:
    template = copy.deepcopy(sam_template.load())
    quiet = copy.deepcopy(template["Resources"]["HealthFunction"])
    quiet["Properties"].pop("VersionDescription")
    quiet["Properties"]["Events"] = {}
    quiet["Properties"]["Environment"] = {"Variables": {"CLAIM_DAYS": {"Ref": "DomainClaimDays"}}}
    template["Resources"]["QuietFunction"] = quiet
    caught = [entry for entry in unannounced_parameters(_transformed(template)) if entry.startswith("QuietFunction")]
    assert caught == [
        'QuietFunction: give it  VersionDescription: !Sub "DomainClaimDays=${DomainClaimDays} LogLevel=${LogLevel}"'
        "  (its configuration reads these)"
    ]


@pytest.mark.parametrize(
    ("parameter", "values"),
    [("LogLevel", ("INFO", "DEBUG")), ("EnableSnapStart", ("false", "true")), ("DomainClaimDays", ("7", "3"))],
)
def test_a_parameter_change_publishes_a_version_of_exactly_the_functions_it_configures(
    parameter: str, values: tuple[str, str]
) -> None:
    first, second = ({parameter: value} for value in values)
    before = versions(_transformed(parameters=first), first)
    after = versions(_transformed(parameters=second), second)

    template = sam_template.load()
    configured = {
        name
        for name in functions()
        if parameter in _parameters_used(_configuration(template, name), {parameter}, template.get("Conditions", {}))
    }
    assert configured, f"no function reads {parameter}"
    assert changed(before, after) == configured
    if parameter == "LogLevel":  # Globals: every function
        assert configured == set(functions())


def test_the_version_description_fits_lambdas_limit_with_the_longest_parameter_values() -> None:
    cfn = _transformed()
    longest = {}
    for name, spec in cfn["Parameters"].items():
        allowed = [str(value) for value in spec.get("AllowedValues", [])]
        if allowed:
            longest[name] = max(allowed, key=len)
        elif spec.get("Type") == "Number" and "MaxValue" in spec:  # a number's longest is its largest
            longest[name] = str(spec["MaxValue"])
        else:
            longest[name] = "x" * int(spec.get("MaxLength", 20))
    for resource in cfn["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Version":
            description = _resolved(resource["Properties"]["Description"], longest)
            assert 0 < len(description) <= 256, f"{resource['Properties']['FunctionName']}: 256 characters at most"
