"""scripts/prune_versions.py against moto's Lambda: what an alias uses stays, older versions go."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest

from scripts.prune_versions import prune, unused_versions


def _function(name: str, versions: int) -> None:
    iam = boto3.client("iam")
    role = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lambda_ = boto3.client("lambda")
    for number in range(versions):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", f"def lambda_handler(event, context):\n    return {number}\n")
        if number == 0:
            lambda_.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": archive.getvalue()},
            )
        else:
            lambda_.update_function_code(FunctionName=name, ZipFile=archive.getvalue())
        lambda_.publish_version(FunctionName=name)


@pytest.mark.usefixtures("aws")
def test_only_versions_no_alias_uses_are_deleted_but_the_newest_kept() -> None:
    _function("postmask-MeFunction", versions=5)
    lambda_ = boto3.client("lambda")
    lambda_.create_alias(FunctionName="postmask-MeFunction", Name="live", FunctionVersion="4")
    lambda_.create_alias(
        FunctionName="postmask-MeFunction",
        Name="canary",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
    )
    assert unused_versions(lambda_, "postmask-MeFunction", keep=1) == ["3"]  # 5, the newest unaliased, is kept
    assert unused_versions(lambda_, "postmask-MeFunction", keep=0) == ["3", "5"]

    assert prune(lambda_, ["postmask-MeFunction"], keep=0, dry_run=True) == [
        "postmask-MeFunction:3",
        "postmask-MeFunction:5",
    ]
    assert unused_versions(lambda_, "postmask-MeFunction", keep=0) == ["3", "5"]  # a dry run deletes nothing

    assert prune(lambda_, ["postmask-MeFunction"], keep=0, dry_run=False) == [
        "postmask-MeFunction:3",
        "postmask-MeFunction:5",
    ]
    left = [v["Version"] for v in lambda_.list_versions_by_function(FunctionName="postmask-MeFunction")["Versions"]]
    assert sorted(left) == sorted(["$LATEST", "1", "2", "4"])
