"""`GET /api/activity?alias_id=` for an alias with 20 events, beside 100 and beside 100,000 events of the same
user's other aliases.

The events are the very items the store writes (store/activity.py `item`: the user's view and each alias's own
partition), seeded with `BatchWriteItem` into a table per size. An alias's events have a partition of their own,
so its page should read the same items (`ScannedCount`) and make one `Query` whatever the other aliases hold.
As in bench/listing.py, moto's `Query` walks the whole table where DynamoDB reads only the page: the share of
the time moto spent (its own clock) is reported beside the total, and the client's time is the difference.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bench.calls import CallRecorder
from bench.listing import _table, batch_put, medians
from bench.scenarios import DESTINATION, api_event
from local import sam_template
from local.events import read_result
from local.functions import FakeLambdaContext, load_handler
from postmask.auth import Caller
from postmask.clock import iso
from postmask.schemas.aliases import AliasCreate
from postmask.store import _dynamo, activity, aliases, domains, users

SIZES = (100, 100_000)  # events of the other aliases
OWN_EVENTS = 20
OTHER_ALIASES = 100
ROUTE = "GET /api/activity"


def _event(user_id: str, alias_id: str, number: int, start: datetime) -> activity.Event:
    return activity.Event(
        user_id=user_id,
        key=f"bench-{alias_id}-{number}",
        at=iso(start + timedelta(seconds=number)),
        address=f"{alias_id}@bench.example",
        outcome="forwarded",
        alias_id=alias_id,
        sender="news@shop.example",
        destination=DESTINATION,
        subject=f"message {number}",
    )


def _seed(table: str, others: int) -> tuple[Caller, str]:
    """A user with one alias of `OWN_EVENTS` events and `others` events of `OTHER_ALIASES` other aliases."""
    client = _dynamo.client()
    client.create_table(TableName=table, **sam_template.table_definition())
    with _table(table):
        user = users.create(f"activity{others}@bench.example", is_admin=False).user
        domain = domains.create(user.id, f"activity{others}.bench.example", None).value.name
        body = AliasCreate(domain=domain, destinations=[DESTINATION], site="shop.example")
        target = aliases.create(user.id, body).value.id
        start = datetime.now(UTC) - timedelta(days=1)
        events = [_event(user.id, target, number, start) for number in range(OWN_EVENTS)]
        other_ids = [f"{number:026d}" for number in range(OTHER_ALIASES)]  # ids of aliases the user once had
        events += [_event(user.id, other_ids[n % OTHER_ALIASES], n, start) for n in range(others)]
        items: list[dict[str, Any]] = []
        for event in events:
            user_view = activity.item(event)
            items += [user_view, {**user_view, "pk": f"ACT#{user.id}#{event.alias_id}"}]
        batch_put(table, items)
    return Caller(user_id=user.id, is_admin=False), target


def measure(requests: int = 15) -> dict[str, Any]:
    route = next(route for route in sam_template.routes() if route.key == ROUTE)
    handler = load_handler(route.code_dir, route.handler)
    seeded = {
        size: (f"postmask-bench-activity-{size}", *_seed(f"postmask-bench-activity-{size}", size)) for size in SIZES
    }
    samples: dict[int, list[dict[str, float]]] = {size: [] for size in SIZES}
    for _ in range(requests + 1):  # the first round warms the function up and is dropped
        for size, (table, caller, alias_id) in seeded.items():
            event = api_event(ROUTE, "/api/activity", caller, query={"alias_id": alias_id}).event
            with _table(table), CallRecorder(_dynamo.client()) as recorded:
                started = time.perf_counter()
                result = handler(event, FakeLambdaContext(route.function))
                total = (time.perf_counter() - started) * 1000
            response = read_result(result)
            assert response.status == 200, response.body
            items = response.json()["items"]
            assert {item["alias_id"] for item in items} == {alias_id}
            server = sum(recorded.server_ms)
            samples[size].append(
                {
                    "total_ms": total,
                    "server_ms": server,
                    "client_ms": total - server,
                    "calls": len(recorded.calls),
                    "items_read": sum(r.get("ScannedCount", 0) for r in recorded.responses),
                    "items_returned": len(items),
                }
            )
    figures = medians(samples)
    small, large = figures[str(SIZES[0])], figures[str(SIZES[1])]
    return {
        "requests": requests,
        "by_other_events": figures,
        "ratio_client": large["client_ms"] / small["client_ms"],
        "ratio_items_read": large["items_read"] / small["items_read"],
    }


def print_report(result: dict[str, Any], out: TextIO) -> None:
    out.write(f"\n4b. GET /api/activity?alias_id= (an alias with {OWN_EVENTS} events), median of the requests (ms)\n")
    out.write(
        f"   {'other events':>12} {'total':>7} {'moto':>7} {'client':>7} {'calls':>6} {'items read':>11} "
        f"{'returned':>9}\n"
    )
    for size, row in result["by_other_events"].items():
        out.write(
            f"   {int(size):>12,} {row['total_ms']:>7.1f} {row['server_ms']:>7.1f} {row['client_ms']:>7.1f} "
            f"{row['calls']:>6.0f} {row['items_read']:>11.0f} {row['items_returned']:>9.0f}\n"
        )
    out.write(
        f"   100,000 / 100: client {result['ratio_client']:.2f}x, items read {result['ratio_items_read']:.2f}x "
        "(moto's Query walks the whole table; DynamoDB reads the alias's partition only)\n"
    )
