"""Functions in processes of their own, as Lambda runs them: one worker process per execution environment,
started on a function's first invocation, kept warm for the next, a few per function when requests overlap,
every one of them stopped with the pool.

Each worker gets the function's own environment (Lambda's variables, then the template's) and nothing else
of ours: a function that forgot a variable in template.yaml fails here as it would in AWS.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from local.functions import FunctionError
from local.sam_template import FunctionSpec

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# Lambda allows 10 s to import a function; a busy laptop importing boto3 and pydantic cold may need more.
INIT_TIMEOUT_SECONDS = 60.0


def lambda_runtime_environment(spec: FunctionSpec, function_name: str, aws: Mapping[str, str]) -> dict[str, str]:
    """The variables Lambda sets in every execution environment, plus `aws` (region, credentials, endpoint)."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        # What `sam local` sets too; Powertools reads it and keeps the X-Ray tracer off (there is no daemon).
        "AWS_SAM_LOCAL": "true",
        **aws,
    }


class _Worker:
    """One worker process and its end of the pipe protocol (see local/worker.py)."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], log: IO[bytes]) -> None:
        self.spec = spec
        self.last_used = time.monotonic()
        self._buffer = bytearray()
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), spec.handler, str(spec.code_dir), *map(str, spec.layers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=spec.code_dir,
            env=dict(environment),
        )

    def _read_message(self, deadline: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise EOFError
                self._buffer += chunk
        line, _, rest = self._buffer.partition(b"\n")
        self._buffer = bytearray(rest)
        message: dict[str, Any] = json.loads(line)
        return message

    def _exited(self) -> FunctionError:
        code = self.process.wait(timeout=5)
        return FunctionError(
            self.spec.logical_id, "Runtime.ExitError", f"Runtime exited with error: exit status {code}"
        )

    def wait_until_ready(self, timeout: float) -> None:
        try:
            message = self._read_message(time.monotonic() + timeout)
        except TimeoutError:
            raise FunctionError(
                self.spec.logical_id, "Runtime.InitTimeout", f"no handler after {timeout:.0f} s"
            ) from None
        except EOFError:
            raise self._exited() from None
        if "init_error" in message:
            error = message["init_error"]
            raise FunctionError(
                self.spec.logical_id, f"Runtime.ImportModuleError: {error['errorType']}", error["errorMessage"]
            )

    def call(self, event: dict[str, Any]) -> Any:
        assert self.process.stdin is not None
        started = time.monotonic()
        request = {
            "event": event,
            "request_id": str(uuid.uuid4()),
            "deadline_ms": int(time.time() * 1000) + self.spec.timeout * 1000,
        }
        try:
            self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.process.stdin.flush()
            message = self._read_message(started + self.spec.timeout)
        except TimeoutError:
            raise FunctionError(
                self.spec.logical_id, "Sandbox.Timedout", f"Task timed out after {self.spec.timeout:.2f} seconds"
            ) from None
        except (EOFError, BrokenPipeError):
            raise self._exited() from None
        if "error" in message:
            error = message["error"]
            raise FunctionError(self.spec.logical_id, error["errorType"], error["errorMessage"])
        return message["result"]

    def end_input(self) -> None:
        """Ask the worker to exit: it does once it has answered what it is running."""
        with contextlib.suppress(OSError):  # already gone
            if self.process.stdin is not None:
                self.process.stdin.close()

    def stop(self, *, grace: float = 2.0) -> None:
        """End of input asks the worker to exit; one that has not within `grace` seconds is killed."""
        self.end_input()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class WorkerPool:
    """`invoke(function, event)` in a warm worker of that function, starting one when none is free.

    At most `per_function` workers per function (further requests wait for one) and `total` in all (the
    least recently used idle worker of another function makes room)."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        environment: Callable[[FunctionSpec], Mapping[str, str]],
        *,
        logs_dir: Path,
        per_function: int = 4,
        total: int = 24,
        init_timeout: float = INIT_TIMEOUT_SECONDS,
    ) -> None:
        self._specs = dict(specs)
        self._environment = environment
        self._environments: dict[str, Mapping[str, str]] = {}
        self._logs_dir = logs_dir
        self._logs: dict[str, IO[bytes]] = {}
        self._per_function = per_function
        self._total = total
        self._init_timeout = init_timeout
        self._changed = threading.Condition()
        self._idle: dict[str, list[_Worker]] = {name: [] for name in self._specs}
        self._counts: dict[str, int] = dict.fromkeys(self._specs, 0)  # idle + busy + starting
        self._workers: set[_Worker] = set()
        self._closed = False

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        worker = self._acquire(function)
        healthy = False
        try:
            result = worker.call(event)
            healthy = True
            return result
        except FunctionError as error:
            # A handled error leaves the worker usable, as in Lambda; a timeout or crash does not.
            healthy = worker.process.poll() is None and error.error_type not in ("Sandbox.Timedout",)
            raise
        finally:
            self._release(worker, healthy)

    def pids(self) -> list[int]:
        with self._changed:
            return [worker.process.pid for worker in self._workers]

    def stop(self) -> None:
        """Stop every worker, busy or not; a request still running gets a FunctionError."""
        with self._changed:
            self._closed = True
            workers = list(self._workers)
            self._changed.notify_all()
        for worker in workers:
            worker.end_input()  # all at once: they exit in parallel
        for worker in workers:
            worker.stop()
        for log in self._logs.values():
            log.close()

    def _acquire(self, function: str) -> _Worker:
        spec = self._specs[function]  # KeyError: not a function of this template
        environment, log = self._setup(spec)
        evicted = None
        with self._changed:
            while True:
                if self._closed:
                    raise FunctionError(function, "Runtime.Shutdown", "the local stack is stopping")
                if self._idle[function]:
                    return self._idle[function].pop()  # the most recently used: the warmest
                if self._counts[function] < self._per_function:
                    if sum(self._counts.values()) < self._total:
                        break
                    evicted = self._take_coldest_idle()
                    if evicted is not None:
                        break
                self._changed.wait()
            self._counts[function] += 1
        if evicted is not None:
            evicted.stop()
        try:
            worker = _Worker(spec, environment, log)
        except BaseException:
            with self._changed:
                self._counts[function] -= 1
                self._changed.notify_all()
            raise
        with self._changed:
            self._workers.add(worker)
        try:
            worker.wait_until_ready(self._init_timeout)
        except BaseException:
            self._release(worker, healthy=False)
            raise
        return worker

    def _setup(self, spec: FunctionSpec) -> tuple[Mapping[str, str], IO[bytes]]:
        """The function's environment and log file, made once (an unresolvable variable fails here)."""
        with self._changed:
            if spec.logical_id not in self._environments:
                self._environments[spec.logical_id] = self._environment(spec)
            if spec.logical_id not in self._logs:
                self._logs_dir.mkdir(parents=True, exist_ok=True)
                self._logs[spec.logical_id] = (self._logs_dir / f"{spec.logical_id}.log").open("ab")
            return self._environments[spec.logical_id], self._logs[spec.logical_id]

    def _take_coldest_idle(self) -> _Worker | None:
        idle = [worker for workers in self._idle.values() for worker in workers]
        if not idle:
            return None
        coldest = min(idle, key=lambda worker: worker.last_used)
        self._idle[coldest.spec.logical_id].remove(coldest)
        self._counts[coldest.spec.logical_id] -= 1
        self._workers.discard(coldest)
        return coldest

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._changed:
            if healthy and not self._closed:
                worker.last_used = time.monotonic()
                self._idle[worker.spec.logical_id].append(worker)
                self._changed.notify_all()
                return
            self._workers.discard(worker)
            self._counts[worker.spec.logical_id] -= 1
            self._changed.notify_all()
        worker.stop(grace=0)  # timed out or broken: nothing in it is worth waiting for
