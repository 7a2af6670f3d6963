"""`python -m local.sam_local` (what `make sam-local` runs): `sam local start-api` and `sam local start-lambda`,
each function in Docker as SAM CLI runs it, against one moto server that this process starts and provisions as
`make run` does (table, buckets, configuration set, the sender's identity, the admin dev user and their token).

env.json is the one place that says where that server is: every function's AWS_ENDPOINT_URL_<SERVICE> names it,
as the containers reach the host (`host.docker.internal`, which `--add-host ...:host-gateway` makes exist on
Linux too), and the server listens on that URL's port. What CloudFormation would resolve (the table's name, the
sign-in mailer's alias, the configuration set) env.json spells out as `make run` resolves it. A function invoking
another (POST /api/sessions hands the address to the sign-in mailer) calls moto's Lambda, which hands the call to
`sam local start-lambda` on this machine. Decision 0011.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from local import sam_template
from local.aws import FAKE_CREDENTIALS, EmbeddedAws
from local.lambdas import AsyncInvoker
from local.outbox import Outbox
from local.ses import emulate_ses
from local.stack import local_aws_environment, local_parameters, provision_local_aws

ENV_JSON = sam_template.ROOT / "env.json"
EVENTS = sam_template.ROOT / "events"
FORWARDER = "ForwarderFunction"
CONTAINER_HOST = "host.docker.internal"  # the host, as the functions' containers name it
ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"
API_PORT = 3000
LAMBDA_PORT = 3001
STOP_SECONDS = 30
_SIOCGIFADDR = 0x8915  # Linux's ioctl for an interface's IPv4 address


def load_env_json(path: Path = ENV_JSON) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def aws_endpoint(env_json: dict[str, dict[str, str]]) -> str:
    """The one local AWS every AWS_ENDPOINT_URL_<SERVICE> of env.json names (ValueError if they disagree)."""
    urls = {value for name, value in env_json.get("Parameters", {}).items() if name.startswith(ENDPOINT_PREFIX)}
    if len(urls) != 1:
        raise ValueError(f"env.json must point every {ENDPOINT_PREFIX}<SERVICE> at one server, not {sorted(urls)}")
    return urls.pop()


def store_sample_mail(bucket: str, prefix: str, events: Path = EVENTS) -> str:
    """What SES's S3 action stored for events/ses-receipt.json (events/ses-receipt.eml): the forwarder reads the
    message from the mail bucket, under its message id, so `sam local invoke ForwarderFunction -e ...` needs it
    there. Its S3 key."""
    import boto3

    event = json.loads((events / "ses-receipt.json").read_text(encoding="utf-8"))
    key = prefix + event["Records"][0]["ses"]["mail"]["messageId"]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=(events / "ses-receipt.eml").read_bytes())
    return key


def docker_bridge_address(interface: str = "docker0") -> str | None:
    """The host's address on Docker's default bridge (Linux), which `host-gateway` names inside a container; None
    where there is no such interface (Docker Desktop reaches the host's loopback by itself)."""
    if platform.system() != "Linux":
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


def _sam() -> str:
    return shutil.which("sam") or str(Path(sys.executable).with_name("sam"))


def _container_options(env_json: Path, region: str) -> list[str]:
    """What every `sam local` command needs: env.json, the region provisioned, and `host.docker.internal` for the
    host in every container (Docker Desktop has it; on Linux `host-gateway` is the host's bridge address)."""
    return ["--env-vars", str(env_json), "--region", region, "--add-host", f"{CONTAINER_HOST}:host-gateway"]


def sam_commands(
    *, env_json: Path, region: str, warm_containers: str = "LAZY", extra: list[str] | None = None
) -> list[list[str]]:
    """The two SAM CLI servers: the API on 127.0.0.1:3000 and the Lambda invoke API on 127.0.0.1:3001. Warm
    containers: a function's container starts on its first request and serves the next ones."""
    common = [*_container_options(env_json, region), "--warm-containers", warm_containers, *(extra or [])]
    return [
        [_sam(), "local", "start-lambda", "--host", "127.0.0.1", "--port", str(LAMBDA_PORT), *common],
        [_sam(), "local", "start-api", "--host", "127.0.0.1", "--port", str(API_PORT), *common],
    ]


def invoke_command(function: str, event: Path, *, env_json: Path, region: str, extra: list[str]) -> list[str]:
    """`sam local invoke` of one function with a sample event, against the running `make sam-local`'s AWS."""
    return [_sam(), "local", "invoke", function, "--event", str(event), *_container_options(env_json, region), *extra]


def sam_process_environment(region: str) -> dict[str, str]:
    """SAM CLI hands its own credentials to every container: fake ones, so that nothing can reach a real account
    even through a service env.json does not redirect."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("AWS_PROFILE", "AWS_SESSION_TOKEN") and not name.startswith("AWS_ENDPOINT_URL")
    }
    environment.update(
        {
            **FAKE_CREDENTIALS,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "SAM_CLI_TELEMETRY": "0",
        }
    )
    return environment


@dataclass
class StartLambda:
    """`sam local start-lambda` as the invoker behind moto's Lambda: runs a function (its logical id) there."""

    url: str

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        from botocore.config import Config
        from botocore.session import get_session

        client: Any = get_session().create_client(
            "lambda", endpoint_url=self.url, config=Config(read_timeout=900, retries={"max_attempts": 1})
        )
        answer = client.invoke(FunctionName=logical_id, Payload=json.dumps(event).encode("utf-8"))
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise RuntimeError(f"{logical_id} failed: {payload.decode('utf-8', errors='replace')}")
        return json.loads(payload) if payload else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sam_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-vars", type=Path, default=ENV_JSON, help="[env.json]")
    parser.add_argument(
        "--bind",
        default=os.environ.get("SAM_LOCAL_BIND") or None,
        help="the address moto listens on [SAM_LOCAL_BIND; Docker's bridge address on Linux, else 127.0.0.1]",
    )
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1")
    parser.add_argument("--outbox", type=Path, default=Path(os.environ.get("POSTMASK_OUTBOX") or ".postmask/outbox"))
    parser.add_argument("--warm-containers", default="LAZY", choices=["LAZY", "EAGER"])
    parser.add_argument("--no-sam", action="store_true", help="only the provisioned moto server")
    parser.add_argument(
        "--invoke",
        nargs=2,
        metavar=("FUNCTION", "EVENT"),
        help="instead: `sam local invoke FUNCTION --event EVENT` against the AWS a running `make sam-local` serves",
    )
    parser.add_argument("sam_args", nargs="*", help="more options for the sam commands (after --)")
    args = parser.parse_args(argv)
    if args.invoke:
        function, event = args.invoke
        command = invoke_command(function, Path(event), env_json=args.env_vars, region=args.region, extra=args.sam_args)
        return subprocess.run(command, env=sam_process_environment(args.region), check=False).returncode

    endpoint = aws_endpoint(load_env_json(args.env_vars))
    port = urlsplit(endpoint).port or 80
    bind = args.bind or docker_bridge_address() or "127.0.0.1"
    # Before moto's server builds its SES (provisioning's first call): domain identities get Easy DKIM tokens and
    # a custom MAIL FROM (a route of its own), and raw sends go out as SES sends them.
    emulate_ses()
    aws = EmbeddedAws(bind, port)
    aws.start()
    aws_environment = local_aws_environment(aws.url, args.region)
    parameters = local_parameters("127.0.0.1", API_PORT)
    resources, token = provision_local_aws(aws_environment, parameters, os.environ.get("POSTMASK_DEV_TOKEN") or None)
    outbox = Outbox(args.outbox, region=args.region)
    from local import sending

    sending.on_send(outbox.flush)  # the sign-in link, verification mail: one .eml each, as with `make run`
    specs = sam_template.function_specs(parameters=parameters)
    if FORWARDER in specs:  # EnableForwarding=false leaves it out, and the mail bucket with it
        forwarder = resources.function_environment(specs[FORWARDER])
        store_sample_mail(forwarder["MAIL_BUCKET"], forwarder["MAIL_PREFIX"])
    names = {resources.name(logical_id): logical_id for logical_id in specs}
    invoker = AsyncInvoker(names, StartLambda(f"http://127.0.0.1:{LAMBDA_PORT}").invoke)

    print(f"Local AWS (moto) on {aws.url}, reached from the functions' containers as {endpoint}")
    print(f"Admin admin@example.com, token: {token}")
    print(f"Mail postmask sends: {args.outbox}/*.eml", flush=True)
    processes: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if not args.no_sam:
        sam_environment = sam_process_environment(args.region)
        for command in sam_commands(
            env_json=args.env_vars, region=args.region, warm_containers=args.warm_containers, extra=args.sam_args
        ):
            processes.append(subprocess.Popen(command, env=sam_environment, cwd=sam_template.ROOT))
        print(f"API: http://127.0.0.1:{API_PORT}/api (sam local start-api); Ctrl-C stops everything.", flush=True)
    while not stopping.wait(timeout=0.5):
        if any(process.poll() is not None for process in processes):  # (a Ctrl-C in the terminal reaches them too)
            print("a sam local server stopped: stopping the rest", file=sys.stderr)
            break
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: SAM CLI then stops and removes its warm containers
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    invoker.stop()
    aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
