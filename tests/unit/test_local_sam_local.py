"""local/sam_local.py (`make sam-local`): the sam commands it runs, the environment it runs them in, and the path
of a function's invocation of another: moto's Lambda -> `sam local start-lambda`, by logical id."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.aws import EmbeddedAws
from local.lambdas import AsyncInvoker
from local.resources import physical_name
from local.sam_local import (
    API_PORT,
    CONTAINER_HOST,
    ENV_JSON,
    LAMBDA_PORT,
    StartLambda,
    aws_endpoint,
    invoke_command,
    load_env_json,
    sam_commands,
    sam_process_environment,
)
from local.sam_template import functions

SAM_COMMANDS = {
    "start-api": "samcli.commands.local.start_api.cli",
    "start-lambda": "samcli.commands.local.start_lambda.cli",
    "invoke": "samcli.commands.local.invoke.cli",
}


def _parsed(command: list[str]) -> dict[str, Any]:
    """The options of a `sam local ...` command as SAM CLI 1.170's own command line reads them (nothing runs)."""
    assert command[1] == "local"
    cli = importlib.import_module(SAM_COMMANDS[command[2]]).cli
    params: dict[str, Any] = cli.make_context(command[2], command[3:]).params
    return params


def test_both_servers_run_warm_on_loopback_with_env_json_and_the_hosts_name() -> None:
    start_lambda, start_api = sam_commands(env_json=ENV_JSON, region="eu-west-1")
    for command, port in ((start_lambda, LAMBDA_PORT), (start_api, API_PORT)):
        params = _parsed(command)
        assert params["warm_containers"] == "LAZY"
        assert params["env_vars"] == str(ENV_JSON)
        assert params["add_host"] == {CONTAINER_HOST: "host-gateway"}
        assert (params["host"], params["port"]) == ("127.0.0.1", port)  # loopback: the dev token is an admin's
        assert command[command.index("--region") + 1] == "eu-west-1"  # the region provisioned (a global option)
    assert (start_lambda[2], start_api[2]) == ("start-lambda", "start-api")


def test_invoke_uses_the_same_environment_file_and_host() -> None:
    event = Path("events/ses-receipt.json")
    params = _parsed(invoke_command("ForwarderFunction", event, env_json=ENV_JSON, region="eu-west-1", extra=[]))
    assert params["function_logical_id"] == "ForwarderFunction"
    assert params["event"] == str(event)
    assert params["env_vars"] == str(ENV_JSON)
    assert params["add_host"] == {CONTAINER_HOST: "host-gateway"}


def test_sam_gets_fake_credentials_and_no_profile_or_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """SAM CLI hands its own credentials to every container: a developer's real ones must not get there."""
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.example")
    environment = sam_process_environment("eu-west-1")
    assert "AWS_PROFILE" not in environment
    assert "AWS_SESSION_TOKEN" not in environment
    assert not [name for name in environment if name.startswith("AWS_ENDPOINT_URL")]
    assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert environment["AWS_CONFIG_FILE"] == environment["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"


def test_every_endpoint_names_one_server() -> None:
    assert aws_endpoint(load_env_json()) == "http://host.docker.internal:4599"
    with pytest.raises(ValueError, match="one server"):
        aws_endpoint({"Parameters": {"AWS_ENDPOINT_URL_S3": "http://a:1", "AWS_ENDPOINT_URL_SQS": "http://b:2"}})


class _StartLambda(BaseHTTPRequestHandler):
    """Plays `sam local start-lambda`'s invoke API: records each call, answers `null` (the mailer returns None)."""

    calls: list[tuple[str, dict[str, Any]]]
    arrived: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"] or 0))
        type(self).calls.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "4")
        self.end_headers()
        self.wfile.write(b"null")
        type(self).arrived.set()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def start_lambda() -> Iterator[tuple[str, type[_StartLambda]]]:
    handler = type("Handler", (_StartLambda,), {"calls": [], "arrived": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_the_mailers_invocation_reaches_start_lambda_by_logical_id(
    start_lambda: tuple[str, type[_StartLambda]],
) -> None:
    """What POST /api/sessions does under `make sam-local`: Lambda Invoke (Event) of env.json's SIGNIN_MAILER, at
    the moto server; moto's Lambda hands it to start-lambda as SignInMailerFunction."""
    url, recorded = start_lambda
    aws = EmbeddedAws("127.0.0.1", 0)
    aws.start()
    invoker = AsyncInvoker({physical_name(name): name for name in functions()}, StartLambda(url).invoke)
    try:
        client = boto3.client(
            "lambda",
            endpoint_url=aws.url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        mailer = load_env_json()["Parameters"]["SIGNIN_MAILER"]
        answer = client.invoke(FunctionName=mailer, InvocationType="Event", Payload=b'{"email": "a@example.org"}')
        assert answer["StatusCode"] == 202
        assert recorded.arrived.wait(timeout=30)
    finally:
        invoker.stop()
        aws.stop()
    assert recorded.calls == [("/2015-03-31/functions/SignInMailerFunction/invocations", {"email": "a@example.org"})]
