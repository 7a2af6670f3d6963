"""The first request of a session: what a person waits for on the first click after a pause.

postmask is used in bursts (open the page, do three things, leave), so the first API request of a burst finds
both the authorizer and the route's function cold, and API Gateway runs them one after the other. Its figure
here is the sum of the two cold starts measured in the same round of the cold-start benchmark (each in its
own process, bench/coldstart.py), next to the sum of their floors' in that round. A page shell is public
(no authorizer): its first request is its own cold start.

No process is started for this: it is made of the cold-start benchmark's runs, round by round.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any, TextIO

from bench.scenarios import AUTHORIZER_FIRST_USE

# The first click of a session: the overview page and the aliases page, and the API calls they make first.
ROUTES = ("GET /api/me", "GET /api/aliases", "GET /", "GET /aliases")
TARGET = 1.3  # as each API function's own (bench/run.py), the authorizer being at 1.1x its floor


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def lines(cold_rows: list[dict[str, Any]], public_routes: set[str]) -> list[dict[str, Any]]:
    """One line per route of ROUTES the cold-start benchmark measured: authorizer (first use of its token in
    five minutes, the case of a session's first request) + route, function and floor, round by round."""
    by_scenario = {row["scenario"]: row for row in cold_rows}
    authorizer = by_scenario.get(AUTHORIZER_FIRST_USE)
    result = []
    for route in ROUTES:
        row = by_scenario.get(route)
        if row is None:
            continue
        parts = [row] if route in public_routes else [authorizer, row] if authorizer is not None else None
        if parts is None:
            continue
        rounds = min(len(part["function_ms"]["runs_cold_ms"]) for part in parts)
        function = [sum(part["function_ms"]["runs_cold_ms"][n] for part in parts) for n in range(rounds)]
        floor = [sum(part["floor_ms"]["runs_cold_ms"][n] for part in parts) for n in range(rounds)]
        function_ms, floor_ms = _median(function), _median(floor)
        result.append(
            {
                "route": route,
                "functions": [part["function"] for part in parts],
                "cold_ms": function_ms,
                "floor_ms": floor_ms,
                "ratio": function_ms / floor_ms,
                "paired_ratio": _median([f / fl for f, fl in zip(function, floor, strict=True)]),
                "best_ratio": min(function) / min(floor),
                "authorizer_ms": parts[0]["function_ms"]["cold_ms"] if len(parts) == 2 else 0.0,
                "runs_cold_ms": [round(value, 1) for value in function],
                "runs_floor_ms": [round(value, 1) for value in floor],
            }
        )
    return result


def print_report(result: list[dict[str, Any]], out: TextIO) -> None:
    out.write(
        "\n1b. The first request of a session: authorizer cold + route cold (a page shell: no authorizer), each\n"
        "   round's sum, median (ms); floor: the sum of their floors in the same round.\n"
    )
    out.write(f"   {'route':20} {'authorizer':>10} {'cold':>6} {'floor':>6} {'ratio':>6} {'paired':>6} {'best':>6}\n")
    for line in result:
        mark = "" if line["ratio"] <= TARGET else "  > target"
        authorizer = f"{line['authorizer_ms']:.0f}" if line["authorizer_ms"] else "-"
        out.write(
            f"   {line['route']:20} {authorizer:>10} {line['cold_ms']:>6.0f} {line['floor_ms']:>6.0f} "
            f"{line['ratio']:>5.2f}x {line['paired_ratio']:>5.2f}x {line['best_ratio']:>5.2f}x{mark}\n"
        )
