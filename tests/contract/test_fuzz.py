"""Contract fuzzing, in process: schemathesis generates requests from the served OpenAPI document, valid
and invalid ones, sends them through template.yaml's routes, the authorizer and the handlers (moto behind
them), and checks every response against the document. No 5xx, ever.

FUZZ_EXAMPLES (per operation, default 100) and FUZZ_SCENARIOS (linked call sequences, default 100) scale it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from local.sam_template import table_definition
from postmask.store import domains, users
from tests.contract.fuzzing import EXCLUDED_CHECKS, EXCLUDED_OPERATIONS, OWNER, PEER
from tests.support.destinations import verify_destinations_through_the_store
from tests.support.wsgi import api_app

USERS_FILE = Path(__file__).with_name("fuzz-users.json")
TOKENS = {
    user["name"]: user["fixedHeaders"][0]["value"].removeprefix("Bearer ")
    for user in json.loads(USERS_FILE.read_text(encoding="utf-8"))["auth"]
}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "100"))

# The document the docs function serves (it touches no AWS, so it can be read at collection time).
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    api_app,
    config=schemathesis.Config.from_dict({"auth": {"wfc": {"path": str(USERS_FILE), "peers": [OWNER, PEER]}}}),
).exclude(operation_id=EXCLUDED_OPERATIONS)


def _fresh_world() -> None:
    """An empty table, and the two users schemathesis calls as; each owns the document's example domain
    of its kind (`example.org`, `example.net`), so that examples can create aliases on them, and one verified
    destination."""
    dynamodb = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    if table in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=table)
    dynamodb.create_table(TableName=table, **table_definition())
    for name, domain in ((OWNER, "example.org"), (PEER, "example.net")):
        created = users.create(f"fuzz-{name}@example.org", is_admin=name == OWNER, token_secret=TOKENS[name])
        domains.create(created.user.id, domain, None)
        # A verified mailbox: the compatible routes forward a password manager's aliases to it.
        verify_destinations_through_the_store(created.user.id, [f"fuzz-{name}@mailbox.example"])


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: object) -> None:
    """No compressed answers: this transport (WSGI, in process) hands schemathesis the body as sent, and
    unlike an HTTP client it does not undo `Content-Encoding: gzip` (GET /api/export compresses when asked)."""
    case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}


@pytest.fixture
def fuzz_world(aws: None) -> None:
    _fresh_world()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case, fuzz_world: None) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


class LinkedOperations(schema.as_state_machine()):  # type: ignore[misc]
    """Call sequences that feed one response into the next request: a new domain gets aliases, a new alias
    is read, changed, replaced and deleted, then read again (`use_after_free`)."""

    def setup(self) -> None:
        # Every scenario starts from the same state: Hypothesis replays a scenario to shrink a failure, and
        # the replay must see the responses the first run saw.
        _fresh_world()

    def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
        case.validate_response(
            response, excluded_checks=EXCLUDED_CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
        )


@pytest.mark.slow
def test_linked_operations_keep_their_contract(fuzz_world: None) -> None:
    LinkedOperations.run(
        settings=settings(
            max_examples=SCENARIOS, stateful_step_count=10, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
