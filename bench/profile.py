"""`python -m bench profile FUNCTION`: where one function's cold start goes (the tool behind decision 0052).

Starts FUNCTION cold, as the cold-start benchmark does (its layers, its environment, the moto server, the
first scenario of its route), twice: once under `-X importtime`, to list the imports by top-level package,
and once under cProfile, to list what init and the first request spend their time in. Profilers slow what
they measure: read the figures as shares, and take the timings from `make bench`.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench import coldstart
from bench.lambda_env import Sites, compile_bytecode, function_spec
from bench.moto_server import MotoServer
from bench.scenarios import SIGNIN_MAILER, scenarios, seed_world
from local import sam_template

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def imports_by_package(stderr: Sequence[str]) -> dict[str, float]:
    """Milliseconds of import (self time, summed) per top-level package, from `-X importtime` lines."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr:
        match = _IMPORT_LINE.match(line)
        if match:
            totals[match.group(4).split(".")[0]] += int(match.group(1)) / 1000
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. DomainsGetFunction")
    parser.add_argument("--top", type=int, default=30, help="rows of each list (default 30)")
    parser.add_argument("--callers", metavar="REGEX", help="also list who calls the functions matching REGEX")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write importtime.txt and cold.prof there")
    args = parser.parse_args(argv)
    if args.function not in sam_template.functions():
        parser.error(f"no function {args.function} in template.yaml")
    scenario = next((s for s in scenarios() if s.function() == args.function), None)
    if scenario is None:
        parser.error(f"no scenario serves {args.function}")

    with tempfile.TemporaryDirectory(prefix="postmask-profile-") as temp, MotoServer(Path(temp) / "moto.log") as url:
        workdir = Path(temp)
        os.environ["AWS_ENDPOINT_URL"] = url
        import boto3

        from postmask.settings import get_settings
        from postmask.store import _dynamo

        get_settings.cache_clear()
        _dynamo.client.cache_clear()
        boto3.client("dynamodb").create_table(TableName=os.environ["TABLE_NAME"], **sam_template.table_definition())
        world = seed_world()
        xray = coldstart.XRaySink()
        try:
            spec = function_spec(
                args.function,
                Sites(workdir / "sites"),
                refs={"Table": os.environ["TABLE_NAME"], "SignInMailerFunction.Alias": SIGNIN_MAILER},
                endpoint_url=url,
                xray_address=xray.address,
            )
            compile_bytecode([spec])  # as the benchmark does: a first start would compile from source
            timed = coldstart.run_child(
                spec, [scenario.make(world).event], workdir, xray, python_flags=("-X", "importtime")
            )
            stats_file = workdir / "cold.prof"
            coldstart.run_child(spec, [scenario.make(world).event], workdir, xray, profile=stats_file)
        finally:
            xray.close()

        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "importtime.txt").write_text("\n".join(timed.stderr) + "\n", encoding="utf-8")
            (args.keep / "cold.prof").write_bytes(stats_file.read_bytes())
        out = sys.stdout
        out.write(
            f"\n{args.function} ({scenario.name}): init {timed.init_ms:.0f} ms, first request {timed.first_ms:.0f} ms"
        )
        out.write(" (under -X importtime)\n\nImports, self time per top-level package (ms):\n")
        for package, ms in list(imports_by_package(timed.stderr).items())[: args.top]:
            out.write(f"   {ms:7.1f}  {package}\n")
        out.write("\nInit and first request under cProfile, by cumulative time:\n")
        stats = pstats.Stats(str(stats_file), stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
    return 0
