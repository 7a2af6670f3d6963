"""The destinations part of template.yaml: the routes' least privilege, the configuration set every send names,
its bounce and complaint events, the feedback function, the system-mail parameters, and the switch."""

from __future__ import annotations

from typing import Any

import pytest

from local.sam_template import load
from tests.support.cfn import deployed, resolved, transformed

SENDERS = (
    "AliasesCreateFunction",
    "AliasesReplaceFunction",
    "AliasesUpdateFunction",
    "DomainsCreateFunction",
    "DomainsUpdateFunction",
    "DestinationsCreateFunction",
    "DestinationsResendFunction",
    "SignInMailerFunction",  # sign-in links (tests/template/test_sessions_template.py)
    "ImportCreateFunction",  # verification links for the destinations an import names
    "AliasRandomNewFunction",  # the compatible routes (issue 33): a default destination deleted since is new again
    "V1AliasesCreateFunction",
)
CONFIG_SET_ARN = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/*"
STACK_TAG = {"StringEquals": {"aws:ResourceTag/postmask:stack": {"Ref": "AWS::StackName"}}}


def props(name: str) -> dict[str, Any]:
    found: dict[str, Any] = load()["Resources"][name]["Properties"]
    return found


def statements(name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = props(name)["Policies"][0]["Statement"]
    return found


def actions(name: str) -> set[str]:
    return {action for statement in statements(name) for action in statement["Action"]}


def test_system_mail_parameters_default_to_empty_and_say_when_to_set_them() -> None:
    parameters = load()["Parameters"]
    for name in ("SenderAddress", "PublicUrl"):
        assert parameters[name]["Default"] == ""
        assert len(parameters[name]["Description"]) > 80
    # Only the functions that send mail read them (a change republishes those alone).
    for name in SENDERS:
        variables = props(name)["Environment"]["Variables"]
        assert variables["SENDER_ADDRESS"] == {"Ref": "SenderAddress"}, name
        assert variables["PUBLIC_URL"] == {"Ref": "PublicUrl"}, name
        assert variables["CONFIGURATION_SET"] == {
            "Fn::If": ["ForwardingEnabled", {"Ref": "MailConfigurationSet"}, ""]
        }, name
    assert "SENDER_ADDRESS" not in load()["Globals"]["Function"]["Environment"]["Variables"]
    forwarder = props("ForwarderFunction")["Environment"]["Variables"]
    assert forwarder["CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
    assert forwarder["PUBLIC_URL"]["Fn::If"][0] == "HasPublicUrl"  # not behind the API: the URL spelt out


def test_every_sender_may_send_with_the_configuration_set() -> None:
    senders = [
        name
        for name, resource in load()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and "ses:SendEmail" in actions_or_none(name)
    ]
    # The quarantine's resend sends a copy as the forwarder does, the dead-letter reader the quarantine's notice
    # (tests/template/test_quarantine_template.py).
    assert set(senders) == {*SENDERS, "ForwarderFunction", "QuarantineResendFunction", "DeadLettersFunction"}
    for name in senders:
        # Configuration sets of this stack only: the set carries the stack's tag, as its identities do (decision 0076).
        allowed = str(
            [
                statement["Resource"]
                for statement in statements(name)
                if "ses:SendEmail" in statement["Action"] and statement.get("Condition") == STACK_TAG
            ]
        )
        assert CONFIG_SET_ARN in allowed, f"{name} sends without being allowed the configuration set"
    tags = load()["Resources"]["MailConfigurationSet"]["Properties"]["Tags"]
    assert tags == [{"Key": "postmask:stack", "Value": {"Ref": "AWS::StackName"}}]


def actions_or_none(name: str) -> set[str]:
    # A conditional policy (Fn::If [condition, policy, AWS::NoValue]) counts as if its condition held.
    policies = [p["Fn::If"][1] if "Fn::If" in p else p for p in props(name).get("Policies") or []]
    return {action for policy in policies for statement in policy["Statement"] for action in statement["Action"]}


def test_the_public_verify_route_reads_links_and_marks_destinations_and_nothing_else() -> None:
    granted = [
        (statement["Action"], statement.get("Condition")) for statement in statements("DestinationsVerifyFunction")
    ]
    assert granted == [
        (["dynamodb:GetItem"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["VERIFY#*"]}}),
        (["dynamodb:UpdateItem"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DEST#*"]}}),
    ]


@pytest.mark.parametrize(
    ("function", "allowed"),
    [
        ("DestinationsListFunction", {"dynamodb:Query"}),
        ("DestinationsGetFunction", {"dynamodb:GetItem"}),
        ("DestinationsDeleteFunction", {"dynamodb:DeleteItem"}),
    ],
)
def test_the_plain_routes_get_only_what_they_do(function: str, allowed: set[str]) -> None:
    assert actions(function) == allowed


def test_bounces_and_complaints_of_the_set_go_to_eventbridges_default_bus() -> None:
    assert props("MailConfigurationSet")["Name"] == {"Fn::Sub": "${AWS::StackName}-mail"}
    destination = props("MailFeedbackDestination")
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["EventBridgeDestination"] == {
        "EventBusArn": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}
    }


def test_the_feedback_function_takes_only_this_stacks_bounces_and_complaints() -> None:
    (event,) = props("FeedbackFunction")["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.ses"],
        "detail-type": ["Email Bounced", "Email Complaint Received"],
        "detail": {"mail": {"tags": {"ses:configuration-set": [{"Ref": "MailConfigurationSet"}]}}},
    }
    config = props("FeedbackFunction")["EventInvokeConfig"]
    assert 0 < config["MaximumRetryAttempts"] <= 2


def test_the_feedback_function_may_only_update_destinations_and_record_activity() -> None:
    assert statements("FeedbackFunction") == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DEST#*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ACT#*"]}},
        },
    ]
    # After the transform: the rule invokes the function's alias, and nothing else is granted.
    cfn = transformed({"EnableForwarding": "true"})
    rules = [
        resource
        for name, resource in cfn["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule" and name.startswith("FeedbackFunction")
    ]
    (rule,) = rules
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "FeedbackFunctionAliaslive"}
    role = cfn["Resources"]["FeedbackFunctionRole"]["Properties"]
    granted = {
        str(statement["Action"]) for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
    }
    assert granted == {"['dynamodb:UpdateItem']", "['dynamodb:PutItem', 'dynamodb:UpdateItem']"}


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_forwarding_off_leaves_out_the_set_and_its_feedback_and_names_no_set(enabled: str) -> None:
    stack = deployed({"EnableForwarding": enabled})
    feedback = {"MailConfigurationSet", "MailFeedbackDestination", "FeedbackFunction"}
    assert (feedback <= set(stack.resources)) == (enabled == "true")
    assert feedback.isdisjoint(stack.resources) == (enabled == "false")
    template = resolved({"EnableForwarding": enabled})
    create = template["Resources"]["DestinationsCreateFunction"]["Properties"]
    assert ("MailConfigurationSet" in str(create["Environment"])) == (enabled == "true")
    # The sending right names "this stack's sets" (by their tag) whether or not the set exists.
    assert "configuration-set/*" in str(template["Resources"]["DestinationsCreateFunctionRole"])
