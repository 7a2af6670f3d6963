"""The mail-forwarding part of template.yaml: bucket and its policy, the receipt rule, retries and the DLQ,
least privilege, and the EnableForwarding switch."""

from __future__ import annotations

from typing import Any

import pytest

from local.sam_template import load
from tests.support.cfn import dangling_references, deployed, transformed

FORWARDING = {
    "MailConfigurationSet",
    "MailFeedbackDestination",
    "FeedbackFunction",
    "MailBucket",
    "MailBucketPolicy",
    "ReceiptRuleSet",
    "ForwardRule",
    "ForwarderFunction",
    "ForwarderSesPermission",
    "ForwarderDeadLetterQueue",
    "ForwarderDeadLetterAlarm",
}


def resource(name: str) -> dict[str, Any]:
    found: dict[str, Any] = load()["Resources"][name]
    return found


def props(name: str) -> dict[str, Any]:
    found: dict[str, Any] = resource(name)["Properties"]
    return found


def test_enable_forwarding_is_a_true_false_parameter_defaulting_to_true() -> None:
    parameter = load()["Parameters"]["EnableForwarding"]
    assert (parameter["Type"], parameter["Default"], parameter["AllowedValues"]) == (
        "String",
        "true",
        ["true", "false"],
    )
    assert parameter["Description"]
    assert load()["Conditions"]["ForwardingEnabled"] == {"Fn::Equals": [{"Ref": "EnableForwarding"}, "true"]}


@pytest.mark.parametrize("name", sorted(FORWARDING))
def test_every_forwarding_resource_is_behind_the_switch(name: str) -> None:
    assert resource(name)["Condition"] == "ForwardingEnabled"


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_the_switch_adds_or_removes_all_of_forwarding_and_leaves_nothing_dangling(enabled: str) -> None:
    parameters = {"EnableForwarding": enabled}
    stack = deployed(parameters)
    present = FORWARDING | {"ForwarderFunctionRole", "ForwarderFunctionEventInvokeConfig"}
    if enabled == "true":
        assert present <= set(stack.resources)
    else:
        assert present.isdisjoint(stack.resources)
        assert not {"MailBucketName", "ReceiptRuleSetName", "ActivateReceiptRuleSet"} & set(stack.outputs)
    assert dangling_references(stack, parameters) == {}
    # The API is there either way.
    assert {"Api", "AuthorizerFunction", "AliasesCreateFunction", "Table"} <= set(stack.resources)


def test_the_mail_bucket_is_encrypted_private_and_expires_raw_mail() -> None:
    bucket = props("MailBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    # The raw mail's rule; quarantined copies have their own (tests/template/test_quarantine_template.py).
    (expire,) = [rule for rule in bucket["LifecycleConfiguration"]["Rules"] if rule["Id"] == "ExpireRawMail"]
    assert expire["Prefix"] == "inbound/"
    assert expire["ExpirationInDays"] == {"Ref": "MailRetentionDays"}
    assert load()["Parameters"]["MailRetentionDays"]["Description"]


def test_only_ses_for_this_account_and_rule_set_may_write_to_the_bucket() -> None:
    statements = props("MailBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]
    (statement,) = allows
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Sub": "${MailBucket.Arn}/inbound/*"}
    assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = statement["Condition"]["ArnLike"]["AWS:SourceArn"]["Fn::Sub"]
    assert ":receipt-rule-set/${AWS::StackName}-inbound:receipt-rule/" in source_arn
    assert props("ReceiptRuleSet")["RuleSetName"] == {"Fn::Sub": "${AWS::StackName}-inbound"}


def test_the_receipt_rule_stores_to_s3_before_it_invokes_the_forwarder_asynchronously() -> None:
    rule = props("ForwardRule")["Rule"]
    first, second = rule["Actions"]
    assert first["S3Action"]["BucketName"] == {"Ref": "MailBucket"}
    assert second["LambdaAction"]["FunctionArn"] == {"Ref": "ForwarderFunction.Alias"}
    assert second["LambdaAction"]["InvocationType"] == "Event"
    assert rule["ScanEnabled"] is True  # the spam and virus verdicts the forwarder blocks on
    assert rule["Enabled"] is True
    # The forwarder reads the key the S3 action writes.
    assert first["S3Action"]["ObjectKeyPrefix"] == props("ForwarderFunction")["Environment"]["Variables"]["MAIL_PREFIX"]
    # SES checks both permissions when the rule is created.
    assert set(resource("ForwardRule")["DependsOn"]) == {"MailBucketPolicy", "ForwarderSesPermission"}


def test_only_ses_for_this_rule_may_invoke_the_forwarder() -> None:
    permission = props("ForwarderSesPermission")
    assert permission["Principal"] == "ses.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(
        ":receipt-rule-set/${AWS::StackName}-inbound:receipt-rule/${AWS::StackName}-forward"
    )
    assert props("ForwardRule")["Rule"]["Name"] == {"Fn::Sub": "${AWS::StackName}-forward"}


def test_failed_events_are_retried_a_little_then_dead_lettered_and_alarmed() -> None:
    config = props("ForwarderFunction")["EventInvokeConfig"]
    assert 0 < config["MaximumRetryAttempts"] <= 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"]},
    }
    assert props("ForwarderDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarm = props("ForwarderDeadLetterAlarm")
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["ForwarderDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    # After the transform, the function may write to the queue and nowhere else in SQS.
    role = transformed({"EnableForwarding": "true"})["Resources"]["ForwarderFunctionRole"]
    sqs = [
        statement
        for policy in role["Properties"]["Policies"]
        if "PolicyDocument" in policy  # not the tracker list's (Fn::If: only with TrackerListS3Uri)
        for statement in policy["PolicyDocument"]["Statement"]
        if "sqs" in str(statement["Action"])
    ]
    assert sqs == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"]},
        }
    ]


def test_the_forwarder_gets_least_privilege() -> None:
    statements = props("ForwarderFunction")["Policies"][0]["Statement"]
    granted = {
        (action, str(statement.get("Condition", ""))) for statement in statements for action in statement["Action"]
    }
    actions = {action for action, _ in granted}
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",  # a user's quarantined copies, which a quarantine notice lists (QUAR# only, below)
        "s3:GetObject",
        "s3:PutObject",  # a quarantined copy (quarantine/ only, below)
        "ses:SendEmail",
        "ses:GetEmailIdentity",
    }
    for statement in statements:
        if any(action.startswith("dynamodb:") for action in statement["Action"]):
            # Every table action is limited to the partitions it needs; reads never reach users or tokens.
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            # A user's partition: updated (the alias's counters and leak state), or read for the owner's e-mail
            # alone (a leak notice), never read whole.
            # PutItem on USER# and ADDRESS#: an alias created on first receipt, its item and route (decision 0046).
            assert (
                "USER#*" not in keys
                or statement["Action"] == ["dynamodb:UpdateItem"]
                or (statement["Action"] == ["dynamodb:PutItem"] and keys == ["USER#*", "ADDRESS#*"])
                or statement["Condition"]
                == {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*"]},
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "email"]},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                }
            )
            # Activity and foreign senders: written, never read.
            assert not {"ACT#*", "FOREIGN#*"} & set(keys) or statement["Action"] == [
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ]
            assert "TOKEN#*" not in keys
            if any(action.startswith("dynamodb:Batch") for action in statement["Action"]):
                # Thread records, reply addresses, or destinations' status and contacts' lookup items (checked below).
                assert keys in (["THREAD#*"], ["REPLY#*"], ["DEST#*", "CONTACTS#*"])
                assert keys != ["DEST#*", "CONTACTS#*"] or statement["Action"] == ["dynamodb:BatchGetItem"]
            if keys == ["DEST#*"] and statement["Action"] == ["dynamodb:UpdateItem"]:
                # A destination: its OpenPGP key's expiry-notice marker, and no other attribute.
                assert statement["Condition"]["ForAllValues:StringEquals"] == {
                    "dynamodb:Attributes": ["pk", "sk", "pgp_fingerprint", "pgp_expiry_noticed"]
                }
            elif any(action in ("dynamodb:PutItem", "dynamodb:UpdateItem") for action in statement["Action"]):
                # Delivery records, the alias's and contacts' counters, new contacts, activity events, foreign
                # senders, the site on a route: nothing else is written.
                # And quarantined copies with their notice's slot (QUAR#, decision 0025); decision 0046's alias created
                # on first receipt: its destination's and its domain's day's counts.
                assert set(keys) <= {
                    *("MAIL#*", "USER#*", "CONTACTS#*", "REPLY#*", "ACT#*", "FOREIGN#*", "ADDRESS#*", "QUAR#*"),
                    *("DEST#*", "CATCHALL#*"),
                }
                assert not {"DEST#*", "CATCHALL#*"} & set(keys) or statement["Action"] == ["dynamodb:UpdateItem"]
                # A route is updated (its site), or written whole only with its alias, created on first receipt.
                assert "ADDRESS#*" not in keys or statement["Action"] in (
                    ["dynamodb:UpdateItem"],
                    ["dynamodb:PutItem"],
                )
            if "dynamodb:Query" in statement["Action"]:
                assert keys == ["QUAR#*"]
    assert "dynamodb:Scan" not in actions
    (put_object,) = [statement for statement in statements if statement["Action"] == ["s3:PutObject"]]
    assert put_object["Resource"] == {"Fn::Sub": "${MailBucket.Arn}/quarantine/*"}  # never the raw mail
    # Destinations: their status and OpenPGP key only; contacts' SENDER# items: id, reply address, blocked. DEST#
    # and CONTACTS# partitions hold nothing else of a user, and no other attribute may be read.
    (batch,) = [
        statement
        for statement in statements
        if statement["Action"] == ["dynamodb:BatchGetItem"] and "DEST#*" in str(statement["Condition"])
    ]
    assert batch["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DEST#*", "CONTACTS#*"]},
        "ForAllValues:StringEquals": {
            "dynamodb:Attributes": [
                *("pk", "sk", "status", "contact_id", "reply_address", "blocked"),
                *("pgp_key", "pgp_fingerprint", "pgp_expires_at", "pgp_fallback", "pgp_expiry_noticed"),
            ]
        },
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
    }
    # Every send names the configuration set, and SES authorises the set as a resource of SendEmail too.
    send_resources = [statement["Resource"] for statement in statements if "ses:SendEmail" in statement["Action"]]
    config_set = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/*"
    assert any({"Fn::Sub": config_set} in resources for resources in send_resources)
    # Only as this stack's identities (their tag), or from SenderAddress (decision 0076); never as any identity.
    conditions = [statement.get("Condition") for statement in statements if "ses:SendEmail" in statement["Action"]]
    assert conditions == [
        {"StringEquals": {"aws:ResourceTag/postmask:stack": {"Ref": "AWS::StackName"}}},
        {"StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}},
    ]


def test_the_forwarder_reads_destination_status_with_exactly_the_attributes_its_policy_allows() -> None:
    """The store's projection and the policy's dynamodb:Attributes must agree, or AWS refuses every read."""
    import inspect

    from postmask.mail import decisions
    from postmask.store import contacts, destinations, pgp_keys

    source = inspect.getsource(destinations.statuses)  # the reply path's read of the sender's destination
    assert "attributes=STATUS_ATTRIBUTES" in source
    (batch,) = [
        statement
        for statement in props("ForwarderFunction")["Policies"][0]["Statement"]
        if statement["Action"] == ["dynamodb:BatchGetItem"] and "DEST#*" in str(statement["Condition"])
    ]
    allowed = batch["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert list(decisions.BATCH_READS) == allowed
    assert "attributes=BATCH_READS" in inspect.getsource(decisions)
    assert set(pgp_keys.FORWARDER_ATTRIBUTES) <= set(allowed)
    assert set(contacts.SENDER_ATTRIBUTES) <= set(allowed)
    assert set(destinations.STATUS_ATTRIBUTES) <= set(allowed)


def test_the_forwarder_reads_the_owners_email_with_exactly_the_attribute_its_policy_allows() -> None:
    import inspect

    from postmask.store import leaks

    assert 'ProjectionExpression="email"' in inspect.getsource(leaks.owner_email)


def test_activity_is_kept_as_long_as_the_parameter_says_by_the_functions_that_write_it() -> None:
    parameter = load()["Parameters"]["ActivityRetentionDays"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 30, 1)
    for writer in ("ForwarderFunction", "FeedbackFunction"):
        function = props(writer)
        assert function["Environment"]["Variables"]["ACTIVITY_RETENTION_DAYS"] == {"Ref": "ActivityRetentionDays"}
        assert "ActivityRetentionDays=${ActivityRetentionDays}" in function["VersionDescription"]["Fn::Sub"]


def test_delivery_records_expire_through_the_table_ttl() -> None:
    assert props("Table")["TimeToLiveSpecification"] == {"AttributeName": "purge_at", "Enabled": True}


def test_the_operator_tracker_list_is_readable_exactly_and_only_when_given() -> None:
    function = props("ForwarderFunction")
    assert function["Environment"]["Variables"]["TRACKER_LIST_S3_URI"] == {"Ref": "TrackerListS3Uri"}
    (conditional,) = [policy for policy in function["Policies"] if "Fn::If" in policy]
    condition, policy, otherwise = conditional["Fn::If"]
    assert (condition, otherwise) == ("HasTrackerList", {"Ref": "AWS::NoValue"})
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:s3:::${Object}",
            {"Object": {"Fn::Select": [1, {"Fn::Split": ["s3://", {"Ref": "TrackerListS3Uri"}]}]}},
        ]
    }
    assert load()["Conditions"]["HasTrackerList"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "TrackerListS3Uri"}, ""]}]}
    role = transformed({"EnableForwarding": "true"})["Resources"]["ForwarderFunctionRole"]
    assert any("Fn::If" in policy for policy in role["Properties"]["Policies"])
