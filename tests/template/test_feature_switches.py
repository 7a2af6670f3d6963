"""The deploy-time switches, EnableWeb and EnableForwarding: every combination transforms, leaves no reference
to a resource it removed, lints cleanly as deployed, and keeps the whole JSON API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from itertools import product
from typing import Any

import pytest

from local.sam_template import ROOT, load
from tests.support.cfn import dangling_references, deployed, resolved

SWITCHES = ["EnableWeb", "EnableForwarding"]
COMBINATIONS = [dict(zip(SWITCHES, values, strict=True)) for values in product(["true", "false"], repeat=2)]
IDS = [f"web={c['EnableWeb']},forwarding={c['EnableForwarding']}" for c in COMBINATIONS]
# cfn-lint checks the template as deployed; a parameter only used by a removed resource is expected there.
LINT_IGNORED = {"W2001"}


def api_functions() -> set[str]:
    """Every function that serves a route under /api, per template.yaml."""
    return {
        name
        for name, resource in load()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(
            event.get("Type") == "HttpApi" and str(event["Properties"].get("Path", "")).startswith("/api")
            for event in (resource["Properties"].get("Events") or {}).values()
        )
    }


def web_resources() -> set[str]:
    return {
        name
        for name, resource in load()["Resources"].items()
        if str(resource.get("Properties", {}).get("CodeUri", "")).startswith("functions/web_")
        or str(resource.get("Properties", {}).get("ContentUri", "")).startswith("layers/web")
    }


def test_both_switches_are_true_false_parameters_defaulting_to_on() -> None:
    parameters = load()["Parameters"]
    for switch in SWITCHES:
        if switch not in parameters:
            pytest.skip(f"{switch} is declared by the branch that adds its resources")
        assert (parameters[switch]["AllowedValues"], parameters[switch]["Default"]) == (["true", "false"], "true")


@pytest.mark.parametrize("switches", COMBINATIONS, ids=IDS)
def test_every_combination_keeps_the_api_and_leaves_nothing_dangling(switches: dict[str, str]) -> None:
    stack = deployed(switches)
    assert dangling_references(stack, switches) == {}
    assert api_functions() <= set(stack.resources)
    assert {"Api", "AuthorizerFunction", "Table"} <= set(stack.resources)
    assert any(name.startswith("CommonLayer") for name in stack.resources)  # SAM suffixes a layer's logical id
    forwarding = {"MailBucket", "ForwarderFunction", "ForwardRule", "ForwarderDeadLetterQueue"}
    if switches["EnableForwarding"] == "true":
        assert forwarding <= set(stack.resources)
    else:
        assert forwarding.isdisjoint(stack.resources)
    # SAM suffixes a layer's logical id with a hash: compare by prefix.
    deployed_web = {name for name in web_resources() if any(kept.startswith(name) for kept in stack.resources)}
    if switches["EnableWeb"] == "false":
        assert deployed_web == set()
    else:
        assert deployed_web == web_resources()


@pytest.mark.parametrize("switches", COMBINATIONS, ids=IDS)
def test_every_combination_lints_cleanly_as_deployed(switches: dict[str, str]) -> None:
    import cfnlint.api

    template = resolved(switches)
    findings = [
        f"{match.rule.id} {match.message} ({'/'.join(str(part) for part in match.path)})"
        for match in cfnlint.api.lint(json.dumps(template), regions=[os.environ["AWS_DEFAULT_REGION"]])
        if match.rule.id not in LINT_IGNORED
    ]
    assert findings == []


@pytest.mark.slow
def test_the_source_template_passes_the_project_linters() -> None:
    """What `make template-check` runs: sam validate --lint and cfn-lint, on template.yaml itself."""
    venv_bin = ROOT / ".venv" / "bin"
    sam, cfn_lint = (shutil.which(tool, path=str(venv_bin)) or shutil.which(tool) for tool in ("sam", "cfn-lint"))
    if sam is None or cfn_lint is None:
        pytest.skip("sam / cfn-lint are not installed")
    env: dict[str, Any] = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-1"}
    for command in ([sam, "validate", "--lint"], [cfn_lint, "template.yaml"]):
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
