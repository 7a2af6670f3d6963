"""The call-by-call policy check itself (tests/support/aws_calls.py, iam_policy.py): what a call is authorised as,
who made it, and that the evaluator refuses what IAM would refuse under the template's statements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.functions import FakeLambdaContext, load_handler, running
from local.sam_template import ROOT
from tests.support.aws_calls import Call, Recorder, Request, function_of, requests_for
from tests.support.iam_policy import Evaluator

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/postmask-test"
ENV = {"TABLE_NAME": "postmask-test"}


def call(function: str, *requests: Request, environment: dict[str, str] | None = None) -> Call:
    return Call(function, "test", requests, environment or ENV, "test")


def get(pk: str, attributes: tuple[str, ...] | None = None) -> Request:
    context: dict[str, tuple[str, ...]] = {"dynamodb:LeadingKeys": (pk,)}
    if attributes is not None:
        context |= {"dynamodb:Attributes": attributes, "dynamodb:Select": ("SPECIFIC_ATTRIBUTES",)}
    else:
        context["dynamodb:Select"] = ("ALL_ATTRIBUTES",)
    return Request("dynamodb:GetItem", TABLE, context)


def denied(*calls: Call) -> list[str]:
    return [request.describe() for verdict in Evaluator().check(calls) for request in verdict.denied]


def test_a_key_family_outside_the_statements_is_refused() -> None:
    assert not denied(call("ContactsListFunction", get("USER#u1")))
    assert denied(call("ContactsListFunction", get("TOKEN#abc")))
    # Another table, or another action, is refused whatever the key.
    other_table = Request("dynamodb:GetItem", TABLE + "-other", {"dynamodb:LeadingKeys": ("USER#u1",)})
    assert denied(call("ContactsListFunction", other_table))
    assert denied(
        call("ContactsListFunction", Request("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ("USER#u",)}))
    )


def test_every_partition_of_a_batch_must_be_allowed() -> None:
    both = Request("dynamodb:BatchGetItem", TABLE, {"dynamodb:LeadingKeys": ("USER#u", "CONTACTS#a")})
    assert not denied(call("ContactsGetFunction", both))
    with_token = Request("dynamodb:BatchGetItem", TABLE, {"dynamodb:LeadingKeys": ("USER#u", "TOKEN#t")})
    assert denied(call("ContactsGetFunction", with_token))


def test_an_attribute_list_must_hold_the_key_attributes_and_a_read_must_name_its_attributes() -> None:
    email = ("email", "pk", "sk")
    assert not denied(call("ForwarderFunction", get("USER#u", email)))
    assert denied(call("ForwarderFunction", get("USER#u", ("email", "pk", "sk", "is_admin"))))
    assert denied(call("ForwarderFunction", get("USER#u")))  # every attribute


def test_a_function_without_statements_may_do_nothing() -> None:
    assert denied(call("HealthFunction", get("USER#u")))


def test_sending_is_limited_to_the_stacks_identities_and_the_sender_address() -> None:
    config_set = "arn:aws:ses:eu-west-1:123456789012:configuration-set/postmask-mail"
    env = {**ENV, "CONFIGURATION_SET": "postmask-mail", "SENDER_ADDRESS": "noreply@operator.example"}

    def send(sender: str, identity: str, tags: dict[str, str], configuration_set: str = config_set) -> Call:
        context = {"ses:FromAddress": (sender,)}
        tag_context = {f"aws:ResourceTag/{k}": (v,) for k, v in tags.items()}
        identity_arn = f"arn:aws:ses:eu-west-1:123456789012:identity/{identity}"
        return call(
            "DestinationsCreateFunction",
            Request("ses:SendEmail", identity_arn, {**context, **tag_context}),
            Request("ses:SendEmail", configuration_set, context),  # its tags: the template's (iam_policy)
            environment=env,
        )

    assert not denied(send("postmask@user.example", "user.example", {"postmask:stack": "postmask"}))
    assert not denied(send("noreply@operator.example", "operator.example", {}))
    assert denied(send("ceo@operator.example", "operator.example", {}))
    assert denied(send("x@other.example", "other.example", {"postmask:stack": "another-stack"}))
    # Another configuration set of the account (not the one the template tags for this stack): refused.
    other_set = "arn:aws:ses:eu-west-1:123456789012:configuration-set/operator-marketing"
    assert denied(send("postmask@user.example", "user.example", {"postmask:stack": "postmask"}, other_set)) == [
        f"ses:SendEmail on {other_set} (ses:FromAddress=['postmask@user.example'])"
    ]


def test_a_call_is_authorised_per_item_of_a_transaction() -> None:
    params: dict[str, Any] = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "USER#u"}, "sk": {"S": "ALIAS#a"}, "x": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "DOMAIN#d"}, "sk": {"S": "DOMAIN"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "ADDRESS#a"}, "sk": {"S": "ADDRESS"}},
                    "UpdateExpression": "SET #n = :v ADD c :one",
                    "ExpressionAttributeNames": {"#n": "name"},
                }
            },
        ]
    }
    requests = list(requests_for("dynamodb", "TransactWriteItems", params, "eu-west-1"))
    assert [(r.action, r.context["dynamodb:LeadingKeys"]) for r in requests] == [
        ("dynamodb:PutItem", ("USER#u",)),
        ("dynamodb:ConditionCheckItem", ("DOMAIN#d",)),
        ("dynamodb:UpdateItem", ("ADDRESS#a",)),
    ]
    assert requests[2].context["dynamodb:Attributes"] == ("c", "name", "pk", "sk")


def test_a_query_is_authorised_by_its_partition_and_projection() -> None:
    params = {
        "TableName": "t",
        "KeyConditionExpression": "#pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": "pk", "#n": "name"},
        "ExpressionAttributeValues": {":pk": {"S": "USER#u"}, ":prefix": {"S": "DOMAIN#"}},
        "ProjectionExpression": "#n, alias_count",
    }
    (request,) = requests_for("dynamodb", "Query", params, "eu-west-1")
    assert request.context["dynamodb:LeadingKeys"] == ("USER#u",)
    assert request.context["dynamodb:Attributes"] == ("alias_count", "name", "pk", "sk")


def test_only_calls_made_inside_a_handler_are_kept_and_each_is_its_functions() -> None:
    recorder = Recorder()

    class Model:
        name = "GetItem"

        class service_model:  # botocore's attribute name
            signing_name = "dynamodb"
            endpoint_prefix = "dynamodb"

    params = {"TableName": "t", "Key": {"pk": {"S": "USER#u"}, "sk": {"S": "PROFILE"}}}
    recorder.hook(params=params, model=Model, context={"client_region": "eu-west-1"})
    assert recorder.drain() == []  # the test's own call
    token = running.set(((ROOT / "functions" / "me").resolve(), "anything"))
    try:
        recorder.hook(params=params, model=Model, context={"client_region": "eu-west-1"})
    finally:
        running.reset(token)
    (made,) = recorder.drain()
    assert made.function == "MeFunction"
    assert made.operation == "dynamodb.GetItem"


def test_a_loaded_handler_says_which_code_runs_while_it_runs(tmp_path: Path) -> None:
    code = tmp_path / "probe_fn"
    code.mkdir()
    (code / "app.py").write_text(
        "from local.functions import running\n\ndef lambda_handler(event, context):\n    return running.get()\n"
    )
    handler = load_handler(code, "app.lambda_handler")
    assert handler({}, FakeLambdaContext("ProbeFunction")) == (code.resolve(), "ProbeFunction")
    assert running.get() is None
    with pytest.raises(LookupError):
        function_of(code.resolve(), "ProbeFunction")  # no function of the template has this code
    assert function_of((ROOT / "functions" / "health").resolve(), "") == "HealthFunction"


def test_deleting_objects_is_authorised_key_by_key_and_a_listing_by_its_prefix() -> None:
    """DELETE /api/me's stored mail (postmask.stored_mail): DeleteObjects is s3:DeleteObject on each key, and the
    listing names its prefix; the function may list and delete under quarantine/ and delete under inbound/ only."""
    params = {"Bucket": "mail", "Delete": {"Objects": [{"Key": "quarantine/u1/q1"}, {"Key": "inbound/m1"}]}}
    requests = list(requests_for("s3", "DeleteObjects", params, "eu-west-1"))
    assert [(r.action, r.resource) for r in requests] == [
        ("s3:DeleteObject", "arn:aws:s3:::mail/quarantine/u1/q1"),
        ("s3:DeleteObject", "arn:aws:s3:::mail/inbound/m1"),
    ]
    env = {**ENV, "MAIL_BUCKET": "mail"}
    assert not denied(call("MeDeleteFunction", *requests, environment=env))
    elsewhere = Request("s3:DeleteObject", "arn:aws:s3:::mail/outbound/x")
    assert denied(call("MeDeleteFunction", requests[0], elsewhere, environment=env)) == [elsewhere.describe()]
    other_bucket = Request("s3:DeleteObject", "arn:aws:s3:::other/inbound/m1")
    assert denied(call("MeDeleteFunction", other_bucket, environment=env))

    (listing,) = requests_for("s3", "ListObjectsV2", {"Bucket": "mail", "Prefix": "quarantine/u1/"}, "eu-west-1")
    assert listing == Request("s3:ListBucket", "arn:aws:s3:::mail", {"s3:prefix": ("quarantine/u1/",)})
    assert not denied(call("MeDeleteFunction", listing, environment=env))
    (everything,) = requests_for("s3", "ListObjectsV2", {"Bucket": "mail"}, "eu-west-1")
    assert denied(call("MeDeleteFunction", everything, environment=env))
    (inbound,) = requests_for("s3", "ListObjectsV2", {"Bucket": "mail", "Prefix": "inbound/"}, "eu-west-1")
    assert denied(call("MeDeleteFunction", inbound, environment=env))
    assert not denied(call("ReconcileFunction", inbound, environment=env))
