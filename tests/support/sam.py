"""template.yaml as CloudFormation sees it after the SAM transform: the IAM roles, layers and routes that
`sam deploy` would create, so tests can assert on what is deployed rather than on what the template says."""

from __future__ import annotations

import copy
import os
from functools import cache
from typing import Any

from local import sam_template


class _NoManagedPolicies:
    """The template names no managed policy by short name, so there is nothing to look up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(sam_template.load())
    # `sam validate` does the same: local code folders become S3 locations before the transform.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/function.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    result: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    return result
