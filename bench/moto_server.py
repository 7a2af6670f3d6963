"""moto's ThreadedMotoServer on 127.0.0.1, in a process of its own, stopped with the benchmark.

Its own process, so that the moto work of a request neither competes for the GIL of the process being measured
nor counts in its memory. Every response carries `X-Bench-Server-Ms`, the time moto spent on the request:
what DynamoDB itself would take is not what moto takes (moto's Query reads the whole table), so the list
benchmark reports the client's share apart from the server's.

    python -m bench.moto_server    # prints the port on its first line, stops when stdin closes
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

SERVER_TIME_HEADER = "X-Bench-Server-Ms"
_START_TIMEOUT_SECONDS = 60


def _serve() -> None:
    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class TimedApplication(DomainDispatcherApplication):
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            started = time.perf_counter()

            def timed(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                headers.append((SERVER_TIME_HEADER, f"{(time.perf_counter() - started) * 1000:.3f}"))
                return start_response(status, headers, exc_info)

            result: Iterable[bytes] = super().__call__(environ, timed)
            return result

    threaded_moto_server.DomainDispatcherApplication = TimedApplication  # type: ignore[misc]
    # A function that invokes another (POST /api/sessions, the sign-in mailer) gets Lambda's 202; nothing runs.
    from local.lambdas import set_dispatch

    set_dispatch(lambda name, invocation_type, event: None)
    server = threaded_moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin (or dies)
    finally:
        server.stop()


class MotoServer:
    """`with MotoServer() as url:` a moto server for the duration of the block."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self._log_handle = self.log.open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.moto_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_handle,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], _START_TIMEOUT_SECONDS)
        line = self._process.stdout.readline() if ready else ""  # the port, once the server listens
        if not line.strip().isdigit():
            self._stop()
            raise RuntimeError(f"the moto server did not start; see {self.log}")
        return f"http://127.0.0.1:{int(line)}"

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._log_handle.close()
        self._process = None


if __name__ == "__main__":
    _serve()
