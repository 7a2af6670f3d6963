"""local/sam_local.py (`make sam-local`): the sam commands it runs, the environment it runs them in, and the path
of a function's invocation of another: moto's Lambda -> `sam local start-lambda`, by logical id."""

from __future__ import annotations

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
    ENV_JSON,
    StartLambda,
    aws_endpoint,
    invoke_command,
    load_env_json,
    sam_commands,
    sam_process_environment,
)
from local.sam_template import functions


def test_both_servers_run_warm_with_env_json_and_the_hosts_name() -> None:
    start_lambda, start_api = sam_commands(env_json=ENV_JSON, region="eu-west-1")
    for command in (start_lambda, start_api):
        joined = " ".join(command)
        assert "--warm-containers LAZY" in joined
        assert f"--env-vars {ENV_JSON}" in joined
        assert "--add-host host.docker.internal:host-gateway" in joined
        assert "--region eu-west-1" in joined
        assert "--host 127.0.0.1" in joined  # loopback: the dev token is an admin's
    assert start_lambda[1:3] == ["local", "start-lambda"]
    assert "3001" in start_lambda
    assert start_api[1:3] == ["local", "start-api"]
    assert "3000" in start_api


def test_invoke_uses_the_same_environment_file_and_host() -> None:
    command = invoke_command(
        "ForwarderFunction", Path("events/ses-receipt.json"), env_json=ENV_JSON, region="eu-west-1", extra=[]
    )
    assert command[1:5] == ["local", "invoke", "ForwarderFunction", "--event"]
    assert "host.docker.internal:host-gateway" in command
    assert str(ENV_JSON) in command


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
