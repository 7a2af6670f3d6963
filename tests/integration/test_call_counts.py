"""Every route, and the authorizer, makes exactly the DynamoDB calls the key design promises, and at most two.

The scenarios and their promises are the benchmark's (bench/scenarios.py): `make bench` reports the same counts.
A route added to template.yaml fails here until its scenario says what it may call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.calls import CallRecorder
from bench.scenarios import Scenario, forwarder_scenarios, invoke, scenarios, seed_world
from postmask.settings import get_settings
from postmask.store import _dynamo

SCENARIOS = scenarios()
MAX_CALLS_PER_REQUEST = 2
# A resend reads the destination and, to say "nothing can send yet" before changing anything, the caller's
# domains (the sender), then writes once; it and a new destination also count the link on the address's limits
# (decision 0112): the two routes above two calls (they are rare: a person's click).
MAX_CALLS = {
    "POST /api/destinations": 3,
    "POST /api/destinations/{destination_id}/resend": 4,
    # The bulk and porting routes work on many items at once: their calls grow with what they carry (per 100 ids,
    # per megabyte, per 100 rows), and these are their fewest: export reads three partitions; import reads the
    # caller's domains, the addresses' holders, the destinations' domains, the destinations and the quota before
    # its one transaction. Export: three partitions, then each alias's contacts (three aliases here).
    "GET /api/export": 6,
    "POST /api/import": 6,
    # An admin's rare click: the user, one transaction, then each of their tokens (decision 0041).
    "PATCH /api/users/{user_id}": 4,
    # An account's end reads each partition of the user's and deletes in batches (decision 0042): its fewest.
    "DELETE /api/me": 13,
    # A password manager's alias (decision 0003) for a user who set no default destinations: the profile with the
    # domains' names, the oldest verified destination, then the one transaction.
    "POST /api/alias/random/new": 3,
    "POST /api/v1/aliases": 3,
    # A quarantined copy resent (decision 0025), an owner's rare click: the copy, then the destination (status and
    # key), the alias's route and the sender's contact in one read, the loop marker, the ledger's claim and
    # completion, resent_to.
    "POST /api/quarantine/{quarantine_id}/resend": 6,
}


@pytest.fixture
def mail_settings_put_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The scenarios that store mail (the forwarder's, quarantine's) point the functions at their bucket: put back
    afterwards, settings included."""
    monkeypatch.setenv("MAIL_BUCKET", "")
    monkeypatch.setenv("MAIL_PREFIX", "inbound/")
    # The scenarios set it when unset (a leak notice's links): set here, so that monkeypatch unsets it afterwards
    # (a delenv of an unset variable records nothing, and the later tests' links then pointed at the benchmark).
    monkeypatch.setenv("PUBLIC_URL", "https://postmask.bench.example")
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
@pytest.mark.usefixtures("mail_settings_put_back")
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
    assert len(recorded.calls) <= MAX_CALLS.get(scenario.name, MAX_CALLS_PER_REQUEST)


FORWARDER_SCENARIOS = forwarder_scenarios()


@pytest.mark.parametrize("scenario", FORWARDER_SCENARIOS, ids=[scenario.name for scenario in FORWARDER_SCENARIOS])
@pytest.mark.usefixtures("mail_settings_put_back")
def test_the_forwarder_reads_its_destinations_status_once_per_message(table: str, scenario: Scenario) -> None:
    """Per recipient its route (1 GetItem), per message the status of every destination (1 BatchGetItem) and,
    when a copy is to be sent, its loop marker (1 PutItem); then per destination sent a claim and its
    completion, per recipient one counting transaction (tests/integration/forwarding/test_forwarder_call_counts.py
    has the thread records and loops)."""
    invocation = scenario.make(seed_world(alias_count=1))

    with CallRecorder(_dynamo.client()) as recorded:
        status = invoke(invocation)

    assert status == 200
    assert dict(recorded.counts()) == dict(scenario.promised or {})


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
