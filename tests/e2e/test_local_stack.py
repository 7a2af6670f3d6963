"""`make run`'s stack end to end: real HTTP to `python -m local`, every function in its own worker on moto."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.events import HttpResponse
from local.sam_template import ROOT
from tests.support.stack import Stack, running_stack, stop

pytestmark = pytest.mark.e2e


def new_user(stack: Stack) -> str:
    """A user the admin creates; returns their token."""
    created = stack.request("POST", "/api/users", body={"email": f"e2e-{secrets.token_hex(4)}@example.org"})
    assert created.status == 201, created.body
    token: str = created.json()["token"]
    return token


def new_domain(stack: Stack, token: str) -> str:
    name = f"e2e-{secrets.token_hex(4)}.example"
    created = stack.request("POST", "/api/domains", token=token, body={"name": name})
    assert created.status == 201, created.body
    return name


def test_health_is_public(stack: Stack) -> None:
    response = stack.request("GET", "/api/health", token=None)

    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_the_dev_token_is_the_admins(stack: Stack) -> None:
    me = stack.request("GET", "/api/me")

    assert me.status == 200
    assert me.json()["is_admin"] is True
    assert me.json()["email"] == "admin@example.com"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nothing-here"),
        ("GET", "/api/aliases/"),
        ("DELETE", "/api/health"),
        ("GET", "/favicon.ico"),
        ("TRACE", "/api/aliases"),
        ("PROPFIND", "/api/me"),
    ],
)
def test_unknown_routes_are_404_json(stack: Stack, method: str, path: str) -> None:
    response = stack.request(method, path)

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


def test_no_token_is_401_and_a_bad_one_403_as_api_gateway_answers(stack: Stack) -> None:
    missing = stack.request("GET", "/api/me", token=None)
    wrong = stack.request("GET", "/api/me", token="pm_" + "x" * 43)
    not_bearer = stack.request("GET", "/api/me", token=None, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    assert (wrong.status, wrong.json()) == (403, {"message": "Forbidden"})
    assert (not_bearer.status, not_bearer.json()) == (403, {"message": "Forbidden"})


def test_a_domain_and_alias_life_cycle(stack: Stack) -> None:
    # Given a user the admin created, with a domain of their own
    user = new_user(stack)
    assert stack.request("GET", "/api/me", token=user).json()["is_admin"] is False
    domain = f"Life-{secrets.token_hex(3)}.Example"
    created_domain = stack.request("POST", "/api/domains", token=user, body={"name": domain})
    assert created_domain.status == 201
    assert created_domain.json()["name"] == domain.lower()
    domain = domain.lower()
    assert created_domain.header("Location") == f"/api/domains/{domain}"
    assert stack.request("POST", "/api/domains", body={"name": domain}).status == 409  # anyone's is taken
    listed = stack.request("GET", "/api/domains", token=user, query={"name": "life-"}).json()
    assert [item["name"] for item in listed["items"]] == [domain]
    # Its custom MAIL FROM, as the local SES plays it: set at registration, its MX found at once (decision 0085)
    records = stack.request("GET", f"/api/domains/{domain}", token=user).json()["dns_records"]
    mail_from = [(r["type"], r["value"], r.get("status")) for r in records if r["name"] == f"bounce.{domain}"]
    assert mail_from == [
        ("MX", "feedback-smtp.eu-west-1.amazonses.com", "verified"),
        ("TXT", "v=spf1 include:amazonses.com ~all", None),
    ]

    # When they create a random and a custom alias
    random_alias = stack.request(
        "POST",
        "/api/aliases",
        token=user,
        body={"domain": domain, "destinations": ["me@real.example"], "note": "shops"},
    )
    custom = stack.request(
        "POST",
        "/api/aliases",
        token=user,
        body={"domain": domain, "local_part": "News", "destinations": ["me@real.example"]},
    )
    assert random_alias.status == 201
    assert custom.status == 201
    random_id, custom_id = random_alias.json()["id"], custom.json()["id"]
    assert random_alias.header("Location") == f"/api/aliases/{random_id}"
    assert len(random_alias.json()["local_part"]) >= 8
    assert custom.json()["address"] == f"news@{domain}"
    taken = stack.request(
        "POST",
        "/api/aliases",
        token=user,
        body={"domain": domain, "local_part": "news", "destinations": ["a@b.example"]},
    )
    assert taken.status == 409
    assert taken.json()["message"]

    # Then they find, change and replace them
    found = stack.request("GET", "/api/aliases", token=user, query={"q": "SHOPS"}).json()
    assert [item["id"] for item in found["items"]] == [random_id]
    disabled = stack.request("PATCH", f"/api/aliases/{custom_id}", token=user, body={"enabled": False})
    assert disabled.status == 200
    assert disabled.json()["enabled"] is False
    replacement = {"destinations": ["new@real.example"], "note": "replaced", "enabled": True, "expires_at": None}
    replaced = stack.request("PUT", f"/api/aliases/{custom_id}", token=user, body=replacement)
    assert (replaced.status, replaced.body) == (204, b"")
    current = stack.request("GET", f"/api/aliases/{custom_id}", token=user).json()
    assert {key: current[key] for key in replacement} == replacement
    assert stack.request("GET", "/api/domains/" + domain, token=user).json()["alias_count"] == 2

    # And nobody else sees them
    assert stack.request("GET", f"/api/aliases/{custom_id}").status == 404
    assert stack.request("GET", f"/api/domains/{domain}").status == 404

    # Finally the domain can go only once its aliases have
    assert stack.request("DELETE", f"/api/domains/{domain}", token=user).status == 409
    for alias_id in (random_id, custom_id):
        assert stack.request("DELETE", f"/api/aliases/{alias_id}", token=user).status == 204
        assert stack.request("GET", f"/api/aliases/{alias_id}", token=user).status == 404
    assert stack.request("DELETE", f"/api/domains/{domain}", token=user).status == 204
    assert stack.request("GET", f"/api/domains/{domain}", token=user).status == 404


def test_a_token_revoked_before_its_first_use_never_works(stack: Stack) -> None:
    """(A token already used stays cached by the authorizer for AuthorizerCacheTtl seconds, as in AWS.)"""
    user = new_user(stack)
    spare = stack.request("POST", "/api/tokens", token=user, body={"name": "spare"}).json()

    assert stack.request("DELETE", f"/api/tokens/{spare['id']}", token=user).status == 204

    assert stack.request("GET", "/api/me", token=spare["token"]).status == 403
    names = [item["name"] for item in stack.request("GET", "/api/tokens", token=user).json()["items"]]
    assert names == ["first token"]


@pytest.mark.parametrize(
    ("content_type", "body", "statuses"),
    [
        ("application/json", b"\xff\xfe\x00\x81 not utf-8", {400, 422}),
        ("application/json", b'{"name": ', {400, 422}),
        ("application/octet-stream", b"\x00\x01\x02", {415}),
    ],
    ids=["not-utf-8", "truncated-json", "binary-type"],
)
def test_a_body_that_is_not_json_is_a_4xx_with_a_message(
    stack: Stack, content_type: str, body: bytes, statuses: set[int]
) -> None:
    response = stack.request("POST", "/api/domains", raw_body=body, headers={"Content-Type": content_type})

    assert response.status in statuses
    assert response.json()["message"]


def test_a_body_over_api_gateways_10_mb_is_a_413(stack: Stack) -> None:
    response = stack.request(
        "POST", "/api/domains", raw_body=b" " * (10 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )

    assert response.status == 413
    assert response.json()["message"]


def test_a_concurrent_burst_is_served_completely_and_consistently(stack: Stack) -> None:
    """60 requests from 12 threads: 30 alias creations on one domain, 30 reads of it."""
    user = new_user(stack)
    domain = new_domain(stack, user)
    local_parts = [f"burst-{n:02d}" for n in range(30)]

    def create(local_part: str) -> HttpResponse:
        body = {"domain": domain, "local_part": local_part, "destinations": ["me@real.example"]}
        return stack.request("POST", "/api/aliases", token=user, body=body)

    def read(_: Any) -> HttpResponse:
        return stack.request("GET", f"/api/domains/{domain}", token=user)

    with ThreadPoolExecutor(max_workers=12) as pool:
        created = [pool.submit(create, local_part) for local_part in local_parts]
        reads = [pool.submit(read, n) for n in range(30)]
        created_statuses = [future.result().status for future in created]
        read_responses = [future.result() for future in reads]

    assert created_statuses == [201] * 30
    assert [response.status for response in read_responses] == [200] * 30
    assert all(0 <= response.json()["alias_count"] <= 30 for response in read_responses)
    listed = stack.request("GET", "/api/aliases", token=user, query={"domain": domain, "limit": 100}).json()
    assert sorted(item["local_part"] for item in listed["items"]) == local_parts
    assert listed["next_token"] is None
    assert stack.request("GET", f"/api/domains/{domain}", token=user).json()["alias_count"] == 30


def test_what_it_prints_is_what_a_user_needs_next(stack: Stack) -> None:
    output = stack.output()

    assert f"{stack.base_url}/api" in output
    assert f"Token      {stack.token}" in output
    assert f"curl -H 'Authorization: Bearer {stack.token}' {stack.base_url}/api/me" in output
    assert "Ctrl-C" in output


def test_the_banners_sign_in_command_finds_the_link_in_the_stacks_outbox(stack: Stack) -> None:
    # Given the command the banner prints, with the variables of this stack (its outbox is not the default)
    line = next(line for line in stack.output().splitlines() if "-m local.signin" in line)
    words = shlex.split(line.split("   prints it")[0])
    assignments = list(itertools.takewhile(lambda word: re.fullmatch(r"[A-Z_]+=.*", word), words))
    variables = dict(word.split("=", 1) for word in assignments)
    assert variables["POSTMASK_OUTBOX"] == str(stack.outbox)
    command = [word for word in words[len(assignments) :] if not word.startswith("[")]
    assert command[1:] == ["-m", "local.signin"]
    # When it is run with them and no --port or --outbox, asking this stack for a link to a new user
    email = f"e2e-{secrets.token_hex(4)}@example.org"
    assert stack.request("POST", "/api/users", body={"email": email}).status == 201
    environment = {**{k: v for k, v in os.environ.items() if k not in ("PORT", "POSTMASK_OUTBOX")}, **variables}
    printed = subprocess.run(
        [sys.executable, "-m", "local.signin", email, "--ask"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it finds the link in that outbox (POSTMASK_OUTBOX) and asks that stack (PORT)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert printed.stdout.strip().splitlines()[-1].startswith(f"{stack.base_url}/signin#")


def test_one_log_line_per_request_and_no_token_in_any_log(stack: Stack) -> None:
    user = new_user(stack)
    marker = f"/api/aliases/log-check-{secrets.token_hex(4)}"
    stack.request("GET", marker, token=user)

    request_lines = [line for line in stack.output().splitlines() if re.match(r"^\d\d:\d\d:\d\d [A-Z]+ /", line)]
    assert [line for line in request_lines if marker in line] == [
        line for line in request_lines if f"GET {marker} 404 " in line
    ]
    assert len([line for line in request_lines if marker in line]) == 1
    function_logs = "".join(path.read_text(errors="replace") for path in stack.logs.glob("*.log"))
    assert "token accepted" in function_logs  # the authorizer's own log line: these logs are the real ones
    for token in (stack.token, user):
        assert token not in function_logs
        assert all(token not in line for line in request_lines)


def test_a_second_stack_on_a_taken_port_says_so_and_leaves_nothing(stack: Stack) -> None:
    port = stack.base_url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "local", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )

    assert result.returncode == 1
    assert f"Port {port} is in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("how", ["ctrl-c-in-a-terminal", "sigterm"])
def test_stopping_ends_every_process_cleanly(how: str) -> None:
    with running_stack() as running:
        # Workers exist: a few functions have run.
        assert running.request("GET", "/api/me").status == 200
        assert running.request("GET", "/api/domains").status == 200
        assert len(running.group_members()) >= 4  # the stack, the authorizer, two functions

        if how == "ctrl-c-in-a-terminal":
            # A terminal sends SIGINT to the whole foreground process group, workers included.
            os.killpg(running.process.pid, signal.SIGINT)
            stop(running)
        else:
            stop(running, signal.SIGTERM)

        assert running.group_members() == []
        assert "Stopping..." in running.output()
        assert "Traceback" not in running.output()
