"""`make admin`: the first admin of a deployed stack, found through the stack's outputs."""

from __future__ import annotations

import json
from pathlib import Path

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


# --- which region and stack: the user's, never one forced on them (issue 14) --------------------------------


def _samconfig(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(body, encoding="utf-8")
    return path


SAVED_BY_GUIDED_DEPLOY = """version = 0.1
[default.global.parameters]
stack_name = "postmask"
[default.deploy.parameters]
stack_name = "mail-aliases"
region = "us-west-2"
"""


def test_the_region_is_yours_before_samconfigs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samconfig = _samconfig(tmp_path, SAVED_BY_GUIDED_DEPLOY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    assert admin.region_of(None, samconfig) == "ca-central-1"
    assert admin.region_of("eu-west-2", samconfig) == "eu-west-2"


def test_without_a_region_of_yours_the_one_sam_deploy_saved_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samconfig = _samconfig(tmp_path, SAVED_BY_GUIDED_DEPLOY)
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    assert admin.region_of(None, samconfig) == "us-west-2"
    assert admin.stack_of(None, samconfig) == "mail-aliases"
    with pytest.raises(SystemExit, match="no AWS region"):
        admin.region_of(None, tmp_path / "missing.toml")


def test_the_stack_defaults_to_samconfigs_then_postmask(tmp_path: Path) -> None:
    assert admin.stack_of("given", _samconfig(tmp_path, SAVED_BY_GUIDED_DEPLOY)) == "given"
    assert admin.stack_of(None, tmp_path / "missing.toml") == "postmask"


def test_the_makefile_forces_a_region_only_on_offline_checks() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "export AWS_DEFAULT_REGION" not in makefile
    targets = {}
    for block in makefile.split("\n\n"):
        for line in block.splitlines():
            if line and not line.startswith(("\t", "#", " ")) and ":" in line and "=" not in line.split(":")[0]:
                targets[line.split(":")[0]] = block
    for name in ("deploy", "admin", "build"):
        assert "OFFLINE_REGION" not in targets[name], name
    for name in ("test", "template-check"):
        assert "OFFLINE_REGION" in targets[name], name
