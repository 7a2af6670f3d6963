"""Contract fuzzing against the running local stack (`python -m local`), over real HTTP: the schemathesis
CLI, with the checks, links and users of the in-process fuzzer (tests/contract/fuzzing.py is its hooks
module). All four phases: the document's examples, coverage of every schema boundary, random fuzzing,
and stateful sequences of linked calls.

FUZZ_EXAMPLES (per operation and phase, default 100) scales it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.contract import fuzzing
from tests.support.destinations import open_link_from_the_outbox

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))


def _call(base_url: str, method: str, path: str, token: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local stack's http:// URL
        f"{base_url}{path}",
        method=method,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def local_stack(request: pytest.FixtureRequest) -> Any:
    """The session's local stack, from tests/e2e/conftest.py (the local stack's own branch)."""
    try:
        return request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        pytest.skip("needs the local stack's `stack` fixture (tests/e2e/conftest.py)")


def test_the_local_stack_keeps_its_contract(local_stack: Any, tmp_path: Path) -> None:
    stack = local_stack
    # Given the stack's admin and a peer, each owning the document's example domain of its kind
    status, created = _call(stack.base_url, "POST", "/api/users", stack.token, {"email": f"{uuid.uuid4()}@example.org"})
    assert status == 201, created
    tokens = {fuzzing.OWNER: stack.token, fuzzing.PEER: created["token"]}
    for name, domain in ((fuzzing.OWNER, "example.org"), (fuzzing.PEER, "example.net")):
        status, body = _call(stack.base_url, "POST", "/api/domains", tokens[name], {"name": domain})
        assert status in (201, 409), body  # 409: a test before this one registered it
        # ... and a verified mailbox and a default domain, where the compatible routes put their aliases
        mailbox = f"fuzz-{uuid.uuid4().hex[:8]}@mailbox.example"
        status, body = _call(stack.base_url, "POST", "/api/destinations", tokens[name], {"email": mailbox})
        assert status in (201, 429), body
        if status == 201:
            open_link_from_the_outbox(stack, mailbox)
        _call(stack.base_url, "PATCH", "/api/me", tokens[name], {"default_alias_domain": domain})  # 422 if not theirs
    users = fuzzing.write_users(tmp_path / "users.json", tokens)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "\n".join(
            [
                f"[auth.wfc]\npath = {json.dumps(str(users))}\npeers = {json.dumps([fuzzing.OWNER, fuzzing.PEER])}",
                *(f"[checks.{check.__name__}]\nenabled = false" for check in fuzzing.EXCLUDED_CHECKS),
            ]
        ),
        encoding="utf-8",
    )

    # When schemathesis runs every phase against it
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{stack.base_url}/api/openapi.json",
            "--phases=examples,coverage,fuzzing,stateful",
            f"--max-examples={EXAMPLES}",
            "--workers=1",
            "--no-color",
            f"--report-dir={tmp_path / 'report'}",
            *(f"--exclude-operation-id={operation}" for operation in fuzzing.EXCLUDED_OPERATIONS),
        ],
        cwd=ROOT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.fuzzing", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )

    # Then no check failed
    assert result.returncode == 0, result.stdout[-30_000:] + result.stderr[-5_000:]
