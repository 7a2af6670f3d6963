"""local/lambdas.py: how the local stack plays Lambda's Invoke API for one function invoking another."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.lambdas import AsyncInvoker, function_name


@pytest.mark.parametrize(
    "given",
    [
        "postmask-local-signinmailerfunction",
        "postmask-local-signinmailerfunction:live",
        "arn:aws:lambda:eu-west-1:123456789012:function:postmask-local-signinmailerfunction",
        "arn:aws:lambda:eu-west-1:123456789012:function:postmask-local-signinmailerfunction:live",
    ],
)
def test_a_function_is_named_alike_by_name_arn_or_alias_arn(given: str) -> None:
    assert function_name(given) == "postmask-local-signinmailerfunction"


def test_an_event_invocation_answers_202_at_once_and_runs_in_the_background(aws: None) -> None:
    release, ran = threading.Event(), threading.Event()
    seen: list[tuple[str, dict[str, Any]]] = []

    def invoke(logical_id: str, event: dict[str, Any]) -> None:
        release.wait(10)  # still running when the caller already has its answer
        seen.append((logical_id, event))
        ran.set()

    invoker = AsyncInvoker({"postmask-local-mailer": "MailerFunction"}, invoke)  # moto's Lambda hands it over
    try:
        answer = boto3.client("lambda").invoke(
            FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:postmask-local-mailer:live",
            InvocationType="Event",
            Payload=b'{"email": "a@b.example"}',
        )
        assert answer["StatusCode"] == 202
        assert seen == []
        release.set()
        assert ran.wait(10)
        assert seen == [("MailerFunction", {"email": "a@b.example"})]
    finally:
        invoker.stop()  # (the `aws` fixture puts the suite's own dispatch back)


def test_a_function_that_is_not_the_stacks_is_not_found_as_in_lambda(aws: None) -> None:
    invoker = AsyncInvoker({"postmask-local-mailer": "MailerFunction"}, lambda logical_id, event: None)
    try:
        with pytest.raises(ClientError) as refused:
            boto3.client("lambda").invoke(FunctionName="someone-elses", InvocationType="Event", Payload=b"{}")
        assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        invoker.stop()  # (the `aws` fixture puts the suite's own dispatch back)
