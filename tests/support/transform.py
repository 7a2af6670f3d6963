"""template.yaml transformed by samtranslator in-process: the CloudFormation that `sam deploy` would create."""

from __future__ import annotations

import copy
import os
from typing import Any

from local import sam_template


class _NoManagedPolicies:
    """We use inline statements only; SAM asks the loader just for named managed policies."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` does to local paths: point them at S3 (the transform accepts nothing else)."""
    result = copy.deepcopy(template)
    for name, resource in result["Resources"].items():
        props = resource.get("Properties", {})
        for field in ("CodeUri", "ContentUri"):
            if isinstance(props.get(field), str):
                props[field] = f"s3://postmask-artifacts/{name}.zip"
    return result


def transformed(template: dict[str, Any] | None = None, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    source = packaged(template or sam_template.load())
    return transform(source, {"AWS::Region": "eu-west-1", **(parameters or {})}, _NoManagedPolicies())
