"""Cold start and warm requests: each function, and its floor, in fresh processes, interleaved.

Per round and per function: a child process starts the function cold (bench/child.py) and serves the
scenario's first request, then `warm` more; another starts the floor (bench/floor/app.py) with the same
number of requests, each making the calls a dry run of the function recorded for an identical request.
Which of the two goes first alternates between rounds, so that neither is always the one after a pause.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.calls import DryRun
from bench.lambda_env import FunctionSpec
from bench.scenarios import Invocation, Scenario, World, invoke

CHILD = Path(__file__).resolve().parent / "child.py"
FLOOR_DIR = Path(__file__).resolve().parent / "floor"
_CHILD_TIMEOUT_SECONDS = 60


class XRaySink:
    """Plays the X-Ray daemon: a UDP socket on 127.0.0.1 that counts the segments sent to it."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.setblocking(False)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"

    def drain(self) -> int:
        received = 0
        while True:
            try:
                self._socket.recv(65536)
            except BlockingIOError:
                return received
            received += 1

    def close(self) -> None:
        self._socket.close()


@dataclass
class ChildRun:
    init_ms: float
    first_ms: float
    init_cpu_ms: float
    first_cpu_ms: float
    warm_ms: list[float]
    statuses: list[int]
    wall_ms: float  # from spawning the process to the first response, interpreter start included
    xray_segments: int
    max_rss_bytes: int
    peak_traced_bytes: int | None
    summaries: list[Any] = field(default_factory=list)  # each request's result when it is no HTTP response
    stderr: list[str] = field(default_factory=list)

    @property
    def cold_ms(self) -> float:
        """Init and the first request, timed inside the process from its first line."""
        return self.init_ms + self.first_ms

    @property
    def cold_cpu_ms(self) -> float:
        return self.init_cpu_ms + self.first_cpu_ms


def run_child(
    spec: FunctionSpec,
    events: list[dict[str, Any]],
    workdir: Path,
    xray: XRaySink,
    *,
    trace_request: int | None = None,
    profile: Path | None = None,
    python_flags: tuple[str, ...] = (),
) -> ChildRun:
    """Start `spec` cold in a new process and serve `events` in order; with `trace_request`, the peak of Python
    allocations during that request; with `profile`, cProfile's statistics of init and the first request
    written there; `python_flags` go to the interpreter (`-X importtime`)."""
    spec_file = workdir / f"spec-{spec.name}-{time.monotonic_ns()}.json"
    spec_file.write_text(
        json.dumps(
            {
                "sys_path": list(spec.sys_path),
                "code_dir": str(spec.code_dir),
                "handler": spec.handler,
                "function_name": spec.env["AWS_LAMBDA_FUNCTION_NAME"],
                "memory_mb": spec.memory_mb,
                "events": events,
                "trace_request": trace_request,
                "profile": str(profile) if profile else None,
            }
        ),
        encoding="utf-8",
    )
    xray.drain()
    read_end, write_end = os.pipe()
    with (workdir / f"{spec.name}.stdout").open("ab") as stdout, (workdir / "child.stderr").open("w+b") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-S", *python_flags, str(CHILD), str(spec_file), str(write_end)],
            env=spec.env,
            cwd=spec.code_dir,
            pass_fds=[write_end],
            stdout=stdout,
            stderr=stderr,
        )
        os.close(write_end)
        try:
            with os.fdopen(read_end, "rb") as results:
                _wait_readable(results, process)
                first = results.read(1)  # the child writes one byte as soon as its first response is back
                wall_ms = (time.perf_counter() - started) * 1000
                _wait_readable(results, process)
                report = results.read()
            process.wait(timeout=_CHILD_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", errors="replace")
    spec_file.unlink()
    if process.returncode != 0 or not first:
        raise RuntimeError(f"{spec.name} failed (exit {process.returncode}):\n{errors[-3000:]}")
    data = json.loads(report)
    return ChildRun(
        init_ms=data["init_ms"],
        first_ms=data["first_ms"],
        init_cpu_ms=data["init_cpu_ms"],
        first_cpu_ms=data["first_cpu_ms"],
        warm_ms=data["warm_ms"],
        statuses=data["statuses"],
        wall_ms=wall_ms,
        xray_segments=xray.drain(),
        max_rss_bytes=data["max_rss_bytes"],
        peak_traced_bytes=data["peak_traced_bytes"],
        summaries=data["summaries"],
        stderr=[line for line in errors.splitlines() if line.strip()],
    )


def _wait_readable(pipe: Any, process: subprocess.Popen[bytes]) -> None:
    """Wait for the child's next result (or its exit); a child that hangs is an error, not a stuck benchmark."""
    ready, _, _ = select.select([pipe], [], [], _CHILD_TIMEOUT_SECONDS)
    if not ready:
        raise TimeoutError(f"the child process {process.pid} gave no result in {_CHILD_TIMEOUT_SECONDS} s")


def dry_run(invocation: Invocation) -> list[dict[str, Any]]:
    """The calls the function makes for `invocation`, its DynamoDB writes answered without being made."""
    with DryRun() as recorded:
        invoke(invocation)
    return [call.as_floor_call() for call in recorded.calls]


@dataclass
class Pair:
    """The runs of one function and of its floor."""

    scenario: str
    function: list[ChildRun] = field(default_factory=list)
    floor: list[ChildRun] = field(default_factory=list)


def measure(
    scenarios: list[Scenario],
    specs: dict[str, FunctionSpec],
    floor_spec: Callable[[str], FunctionSpec],
    new_world: Callable[[], World],
    *,
    rounds: int,
    warm: int,
    workdir: Path,
    xray: XRaySink,
    progress: Callable[[str], None],
) -> dict[str, Pair]:
    """Function and floor, round after round, for the first scenario of every function in `specs`; each round
    starts from `new_world()`."""
    first_scenario: dict[str, Scenario] = {}
    for scenario in scenarios:
        first_scenario.setdefault(scenario.function(), scenario)
    pairs = {name: Pair(first_scenario[name].name) for name in specs if name in first_scenario}
    floors = {name: floor_spec(name) for name in pairs}
    for number in range(rounds):
        progress(f"cold start round {number + 1}/{rounds}")
        world = new_world()  # a small table again: moto's transactions copy the whole of it
        # The floor of a function that makes no AWS call is the same for all of them: one run a round serves all.
        idle_floor: ChildRun | None = None
        for name, pair in pairs.items():
            spec = specs[name]
            scenario = first_scenario[name]
            function_events = [scenario.make(world).event for _ in range(1 + warm)]
            floor_events = [{"calls": dry_run(scenario.make(world))} for _ in range(1 + warm)]
            if not any(event["calls"] for event in floor_events):
                if idle_floor is None:
                    idle_floor = run_child(floors[name], floor_events, workdir, xray)
                pair.function.append(run_child(spec, function_events, workdir, xray))
                pair.floor.append(idle_floor)
                continue
            runs = [(spec, function_events, pair.function), (floors[name], floor_events, pair.floor)]
            for run_spec, events, results in runs if number % 2 == 0 else reversed(runs):
                results.append(run_child(run_spec, events, workdir, xray))
    return pairs


def floor_spec_for(make_spec: Callable[..., FunctionSpec]) -> Callable[[str], FunctionSpec]:
    """The floor of a function: its settings (env, memory), the floor's code, no layers."""

    def spec(name: str) -> FunctionSpec:
        return make_spec(name, code_dir=FLOOR_DIR, handler="app.lambda_handler", layers=False)

    return spec
