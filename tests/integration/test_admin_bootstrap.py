"""`make admin`: the first admin of a deployed stack, found through the stack's outputs."""

from __future__ import annotations

import json

import boto3
import pytest

from postmask.settings import get_settings
from scripts import admin
from tests.support.api import Client

STACK_TEMPLATE = {
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "postmask-test",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            },
        }
    },
    "Outputs": {"TableName": {"Value": {"Ref": "Table"}}},
}


@pytest.fixture
def deployed_stack(aws: None) -> str:
    boto3.client("cloudformation").create_stack(StackName="my-postmask", TemplateBody=json.dumps(STACK_TEMPLATE))
    return "my-postmask"


def test_admin_bootstrap_prints_a_working_admin_token(deployed_stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin.main(["--email", "Me@Example.org", "--stack", deployed_stack]) == 0

    token = capsys.readouterr().out.strip().splitlines()[-1]
    get_settings.cache_clear()
    me = Client(token).get("/api/me")
    assert me.status == 200
    assert me.json()["is_admin"] is True
    assert me.json()["email"] == "Me@example.org"


def test_a_second_bootstrap_for_the_same_email_is_refused(
    deployed_stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin.main(["--email", "me@example.org", "--stack", deployed_stack]) == 0
    assert admin.main(["--email", "me@example.org", "--stack", deployed_stack]) == 1
    assert "already has an account" in capsys.readouterr().err


def test_a_stack_without_the_output_is_a_clear_error(aws: None) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="other", TemplateBody=json.dumps({**STACK_TEMPLATE, "Outputs": {}})
    )
    with pytest.raises(SystemExit, match="no TableName output"):
        admin.main(["--email", "me@example.org", "--stack", "other"])
