"""template.yaml read as a deployment would read it: parameters, conditions, Globals, intrinsic functions."""

from __future__ import annotations

from typing import Any

import pytest

from local import sam_template
from local.sam_template import NO_VALUE, Resolver, UnresolvableError


def small_template() -> dict[str, Any]:
    """A template with one switchable function, a greedy route and a layer, shaped like template.yaml."""
    return {
        "Parameters": {
            "EnableExtra": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"]},
            "Level": {"Type": "String", "Default": "INFO"},
            "Ttl": {"Type": "Number", "Default": 30},
        },
        "Conditions": {
            "ExtraEnabled": {"Fn::Equals": [{"Ref": "EnableExtra"}, "true"]},
            "ExtraDisabled": {"Fn::Not": [{"Condition": "ExtraEnabled"}]},
        },
        "Globals": {
            "Function": {
                "Runtime": "python3.13",
                "Timeout": 10,
                "Layers": [{"Ref": "CommonLayer"}],
                "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}, "LEVEL": {"Ref": "Level"}}},
            }
        },
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "CommonLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layers/common/"}},
            "ExtraLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layers/extra/"}},
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {
                    "Auth": {
                        "DefaultAuthorizer": "Tokens",
                        "Authorizers": {
                            "Tokens": {
                                "FunctionArn": {"Fn::GetAtt": ["AuthFunction", "Arn"]},
                                "EnableSimpleResponses": True,
                                "Identity": {"Headers": ["Authorization"], "ReauthorizeEvery": {"Ref": "Ttl"}},
                            }
                        },
                    }
                },
            },
            "AuthFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "functions/auth/", "Handler": "app.lambda_handler"},
            },
            "ItemFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/item/",
                    "Handler": "app.lambda_handler",
                    "Timeout": 3,
                    "Layers": [{"Ref": "ExtraLayer"}, "arn:aws:lambda:eu-west-1:017000801446:layer:Public:1"],
                    "Environment": {"Variables": {"LEVEL": "DEBUG", "EXTRA": {"Fn::Sub": "${AWS::StackName}-x"}}},
                    "Events": {
                        "Get": {
                            "Type": "HttpApi",
                            "Properties": {"ApiId": {"Ref": "Api"}, "Method": "get", "Path": "/items/{id}"},
                        },
                        "Mine": {
                            "Type": "HttpApi",
                            "Properties": {"ApiId": {"Ref": "Api"}, "Method": "get", "Path": "/items/mine"},
                        },
                    },
                },
            },
            "FilesFunction": {
                "Type": "AWS::Serverless::Function",
                "Condition": "ExtraEnabled",
                "Properties": {
                    "CodeUri": "functions/files/",
                    "Handler": "app.lambda_handler",
                    "Events": {
                        "Any": {
                            "Type": "HttpApi",
                            "Properties": {
                                "ApiId": {"Ref": "Api"},
                                "Method": "any",
                                "Path": "/items/{path+}",
                                "Auth": {"Authorizer": "NONE"},
                            },
                        }
                    },
                },
            },
        },
    }


def test_a_condition_left_false_by_a_parameter_removes_its_function_and_routes() -> None:
    template = small_template()

    assert "FilesFunction" in sam_template.functions(template)
    assert "FilesFunction" not in sam_template.functions(template, {"EnableExtra": "false"})
    assert all(route.function != "FilesFunction" for route in sam_template.routes(template, {"EnableExtra": "false"}))
    assert Resolver(template, parameters={"EnableExtra": "false"}).condition("ExtraDisabled") is True


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [({"Nope": "1"}, "unknown parameter"), ({"EnableExtra": "maybe"}, "is not one of")],
)
def test_bad_parameter_overrides_are_refused(overrides: dict[str, str], complaint: str) -> None:
    with pytest.raises(UnresolvableError, match=complaint):
        sam_template.routes(small_template(), overrides)


def test_routes_match_the_most_specific_first_with_any_and_greedy_paths() -> None:
    routes = sam_template.routes(small_template())

    def first(method: str, path: str) -> tuple[str, dict[str, str]]:
        for route in routes:
            params = route.match(method, path)
            if params is not None:
                return route.key, params
        raise AssertionError(f"no route for {method} {path}")

    assert first("GET", "/items/mine") == ("GET /items/mine", {})
    assert first("GET", "/items/42") == ("GET /items/{id}", {"id": "42"})
    assert first("GET", "/items/a/b") == ("ANY /items/{path+}", {"path": "a/b"})
    assert first("DELETE", "/items/42") == ("ANY /items/{path+}", {"path": "42"})


def test_routes_carry_their_authorizer_resolved_from_parameters() -> None:
    by_key = {route.key: route for route in sam_template.routes(small_template(), {"Ttl": "5"})}

    protected = by_key["GET /items/{id}"]
    assert protected.public is False
    assert protected.authorizer is not None
    assert protected.authorizer.function == "AuthFunction"
    assert protected.authorizer.identity_headers == ("authorization",)
    assert protected.authorizer.simple_responses is True
    assert protected.authorizer.cache_seconds == 5
    assert by_key["ANY /items/{path+}"].public is True
    assert by_key["ANY /items/{path+}"].authorizer is None


def test_function_specs_merge_globals_as_sam_does() -> None:
    spec = sam_template.function_specs(small_template())["ItemFunction"]

    assert spec.timeout == 3  # the function's own value wins
    assert spec.runtime == "python3.13"
    assert spec.memory_size == 128  # Lambda's default: neither the function nor Globals say
    # Globals' layers first, then the function's; a layer published elsewhere (an ARN) has no local content.
    assert spec.layers == (sam_template.ROOT / "layers/common/", sam_template.ROOT / "layers/extra/")
    assert dict(spec.environment) == {
        "TABLE_NAME": {"Ref": "Table"},
        "LEVEL": "DEBUG",
        "EXTRA": {"Fn::Sub": "${AWS::StackName}-x"},
    }


def test_the_resolver_computes_refs_attributes_subs_and_drops_no_value() -> None:
    resolver = Resolver(
        small_template(),
        pseudo_parameters={"AWS::StackName": "demo"},
        refs={"Table": "demo-table"},
        attributes={("Table", "Arn"): "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-table"},
    )
    value = {
        "name": {"Ref": "Table"},
        "arn": {"Fn::GetAtt": "Table.Arn"},
        "sub": {"Fn::Sub": "${AWS::StackName}/${Table}/${Table.Arn}/${Level}/${!Literal}"},
        "sub_vars": {"Fn::Sub": ["${x}-${Level}", {"x": {"Ref": "Table"}}]},
        "join": {"Fn::Join": ["-", ["a", {"Ref": "Level"}]]},
        "if": {"Fn::If": ["ExtraEnabled", "on", "off"]},
        "gone": {"Fn::If": ["ExtraDisabled", "x", {"Ref": "AWS::NoValue"}]},
        "list": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }

    assert resolver.resolve(value) == {
        "name": "demo-table",
        "arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-table",
        "sub": "demo/demo-table/arn:aws:dynamodb:eu-west-1:123456789012:table/demo-table/INFO/${Literal}",
        "sub_vars": "demo-table-INFO",
        "join": "a-INFO",
        "if": "on",
        "list": ["a", "b"],
    }
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


@pytest.mark.parametrize(
    "value",
    [{"Ref": "Nowhere"}, {"Fn::GetAtt": ["Table", "StreamArn"]}, {"Fn::ImportValue": "shared-thing"}],
)
def test_what_cannot_be_resolved_locally_is_an_error_that_says_what(value: dict[str, Any]) -> None:
    with pytest.raises(UnresolvableError, match=r"Nowhere|StreamArn|ImportValue"):
        Resolver(small_template()).resolve(value)


def test_the_real_template_runs_locally() -> None:
    """Every route of template.yaml has a function with code, and the protected ones an authorizer."""
    specs = sam_template.function_specs()
    for route in sam_template.routes():
        assert route.function in specs
        assert (route.code_dir / "app.py").is_file()
        if not route.public:
            assert route.authorizer is not None
            assert route.authorizer.function in specs
            if route.key == "POST /api/alias/random/new":  # either of two headers: none required, none cached
                assert (route.authorizer.identity_headers, route.authorizer.cache_seconds) == ((), 0)
            else:
                assert route.authorizer.identity_headers == ("authorization",)
    assert all(sam_template.ROOT / "layers" / "common" in spec.layers for spec in specs.values())
