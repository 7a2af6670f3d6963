"""Functions run as Lambda runs them: a process each, their own environment and path, kept warm, replaced
when they time out or crash, all stopped with the pool."""

from __future__ import annotations

import os
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.functions import FunctionError
from local.sam_template import FunctionSpec
from local.workers import WorkerPool, lambda_runtime_environment

PROBE = """
import os, sys
import layer_module

def lambda_handler(event, context):
    print("hello from the probe")  # a function's print must not break the protocol
    try:
        import local  # noqa: F401
        repository_importable = True
    except ImportError:
        repository_importable = False
    return {
        "pid": os.getpid(),
        "environ": dict(os.environ),
        "path": sys.path[:2],
        "cwd": os.getcwd(),
        "layer": layer_module.VALUE,
        "repository_importable": repository_importable,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "echo": event,
    }
"""
FAILING = """
import os, time

def lambda_handler(event, context):
    if event["do"] == "raise":
        raise ValueError("bad input")
    if event["do"] == "sleep":
        time.sleep(event["seconds"])
    if event["do"] == "exit":
        os._exit(3)
    if event["do"] == "unencodable":
        return {"when": object()}
    return {"pid": os.getpid()}
"""
RENDEZVOUS = """
import os, time
from pathlib import Path

def lambda_handler(event, context):
    # Proves concurrency across processes: each call waits until `expected` calls have arrived.
    here = Path(event["dir"])
    (here / str(os.getpid())).touch()
    deadline = time.monotonic() + 20
    while len(list(here.iterdir())) < event["expected"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the other invocations never arrived")
        time.sleep(0.01)
    return os.getpid()
"""


def write_function(root: Path, name: str, source: str) -> Path:
    code_dir = root / name
    code_dir.mkdir()
    (code_dir / "app.py").write_text(textwrap.dedent(source))
    return code_dir


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, FunctionSpec]:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "layer_module.py").write_text("VALUE = 'from the layer'\n")

    def spec(name: str, source: str, timeout: int = 10) -> FunctionSpec:
        code_dir = write_function(tmp_path, name.lower(), source)
        return FunctionSpec(name, code_dir, "app.lambda_handler", "python3.13", timeout, 256, (layer,), {})

    return {
        "Probe": spec("Probe", PROBE),
        "OtherProbe": spec("OtherProbe", PROBE),
        "Failing": spec("Failing", FAILING, timeout=1),
        "Rendezvous": spec("Rendezvous", RENDEZVOUS),
        "Broken": spec("Broken", "def lambda_handler(event, context)\n    return 1\n"),
    }


@pytest.fixture
def pool(specs: dict[str, FunctionSpec], tmp_path: Path) -> Iterator[WorkerPool]:
    def environment(spec: FunctionSpec) -> dict[str, str]:
        aws = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
        return {**lambda_runtime_environment(spec, f"local-{spec.logical_id.lower()}", aws), "OWN": spec.logical_id}

    workers = WorkerPool(specs, environment, logs_dir=tmp_path / "logs", per_function=3, total=6)
    yield workers
    workers.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_function_sees_its_code_its_layers_and_its_own_environment_only(
    pool: WorkerPool, specs: dict[str, FunctionSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_OF_THE_GATEWAY", "must not leak")

    probe = pool.invoke("Probe", {"n": 1})
    other = pool.invoke("OtherProbe", {})

    assert probe["echo"] == {"n": 1}
    assert probe["environ"]["OWN"] == "Probe"
    assert other["environ"]["OWN"] == "OtherProbe"
    assert probe["pid"] != other["pid"]
    assert "SECRET_OF_THE_GATEWAY" not in probe["environ"]
    assert probe["environ"]["AWS_LAMBDA_FUNCTION_NAME"] == "local-probe"
    assert probe["environ"]["_HANDLER"] == "app.lambda_handler"
    assert probe["environ"]["AWS_REGION"] == "eu-west-1"
    assert probe["path"] == [str(specs["Probe"].code_dir), str(specs["Probe"].layers[0])]
    assert probe["cwd"] == str(specs["Probe"].code_dir)
    assert probe["layer"] == "from the layer"
    assert probe["repository_importable"] is False
    assert probe["function_name"] == "local-probe"
    assert 0 < probe["remaining_ms"] <= 10_000


def test_a_worker_is_kept_warm_and_its_output_goes_to_the_function_log(pool: WorkerPool, tmp_path: Path) -> None:
    first = pool.invoke("Probe", {})["pid"]
    second = pool.invoke("Probe", {})["pid"]

    assert first == second
    assert (tmp_path / "logs" / "Probe.log").read_text().count("hello from the probe") == 2


def test_an_error_in_the_handler_is_reported_as_lambda_does_and_the_worker_stays(pool: WorkerPool) -> None:
    pid = pool.invoke("Failing", {"do": "nothing"})["pid"]

    with pytest.raises(FunctionError) as raised:
        pool.invoke("Failing", {"do": "raise"})

    assert (raised.value.error_type, raised.value.message) == ("ValueError", "bad input")
    assert pool.invoke("Failing", {"do": "nothing"})["pid"] == pid


def test_a_result_that_is_not_json_is_a_marshal_error(pool: WorkerPool) -> None:
    with pytest.raises(FunctionError) as raised:
        pool.invoke("Failing", {"do": "unencodable"})

    assert raised.value.error_type == "Runtime.MarshalError"


def test_a_function_past_its_timeout_is_killed_and_replaced(pool: WorkerPool) -> None:
    pid = pool.invoke("Failing", {"do": "nothing"})["pid"]

    with pytest.raises(FunctionError) as raised:
        pool.invoke("Failing", {"do": "sleep", "seconds": 60})  # Timeout: 1

    assert raised.value.error_type == "Sandbox.Timedout"
    assert raised.value.message == "Task timed out after 1.00 seconds"
    assert not alive(pid)
    assert pool.invoke("Failing", {"do": "nothing"})["pid"] != pid


def test_a_crashed_worker_is_reported_and_replaced(pool: WorkerPool) -> None:
    with pytest.raises(FunctionError) as raised:
        pool.invoke("Failing", {"do": "exit"})

    assert raised.value.error_type == "Runtime.ExitError"
    assert "exit status 3" in raised.value.message
    assert pool.invoke("Failing", {"do": "nothing"})["pid"]


def test_a_function_that_cannot_be_imported_says_so(pool: WorkerPool, tmp_path: Path) -> None:
    with pytest.raises(FunctionError) as raised:
        pool.invoke("Broken", {})

    assert raised.value.error_type.startswith("Runtime.ImportModuleError")
    assert "SyntaxError" in raised.value.error_type
    assert "SyntaxError" in (tmp_path / "logs" / "Broken.log").read_text()
    assert pool.pids() == []


def test_overlapping_invocations_each_get_a_worker(pool: WorkerPool, tmp_path: Path) -> None:
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    pids: list[Any] = []

    def call() -> None:
        pids.append(pool.invoke("Rendezvous", {"dir": str(meeting), "expected": 3}))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(set(pids)) == 3


def test_at_the_total_limit_the_coldest_idle_worker_makes_room(specs: dict[str, FunctionSpec], tmp_path: Path) -> None:
    pool = WorkerPool(specs, lambda spec: {"PATH": os.defpath}, logs_dir=tmp_path / "logs", total=1)
    try:
        first = pool.invoke("Probe", {})["pid"]
        second = pool.invoke("OtherProbe", {})["pid"]

        assert pool.pids() == [second]
        assert not alive(first)
    finally:
        pool.stop()


def test_stop_ends_every_worker_and_refuses_further_work(pool: WorkerPool) -> None:
    pool.invoke("Probe", {})
    pool.invoke("OtherProbe", {})
    pids = pool.pids()
    assert len(pids) == 2

    pool.stop()

    assert not any(alive(pid) for pid in pids)
    with pytest.raises(FunctionError, match="stopping"):
        pool.invoke("Probe", {})
