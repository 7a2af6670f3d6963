"""1,000 messages through the forwarder with 20 % of the SES and DynamoDB calls failing (decision 0026).

The run plays what AWS does around the forwarder: SES stores each message, then invokes the forwarder
asynchronously; Lambda retries a failed invocation twice, then hands the event to the dead-letter queue, and
delivers some events twice (at-least-once). Faults come from the local stack's fault-injecting layer
(local/faults.py): throttling and 5xx from SES and DynamoDB, and crashes between an SES send and its record.
The dead-letter reader then runs (with faults too: SQS delivers a record again until it is read), and the
reconciliation last, past the retry window, without faults.

What it finds (`Run`): per (message, destination) how many copies SES was handed (never more than one), which
were quarantined, and what the reconciliation says. tests/e2e/test_faults.py asserts the promises on one run;
`make bench` prints the same run's figures (`print_report`). Everything runs in this process on moto.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TextIO

MESSAGES = 1000
FAULT_RATE = 0.2
CRASH_RATE = 0.01
DUPLICATE_RATE = 0.05
ATTEMPTS = 3  # the invocation and Lambda's two retries (MaximumRetryAttempts: 2)
BUCKET = "postmask-faults"
ALIASES = 10
OWNER = "owner@faults.example"
DOMAIN = "faults.example"
# Sizes, cycled: mostly small, some with attachments, one over what SES sends.
SIZES = (1_000, 4_000, 20_000, 100_000, 2_000, 400_000, 8_000, 1_500)
OVER_SES = 41 * 1024 * 1024


@dataclass
class Run:
    messages: int
    seconds: float = 0.0
    invocations: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    dead_letter_reads: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    crashes: int = 0
    copies: int = 0  # (message, destination) pairs that should have ended somewhere
    sent_once: int = 0
    sent_twice: int = 0  # more than one copy handed to SES for one (message, destination)
    quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # neither sent nor quarantined
    unaccounted: int = -1
    reconciled: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if name != "lost"} | {"lost": len(self.lost)}


def _message(number: int, alias: str, size: int) -> bytes:
    head = (
        f"From: Sender {number} <sender{number % 37}@shop.example>\r\nTo: {alias}\r\n"
        f"Subject: Message {number}\r\nMessage-ID: <m{number}@shop.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    ).encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def run(messages: int = MESSAGES, *, rate: float = FAULT_RATE, seed: int = 30, over_ses: int = 1) -> Run:
    """The whole run in a fresh moto world (mock_aws): set-up, the messages, the dead letters, the reconciliation."""
    from moto import mock_aws

    saved = {name: os.environ.get(name) for name in ("MAIL_BUCKET", "MAIL_PREFIX", "PUBLIC_URL", "AWS_ENDPOINT_URL")}
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update({"MAIL_BUCKET": BUCKET, "MAIL_PREFIX": "inbound/", "PUBLIC_URL": "https://postmask.test"})
    from postmask.observability import logger

    level = logger.log_level
    logger.setLevel("CRITICAL")  # thousands of injected faults, each logged with its traceback, would cost more
    try:
        with mock_aws(), _transactions_backed_up_by_item():
            _forget_clients()
            return _run(messages, rate=rate, seed=seed, over_ses=over_ses)
    finally:
        logger.setLevel(level)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_clients()


@contextlib.contextmanager
def _transactions_backed_up_by_item() -> Iterator[None]:
    """moto backs a transaction up by deep-copying the whole table, per action: at 10,000 items a transaction
    costs a second, and the run hours. DynamoDB's own semantics need only the items the transaction touches:
    those are copied, and put back if it is cancelled, instead (the table itself is not copied)."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table = self.get_table(op["TableName"])
            source = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(source[table.hash_key_attr])
            range_value = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
            current = table.items.get(hash_value, {}).get(range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
        models.copy = _NoTableCopy  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def _forget_clients() -> None:
    from postmask import quarantine, reconcile, ses
    from postmask.mail import inbox
    from postmask.settings import get_settings
    from postmask.store import _dynamo

    for cached in (get_settings, _dynamo.client, inbox.s3, ses.client, quarantine._s3, reconcile._s3):
        cached.cache_clear()
    ses.forget_verifications()


def _run(messages: int, *, rate: float, seed: int, over_ses: int) -> Run:
    import boto3

    from local.faults import Crash, Injector, Plan
    from local.functions import FakeLambdaContext, load_handler
    from local.sam_template import ROOT, table_definition
    from local.ses import emulate_ses, new_message_id, receipt_event, stored_message
    from postmask import clock, dead_letters, reconcile, ses
    from tests.support.ses import SesRecorder

    emulate_ses()
    boto3.client("dynamodb").create_table(TableName=os.environ["TABLE_NAME"], **table_definition())
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    owner_id, aliases = _owner_and_aliases()
    recorder = SesRecorder().install(ses.client())
    forwarder = load_handler(ROOT / "functions" / "forwarder", "app.lambda_handler")
    chance = random.Random(seed)
    injector = Injector(Plan(rate=rate, crash=CRASH_RATE, duplicate=DUPLICATE_RATE, seed=seed)).install()
    injector.enabled = False
    result = Run(messages)
    expected: dict[tuple[str, str], None] = {}
    queue: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        for number in range(messages):
            alias, destinations = aliases[number % len(aliases)]
            size = OVER_SES if number < over_ses else SIZES[number % len(SIZES)]
            message_id = new_message_id()
            stored = stored_message(
                _message(number, alias, size),
                message_id=message_id,
                envelope_sender="bounce@shop.example",
                recipients=[alias],
            )
            s3.put_object(Bucket=BUCKET, Key=f"inbound/{message_id}", Body=stored)
            event = receipt_event(
                stored, message_id=message_id, envelope_sender="bounce@shop.example", recipients=[alias]
            )
            for destination in destinations:
                expected[(message_id, destination)] = None
            deliveries = 2 if chance.random() < DUPLICATE_RATE else 1
            result.duplicates += deliveries - 1
            for _ in range(deliveries):  # Lambda's at-least-once delivery of the event
                injector.enabled = True
                for _attempt in range(ATTEMPTS):
                    result.invocations += 1
                    try:
                        forwarder(event, FakeLambdaContext("ForwarderFunction"))
                        break
                    except (Exception, Crash):  # noqa: S112 - Lambda retries it: the forwarder logged why
                        continue
                else:
                    queue.append({"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": event})
                injector.enabled = False
        result.dead_lettered = len(queue)
        injector.enabled = True
        while queue:  # SQS delivers a record again until the reader reads it
            batch, queue = queue[:10], queue[10:]
            records = [{"messageId": str(index), "body": json.dumps(letter)} for index, letter in enumerate(batch)]
            result.dead_letter_reads += 1
            failed = dead_letters.handle({"Records": records})["batchItemFailures"]
            queue += [batch[int(failure["itemIdentifier"])] for failure in failed]
    finally:
        injector.enabled = False
        injector.uninstall()
    result.seconds = time.monotonic() - started
    result.injected = dict(injector.injected)
    result.crashes = injector.crashes

    sent = Counter(
        (str(mail.header("X-Postmask-Hop")).partition(".")[0], destination)
        for mail in recorder.sent
        for destination in mail.destinations
    )
    held = {(item["message_id"], item["destination"]): item["reason"] for item in _quarantined_items(owner_id)}
    result.copies = len(expected)
    for pair in expected:
        copies = sent.get(pair, 0)
        result.sent_once += copies == 1
        result.sent_twice += copies > 1
        if copies == 0 and pair not in held:
            result.lost.append(f"{pair[0]} -> {pair[1]}")
    result.quarantined = len(held)
    result.quarantined_by_reason = dict(Counter(held.values()))
    past_retries = clock.now() + reconcile.RETRY_WINDOW + timedelta(minutes=1)
    real_now = clock.now
    clock.now = lambda: past_retries  # the reconciliation runs the next morning
    try:
        report = reconcile.run(real_now().date())
    finally:
        clock.now = real_now
    result.unaccounted = len(report.unaccounted)
    result.reconciled = dict(report.outcomes)
    return result


def _owner_and_aliases() -> tuple[str, list[tuple[str, list[str]]]]:
    """A user with a verified domain and ALIASES aliases, each with one or two verified destinations."""
    from postmask import mail_domains
    from postmask.schemas.aliases import AliasCreate
    from postmask.store import aliases, users
    from tests.support.destinations import verify_destinations_through_the_store

    user_id = users.create(OWNER, is_admin=False).user.id
    mail_domains.register(user_id, DOMAIN, None)  # its SES identity too: verified at once, as locally
    made = []
    for number in range(ALIASES):
        destinations = [f"box{number}@real.example"] + ([f"spare{number}@real.example"] if number % 3 == 0 else [])
        verify_destinations_through_the_store(user_id, destinations)
        body = AliasCreate(domain=DOMAIN, local_part=f"alias{number}", destinations=destinations)
        alias = aliases.create(user_id, body).value
        made.append((alias.address, destinations))
    return user_id, made


def _quarantined_items(user_id: str) -> list[dict[str, Any]]:
    from postmask.store import _dynamo
    from postmask.store import quarantine as store

    return list(_dynamo.all_items(store.pk(user_id), "MSG#"))


def print_report(found: dict[str, Any], out: TextIO) -> None:
    out.write(
        f"\nFaults: {found['messages']:,} messages, {FAULT_RATE:.0%} of SES and DynamoDB calls failing, "
        f"{CRASH_RATE:.0%} of sends followed by a crash, {DUPLICATE_RATE:.0%} of events delivered twice\n"
    )
    rows = [
        ("copies to deliver", found["copies"]),
        ("sent once", found["sent_once"]),
        ("sent twice", found["sent_twice"]),
        ("quarantined", f"{found['quarantined']} {found['quarantined_by_reason']}"),
        ("lost", found["lost"]),
        ("unaccounted (reconciliation)", found["unaccounted"]),
        ("invocations / duplicates", f"{found['invocations']} / {found['duplicates']}"),
        ("dead-lettered / reader batches", f"{found['dead_lettered']} / {found['dead_letter_reads']}"),
        ("faults injected / crashes", f"{sum(found['injected'].values())} / {found['crashes']}"),
        ("seconds", f"{found['seconds']:.1f}"),
    ]
    for label, value in rows:
        out.write(f"  {label:<32} {value}\n")
