"""template.yaml as CloudFormation will see it: SAM-transformed in-process, then its Conditions applied.

`deployed(parameters)` is the set of resources (and outputs) a stack would really get with those parameter
values, which is what the feature switches change; `dangling_references` finds a Ref/GetAtt/Sub/DependsOn
to a resource that a switch left out (CloudFormation would refuse that template).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from samtranslator.translator.transform import transform

from local.sam_template import load

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
_PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue"}


class _NoManagedPolicies:
    """The template names no managed policy, so the transform never needs IAM."""

    def load(self) -> dict[str, str]:
        return {}


def transformed(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The template after the SAM transform, as `sam deploy` would submit it (code URIs packaged to S3)."""
    template = copy.deepcopy(load())
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://packaged/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://packaged/{name}.zip"
    result: dict[str, Any] = transform(template, dict(parameters or {}), _NoManagedPolicies())
    return result


@dataclass(frozen=True)
class Deployed:
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    conditions: dict[str, bool]


def deployed(parameters: dict[str, str] | None = None) -> Deployed:
    """What a stack gets: the transformed template's resources and outputs whose Condition holds."""
    template = transformed(parameters)
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    conditions: dict[str, bool] = {}
    for name in template.get("Conditions", {}):
        _condition(name, template["Conditions"], values, conditions)

    def kept(entry: dict[str, Any]) -> bool:
        return "Condition" not in entry or conditions[entry["Condition"]]

    return Deployed(
        resources={name: r for name, r in template["Resources"].items() if kept(r)},
        outputs={name: o for name, o in template.get("Outputs", {}).items() if kept(o)},
        conditions=conditions,
    )


def resolved(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The transformed template as the stack really gets it: resources and outputs whose Condition is false
    removed, every Fn::If replaced by its branch, no Conditions left. What cfn-lint checks per combination."""
    template = transformed(parameters)
    stack = deployed(parameters)

    def choose(node: Any) -> Any:
        if isinstance(node, list):
            return [choose(item) for item in node if not _is_no_value(item)]
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                condition, when_true, when_false = node["Fn::If"]
                return choose(when_true if stack.conditions[condition] else when_false)
            return {
                key: choose(value)
                for key, value in node.items()
                if key != "Condition" and not _is_no_value(choose(value) if isinstance(value, dict) else value)
            }
        return node

    template["Resources"] = choose(stack.resources)
    template["Outputs"] = choose(stack.outputs)
    template.pop("Conditions", None)
    return template


def _is_no_value(node: Any) -> bool:
    return node == {"Ref": "AWS::NoValue"}


def _condition(name: str, defined: dict[str, Any], values: dict[str, str], done: dict[str, bool]) -> bool:
    if name not in done:
        done[name] = _evaluate(defined[name], defined, values, done)
    return done[name]


def _evaluate(node: Any, defined: dict[str, Any], values: dict[str, str], done: dict[str, bool]) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        (function, argument), *_ = node.items()
        if function == "Ref":
            return values[argument]
        if function == "Condition":
            return _condition(argument, defined, values, done)
        if function == "Fn::Equals":
            left, right = (_evaluate(side, defined, values, done) for side in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not _evaluate(argument[0], defined, values, done)
        if function == "Fn::And":
            return all(_evaluate(item, defined, values, done) for item in argument)
        if function == "Fn::Or":
            return any(_evaluate(item, defined, values, done) for item in argument)
    return node


def references(node: Any, conditions: dict[str, bool]) -> set[str]:
    """Logical ids `node` refers to, following only the branch of each Fn::If that CloudFormation takes."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item, conditions)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = set(value[1]) if isinstance(value, list) else set()
                found |= {name for name in _SUB_NAME.findall(text) if name not in local}
                if isinstance(value, list):
                    found |= references(value[1], conditions)
            elif key == "Fn::If":
                condition, when_true, when_false = value
                found |= references(when_true if conditions[condition] else when_false, conditions)
            else:
                found |= references(value, conditions)
    return found - _PSEUDO


def dangling_references(stack: Deployed, parameters: dict[str, str]) -> dict[str, set[str]]:
    """For each kept resource or output, the logical ids it needs that the stack does not have."""
    known = set(stack.resources) | set(parameters) | set(transformed(parameters).get("Parameters", {}))
    missing: dict[str, set[str]] = {}
    for name, entry in {**stack.resources, **stack.outputs}.items():
        depends = entry.get("DependsOn", [])
        needed = references(entry.get("Properties", entry.get("Value")), stack.conditions)
        needed |= set([depends] if isinstance(depends, str) else depends)
        if needed - known:
            missing[name] = needed - known
    return missing
