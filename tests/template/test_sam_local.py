"""`make sam-local` (`sam local start-api` and `start-lambda` with `--env-vars env.json`), checked without Docker:
SAM CLI 1.170's own providers read template.yaml as `start-api` does (its API provider for the routes, its
function provider and environment resolution for each container's variables), and what they give is compared
with what `make run` gives, which the end-to-end tests exercise. Generic over every function and route, so a
function added later is covered, or fails here until env.json names what it needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from local import sam_template
from local.lambdas import function_name
from local.resources import LocalResources, physical_name, provision
from local.sam_local import CONTAINER_HOST, ENDPOINT_PREFIX, aws_endpoint, load_env_json
from local.stack import local_parameters

SERVICE_CLIENT = re.compile(r"""new_client\(\s*["']([a-z0-9-]+)["']""")


@pytest.fixture(scope="module")
def env_json() -> dict[str, dict[str, str]]:
    return load_env_json()


@pytest.fixture(scope="module")
def sam_stacks() -> Any:
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(str(sam_template.TEMPLATE))
    return stacks


@pytest.fixture(scope="module")
def sam_functions(sam_stacks: Any) -> Any:
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider

    return SamFunctionProvider(sam_stacks)


@pytest.fixture(scope="module")
def sam_environments(sam_functions: Any, env_json: dict[str, dict[str, str]]) -> Iterator[dict[str, dict[str, str]]]:
    """Each function's variables as `sam local start-api --env-vars env.json` gives its container."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner

    runner = LocalLambdaRunner(
        local_runtime=None,  # only the environment is computed: nothing runs
        function_provider=sam_functions,
        cwd=str(sam_template.ROOT),
        real_path=str(sam_template.ROOT),
        env_vars_values=env_json,
        aws_region="eu-west-1",
    )
    return {function.name: runner._make_env_vars(function).resolve() for function in sam_functions.get_all()}


@pytest.fixture(scope="module")
def make_run() -> Iterator[LocalResources]:
    """The resources `make run` (and `make sam-local`) provisions, with their names, in a moto of its own."""
    from moto import mock_aws

    with mock_aws():
        yield provision(parameters=local_parameters("127.0.0.1", 3000), region="eu-west-1")


def test_env_json_names_only_functions_of_the_template(env_json: dict[str, Any]) -> None:
    assert set(env_json) - {"Parameters"} <= set(sam_template.functions())


def test_every_variable_it_sets_is_declared_by_a_function(env_json: dict[str, dict[str, str]]) -> None:
    """sam local ignores a variable the template does not declare: such a line would silently do nothing."""
    declared = {name for spec in sam_template.function_specs().values() for name in spec.environment}
    assert set(env_json["Parameters"]) <= declared
    for function, variables in env_json.items():
        if function != "Parameters":
            assert set(variables) <= set(sam_template.function_specs()[function].environment), function


def test_every_aws_service_the_code_calls_has_its_endpoint_declared_and_pointed_at_one_local_server(
    env_json: dict[str, dict[str, str]],
) -> None:
    """Nothing reaches AWS: every client the layer or a function makes (`aws.new_client("<service>")`) reads an
    AWS_ENDPOINT_URL_<SERVICE> that the template declares and env.json points at the containers' host."""
    from botocore.configprovider import ConfiguredEndpointProvider

    services = {
        service
        for folder in ("layers", "functions")
        for path in (sam_template.ROOT / folder).rglob("*.py")
        for service in SERVICE_CLIENT.findall(path.read_text(encoding="utf-8"))
    }
    assert {"dynamodb", "s3", "sesv2", "lambda"} <= services
    declared = set(sam_template.load()["Globals"]["Function"]["Environment"]["Variables"])
    endpoint = aws_endpoint(env_json)
    assert urlsplit(endpoint).hostname == CONTAINER_HOST
    for service in services:
        # botocore's own name for the variable (its service id, upper case, spaces and dashes as underscores)
        variable = ConfiguredEndpointProvider({}, {}, service)._get_service_env_var_name()
        assert variable in declared, f"{service}: Globals must declare {variable}"
        assert env_json["Parameters"].get(variable) == endpoint, f"{service}: env.json must set {variable}"


def test_sam_serves_every_route_with_its_function_behind_the_authorizer(sam_stacks: Any, sam_functions: Any) -> None:
    """What `start-api` routes (its ApiProvider) is what `make run` routes: same method, path, function, and the
    same Lambda authorizer in front of every route that is not public."""
    from samcli.lib.providers.api_provider import ApiProvider

    served = set()
    for route in ApiProvider(sam_stacks).api.routes:
        authorizer = route.authorizer_object
        assert sam_functions.get(route.function_name) is not None, route.function_name
        if authorizer is not None:  # as API Gateway runs ours: payload 2.0, simple responses, its identity header
            assert (authorizer.payload_version, authorizer.use_simple_response) == ("2.0", True), route.path
            identity = tuple(source.identity_source.lower() for source in authorizer.identity_sources)
        for method in set(route.methods) - {"OPTIONS"}:  # SAM CLI answers OPTIONS on every route itself
            served.add(
                (method, route.path, route.function_name, (authorizer.lambda_name, identity) if authorizer else None)
            )
    expected = {
        (
            route.method,
            route.path,
            route.function,
            (route.authorizer.function, route.authorizer.identity_headers) if route.authorizer else None,
        )
        for route in sam_template.routes()
    }
    assert len(expected) > 40
    assert served == expected
    public = {(method, path) for method, path, _, authorizer in served if authorizer is None}
    assert ("GET", "/api/health") in public
    assert ("GET", "/api/me") not in public


def test_every_function_gets_make_runs_environment_with_the_local_endpoints(
    sam_environments: dict[str, dict[str, str]], make_run: LocalResources, env_json: dict[str, dict[str, str]]
) -> None:
    """Each container's variables are those `make run` gives the function (a table, a bucket, a configuration set,
    the mailer that exist locally), except that every AWS endpoint names the local server."""
    specs = sam_template.function_specs(parameters=local_parameters("127.0.0.1", 3000))
    assert set(sam_environments) == set(specs)
    endpoint = aws_endpoint(env_json)
    for name, spec in specs.items():
        expected = make_run.function_environment(spec)
        expected.update({variable: endpoint for variable in expected if variable.startswith(ENDPOINT_PREFIX)})
        got = {variable: sam_environments[name][variable] for variable in expected}
        assert got == expected, f"{name}: env.json must set {sorted(k for k in got if got[k] != expected[k])}"


def test_no_variable_names_an_unresolved_resource(sam_environments: dict[str, dict[str, str]]) -> None:
    """What sam local cannot resolve it leaves as the logical id (`SignInMailerFunction.Alias`,
    `MailConfigurationSet`, `https://Api.execute-api...`) or blank: none may be left."""
    resources = sam_template.load()["Resources"]
    logical_id = re.compile(r"\b(" + "|".join(map(re.escape, resources)) + r")\b")
    for name, spec in sam_template.function_specs().items():
        for variable in spec.environment:  # the template's (SAM CLI's own name the function by its logical id)
            value = sam_environments[name][variable]
            assert not logical_id.search(value), f"{name}: {variable}={value}"
            assert "${" not in value, f"{name}: {variable}={value}"


def test_every_function_a_variable_names_is_one_start_lambda_runs(
    sam_environments: dict[str, dict[str, str]], sam_functions: Any
) -> None:
    """A variable naming a function (the sign-in mailer's alias) reaches moto's Lambda, which hands the call to
    `sam local start-lambda` by logical id (local/sam_local.py): the name must lead to the function the template's
    `!Ref` names."""
    names = {physical_name(logical_id): logical_id for logical_id in sam_template.functions()}
    template = sam_template.load()
    checked = 0
    for name, spec in sam_template.function_specs().items():
        for variable, value in spec.environment.items():
            target = _function_referenced(value, template)
            if target is None:
                continue
            invoked = names.get(function_name(sam_environments[name][variable]))
            assert invoked == target, f"{name}: {variable} reaches {invoked}, not {target}"
            assert sam_functions.get(invoked) is not None
            checked += 1
    assert checked >= 1  # SessionsCreateFunction's SIGNIN_MAILER


def _function_referenced(value: Any, template: dict[str, Any]) -> str | None:
    """`X` for `!Ref X.Alias`, `!Ref X` or `!GetAtt X.Arn` where X is a function of the template."""
    if not isinstance(value, dict):
        return None
    reference = value.get("Ref") or value.get("Fn::GetAtt")
    if isinstance(reference, list):
        reference = reference[0]
    if not isinstance(reference, str):
        return None
    logical_id = reference.split(".")[0]
    resource = template["Resources"].get(logical_id, {})
    return logical_id if resource.get("Type") == "AWS::Serverless::Function" else None
