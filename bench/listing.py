"""First-page list latency for a user with 100 aliases and for one with 10,000.

Each user sits in a table of their own, seeded with `BatchWriteItem` of the very items the store writes
(`aliases.new_items`): moto's `TransactWriteItems` copies the whole table on every call, which would make
seeding 10,000 aliases take minutes. The list function runs in this process, requests alternating between
the two users.

moto's `Query` reads every item of the table to find one partition, where DynamoDB reads only the page
(`Limit`): so besides the request's total time, the share moto spent on it (the server's own clock, see
bench/moto_server.py) is subtracted to give the client's time, and the items DynamoDB would read
(`ScannedCount`) are counted.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from bench.calls import CallRecorder
from bench.scenarios import DESTINATION, api_event
from local import sam_template
from local.events import read_result
from local.functions import FakeLambdaContext, load_handler
from postmask.auth import Caller
from postmask.schemas.aliases import AliasCreate
from postmask.settings import get_settings
from postmask.store import _dynamo, aliases, domains, users

SIZES = (100, 10_000)
_BATCH = 25  # BatchWriteItem's limit
ROUTE = "GET /api/aliases"


@contextmanager
def _table(name: str) -> Iterator[None]:
    """Point the store at table `name` for the duration of the block."""
    previous = os.environ["TABLE_NAME"]
    os.environ["TABLE_NAME"] = name
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ["TABLE_NAME"] = previous
        get_settings.cache_clear()


def _seed(table: str, count: int) -> Caller:
    """A user with a domain and `count` aliases on it, alone in `table`."""
    client = _dynamo.client()
    client.create_table(TableName=table, **sam_template.table_definition())
    with _table(table):
        user = users.create(f"list{count}@bench.example", is_admin=False).user
        domain = domains.create(user.id, f"list{count}.bench.example", None).value.name
        items: list[dict[str, Any]] = []
        for number in range(count):
            body = AliasCreate(domain=domain, destinations=[DESTINATION], note=f"alias {number}")
            items.extend(aliases.new_items(user.id, body, local_part=f"a{number}"))
        batch_put(table, items)
        client.update_item(
            TableName=table,
            Key=_dynamo.key(f"USER#{user.id}", f"DOMAIN#{domain}"),
            UpdateExpression="SET alias_count = :count",
            ExpressionAttributeValues=_dynamo.values({":count": count}),
        )
    return Caller(user_id=user.id, is_admin=False)


def batch_put(table: str, items: list[dict[str, Any]]) -> None:
    """Write `items` into `table` with BatchWriteItem, 25 at a time, until none is left unprocessed."""
    client = _dynamo.client()
    for start in range(0, len(items), _BATCH):
        batch = [{"PutRequest": {"Item": _dynamo.serialize(item)}} for item in items[start : start + _BATCH]]
        pending: dict[str, Any] = {table: batch}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def medians(samples: dict[int, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each size's median of every figure, the first (warm-up) request left out."""
    return {
        str(size): {key: statistics.median(sample[key] for sample in rows[1:]) for key in rows[0]}
        for size, rows in samples.items()
    }


def measure(requests: int = 15) -> dict[str, Any]:
    route = next(route for route in sam_template.routes() if route.key == ROUTE)
    handler = load_handler(route.code_dir, route.handler)
    users_by_size = {
        size: (f"postmask-bench-list-{size}", _seed(f"postmask-bench-list-{size}", size)) for size in SIZES
    }
    samples: dict[int, list[dict[str, float]]] = {size: [] for size in SIZES}
    for _ in range(requests + 1):  # the first round warms the function up and is dropped
        for size, (table, caller) in users_by_size.items():
            event = api_event(ROUTE, "/api/aliases", caller).event
            with _table(table), CallRecorder(_dynamo.client()) as recorded:
                started = time.perf_counter()
                result = handler(event, FakeLambdaContext(route.function))
                total = (time.perf_counter() - started) * 1000
            response = read_result(result)
            assert response.status == 200, response.body
            server = sum(recorded.server_ms)
            samples[size].append(
                {
                    "total_ms": total,
                    "server_ms": server,
                    "client_ms": total - server,
                    "queries": recorded.counts()["Query"],
                    "items_read": sum(r.get("ScannedCount", 0) for r in recorded.responses),
                    "items_returned": len(response.json()["items"]),
                }
            )
    figures = medians(samples)
    small, large = figures[str(SIZES[0])], figures[str(SIZES[1])]
    return {
        "requests": requests,
        "by_aliases": figures,
        "ratio_total": large["total_ms"] / small["total_ms"],
        "ratio_client": large["client_ms"] / small["client_ms"],
        "ratio_items_read": large["items_read"] / small["items_read"],
    }


def print_report(result: dict[str, Any], out: TextIO) -> None:
    out.write("\n4. First page of GET /api/aliases (limit 50), median of the requests (ms)\n")
    out.write(
        f"   {'aliases':>8} {'total':>7} {'moto':>7} {'client':>7} {'queries':>8} {'items read':>11} {'returned':>9}\n"
    )
    for size, row in result["by_aliases"].items():
        out.write(
            f"   {int(size):>8,} {row['total_ms']:>7.1f} {row['server_ms']:>7.1f} {row['client_ms']:>7.1f} "
            f"{row['queries']:>8.0f} {row['items_read']:>11.0f} {row['items_returned']:>9.0f}\n"
        )
    out.write(
        f"   10,000 / 100: client {result['ratio_client']:.2f}x, items read {result['ratio_items_read']:.2f}x, "
        f"total {result['ratio_total']:.2f}x (moto's Query reads the whole table; DynamoDB reads the page)\n"
    )
