"""env.json, for `sam local start-api --env-vars env.json` against DynamoDB Local (needs Docker, so the
recipe itself is not run here): checked as far as it can be without Docker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local import sam_template
from local.resources import physical_name

ENV_JSON = sam_template.ROOT / "env.json"


@pytest.fixture(scope="module")
def env_json() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(ENV_JSON.read_text())
    return data


def declared_variables(function: str) -> set[str]:
    return set(sam_template.function_specs()[function].environment)


def test_env_json_names_only_functions_of_the_template(env_json: dict[str, Any]) -> None:
    functions = set(sam_template.functions())
    assert set(env_json) - {"Parameters"} <= functions


def test_every_variable_it_sets_is_declared_in_the_template(env_json: dict[str, dict[str, str]]) -> None:
    """sam local ignores a variable the template does not declare: such a line would silently do nothing."""
    for function in sam_template.functions():
        wanted = set(env_json.get("Parameters", {})) | set(env_json.get(function, {}))
        assert wanted <= declared_variables(function), f"{function}: {wanted - declared_variables(function)}"


def test_its_table_is_the_one_python_m_local_resources_creates(env_json: dict[str, dict[str, str]]) -> None:
    assert env_json["Parameters"]["TABLE_NAME"] == physical_name("Table")


def test_sam_local_gives_every_function_the_local_endpoint_and_table(
    env_json: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SAM CLI's own code computes each function's environment from template.yaml and env.json."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    monkeypatch.chdir(sam_template.ROOT)
    stacks, _ = SamLocalStackProvider.get_stacks(str(sam_template.TEMPLATE))
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(
        local_runtime=None,  # only the environment is computed: nothing runs
        function_provider=provider,
        cwd=str(sam_template.ROOT),
        real_path=str(sam_template.ROOT),
        env_vars_values=env_json,
        aws_region="eu-west-1",
    )
    functions = list(provider.get_all())
    assert {function.name for function in functions} == set(sam_template.functions())
    for function in functions:
        environment = runner._make_env_vars(function).resolve()
        assert environment["TABLE_NAME"] == physical_name("Table"), function.name
        assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == env_json["Parameters"]["AWS_ENDPOINT_URL_DYNAMODB"]
