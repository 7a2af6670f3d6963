"""template.yaml as data: the routes, functions and table that the local stack and the tests are built from.

Reading the template itself (rather than a second list of routes) is what keeps the local gateway, the
tests and the deployed API from drifting apart. What a deployment would decide from parameters is decided
here the same way: `Parameters` defaults and overrides, `Conditions` (a resource whose condition is false
does not exist), `Globals.Function` merged into every function as SAM merges it, and the intrinsic
functions a value may hold (`Resolver`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# What the pseudo parameters say when nothing else does; the local stack passes its own region and name.
DEFAULT_PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::StackName": "postmask-local",
    "AWS::URLSuffix": "amazonaws.com",
}
# Lambda's own defaults, for a function that sets neither itself nor in Globals.
_LAMBDA_DEFAULTS = {"Timeout": 3, "MemorySize": 128}


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
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


# --- parameters, conditions, intrinsic functions ------------------------------------------------------------


class UnresolvableError(ValueError):
    """A value the local stack cannot compute as CloudFormation would: said at start-up, not at first use."""


NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "AWS::NoValue"})()
"""What `!Ref AWS::NoValue` resolves to: the key or list item holding it disappears."""


def parameter_values(template: dict[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value: its default unless overridden. An unknown name, a value outside
    `AllowedValues` or a parameter left without a value is an error, as `sam deploy` makes it one."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise UnresolvableError(f"unknown parameter(s) {', '.join(unknown)}; the template has {', '.join(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = str(spec["Default"]).lower() if isinstance(spec["Default"], bool) else str(spec["Default"])
        else:
            raise UnresolvableError(f"parameter {name} has no default: give it a value")
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(v) for v in allowed]:
            raise UnresolvableError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split", "Condition"} | {
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::FindInMap",
    "Fn::ImportValue",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::Cidr",
}


class Resolver:
    """Computes template values for one local deployment: parameters, pseudo parameters, conditions, and the
    names (`Ref`) and attributes (`Fn::GetAtt`) of the resources the local stack stands in for."""

    def __init__(
        self,
        template: dict[str, Any] | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
        pseudo_parameters: Mapping[str, str] | None = None,
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.template = template if template is not None else load()
        self.parameters = parameter_values(self.template, parameters)
        self.pseudo_parameters = {**DEFAULT_PSEUDO_PARAMETERS, **(pseudo_parameters or {})}
        self.refs: dict[str, str] = dict(refs or {})
        self.attributes: dict[tuple[str, str], str] = dict(attributes or {})
        self._conditions: dict[str, bool] = {}

    # conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions") or {}
            if name not in definitions:
                raise UnresolvableError(f"no condition named {name}")
            self._conditions[name] = self._truth(definitions[name])
        return self._conditions[name]

    def _truth(self, expression: Any) -> bool:
        (function, argument), *_ = expression.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self.resolve(side) for side in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Fn::And":
            return all(self._truth(part) for part in argument)
        if function == "Fn::Or":
            return any(self._truth(part) for part in argument)
        raise UnresolvableError(f"{function} is not a condition function")

    def exists(self, logical_id: str) -> bool:
        """Whether a deployment with these parameters creates this resource (its `Condition` holds)."""
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # values
    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function computed; `NO_VALUE` keys and items are dropped."""
        if _is_intrinsic(value):
            (function, argument), *_ = value.items()
            return self._intrinsic(function, argument)
        if isinstance(value, dict):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        return value

    def _intrinsic(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._get_att(logical_id, attribute)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._sub(text, {name: self.resolve(v) for name, v in variables.items()})
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(part) for part in self.resolve(parts))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if function == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        raise UnresolvableError(f"{function} is not supported by the local stack")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvableError(f"!Ref {name}: the local stack has no value for it (see local/resources.py)")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise UnresolvableError(
                f"!GetAtt {logical_id}.{attribute}: the local stack has no value for it (see local/resources.py)"
            ) from None

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # `${!Literal}` is the literal `${Literal}`
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)


# --- functions ----------------------------------------------------------------------------------------------


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals merge: maps deep-merge (the function wins), lists concatenate (Globals first)."""
    if isinstance(global_value, dict) and isinstance(local_value, dict) and not _is_intrinsic(local_value):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with `Globals.Function` merged in, as the SAM transform does."""
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    own = template["Resources"][logical_id].get("Properties") or {}
    merged: dict[str, Any] = _merge_globals(globals_, own)
    return merged


def functions(
    template: dict[str, Any] | None = None, parameters: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """The template's `AWS::Serverless::Function` resources that a deployment with `parameters` creates."""
    template = template or load()
    resolver = Resolver(template, parameters=parameters)
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function" and resolver.exists(name)
    }


@dataclass(frozen=True)
class FunctionSpec:
    """What Lambda needs to run one function: code, handler, runtime limits, layers and environment."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    layers: tuple[Path, ...]  # the ContentUri of each of the template's own layers, in order (as /opt/python)
    environment: Mapping[str, Any] = field(compare=False)  # Globals + the function's; intrinsics unresolved


def function_specs(
    template: dict[str, Any] | None = None, parameters: Mapping[str, str] | None = None
) -> dict[str, FunctionSpec]:
    """Every function a deployment with `parameters` creates.

    A layer given as an ARN (published elsewhere, e.g. Powertools' public layer) has no local content: its
    packages are expected in the virtualenv, which stands in for the runtime's own site-packages.
    """
    template = template or load()
    resources = template["Resources"]
    specs = {}
    for name in functions(template, parameters):
        props = function_properties(template, name)
        layers = []
        for layer in props.get("Layers") or []:
            target = layer.get("Ref") if isinstance(layer, dict) else None
            if target in resources and resources[target]["Type"] == "AWS::Serverless::LayerVersion":
                layers.append(ROOT / resources[target]["Properties"]["ContentUri"])
        specs[name] = FunctionSpec(
            logical_id=name,
            code_dir=ROOT / props["CodeUri"],
            handler=props["Handler"],
            runtime=props.get("Runtime", ""),
            timeout=int(props.get("Timeout", _LAMBDA_DEFAULTS["Timeout"])),
            memory_size=int(props.get("MemorySize", _LAMBDA_DEFAULTS["MemorySize"])),
            layers=tuple(layers),
            environment=(props.get("Environment") or {}).get("Variables") or {},
        )
    return specs


# --- the HTTP API -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer of an HttpApi, as API Gateway runs it."""

    name: str
    function: str  # logical id
    identity_headers: tuple[str, ...]  # lower-case; a request without one of them is a 401
    identity_query_strings: tuple[str, ...]
    simple_responses: bool  # `{"isAuthorized": bool, "context": {...}}` rather than an IAM policy
    cache_seconds: int  # ReauthorizeEvery: the answer is reused for the same identity for this long


def _authorizers(template: dict[str, Any], api_id: str, resolver: Resolver) -> dict[str, Authorizer]:
    auth = template["Resources"].get(api_id, {}).get("Properties", {}).get("Auth", {})
    found = {}
    for name, config in (auth.get("Authorizers") or {}).items():
        arn = config.get("FunctionArn")
        target = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
        if not target:
            raise UnresolvableError(f"authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn to run locally")
        identity = resolver.resolve(config.get("Identity") or {})
        found[name] = Authorizer(
            name=name,
            function=str(target[0] if isinstance(target, list) else target.split(".")[0]),
            identity_headers=tuple(header.lower() for header in identity.get("Headers") or []),
            identity_query_strings=tuple(identity.get("QueryStrings") or []),
            simple_responses=resolver.resolve(config.get("EnableSimpleResponses", False)) in (True, "true"),
            cache_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )
    return found


@dataclass(frozen=True)
class Route:
    """One `HttpApi` event: METHOD + SAM path, served by one function."""

    method: str  # upper case; `ANY` matches every method
    path: str
    function: str  # logical id
    code_dir: Path
    handler: str
    public: bool
    authorizer: Authorizer | None = field(compare=False, repr=False)
    pattern: re.Pattern[str] = field(compare=False, repr=False)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
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


def _specificity(route: Route) -> tuple[int, int, str, bool]:
    # API Gateway prefers the most specific route: literal segments over `{param}`, `{param}` over `{proxy+}`,
    # and a route for the method over `ANY`.
    return (route.path.count("+}"), route.path.count("{"), route.path, route.method == "ANY")


def routes(template: dict[str, Any] | None = None, parameters: Mapping[str, str] | None = None) -> list[Route]:
    """Every HttpApi route of the template, most specific first (the order API Gateway matches in)."""
    template = template or load()
    resolver = Resolver(template, parameters=parameters)
    authorizers_by_api: dict[str, dict[str, Authorizer]] = {}
    found = []
    for name in functions(template, parameters):
        props = function_properties(template, name)
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_props = event["Properties"]
            api_ref = event_props.get("ApiId")
            api_id = api_ref["Ref"] if isinstance(api_ref, dict) and "Ref" in api_ref else ""
            if api_id not in authorizers_by_api:
                authorizers_by_api[api_id] = _authorizers(template, api_id, resolver) if api_id else {}
            api_auth = template["Resources"].get(api_id, {}).get("Properties", {}).get("Auth", {})
            authorizer_name = event_props.get("Auth", {}).get("Authorizer", api_auth.get("DefaultAuthorizer"))
            authorizer = None
            if authorizer_name not in (None, "NONE"):
                if authorizer_name not in authorizers_by_api[api_id]:
                    raise UnresolvableError(f"{name}: no authorizer named {authorizer_name} on {api_id}")
                authorizer = authorizers_by_api[api_id][authorizer_name]
            found.append(
                Route(
                    method=event_props.get("Method", "ANY").upper(),
                    path=event_props.get("Path", "/{proxy+}"),
                    function=name,
                    code_dir=ROOT / props["CodeUri"],
                    handler=props["Handler"],
                    public=authorizer is None,
                    authorizer=authorizer,
                    pattern=_path_pattern(event_props.get("Path", "/{proxy+}")),
                )
            )
    return sorted(found, key=_specificity)


@dataclass(frozen=True)
class Cors:
    """An HttpApi's CorsConfiguration, as API Gateway applies it (local/gateway.py)."""

    allow_origins: tuple[str, ...]  # exact origins, or "*"
    allow_headers: tuple[str, ...]
    allow_methods: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None

    def allows(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin.lower() in (allowed.lower() for allowed in self.allow_origins)


def cors(
    template: dict[str, Any] | None = None, parameters: Mapping[str, str] | None = None, api_id: str = "Api"
) -> Cors | None:
    """The HttpApi's CORS configuration with these parameters; None when it has none."""
    template = template or load()
    config = template["Resources"].get(api_id, {}).get("Properties", {}).get("CorsConfiguration")
    if not config:
        return None
    resolved = Resolver(template, parameters=parameters).resolve(config)
    if resolved is NO_VALUE or resolved is False:  # `!If [HasCorsOrigins, {...}, !Ref AWS::NoValue]`
        return None
    if resolved is True:  # `CorsConfiguration: true`: SAM allows every origin
        resolved = {"AllowOrigins": ["*"]}

    def listed(name: str) -> tuple[str, ...]:
        return tuple(str(item) for item in resolved.get(name) or [] if str(item))

    max_age = resolved.get("MaxAge")
    return Cors(
        allow_origins=listed("AllowOrigins"),
        allow_headers=listed("AllowHeaders"),
        allow_methods=listed("AllowMethods"),
        expose_headers=listed("ExposeHeaders"),
        max_age=int(max_age) if max_age is not None else None,
    )


# --- the table ----------------------------------------------------------------------------------------------


def table_definition(template: dict[str, Any] | None = None, logical_id: str = "Table") -> dict[str, Any]:
    """`create_table` arguments for the template's table: the local stack and the tests use exactly these."""
    props = (template or load())["Resources"][logical_id]["Properties"]
    wanted = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
    definition = {name: props[name] for name in wanted if name in props}
    if "SSESpecification" in props:
        definition["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    return definition
