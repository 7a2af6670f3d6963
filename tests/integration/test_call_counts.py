"""Every route, and the authorizer, makes exactly the DynamoDB calls the key design promises, and at most two.

The scenarios and their promises are the benchmark's (bench/scenarios.py): `make bench` reports the same counts.
A route added to template.yaml fails here until its scenario says what it may call.
"""

from __future__ import annotations

import pytest

from bench.calls import CallRecorder
from bench.scenarios import Scenario, invoke, scenarios, seed_world
from postmask.store import _dynamo

SCENARIOS = scenarios()
MAX_CALLS_PER_REQUEST = 2


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_a_request_makes_exactly_the_promised_calls(table: str, scenario: Scenario) -> None:
    assert scenario.promised is not None, f"{scenario.name} may use the table: promise its calls in bench/scenarios.py"
    invocation = scenario.make(seed_world(alias_count=3))

    with CallRecorder(_dynamo.client()) as recorded:
        status = invoke(invocation)

    if scenario.declared:
        assert 200 <= status < 300, f"{scenario.name} answered {status}: the count would not be the one promised"
    else:  # a plain GET of a route nobody wrote a scenario for (a static asset may well be a 404)
        assert status < 500, f"{scenario.name} answered {status}"
    assert dict(recorded.counts()) == dict(scenario.promised)
    assert len(recorded.calls) <= MAX_CALLS_PER_REQUEST


def test_the_counter_sees_every_call(table: str) -> None:
    """The test above could pass with a counter that missed calls: this one must see the three it is shown."""
    client = _dynamo.client()
    with CallRecorder(client) as recorded:
        client.get_item(TableName=table, Key=_dynamo.key("USER#x", "PROFILE"))
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=_dynamo.values({":pk": "USER#x"}),
        )
        client.get_item(TableName=table, Key=_dynamo.key("USER#y", "PROFILE"))
    assert dict(recorded.counts()) == {"GetItem": 2, "Query": 1}


# --- the forwarder, per message (store/__init__.py's key design promises these) ----------------------------

from tests.integration.forwarding.conftest import Mailroom, mailroom, sent  # noqa: E402, F401 - fixtures
from tests.integration.forwarding.test_forwarder import new_alias  # noqa: E402
from tests.support.api import Client  # noqa: E402
from tests.support.ses import SesRecorder  # noqa: E402

NEW = b"From: Ann <ann@example.org>\r\nTo: list@alice.example\r\nSubject: plans\r\nMessage-ID: <m1@example.org>\r\n\r\nx\r\n"
REPLY = NEW.replace(b"<m1@example.org>", b"<m2@example.org>\r\nIn-Reply-To: <m1@example.org>")


def forwarder_calls(mailroom: Mailroom, content: bytes, recipients: list[str], **kwargs: object) -> dict[str, int]:
    event = mailroom.receive(content, recipients, **kwargs)  # type: ignore[arg-type]
    with CallRecorder(_dynamo.client()) as recorded:
        mailroom.forward(event)
    return dict(recorded.counts())


def test_the_forwarder_makes_the_promised_calls_per_message(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder
) -> None:
    new_alias(alice, alice_domain, "list", ["one@real.example", "two@real.example"])
    new_alias(alice, alice_domain, "old", ["one@real.example"], enabled=False)

    # A new message to an alias with two destinations: the route; the loop marker; per destination a claim and
    # its completion; the thread records of both copies; the count.
    assert forwarder_calls(mailroom, NEW, ["list@alice.example"]) == {
        "GetItem": 1,
        "PutItem": 3,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 1,
    }
    # A reply: the same, and one BatchGetItem for the ids its destinations received.
    assert forwarder_calls(mailroom, REPLY, ["list@alice.example"]) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "PutItem": 3,
        "UpdateItem": 2,
        "BatchWriteItem": 1,
        "TransactWriteItems": 1,
    }
    # A copy that comes back: the route and the marker's record; nothing sent, nothing written.
    (copy, *_) = sent.sent
    assert forwarder_calls(mailroom, copy.raw, ["list@alice.example"]) == {"GetItem": 2}
    # Blocked: the route and the count. Unknown address: the route and the domain's marker (no catch-all).
    assert forwarder_calls(mailroom, NEW, ["old@alice.example"]) == {"GetItem": 1, "TransactWriteItems": 1}
    assert forwarder_calls(mailroom, NEW, ["nobody@alice.example"]) == {"GetItem": 2}
