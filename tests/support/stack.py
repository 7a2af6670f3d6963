"""The local stack as a user runs it, for end-to-end tests: `python -m local` (what `make run` runs) in a
subprocess on free ports, spoken to over real HTTP, stopped with SIGINT, checked to leave nothing behind.

    with running_stack() as stack:
        stack.request("GET", "/api/me").json()

The stack runs in a process group of its own, so "nothing behind" means: no process left in that group.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from local.events import HttpResponse
from local.sam_template import ROOT

START_SECONDS = 120  # a cold start imports moto and boto3; a loaded 2-core CI machine is slow
STOP_SECONDS = 30
_ADMIN: Any = object()  # `request(token=_ADMIN)`: the stack's own admin token


@dataclass
class Stack:
    base_url: str
    token: str  # the admin dev user's (POSTMASK_DEV_TOKEN)
    smtp_port: int
    outbox: Path
    logs: Path  # each function's output, <LogicalId>.log
    process: subprocess.Popen[bytes]
    output_file: Path  # the stack's stdout and stderr

    def output(self) -> str:
        return self.output_file.read_text(errors="replace")

    def group_members(self) -> list[int]:
        """The pids in the stack's process group: the stack and its workers."""
        listing = subprocess.run(["ps", "-A", "-o", "pid=,pgid="], capture_output=True, text=True, check=True).stdout
        return [
            int(pid) for pid, pgid in (line.split() for line in listing.splitlines()) if int(pgid) == self.process.pid
        ]

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = _ADMIN,
        body: Any = None,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        timeout: float = 60,
    ) -> HttpResponse:
        """One HTTP request; `token=None` sends no Authorization header."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.token if token is _ADMIN else token}"
        if body is not None:
            raw_body = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if query:
            path += "?" + urlencode(query)
        address = urlsplit(self.base_url)
        with closing(http.client.HTTPConnection(address.hostname or "", address.port, timeout=timeout)) as connection:
            connection.request(method, path, body=raw_body, headers=all_headers)
            response = connection.getresponse()
            return HttpResponse(response.status, response.getheaders(), response.read())


def free_ports(count: int) -> list[int]:
    """Ports free right now on loopback (bound all at once, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def running_stack(**env_overrides: str) -> Iterator[Stack]:
    """`python -m local` on free ports with a temporary outbox and logs, healthy on entry; on exit it is sent
    SIGINT (Ctrl-C), must exit 0 within STOP_SECONDS, and must leave no process of its group behind."""
    with tempfile.TemporaryDirectory(prefix="postmask-stack-") as temporary:
        tmp = Path(temporary)
        port, smtp_port = free_ports(2)
        env = {
            **os.environ,
            "PORT": str(port),
            "SMTP_PORT": str(smtp_port),
            "POSTMASK_DEV_TOKEN": f"pm_e2e_{secrets.token_urlsafe(24)}",
            "POSTMASK_OUTBOX": str(tmp / "outbox"),
            "POSTMASK_LOGS": str(tmp / "logs"),
            # One admin user serves every end-to-end test: more new destinations a day than a person's 20 (the
            # limit itself is tested in tests/integration/test_destinations.py).
            "POSTMASK_NEW_DESTINATIONS_PER_DAY": "100000",
            **env_overrides,
        }
        output_file = tmp / "output.txt"
        with output_file.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "local"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a terminal's Ctrl-C, and what "behind" means
            )
        stack = Stack(
            base_url=f"http://127.0.0.1:{port}",
            token=env["POSTMASK_DEV_TOKEN"],
            smtp_port=smtp_port,
            outbox=Path(env["POSTMASK_OUTBOX"]),
            logs=Path(env["POSTMASK_LOGS"]),
            process=process,
            output_file=output_file,
        )
        try:
            _wait_until_healthy(stack)
            yield stack
        finally:
            stop(stack)


def _wait_until_healthy(stack: Stack) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise AssertionError(f"the stack exited with {stack.process.returncode}:\n{stack.output()}")
        try:
            if stack.request("GET", "/api/health", token=None, timeout=10).status == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)  # the interval between polls, not a guess at readiness
    raise AssertionError(f"no healthy stack at {stack.base_url} after {START_SECONDS} s:\n{stack.output()}")


def stop(stack: Stack, sig: signal.Signals = signal.SIGINT) -> None:
    """Send `sig` to the stack (unless it has exited), then check it exited 0 and nothing of it is left."""
    process = stack.process
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(f"the stack ignored {sig.name} for {STOP_SECONDS} s:\n{stack.output()}") from None
    deadline = time.monotonic() + 10
    while stack.group_members() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = stack.group_members()
    if left:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"processes {left} outlived the stack:\n{stack.output()}")
    assert process.returncode == 0, f"the stack exited with {process.returncode}:\n{stack.output()}"
