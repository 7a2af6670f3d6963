"""template.yaml as data: the routes, functions and table that the local stack and the tests are built from.

Reading the template itself (rather than a second list of routes) is what keeps the local gateway, the
tests and the deployed API from drifting apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": [A, B]}`)."""


def _short_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


@dataclass(frozen=True)
class Route:
    """One `HttpApi` event: METHOD + SAM path, served by one function."""

    method: str
    path: str
    function: str  # logical id
    code_dir: Path
    handler: str
    public: bool
    pattern: re.Pattern[str] = field(compare=False, repr=False)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _path_pattern(sam_path: str) -> re.Pattern[str]:
    # `{name}` matches one segment and `{name+}` the rest, as in API Gateway.
    regex = ""
    for part in re.split(r"(\{[^}]+\})", sam_path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load()
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every HttpApi route of the template, most specific (fewest parameters) first."""
    template = template or load()
    default_authorizer = (
        template["Resources"].get("Api", {}).get("Properties", {}).get("Auth", {}).get("DefaultAuthorizer")
    )
    found = []
    for name, resource in functions(template).items():
        props = resource["Properties"]
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_props = event["Properties"]
            authorizer = event_props.get("Auth", {}).get("Authorizer", default_authorizer)
            found.append(
                Route(
                    method=event_props["Method"].upper(),
                    path=event_props["Path"],
                    function=name,
                    code_dir=ROOT / props["CodeUri"],
                    handler=props["Handler"],
                    public=authorizer in (None, "NONE"),
                    pattern=_path_pattern(event_props["Path"]),
                )
            )
    return sorted(found, key=lambda route: (route.path.count("{"), route.path))


def table_definition(template: dict[str, Any] | None = None, logical_id: str = "Table") -> dict[str, Any]:
    """`create_table` arguments for the template's table: the local stack and the tests use exactly these."""
    props = (template or load())["Resources"][logical_id]["Properties"]
    wanted = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
    definition = {name: props[name] for name in wanted if name in props}
    if "SSESpecification" in props:
        definition["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    return definition
