"""What running postmask in a real account needs from the template: logs that expire, a runtime that changes only
with our deploys, SnapStart where it pays, alarms that reach AlarmEmail, SES identities no function can touch
unless this stack made them, and a stack name SES accepts in its rule names. Every check holds for functions
added later too."""

from __future__ import annotations

import copy
import hashlib
import marshal
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local import sam_template
from scripts import stack_name
from tests.support.cfn import resolved
from tests.support.transform import transformed

# What CloudWatch Logs accepts as a retention (PutRetentionPolicy).
CLOUDWATCH_RETENTIONS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922]
CLOUDWATCH_RETENTIONS += [3288, 3653]
TAG = "aws:ResourceTag/postmask:stack"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def _lambda_functions(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


# --- logs -----------------------------------------------------------------------------------------------------


def functions_without_expiring_logs(cfn: dict[str, Any]) -> list[str]:
    wrong = []
    for name, function in _lambda_functions(cfn).items():
        group = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        target = cfn["Resources"].get(group.get("Ref", "")) if isinstance(group, dict) else None
        if target is None or target["Type"] != "AWS::Logs::LogGroup":
            wrong.append(f"{name} logs to {group!r}: keep Globals.Function.LoggingConfig (the stack's log group)")
        elif target["Properties"].get("RetentionInDays") != {"Ref": "LogRetentionDays"}:
            wrong.append(f"{name} logs to {group['Ref']}, which keeps its logs forever")
    return wrong


def test_every_function_logs_to_a_group_of_the_stack_that_expires_its_logs(cfn: dict[str, Any]) -> None:
    assert functions_without_expiring_logs(cfn) == []
    parameter = cfn["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30
    assert parameter["AllowedValues"] == CLOUDWATCH_RETENTIONS
    group = cfn["Resources"]["FunctionLogs"]
    assert group["DeletionPolicy"] == "Delete"  # `sam delete` takes the logs with it
    assert not group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("aws/")  # Lambda refuses such a name


def test_a_function_logging_elsewhere_would_be_caught() -> None:
    template = copy.deepcopy(sam_template.load())
    template["Resources"]["MeFunction"]["Properties"]["LoggingConfig"] = {"LogGroup": "/aws/lambda/forever"}
    assert functions_without_expiring_logs(transformed(template)) == [
        "MeFunction logs to '/aws/lambda/forever': keep Globals.Function.LoggingConfig (the stack's log group)"
    ]


# --- runtime and SnapStart ------------------------------------------------------------------------------------


def test_the_runtime_changes_only_with_our_own_deploys(cfn: dict[str, Any]) -> None:
    for name, function in _lambda_functions(cfn).items():
        assert function["Properties"]["RuntimeManagementConfig"] == {"UpdateRuntimeOn": "FunctionUpdate"}, name


def test_snapstart_is_off_where_it_cannot_pay(cfn: dict[str, Any]) -> None:
    template = sam_template.load()
    off = {"AuthorizerFunction", "ForwarderFunction", "FeedbackFunction", "HealthFunction", "DocsFunction"}
    off |= {"SignInMailerFunction"}  # invoked asynchronously: no one waits on its cold start
    off |= {"DeadLettersFunction", "ReconcileFunction"}  # an SQS batch and a daily schedule: the same
    off |= {
        name
        for name, resource in template["Resources"].items()
        if str(resource.get("Properties", {}).get("CodeUri", "")).startswith("functions/web_")
    }
    for name, function in _lambda_functions(cfn).items():
        applies = function["Properties"]["SnapStart"]["ApplyOn"]
        if name in off:
            assert applies == "None", (
                f"{name}: give it  SnapStart: {{ApplyOn: None}}  (see the README's SnapStart cost)"
            )
        else:
            assert applies == {"Fn::FindInMap": ["SnapStart", {"Ref": "EnableSnapStart"}, "ApplyOn"]}, name


# --- alarms ---------------------------------------------------------------------------------------------------


def _alarm(cfn: dict[str, Any], namespace: str, metric: str, function: str | None = None) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for r in cfn["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and (r["Properties"]["Namespace"], r["Properties"]["MetricName"]) == (namespace, metric)
        and (function is None or r["Properties"]["Dimensions"][0]["Value"] == {"Ref": function})
    ]
    return found


def test_every_alarm_notifies_the_alarm_email(cfn: dict[str, Any]) -> None:
    alarms = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 6
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == {
            "Fn::If": ["AlarmEmailGiven", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]
        }
    assert cfn["Resources"]["AlarmTopic"]["Condition"] == "AlarmEmailGiven"
    assert cfn["Conditions"]["AlarmEmailGiven"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_the_forwarders_errors_and_throttles_are_alarmed(cfn: dict[str, Any], metric: str) -> None:
    alarm = _alarm(cfn, "AWS/Lambda", metric, "ForwarderFunction")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ForwarderFunction"}}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)


@pytest.mark.parametrize("function", ["FeedbackFunction", "SignInMailerFunction", "AuthorizerFunction"])
def test_a_lost_bounce_a_lost_sign_in_link_and_a_failing_authorizer_are_alarmed(
    cfn: dict[str, Any], function: str
) -> None:
    """The two asynchronous functions without a dead-letter queue drop an event after their retries, and the
    authorizer's failures are 5xx nobody would trace to it: each function's Errors are alarmed."""
    alarm = _alarm(cfn, "AWS/Lambda", "Errors", function)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)


def test_api_5xx_answers_are_alarmed(cfn: dict[str, Any]) -> None:
    alarm = _alarm(cfn, "AWS/ApiGateway", "5xx")  # the HTTP API's metric name (REST APIs say 5XXError)
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "Api"}}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)


@pytest.mark.parametrize(
    ("metric", "review_level"), [("Reputation.BounceRate", 0.05), ("Reputation.ComplaintRate", 0.001)]
)
def test_the_ses_reputation_is_alarmed_where_ses_starts_a_review(
    cfn: dict[str, Any], metric: str, review_level: float
) -> None:
    alarm = _alarm(cfn, "AWS/SES", metric)
    assert "Dimensions" not in alarm  # an account-wide metric
    assert alarm["Threshold"] == review_level
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert "Condition" not in next(
        r for r in cfn["Resources"].values() if r.get("Properties", {}).get("MetricName") == metric
    )  # sending (forwarded or system mail) happens with or without forwarding


# --- SES identities -------------------------------------------------------------------------------------------


def _statements(cfn: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for listed in resource["Properties"].get("Policies", []):
                # A conditional policy (Fn::If [condition, policy, AWS::NoValue]) counts as if its condition held.
                policy = listed["Fn::If"][1] if "Fn::If" in listed else listed
                for statement in policy["PolicyDocument"]["Statement"]:
                    found.append((name, statement))
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    listed = statement["Action"]
    return {listed} if isinstance(listed, str) else set(listed)


def identity_rights_without_the_tag(cfn: dict[str, Any]) -> list[str]:
    """Roles that may delete an SES identity not tagged by this stack, or create one without the tag."""
    wrong = []
    for role, statement in _statements(cfn):
        if statement["Effect"] != "Allow":
            continue
        actions = _actions(statement)
        condition = statement.get("Condition", {})
        modifies = actions & {
            "ses:DeleteEmailIdentity",
            "ses:PutEmailIdentityDkimSigningAttributes",
            "ses:PutEmailIdentityMailFromAttributes",
        }
        if modifies and condition.get("StringEquals", {}).get(TAG) != {"Ref": "AWS::StackName"}:
            wrong.append(f"{role} may change identities postmask did not create: add the {TAG} condition")
        if actions & {"ses:CreateEmailIdentity", "ses:TagResource"}:
            tagged = condition.get("StringEquals", {}).get("aws:RequestTag/postmask:stack") == {"Ref": "AWS::StackName"}
            only = condition.get("ForAllValues:StringEquals", {}).get("aws:TagKeys") == ["postmask:stack"]
            if not (tagged and only):
                wrong.append(f"{role} may create or tag identities without this stack's tag")
    return wrong


def test_only_identities_this_stack_created_can_be_deleted_and_new_ones_carry_its_tag(cfn: dict[str, Any]) -> None:
    assert identity_rights_without_the_tag(cfn) == []
    deleters = {role for role, statement in _statements(cfn) if "ses:DeleteEmailIdentity" in _actions(statement)}
    assert deleters == {
        "DomainsDeleteFunctionRole",
        "AdminDomainsDeleteFunctionRole",
        "DomainsCreateFunctionRole",
        "MeDeleteFunctionRole",  # an account deleted takes its domains' identities with it
    }


def test_only_registration_sets_a_custom_mail_from_and_only_on_this_stacks_identities(cfn: dict[str, Any]) -> None:
    setters = [
        (role, statement)
        for role, statement in _statements(cfn)
        if "ses:PutEmailIdentityMailFromAttributes" in _actions(statement)
    ]
    assert [role for role, _ in setters] == ["DomainsCreateFunctionRole"]  # decision 0085
    ((_, statement),) = setters
    assert statement["Condition"] == {"StringEquals": {TAG: {"Ref": "AWS::StackName"}}}


def test_an_untagged_deletion_right_would_be_caught() -> None:
    template = copy.deepcopy(sam_template.load())
    template["Resources"]["MeFunction"]["Properties"]["Policies"][0]["Statement"].append(
        {"Effect": "Allow", "Action": ["ses:DeleteEmailIdentity"], "Resource": "*"}
    )
    assert identity_rights_without_the_tag(transformed(template)) == [
        f"MeFunctionRole may change identities postmask did not create: add the {TAG} condition"
    ]


# --- the stack's name -------------------------------------------------------------------------------------------


def test_the_longest_stack_name_keeps_every_ses_rule_name_within_its_limit() -> None:
    suffixes = stack_name.ses_name_suffixes()
    assert suffixes == {"-inbound", "-forward"}
    limit = stack_name.max_length()
    assert limit == stack_name.SES_NAME_LIMIT - max(map(len, suffixes))
    assert stack_name.problem("p" * limit) is None
    assert "at most" in (stack_name.problem("p" * (limit + 1)) or "")


# --- a reproducible layer -----------------------------------------------------------------------------------


def _layer_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _build(layer: str, source: Path, artifacts: Path) -> None:
    shutil.copytree(sam_template.ROOT / "layers" / layer, source)
    subprocess.run(
        ["make", "-s", f"build-{layer.capitalize()}Layer", f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}"],
        cwd=source,
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_a_layer_built_in_two_checkouts_is_the_same_layer(tmp_path: Path) -> None:
    """Bytecode names its source file: built where the checkout happens to be, every deploy from another path
    would publish a new layer, and so a new version of every function (decision 0050). The web layer, as the
    common one: the same recipe, fewer wheels to fetch."""
    _build("web", tmp_path / "one" / "web", tmp_path / "one-out")
    _build("web", tmp_path / "elsewhere" / "a-longer-path" / "web", tmp_path / "two-out")
    assert _layer_digest(tmp_path / "one-out") == _layer_digest(tmp_path / "two-out")
    compiled = next((tmp_path / "one-out" / "python" / "postmask_web").rglob("*.pyc"))
    code = marshal.loads(compiled.read_bytes()[16:])  # noqa: S302 - bytecode this test just built
    assert code.co_filename.startswith("/opt/python/postmask_web/")


@pytest.mark.parametrize("layer", ["common", "web"])
def test_each_layers_bytecode_names_where_lambda_unpacks_it(layer: str) -> None:
    makefile = (sam_template.ROOT / "layers" / layer / "Makefile").read_text(encoding="utf-8")
    assert '-s "$(SITE)" -p /opt/python' in makefile


# --- operations the review found missing (issue 26) ---------------------------------------------------------


@pytest.mark.parametrize(("given", "reserved"), [({}, False), ({"ForwarderReservedConcurrency": "5"}, True)])
def test_the_forwarders_concurrency_is_reserved_only_when_asked(given: dict[str, str], reserved: bool) -> None:
    forwarder = resolved(given)["Resources"]["ForwarderFunction"]["Properties"]
    # 0, the default: none reserved (a new account's limit of 10 cannot reserve any); else the parameter's value.
    assert ("ReservedConcurrentExecutions" in forwarder) is reserved
    if reserved:
        assert forwarder["ReservedConcurrentExecutions"] == {"Ref": "ForwarderReservedConcurrency"}


@pytest.mark.parametrize(("given", "protected"), [({}, True), ({"TableDeletionProtection": "false"}, False)])
def test_the_table_refuses_deletion_unless_told(given: dict[str, str], protected: bool) -> None:
    assert resolved(given)["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"] is protected


def test_the_mail_bucket_refuses_requests_without_tls(cfn: dict[str, Any]) -> None:
    statements = cfn["Resources"]["MailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert (deny["Principal"], deny["Action"]) == ("*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["MailBucket", "Arn"]}, {"Fn::Sub": "${MailBucket.Arn}/*"}]


def test_forwarding_is_refused_before_anything_is_created_where_ses_cannot_receive_mail() -> None:
    """The Rules assertion lists the regions the README names (SES receiving, S3 delivery, not opt-in)."""
    rule = sam_template.load()["Rules"]["ForwardingNeedsAReceivingRegion"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "EnableForwarding"}, "true"]}
    ((assertion),) = rule["Assertions"]
    regions, region = assertion["Assert"]["Fn::Contains"]
    assert region == {"Ref": "AWS::Region"}
    readme = (sam_template.ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Regions that receive mail", 1)[1].split("###", 1)[0]
    listed = set(re.findall(r"\b[a-z]{2}-[a-z]+-\d\b", section.split("That leaves", 1)[1].split("Check", 1)[0]))
    assert set(regions) == listed
    assert "ap-southeast-3" not in regions  # Jakarta receives mail, but not into S3 (an opt-in region)


def test_each_stack_has_its_own_service_name_and_metrics_namespace() -> None:
    variables = sam_template.load()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::Sub": "Postmask/${AWS::StackName}"}
