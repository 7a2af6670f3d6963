"""The benchmark run: the moto server, the seeded world, each benchmark in turn, the table, results.json."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import activity, coldstart, faults, forwarder, importing, listing, session, sizes, trackers
from bench.calls import CallRecorder, describe
from bench.lambda_env import FunctionSpec, Sites, compile_bytecode, function_spec
from bench.moto_server import MotoServer
from bench.scenarios import (
    AUTHORIZER_FIRST_USE,
    MAIL_BUCKET,
    SIGNIN_MAILER,
    Scenario,
    World,
    forwarder_scenarios,
    invoke,
    scenarios,
    seed_world,
)
from local import sam_template

RESULTS = Path(__file__).resolve().parent / "results.json"
COLD_RATIO_TARGET = 1.3  # every function's cold start at most this times its floor's (issue 20)
AUTHORIZER_RATIO_TARGET = 1.1  # the authorizer's: it is on the path of every session's first request
BENCHMARKS = ("calls", "cold", "list", "activity", "forwarder", "trackers", "import", "faults", "sizes")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def p99(values: Sequence[float]) -> float:
    """Nearest rank: the smallest value at or above 99% of the others."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _section(results: dict[str, Any], name: str, message: str | None = None) -> Iterator[None]:
    """One benchmark of the run, its progress said and its duration kept (meta.section_seconds)."""
    if message:
        _progress(message)
    started = time.monotonic()
    try:
        yield
    finally:
        results["meta"].setdefault("section_seconds", {})[name] = round(time.monotonic() - started, 1)


# --- DynamoDB calls per request --------------------------------------------------------------------------------


def count_calls(all_scenarios: list[Scenario], world: World) -> list[dict[str, Any]]:
    """Every scenario once, in this process, its calls counted on the store's client."""
    from postmask.store import _dynamo

    rows = []
    for scenario in all_scenarios:
        invocation = scenario.make(world)
        with CallRecorder(_dynamo.client()) as recorded:
            status = invoke(invocation)
        made = dict(recorded.counts())
        promised = dict(scenario.promised) if scenario.promised is not None else None
        rows.append(
            {
                "scenario": scenario.name,
                "function": invocation.function,
                "status": status,
                "made": made,
                "promised": promised,
                "ok": promised is not None and made == promised and (200 <= status < 300 or not scenario.declared),
            }
        )
    return rows


# --- cold start and warm requests ------------------------------------------------------------------------------


def _summary(runs: list[coldstart.ChildRun]) -> dict[str, Any]:
    return {
        "cold_ms": median([run.cold_ms for run in runs]),
        "cold_best_ms": min(run.cold_ms for run in runs),
        "cold_cpu_ms": median([run.cold_cpu_ms for run in runs]),
        "init_ms": median([run.init_ms for run in runs]),
        "first_request_ms": median([run.first_ms for run in runs]),
        "wall_ms": median([run.wall_ms for run in runs]),
        "runs_cold_ms": [round(run.cold_ms, 1) for run in runs],
        "warm_median_ms": median([ms for run in runs for ms in run.warm_ms]),
        "warm_p99_ms": p99([ms for run in runs for ms in run.warm_ms]),
        "warm_samples": sum(len(run.warm_ms) for run in runs),
        "xray_segments": sum(run.xray_segments for run in runs),
        "statuses": sorted({status for run in runs for status in run.statuses}),
    }


@dataclass
class Lab:
    """What the measured processes share: the moto server, the site directories, the X-Ray sink, the world."""

    endpoint: str
    workdir: Path
    sites: Sites
    xray: coldstart.XRaySink
    new_world: Callable[[], World]

    def spec(self, name: str, refs: Mapping[str, str] | None = None, **overrides: Any) -> FunctionSpec:
        return function_spec(
            name,
            self.sites,
            refs={
                "Table": os.environ["TABLE_NAME"],
                "SignInMailerFunction.Alias": SIGNIN_MAILER,
                "MailBucket": MAIL_BUCKET,  # where the scenarios store mail (quarantine's copies)
                **(refs or {}),
            },
            endpoint_url=self.endpoint,
            xray_address=self.xray.address,
            **overrides,
        )


def cold_and_warm(
    all_scenarios: list[Scenario], lab: Lab, *, rounds: int, warm: int, only: set[str] | None = None
) -> list[dict[str, Any]]:
    tested = {scenario.function() for scenario in all_scenarios} & (only or set(sam_template.functions()))
    specs = {name: lab.spec(name) for name in sam_template.functions() if name in tested}
    compile_bytecode([*specs.values(), *(coldstart.floor_spec_for(lab.spec)(name) for name in specs)])
    pairs = coldstart.measure(
        all_scenarios,
        specs,
        coldstart.floor_spec_for(lab.spec),
        lab.new_world,
        rounds=rounds,
        warm=warm,
        workdir=lab.workdir,
        xray=lab.xray,
        progress=_progress,
    )
    rows = []
    for name, pair in pairs.items():
        function, floor = _summary(pair.function), _summary(pair.floor)
        stderr = sorted({line for run in pair.function for line in run.stderr})
        rows.append(
            {
                "function": name,
                "scenario": pair.scenario,
                "function_ms": function,
                "floor_ms": floor,
                "cold_ratio": function["cold_ms"] / floor["cold_ms"],
                "best_ratio": function["cold_best_ms"] / floor["cold_best_ms"],
                # Each round's function and floor ran one after the other: the median of their ratios is the
                # figure least moved by the machine's load drifting between rounds.
                "paired_ratio": median(
                    [run.cold_ms / floor_run.cold_ms for run, floor_run in zip(pair.function, pair.floor, strict=True)]
                ),
                "cpu_ratio": function["cold_cpu_ms"] / floor["cold_cpu_ms"],
                "wall_ratio": function["wall_ms"] / floor["wall_ms"],
                # A floor that makes no call takes microseconds: a ratio to it says nothing.
                "warm_ratio": function["warm_median_ms"] / floor["warm_median_ms"]
                if floor["warm_median_ms"] >= 0.5
                else math.nan,
                "warm_overhead_ms": function["warm_median_ms"] - floor["warm_median_ms"],
                "stderr": stderr[:10],
            }
        )
    return rows


# --- the table -------------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _ratio(value: float) -> str:
    return "     -" if math.isnan(value) else f"{value:>5.2f}x"


def print_report(results: dict[str, Any]) -> None:
    out = sys.stdout
    meta = results["meta"]
    out.write(
        f"\npostmask benchmarks, {meta['date']}: {meta['rounds']} cold starts per function, {meta['warm']} warm "
        f"requests each; {meta['cpus']} CPUs, load {meta['load_before']} before the run\n"
    )
    if "calls" in results:
        out.write("\n3. DynamoDB calls per request (botocore before-call hooks on the store's client)\n")
        out.write(f"   {'scenario':42} {'status':>6}  {'made':32} {'promised':32}\n")
        for row in results["calls"]:
            flag = "ok" if row["ok"] else "MISMATCH"
            out.write(
                f"   {row['scenario']:42} {row['status']:>6}  {describe(row['made']):32} "
                f"{describe(row['promised']):32} {flag}\n"
            )
    if "cold" in results:
        out.write(
            "\n1. Cold start: init + first request, timed in the new process from its first line (median, ms);\n"
            "   wall: spawn to first response, interpreter start included. Floor: boto3 + json, same calls.\n"
            "   paired: median of each round's function/floor ratio; best: fastest run over fastest run.\n"
            f"   Target: ratio at most {COLD_RATIO_TARGET}x, the authorizer's {AUTHORIZER_RATIO_TARGET}x.\n"
        )
        out.write(
            f"   {'function':26} {'init':>5} {'1st':>5} {'cold':>5} {'floor':>5} {'ratio':>6}  "
            f"{'wall':>5} {'floor':>5} {'ratio':>6}  {'cpu':>5} {'floor':>5} {'ratio':>6}  "
            f"{'paired':>6} {'best':>6}  {'x-ray':>5}\n"
        )
        for row in results["cold"]:
            fn, fl = row["function_ms"], row["floor_ms"]
            target = AUTHORIZER_RATIO_TARGET if row["scenario"] == AUTHORIZER_FIRST_USE else COLD_RATIO_TARGET
            mark = "" if row["cold_ratio"] <= target else f"  > {target}x"
            out.write(
                f"   {row['function']:26} {_ms(fn['init_ms']):>5} {_ms(fn['first_request_ms']):>5} "
                f"{_ms(fn['cold_ms']):>5} {_ms(fl['cold_ms']):>5} {row['cold_ratio']:>5.2f}x  "
                f"{_ms(fn['wall_ms']):>5} {_ms(fl['wall_ms']):>5} {row['wall_ratio']:>5.2f}x  "
                f"{_ms(fn['cold_cpu_ms']):>5} {_ms(fl['cold_cpu_ms']):>5} {row['cpu_ratio']:>5.2f}x  "
                f"{row['paired_ratio']:>5.2f}x {row['best_ratio']:>5.2f}x  "
                f"{fn['xray_segments']:>5}{mark}\n"
            )
        others = [row for row in results["cold"] if " /api/" in row["scenario"]]  # not the pages, nor the authorizer
        if others:
            above = [row["function"] for row in others if row["cold_ratio"] > COLD_RATIO_TARGET]
            paired_above = [row["function"] for row in others if row["paired_ratio"] > COLD_RATIO_TARGET]
            out.write(
                f"   The {len(others)} API functions: ratio median {median([r['cold_ratio'] for r in others]):.2f}x "
                f"(max {max(r['cold_ratio'] for r in others):.2f}x), paired median "
                f"{median([r['paired_ratio'] for r in others]):.2f}x; above {COLD_RATIO_TARGET}x: {len(above)} by "
                f"ratio, {len(paired_above)} by paired\n"
            )
        if "session" in results:
            session.print_report(results["session"], out)
        out.write("\n2. Warm requests in the same processes (ms): median and p99, function vs floor\n")
        out.write(f"   {'function':26} {'median':>6} {'p99':>6} {'floor':>6} {'p99':>6} {'ratio':>6} {'extra':>6}\n")
        for row in results["cold"]:
            fn, fl = row["function_ms"], row["floor_ms"]
            out.write(
                f"   {row['function']:26} {_ms(fn['warm_median_ms']):>6} {_ms(fn['warm_p99_ms']):>6} "
                f"{_ms(fl['warm_median_ms']):>6} {_ms(fl['warm_p99_ms']):>6} {_ratio(row['warm_ratio'])} "
                f"{_ms(row['warm_overhead_ms']):>6}\n"
            )
        noisy = {row["function"]: row["stderr"] for row in results["cold"] if row["stderr"]}
        for name, lines in noisy.items():
            out.write(f"   stderr of {name}: {lines[0][:150]}\n")
    for name, module in {"list": listing, "activity": activity}.items():
        if name in results:
            module.print_report(results[name], out)
    if "forwarder" in results:
        forwarder.print_report(results["forwarder"], out)
    if "trackers" in results:
        trackers.print_report(results["trackers"], out)
    if "import" in results:
        importing.print_report(results["import"], out)
    if "faults" in results:
        faults.print_report(results["faults"], out)
    if "sizes" in results:
        sizes.print_report(results["sizes"], out)
    sections = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in meta.get("section_seconds", {}).items())
    out.write(
        f"\nTook {meta['seconds']:.0f} s ({sections}); load {meta['load_after']} after the run; figures in "
        f"{RESULTS.relative_to(sam_template.ROOT)}\n"
    )


# --- main ------------------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """NaN (a figure that could not be taken) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="cold starts per function and floor (default 7)")
    parser.add_argument("--warm", type=int, default=4, help="warm requests after each cold one (default 4)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {BENCHMARKS}")
    parser.add_argument("--functions", help="cold start: only these (comma-separated logical ids)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    started = time.monotonic()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_before": " ".join(f"{load:.1f}" for load in os.getloadavg()),
            "rounds": args.rounds,
            "warm": args.warm,
        }
    }
    with tempfile.TemporaryDirectory(prefix="postmask-bench-") as temp:
        workdir = Path(temp)
        with MotoServer(workdir / "moto.log") as endpoint:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            import boto3

            from postmask.settings import get_settings
            from postmask.store import _dynamo

            get_settings.cache_clear()
            _dynamo.client.cache_clear()
            client = boto3.client("dynamodb")

            def new_world() -> World:
                """The benchmark's table, emptied (dropped and made again from the template) and seeded."""
                table = os.environ["TABLE_NAME"]
                if table in client.list_tables()["TableNames"]:
                    client.delete_table(TableName=table)
                client.create_table(TableName=table, **sam_template.table_definition())
                return seed_world()

            lab = Lab(endpoint, workdir, Sites(workdir / "sites"), coldstart.XRaySink(), new_world)
            all_scenarios = scenarios()
            try:
                if "calls" in wanted:
                    with _section(results, "calls", "DynamoDB calls per request"):
                        results["calls"] = count_calls(all_scenarios, new_world())
                if "cold" in wanted:
                    only = set(args.functions.split(",")) if args.functions else None
                    with _section(results, "cold"):  # with the session lines, made of its runs
                        results["cold"] = cold_and_warm(
                            all_scenarios, lab, rounds=args.rounds, warm=args.warm, only=only
                        )
                    public = {route.key for route in sam_template.routes() if route.public}
                    results["session"] = session.lines(results["cold"], public)
                if "list" in wanted:
                    with _section(results, "list", "list latency at 100 and 10,000 aliases"):
                        results["list"] = listing.measure()
                if "activity" in wanted:
                    message = "GET /api/activity?alias_id= beside 100 and 100,000 events of other aliases"
                    with _section(results, "activity", message):
                        results["activity"] = activity.measure()
                if "forwarder" in wanted:
                    message = "forwarder: DynamoDB calls per message, cold start, memory and time per message size"
                    with _section(results, "forwarder", message):
                        calls = count_calls(forwarder_scenarios(), new_world())
                        results["forwarder"] = forwarder.measure(
                            lab.spec, new_world(), workdir, lab.xray, rounds=args.rounds
                        )
                        results["forwarder"]["calls"] = calls
                if "trackers" in wanted:
                    message = "tracker removal from HTML parts of 256 KiB to 8 MiB: time and peak memory"
                    with _section(results, "trackers", message):
                        results["trackers"] = trackers.measure()
                if "import" in wanted:
                    with _section(results, "import", "import of 1,000 and 10,000 rows"):
                        results["import"] = importing.measure()
                if "faults" in wanted:
                    message = "1,000 messages with 20 % of SES and DynamoDB calls failing (in-process moto)"
                    with _section(results, "faults", message):
                        results["faults"] = faults.run().as_dict()
            finally:
                lab.xray.close()
        if "sizes" in wanted:
            with _section(results, "sizes", "sam build"):
                results["sizes"] = sizes.measure(workdir)
    results["meta"]["seconds"] = time.monotonic() - started
    results["meta"]["load_after"] = " ".join(f"{load:.1f}" for load in os.getloadavg())
    args.output.write_text(json.dumps(_json_safe(results), indent=2, default=str) + "\n", encoding="utf-8")
    print_report(results)
    return 0
