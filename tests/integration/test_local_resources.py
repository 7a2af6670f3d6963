"""The local stack's resources: made from template.yaml on whatever endpoint boto3 points at."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from local import sam_template
from local.aws import EmbeddedAws
from local.resources import create_admin, main, physical_name, provision
from postmask.settings import get_settings
from postmask.store import _dynamo, tokens


def test_provision_creates_the_table_and_bucket_from_the_template_and_names_them(aws: None) -> None:
    local = provision()

    table = boto3.client("dynamodb").describe_table(TableName=local.name("Table"))["Table"]
    template_table = sam_template.load()["Resources"]["Table"]["Properties"]
    assert local.name("Table") == physical_name("Table") == "postmask-local-table"
    assert table["KeySchema"] == template_table["KeySchema"]
    assert table["AttributeDefinitions"] == template_table["AttributeDefinitions"]
    assert local.created == ["Table", "MailBucket", "MailConfigurationSet"]
    assert boto3.client("s3").head_bucket(Bucket=local.name("MailBucket"))["ResponseMetadata"]["HTTPStatusCode"] == 200
    # every send names it (CONFIGURATION_SET); SES refuses a send naming one that does not exist
    sesv2 = boto3.client("sesv2")
    assert sesv2.get_configuration_set(ConfigurationSetName=local.name("MailConfigurationSet"))["ConfigurationSetName"]
    assert local.resolver.attributes[("Table", "Arn")] == table["TableArn"]


def test_function_environments_are_the_templates_with_local_names(aws: None) -> None:
    local = provision(parameters={"LogLevel": "DEBUG"})
    spec = sam_template.function_specs(parameters={"LogLevel": "DEBUG"})["AliasesCreateFunction"]

    assert local.function_environment(spec) == {
        "TABLE_NAME": "postmask-local-table",
        "POWERTOOLS_SERVICE_NAME": "postmask-local",  # per stack: two stacks' metrics stay apart
        "POWERTOOLS_METRICS_NAMESPACE": "Postmask/postmask-local",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        **{f"AWS_ENDPOINT_URL_{service}": "" for service in ("DYNAMODB", "S3", "SESV2", "SES", "LAMBDA", "SQS")},
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "SENDER_ADDRESS": "",
        "PUBLIC_URL": "",
        "CONFIGURATION_SET": "postmask-local-mailconfigurationset",
        "MAX_ALIASES_PER_USER": "10000",
    }


@pytest.mark.parametrize(("given", "kept"), [({}, "30"), ({"ActivityRetentionDays": "7"}, "7")])
def test_the_local_stack_keeps_activity_as_long_as_the_parameter_says(
    aws: None, given: dict[str, str], kept: str
) -> None:
    """`make run --parameter ActivityRetentionDays=7`: the functions that write events get it, as deployed."""
    local = provision(parameters=given)
    specs = sam_template.function_specs(parameters=given)
    for writer in ("ForwarderFunction", "FeedbackFunction"):
        assert local.function_environment(specs[writer])["ACTIVITY_RETENTION_DAYS"] == kept


def test_provisioning_again_keeps_what_is_there(aws: None) -> None:
    provision()
    boto3.client("dynamodb").put_item(TableName=physical_name("Table"), Item={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}})

    provision()

    item = boto3.client("dynamodb").get_item(
        TableName=physical_name("Table"), Key={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}}
    )
    assert "Item" in item


@pytest.fixture
def dynamodb_local(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server standing in for DynamoDB Local; the environment is restored afterwards."""
    server = EmbeddedAws()
    server.start()
    for name in ("AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "POSTMASK_DEV_TOKEN"):
        monkeypatch.setenv(name, "")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TABLE_NAME"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    _dynamo.client.cache_clear()
    get_settings.cache_clear()
    yield server.url
    _dynamo.client.cache_clear()
    get_settings.cache_clear()
    server.stop()


def test_python_m_local_resources_prepares_dynamodb_local_once(
    dynamodb_local: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POSTMASK_DEV_TOKEN", "pm_sam_local_dev")

    assert main(["--endpoint-url", dynamodb_local]) == 0
    first = capsys.readouterr().out
    assert main(["--endpoint-url", dynamodb_local]) == 0
    second = capsys.readouterr().out

    assert f"table postmask-local-table ready at {dynamodb_local}" in first
    assert "token: pm_sam_local_dev" in first
    assert "already exists" in second
    caller = tokens.authenticate("pm_sam_local_dev")
    assert caller is not None
    assert caller.is_admin is True


def test_create_admin_generates_a_token_when_none_is_given(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", os.environ["TABLE_NAME"])  # create_admin points TABLE_NAME at its table
    local = provision()

    token = create_admin(local.name("Table"), None)

    assert token is not None
    assert token.startswith("pm_")
    assert create_admin(local.name("Table"), None) is None  # one admin per e-mail address


def test_a_reference_to_a_functions_alias_is_its_local_arn_with_the_alias(aws: None) -> None:
    local = provision()
    spec = sam_template.function_specs()["SessionsCreateFunction"]

    mailer = local.function_environment(spec)["SIGNIN_MAILER"]

    assert mailer == f"{local.resolver.attributes[('SignInMailerFunction', 'Arn')]}:live"
    assert mailer.split(":")[6] == local.name("SignInMailerFunction")
