"""Each function's IAM statements in the transformed template, and whether they allow a recorded call.

moto enforces no IAM policy, so nothing else in the suite notices a call a deployed function would be refused.
This evaluates the requests of tests/support/aws_calls.py against the statements of the role SAM makes for the
function that made them. It is a test of this template, not an IAM engine (decision 0074): it knows Allow and
Deny, Action and Resource patterns, the condition operators and keys the template uses (it refuses any other,
so a new one is modelled before it is trusted), and nothing else: no managed policies (AWSLambdaBasicExecution-
Role and X-Ray's, which no botocore call of ours needs), no resource policies, no SCPs, no policy variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from local import sam_template
from tests.support.aws_calls import Call, Request, lambda_arn
from tests.support.transform import transformed

# The condition keys the evaluator computes (tests/support/aws_calls.py); a statement naming another is an error.
KNOWN_KEYS = re.compile(
    r"^(dynamodb:(LeadingKeys|Attributes|Select|ReturnValues)|ses:(FromAddress|Recipients|ApiVersion)"
    r"|s3:prefix|aws:(ResourceTag|RequestTag)/.+|aws:TagKeys)$"
)
_OPERATORS = {"StringEquals", "StringLike", "StringNotEquals", "StringNotLike", "ArnEquals", "ArnLike"}


@dataclass(frozen=True)
class Statement:
    id: str  # "<policy name>[<index>]"
    effect: str
    actions: tuple[str, ...]
    resources: Any  # unresolved: intrinsics resolved per call (the names differ from test to test)
    conditions: Any


@cache
def template() -> dict[str, Any]:
    return transformed()


@cache
def statements() -> dict[str, tuple[Statement, ...]]:
    """Every function's inline statements (logical id -> statements), from the role SAM made for it."""
    resources = template()["Resources"]
    conditions = sam_template.Resolver(template())  # a statement under !If: the deployment's defaults decide
    found: dict[str, tuple[Statement, ...]] = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else None
        policies = resources[role_id]["Properties"].get("Policies", []) if role_id in resources else []
        found[name] = tuple(
            Statement(
                id=f"{policy['PolicyName']}[{index}]",
                effect=statement["Effect"],
                actions=tuple(_listed(statement.get("Action"))),
                resources=statement.get("Resource", "*"),
                conditions=statement.get("Condition") or {},
            )
            for listed in policies
            for policy in _chosen(listed, conditions)  # a policy under !If too (the operator's tracker list)
            for index, statement in enumerate(_listed(policy["PolicyDocument"]["Statement"]))
            for statement in _chosen(statement, conditions)
        )
    return found


def _chosen(statement: dict[str, Any], conditions: sam_template.Resolver) -> list[dict[str, Any]]:
    """The statement, or the branch of its `!If` the default parameters choose (none for AWS::NoValue)."""
    if "Fn::If" not in statement:
        return [statement]
    condition, if_true, if_false = statement["Fn::If"]
    branch = if_true if conditions.condition(condition) else if_false
    return [] if branch == {"Ref": "AWS::NoValue"} else [branch]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _environment_refs() -> dict[str, str]:
    """Which environment variable holds each resource's or parameter's name (TABLE_NAME holds `!Ref Table`):
    a test names its table, bucket and sender through them, so the policies are resolved through them too."""
    refs: dict[str, str] = {}
    for resource in template()["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for variable, value in ((resource["Properties"].get("Environment") or {}).get("Variables") or {}).items():
            if isinstance(value, dict) and "Fn::If" in value:
                value = next((branch for branch in value["Fn::If"][1:] if isinstance(branch, dict)), None)
            if isinstance(value, dict) and isinstance(value.get("Ref"), str):
                refs.setdefault(value["Ref"], variable)
    return refs


def environment_variables() -> frozenset[str]:
    """The variables a recorded call keeps: those the template's functions are given (from template.yaml)."""
    names: set[str] = set()
    for spec in sam_template.function_specs().values():
        names.update(spec.environment)
    return frozenset(names | {"STACK_NAME"})


class _CallResolver(sam_template.Resolver):
    """The template's values as one call saw them: a resource's name is what its environment variable said."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        super().__init__(template())
        self.environment = environment

    def _ref(self, name: str) -> Any:
        variable = _environment_refs().get(name)
        value = self.environment.get(variable) if variable else None
        if value is None and name == "AWS::StackName":
            value = "postmask"  # postmask.settings' default when STACK_NAME is unset
        if value is None:
            try:
                return super()._ref(name)
            except sam_template.UnresolvableError:
                return f"<{name}>"
        resource = self.template["Resources"].get(name, {})
        if resource.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Function"):
            return lambda_arn(value, self.pseudo_parameters["AWS::Region"])
        return value

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"].get(logical_id, {}).get("Type")
        region, account = self.pseudo_parameters["AWS::Region"], self.pseudo_parameters["AWS::AccountId"]
        if attribute == "Arn" and kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{region}:{account}:table/{self._ref(logical_id)}"
        if attribute == "Arn" and kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self._ref(logical_id)}"
        if attribute == "Arn" and kind == "AWS::Lambda::Function":
            return lambda_arn(str(self._ref(logical_id)), region)
        return f"<{logical_id}.{attribute}>"  # matches no ARN: a statement on it allows nothing here


@cache
def _template_tags(environment: tuple[tuple[str, str], ...]) -> dict[str, dict[str, str]]:
    """The tags the template gives its configuration sets, by the ARN the call saw (moto's sets, if any, are the
    test's, not the deployment's): ARN -> tags."""
    resolver = _CallResolver(dict(environment))
    found = {}
    for name, resource in template()["Resources"].items():
        if resource["Type"] == "AWS::SES::ConfigurationSet" and "Tags" in resource.get("Properties", {}):
            region, account = resolver.pseudo_parameters["AWS::Region"], resolver.pseudo_parameters["AWS::AccountId"]
            arn = f"arn:aws:ses:{region}:{account}:configuration-set/{resolver.resolve({'Ref': name})}"
            found[arn] = {tag["Key"]: str(tag["Value"]) for tag in resolver.resolve(resource["Properties"]["Tags"])}
    return found


def _with_template_tags(request: Request, environment: tuple[tuple[str, str], ...]) -> Request:
    tags = _template_tags(environment).get(request.resource)
    if not tags:
        return request
    context = {**request.context, **{f"aws:ResourceTag/{key}": (value,) for key, value in tags.items()}}
    return Request(request.action, request.resource, context)


@cache
def _resolved(function: str, environment: tuple[tuple[str, str], ...]) -> tuple[tuple[Statement, list[str], Any], ...]:
    resolver = _CallResolver(dict(environment))
    return tuple(
        (
            statement,
            [str(r) for r in _listed(resolver.resolve(statement.resources))],
            resolver.resolve(statement.conditions),
        )
        for statement in statements().get(function, ())
    )


# --- matching ----------------------------------------------------------------------------------------------


@cache
def _pattern(text: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(value: str, pattern: str) -> bool:
    return bool(_pattern(pattern).match(value))


def _matches(operator: str, value: str, wanted: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return value == wanted
    if operator in ("StringLike", "ArnLike"):
        return _like(value, wanted)
    if operator == "StringNotEquals":
        return value != wanted
    return not _like(value, wanted)  # StringNotLike


def _condition_holds(qualified: str, key: str, wanted: Any, request: Request) -> bool:
    if not KNOWN_KEYS.match(key):
        raise NotImplementedError(f"condition key {key}: the evaluator does not compute it (decision 0074)")
    quantifier, _, operator = qualified.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if operator not in _OPERATORS or quantifier not in ("", "ForAllValues", "ForAnyValue"):
        raise NotImplementedError(f"condition operator {qualified}: the evaluator does not know it (decision 0074)")
    wanted_values = [str(v) for v in _listed(wanted)]
    values = request.context.get(key)
    negated = operator.startswith("StringNot")

    def one(value: str) -> bool:
        results = [_matches(operator, value, w) for w in wanted_values]
        return all(results) if negated else any(results)

    if quantifier == "ForAllValues":
        return all(one(v) for v in values or ())  # true when the key is absent or empty, as in IAM
    if quantifier == "ForAnyValue":
        return any(one(v) for v in values or ())
    if not values:
        return if_exists or negated
    return any(one(v) for v in values)


def _statement_allows(statement: Statement, resources: list[str], conditions: Any, request: Request) -> str | None:
    """The action of `statement` that covers `request` (None if the statement does not apply to it)."""
    action = next((a for a in statement.actions if _pattern(a, ignore_case=True).match(request.action)), None)
    if action is None:
        return None
    if not any(_like(request.resource, resource) for resource in resources):
        return None
    for qualified, keys in conditions.items():
        for key, wanted in keys.items():
            if not _condition_holds(qualified, key, wanted, request):
                return None
    return action


@dataclass
class Verdict:
    call: Call
    denied: list[Request]


class Evaluator:
    """Evaluates calls, and remembers which statement and action allowed something."""

    def __init__(self) -> None:
        self.used: set[tuple[str, str, str]] = set()  # (function, statement id, action)
        self.functions_called: set[str] = set()

    def check(self, calls: Iterable[Call]) -> list[Verdict]:
        refused = []
        for call in calls:
            self.functions_called.add(call.function)
            environment = tuple(sorted(call.environment.items()))
            resolved = _resolved(call.function, environment)
            requests = [_with_template_tags(request, environment) for request in call.requests]
            denied = [request for request in requests if not self._allowed(call.function, resolved, request)]
            if denied or call.problem:
                refused.append(Verdict(call, denied))
        return refused

    def _allowed(self, function: str, resolved: Any, request: Request) -> bool:
        allowing = []
        for statement, resources, conditions in resolved:
            action = _statement_allows(statement, resources, conditions, request)
            if action is None:
                continue
            if statement.effect == "Deny":
                return False
            allowing.append((function, statement.id, action))
        self.used.update(allowing)
        return bool(allowing)

    def unused(self) -> dict[str, list[str]]:
        """For each function that made a call, its statements' actions that allowed none."""
        found: dict[str, list[str]] = {}
        for function in sorted(self.functions_called):
            for statement in statements().get(function, ()):
                if statement.effect != "Allow":
                    continue
                idle = [a for a in statement.actions if (function, statement.id, a) not in self.used]
                if idle:
                    found.setdefault(function, []).append(f"{statement.id}: {', '.join(idle)}")
        return found


def explain(verdict: Verdict) -> str:
    call = verdict.call
    lines = [f"{call.function} made {call.operation}, which its IAM statements in template.yaml would refuse:"]
    if call.problem:
        lines.append(f"  {call.problem}")
    lines += [f"  denied: {request.describe()}" for request in verdict.denied]
    lines.append("  (tests/support/iam_policy.py; the function's key families: docs/decisions/0074)")
    return "\n".join(lines)
