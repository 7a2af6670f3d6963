"""POST /api/import of 1,000 and of 10,000 rows: time, DynamoDB calls, and peak memory beyond the body.

Each size gets a table of its own with one user, her domain and a verified destination; the body is a SimpleLogin
export (`alias,note,enabled,mailboxes`) of that many new aliases on the domain, all to that destination, so every
row is planned, looked up and written (no verification mail). The import function runs in this process, with
its whole Lambda deadline ahead of it (the bench measures the whole import, not where it would stop).

Run twice per size on a fresh table: once timed (total, and moto's share from the server's own clock, the rest
being the function's), once under tracemalloc for the peak of Python allocations made by the request, the body
itself excluded (it exists before the request, as Lambda's event does). moto's time is not DynamoDB's: DynamoDB
runs a transaction of 100 actions in tens of milliseconds (decision 0101 works out the real figure).
"""

from __future__ import annotations

import contextlib
import os
import time
import tracemalloc
from typing import Any, TextIO

from bench.calls import CallRecorder
from bench.listing import _table
from bench.scenarios import DESTINATION, api_event, verify_destination_through_the_store
from local import sam_template
from local.events import read_result
from local.functions import FakeLambdaContext, load_handler
from postmask.auth import Caller
from postmask.store import _dynamo, domains, users

SIZES = (1_000, 10_000)
ROUTE = "POST /api/import"
EXPORT_ROUTE = "GET /api/export"
# moto walks its whole table for each Query (DynamoDB reads the partition): 10,000 contacts Queries on a table of
# 10,000 aliases take moto tens of minutes, so the export is measured after the 1,000-row import only.
EXPORT_MAX_ALIASES = 1_000
_DEADLINE_MS = 15 * 60 * 1000  # Lambda's longest: the whole import is measured


def simplelogin_csv(domain: str, rows: int) -> str:
    """SimpleLogin's alias export: `True`/`False`, a note with a comma now and then, one mailbox each."""
    lines = ["alias,note,enabled,mailboxes\r\n"]
    for number in range(rows):
        note = f'"shop {number}, newsletter"' if number % 3 == 0 else f"site {number}"
        lines.append(f"bench{number}@{domain},{note},{'False' if number % 5 == 0 else 'True'},{DESTINATION}\r\n")
    return "".join(lines)


def _world(table: str, rows: int) -> tuple[Caller, str]:
    client = _dynamo.client()
    if table in client.list_tables()["TableNames"]:
        client.delete_table(TableName=table)
    client.create_table(TableName=table, **sam_template.table_definition())
    with _table(table):
        user = users.create(f"import{rows}@bench.example", is_admin=False).user
        domain = domains.create(user.id, f"import{rows}.bench.example", None).value.name
        verify_destination_through_the_store(user.id, DESTINATION)
    return Caller(user_id=user.id, is_admin=False), domain


def _event(caller: Caller, body: str) -> dict[str, Any]:
    event = api_event(ROUTE, "/api/import", caller).event
    event["headers"]["content-type"] = "text/csv"
    event["body"] = body
    return event


def _run(handler: Any, rows: int, *, traced: bool) -> dict[str, Any]:
    table = f"postmask-bench-import-{rows}"
    caller, domain = _world(table, rows)
    body = simplelogin_csv(domain, rows)
    event = _event(caller, body)
    context = FakeLambdaContext("ImportCreateFunction", deadline_ms=int(time.time() * 1000) + _DEADLINE_MS)
    # The traced run records no calls: the recorder keeps every request, which is the benchmark's memory.
    recorder = contextlib.nullcontext(CallRecorder(_dynamo.client())) if traced else CallRecorder(_dynamo.client())
    with _table(table), recorder as recorded:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        result = handler(event, context)
        total = (time.perf_counter() - started) * 1000
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
    response = read_result(result)
    assert response.status == 200, response.body[:300]
    report = response.json()
    assert not report["errors"], report["errors"][:3]
    assert report["created"] == rows, report
    server = sum(recorded.server_ms)
    return {
        "body_bytes": len(body.encode()),
        "total_ms": total,
        "server_ms": server,
        "client_ms": total - server,
        "calls": dict(recorded.counts()),
        "peak_bytes": peak,
        "export": None if traced or rows > EXPORT_MAX_ALIASES else _export(table, caller),
    }


def _export(table: str, caller: Caller) -> dict[str, Any]:
    """GET /api/export of what was just imported (gzip, as a browser asks): its time and its Queries, most of
    them one per alias for its contacts, made ten at a time."""
    route = next(route for route in sam_template.routes() if route.key == EXPORT_ROUTE)
    handler = load_handler(route.code_dir, route.handler)
    event = api_event(EXPORT_ROUTE, "/api/export", caller).event
    event["headers"]["accept-encoding"] = "gzip"
    context = FakeLambdaContext("ExportGetFunction", deadline_ms=int(time.time() * 1000) + _DEADLINE_MS)
    with _table(table), CallRecorder(_dynamo.client()) as recorded:
        started = time.perf_counter()
        response = read_result(handler(event, context))
        total = (time.perf_counter() - started) * 1000
    assert response.status == 200, response.body[:300]
    return {
        "total_ms": total,
        "server_ms": sum(recorded.server_ms),  # summed over ten threads: more than the wall time when they overlap
        "calls": dict(recorded.counts()),
        "body_bytes": len(response.body),
    }


def measure() -> dict[str, Any]:
    route = next(route for route in sam_template.routes() if route.key == ROUTE)
    handler = load_handler(route.code_dir, route.handler)
    os.environ.setdefault("MAX_ALIASES_PER_USER", "10000")
    _run(handler, 10, traced=False)  # warms the function up (imports, clients)
    figures: dict[str, Any] = {}
    for rows in SIZES:
        timed = _run(handler, rows, traced=False)
        traced = _run(handler, rows, traced=True)
        figures[str(rows)] = {**timed, "peak_bytes": traced["peak_bytes"], "traced_total_ms": traced["total_ms"]}
    return {"by_rows": figures}


def print_report(result: dict[str, Any], out: TextIO) -> None:
    out.write(
        "\n6. POST /api/import (SimpleLogin CSV, every row a new alias): time (ms; moto's share apart) and peak\n"
        "   memory of the request's Python allocations beyond the body (tracemalloc, a second run)\n"
    )
    out.write(f"   {'rows':>7} {'body':>8} {'total':>8} {'moto':>8} {'client':>8} {'peak':>8}  calls\n")
    for rows, row in result["by_rows"].items():
        calls = ", ".join(f"{count} {name}" for name, count in sorted(row["calls"].items()))
        out.write(
            f"   {int(rows):>7,} {row['body_bytes'] / 1_048_576:>6.2f}MB {row['total_ms']:>8.0f} "
            f"{row['server_ms']:>8.0f} {row['client_ms']:>8.0f} {row['peak_bytes'] / 1_048_576:>6.2f}MB  {calls}\n"
        )
    out.write(
        "   then GET /api/export of those aliases (gzip): time, its Queries (contacts: one per alias, ten at a time)\n"
    )
    for rows, row in result["by_rows"].items():
        export = row.get("export")
        if export:
            queries = export["calls"].get("Query", 0)
            out.write(
                f"   {int(rows):>7,} aliases {export['total_ms']:>8.0f} ms  {queries} Query, "
                f"moto {export['server_ms'] / max(queries, 1):.0f} ms per Query (it walks the whole table; DynamoDB "
                f"reads the partition), {export['body_bytes'] / 1_048_576:.2f} MB sent\n"
            )
