"""`make sam-local` for real: `sam build`, then `python -m local.sam_local` (`sam local start-api` and
`start-lambda`, every function in Docker, on the provisioned moto server), and the core journey over HTTP. Needs
Docker and the ports 3000, 3001 and env.json's; skipped elsewhere (CI has no Docker: the offline checks are
tests/template/test_sam_local.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.sam_local import API_PORT
from local.sam_template import ROOT
from local.signin import newest_link
from tests.support.stack import Stack, stop

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.slow]
READY_SECONDS = 600  # the first requests pull the Lambda image and start the authorizer's and health's containers


def _docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


if not _docker_runs():
    pytest.skip("needs Docker: sam local runs every function in a container", allow_module_level=True)


@pytest.fixture(scope="module")
def sam_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A running `make sam-local`, with a token of our own and a temporary outbox; stopped with Ctrl-C."""
    subprocess.run([str(Path(sys.executable).with_name("sam")), "build"], cwd=ROOT, check=True)
    tmp = tmp_path_factory.mktemp("sam-local")
    token = f"pm_e2e_{secrets.token_urlsafe(24)}"
    output_file = tmp / "output.txt"
    with output_file.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.sam_local", "--outbox", str(tmp / "outbox")],
            cwd=ROOT,
            env={**os.environ, "POSTMASK_DEV_TOKEN": token},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(f"http://127.0.0.1:{API_PORT}", token, 0, tmp / "outbox", tmp, process, output_file)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not _healthy(stack):
            assert process.poll() is None, stack.output()
            assert time.monotonic() < deadline, f"sam local start-api did not answer:\n{stack.output()}"
            time.sleep(1)  # the interval between polls, not a guess at readiness
        yield stack
    finally:
        stop(stack)


def _healthy(stack: Stack) -> bool:
    try:
        return stack.request("GET", "/api/health", token=None, timeout=120).status == 200
    except OSError:
        return False  # not listening yet


def test_the_core_journey_runs_under_sam_local(sam_local: Stack) -> None:
    assert sam_local.request("GET", "/api/me", token=None).status == 401  # behind the authorizer
    assert sam_local.request("GET", "/api/me", timeout=120).json()["email"] == "admin@example.com"

    domain = f"sam-{secrets.token_hex(4)}.example"
    created = sam_local.request("POST", "/api/domains", body={"name": domain}, timeout=120)
    assert created.status == 201, created.body  # an identity made in moto's SES: nothing reached AWS
    body = {"domain": domain, "local_part": "shop", "destinations": ["me@real.example"]}
    alias = sam_local.request("POST", "/api/aliases", body=body, timeout=120)
    assert alias.status == 201, alias.body
    alias_id = alias.json()["id"]
    listed = sam_local.request("GET", "/api/aliases", query={"domain": domain}, timeout=120)
    assert listed.status == 200
    assert [item["id"] for item in listed.json()["items"]] == [alias_id]
    assert sam_local.request("DELETE", f"/api/aliases/{alias_id}", timeout=120).status == 204
    assert sam_local.request("GET", f"/api/aliases/{alias_id}", timeout=120).status == 404


def test_a_sign_in_link_reaches_the_outbox_through_start_lambda(sam_local: Stack) -> None:
    """POST /api/sessions invokes the mailer through moto's Lambda, which hands it to `sam local start-lambda`."""
    asked = sam_local.request("POST", "/api/sessions", token=None, body={"email": "admin@example.com"}, timeout=120)
    assert asked.status == 202
    deadline = time.monotonic() + 300  # the mailer's container starts on this first invocation
    while newest_link(sam_local.outbox, "admin@example.com") is None:
        assert time.monotonic() < deadline, f"no sign-in link in the outbox:\n{sam_local.output()}"
        time.sleep(1)  # the interval between polls
