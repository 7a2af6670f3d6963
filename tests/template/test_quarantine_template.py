"""The quarantine part of template.yaml (decision 0025): each route's least privilege on the key families it
touches, the bucket's lifecycle that keeps quarantined copies QuarantineDays, and the switch."""

from __future__ import annotations

from typing import Any

import pytest

from local.sam_template import load

ROUTES = {
    ("get", "/api/quarantine"): "QuarantineListFunction",
    ("get", "/api/quarantine/{quarantine_id}"): "QuarantineGetFunction",
    ("post", "/api/quarantine/{quarantine_id}/resend"): "QuarantineResendFunction",
    ("delete", "/api/quarantine/{quarantine_id}"): "QuarantineDeleteFunction",
}


def statements(name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = load()["Resources"][name]["Properties"]["Policies"][0]["Statement"]
    return found


def table_grants(name: str) -> dict[str, set[str]]:
    """{action: the partitions it is limited to} of a function's table statements; each must name some."""
    found: dict[str, set[str]] = {}
    for statement in statements(name):
        if not any(action.startswith("dynamodb:") for action in statement["Action"]):
            continue
        keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        for action in statement["Action"]:
            found.setdefault(action, set()).update(keys)
    return found


def other_grants(name: str) -> dict[str, str]:
    return {
        action: str(statement["Resource"])
        for statement in statements(name)
        for action in statement["Action"]
        if not action.startswith("dynamodb:")
    }


def test_the_routes_are_routed_to_their_functions_with_or_without_forwarding() -> None:
    resources = load()["Resources"]
    routed = {
        (event["Properties"]["Method"], event["Properties"]["Path"]): name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi" and event["Properties"]["Path"].startswith("/api/quarantine")
    }
    assert routed == ROUTES
    for name in ROUTES.values():
        assert "Condition" not in resources[name], name  # the whole JSON API, whatever EnableForwarding says
        bucket = resources[name]["Properties"].get("Environment", {}).get("Variables", {}).get("MAIL_BUCKET")
        assert bucket in (None, {"Fn::If": ["ForwardingEnabled", {"Ref": "MailBucket"}, ""]}), name


@pytest.mark.parametrize(
    ("function", "allowed", "other"),
    [
        ("QuarantineListFunction", {"dynamodb:Query": {"QUAR#*"}, "dynamodb:GetItem": {"USER#*"}}, set()),
        ("QuarantineGetFunction", {"dynamodb:GetItem": {"QUAR#*"}}, {"s3:GetObject"}),
        (
            "QuarantineResendFunction",
            {
                "dynamodb:GetItem": {"QUAR#*"},
                "dynamodb:UpdateItem": {"QUAR#*", "MAIL#*"},
                "dynamodb:BatchGetItem": {"DEST#*", "DOMAIN#*", "CONTACTS#*", "ADDRESS#*"},
                "dynamodb:PutItem": {"CONTACTS#*", "REPLY#*", "MAIL#*"},
                "dynamodb:DeleteItem": {"MAIL#*"},
            },
            {"s3:GetObject", "ses:SendEmail"},
        ),
        ("QuarantineDeleteFunction", {"dynamodb:DeleteItem": {"QUAR#*"}}, {"s3:DeleteObject"}),
    ],
)
def test_each_route_may_do_only_what_it_does_where_it_does_it(
    function: str, allowed: dict[str, set[str]], other: set[str]
) -> None:
    assert table_grants(function) == allowed
    assert set(other_grants(function)) == other
    for action in ("s3:GetObject", "s3:DeleteObject"):
        if action in other:
            (resource,) = [s["Resource"] for s in statements(function) if action in s["Action"]]
            # Never the raw mail under inbound/: with forwarding the bucket's quarantine/ prefix, without it a
            # bucket no stack creates.
            assert resource["Fn::If"][0] == "ForwardingEnabled", function
            for branch in resource["Fn::If"][1:]:
                assert branch["Fn::Sub"].endswith("/quarantine/*"), (function, branch)
            assert resource["Fn::If"][1]["Fn::Sub"] == "${MailBucket.Arn}/quarantine/*", function


def test_resend_reads_exactly_the_attributes_its_policy_allows() -> None:
    """The store's projection and the policy's dynamodb:Attributes must agree, or AWS refuses every resend."""
    import inspect

    from postmask.store import contacts, pgp_keys
    from postmask.store import quarantine as store

    (batch,) = [s for s in statements("QuarantineResendFunction") if s["Action"] == ["dynamodb:BatchGetItem"]]
    allowed = batch["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    reads = [*contacts.FORWARDER_READS, *pgp_keys.FORWARDER_ATTRIBUTES, *store.ROUTE_READS, *store.MARKER_READS]
    assert allowed == reads
    assert (
        "*contacts.FORWARDER_READS, *pgp_keys.FORWARDER_ATTRIBUTES, *ROUTE_READS, *MARKER_READS"
        in inspect.getsource(store.resend_reads)
    )


def test_quarantined_copies_outlive_the_raw_mail_under_their_own_prefix() -> None:
    template = load()
    assert template["Parameters"]["QuarantineDays"]["Default"] == 14
    rules = {
        rule["Id"]: rule
        for rule in template["Resources"]["MailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    # S3 honours the shorter of two overlapping expirations: the prefixes must not overlap.
    assert rules["ExpireQuarantine"]["Prefix"] == "quarantine/"
    assert rules["ExpireQuarantine"]["ExpirationInDays"] == {"Ref": "QuarantineDays"}
    assert rules["ExpireRawMail"]["Prefix"] == "inbound/"


def test_the_dead_letter_reader_reads_the_forwarders_queue_and_writes_only_its_families() -> None:
    function = load()["Resources"]["DeadLettersFunction"]
    assert function["Condition"] == "ForwardingEnabled"
    (source,) = function["Properties"]["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["ForwarderDeadLetterQueue", "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # one bad record only
    assert table_grants("DeadLettersFunction") == {
        "dynamodb:GetItem": {"ADDRESS#*", "DOMAIN#*", "USER#*"},
        "dynamodb:BatchGetItem": {"DEST#*"},
        "dynamodb:PutItem": {"MAIL#*", "QUAR#*", "ACT#*"},
        "dynamodb:DeleteItem": {"QUAR#*"},
        "dynamodb:Query": {"QUAR#*"},
        "dynamodb:UpdateItem": {"ACT#*"},
    }
    assert "/quarantine/*" in other_grants("DeadLettersFunction")["s3:PutObject"]


def test_the_reconciliation_runs_daily_lists_stored_mail_and_alarms_on_unaccounted() -> None:
    resources = load()["Resources"]
    (schedule,) = resources["ReconcileFunction"]["Properties"]["Events"].values()
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"].startswith("cron(")  # daily, after the 6-hour retry window
    assert table_grants("ReconcileFunction") == {"dynamodb:BatchGetItem": {"MAIL#*"}}
    (listing,) = [s for s in statements("ReconcileFunction") if s["Action"] == ["s3:ListBucket"]]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["inbound/*"]}}
    assert set(other_grants("ReconcileFunction")) == {"s3:ListBucket"}  # names and times, never content
    alarm = resources["UnaccountedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == ("Postmask", "Unaccounted", 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
