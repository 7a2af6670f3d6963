"""events/: the sample events the README invokes with `sam local invoke ... -e events/<file>` do what their
function is for, run by the real handlers on moto: the receipt is forwarded, the bounce suspends the destination,
the mailer's payload mails a sign-in link."""

from __future__ import annotations

import json
from email.parser import BytesHeaderParser
from typing import Any

import boto3
import pytest

from local.functions import FakeLambdaContext, load_handler
from local.sam_local import EVENTS, store_sample_mail
from local.sam_template import ROOT, load
from postmask import ses
from postmask.settings import get_settings
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def run(function: str, event: dict[str, Any]) -> Any:
    properties = load()["Resources"][function]["Properties"]
    return load_handler(ROOT / properties["CodeUri"], properties["Handler"])(event, FakeLambdaContext(function))


def test_the_receipt_event_names_the_message_make_sam_local_stores(mailroom: Mailroom) -> None:
    """The event's headers are those of events/ses-receipt.eml, which lands under the event's message id."""
    mail = sample("ses-receipt.json")["Records"][0]["ses"]["mail"]
    key = store_sample_mail(mailroom.bucket, "inbound/")
    assert key == f"inbound/{mail['messageId']}"
    stored = boto3.client("s3").get_object(Bucket=mailroom.bucket, Key=key)["Body"].read()
    headers = BytesHeaderParser().parsebytes(stored)
    assert [(header["name"], header["value"]) for header in mail["headers"]] == list(headers.items())


def test_the_forwarder_forwards_the_sample_receipt_and_the_bounce_suspends_the_destination(
    alice: Client, mailroom: Mailroom, sent: SesRecorder
) -> None:
    receipt = sample("ses-receipt.json")
    (recipient,) = receipt["Records"][0]["ses"]["receipt"]["recipients"]
    local_part, _, domain = recipient.partition("@")
    assert alice.post("/api/domains", {"name": domain}).status == 201
    bounce = sample("ses-bounce.json")
    (bounced,) = bounce["detail"]["bounce"]["bouncedRecipients"]
    new_alias(alice, domain, local_part, [bounced["emailAddress"]])
    store_sample_mail(mailroom.bucket, "inbound/")

    assert mailroom.forward(receipt)["forwarded"] == [recipient]
    assert [mail.destinations for mail in sent.sent] == [[bounced["emailAddress"]]]

    bounce["detail"]["mail"]["tags"][ses.USER_TAG] = [alice.get("/api/me").json()["id"]]  # as the README says
    assert run("FeedbackFunction", bounce)["suspended"] == [bounced["emailAddress"]]
    (destination,) = alice.get("/api/destinations").json()["items"]
    assert destination["status"] == "suspended"


def test_the_bounce_event_matches_the_feedback_functions_eventbridge_rule() -> None:
    rule = load()["Resources"]["FeedbackFunction"]["Properties"]["Events"]
    (pattern,) = [event["Properties"]["Pattern"] for event in rule.values() if event["Type"] == "EventBridgeRule"]
    bounce = sample("ses-bounce.json")
    assert bounce["source"] in pattern["source"]
    assert bounce["detail-type"] in pattern["detail-type"]
    assert bounce["detail"]["mail"]["tags"]["ses:configuration-set"] == [
        json.loads((ROOT / "env.json").read_text())["Parameters"]["CONFIGURATION_SET"]
    ]


def test_the_mailers_payload_mails_a_sign_in_link(
    admin: Client, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = sample("signin-mailer.json")
    boto3.client("sesv2").create_email_identity(EmailIdentity="postmask@localhost")
    monkeypatch.setenv("SENDER_ADDRESS", "postmask@localhost")
    get_settings.cache_clear()
    account = event["email"]
    assert admin.post("/api/users", {"email": account}).status == 201

    run("SignInMailerFunction", event)

    assert [sent.destinations for sent in mail.system] == [[account]]
