"""The whole local stack: embedded AWS, the template's resources, the admin dev user, every function in
workers of its own, the gateway, and the services beside it. `python -m local` runs one.

Everything it starts is in `services`, in start order, and `stop()` stops them in reverse: a service is
anything with `stop()`. To add one (the SMTP ingress), start it in `_start_services` and append it, with a
line for the banner in `endpoints`.
"""

from __future__ import annotations

import logging
import os
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from local import sam_template, sending
from local.aws import FAKE_CREDENTIALS, EmbeddedAws
from local.feedback import FEEDBACK_FUNCTION as FEEDBACK
from local.feedback import smtp_answer
from local.gateway import Gateway, GatewayServer
from local.lambdas import AsyncInvoker
from local.outbox import Outbox
from local.resources import DEV_ADMIN_EMAIL, LocalResources, create_admin, provision
from local.sam_template import FunctionSpec, UnresolvableError
from local.ses import emulate_ses
from local.smtp import FORWARDER, MAIL_PREFIX, MailSetup, start_smtp
from local.workers import WorkerPool, lambda_runtime_environment

log = logging.getLogger("local.stack")

# Where postmask's own mail (sign-in links...) comes from locally unless SenderAddress is given (even empty): the
# dev admin has no verified domain to send from, and must be able to sign in with a link.
LOCAL_SENDER = "postmask@localhost"
SLOW_STOP_SECONDS = 1.0
ENDPOINT_FILE = "aws-endpoint"  # beside the logs directory: the embedded AWS's URL while the stack runs


@dataclass
class Config:
    port: int = 3000
    smtp_port: int = 2525
    dev_token: str | None = None  # the admin's token; generated when None
    outbox: Path = Path(".postmask/outbox")  # forwarded mail, one .eml per message and destination
    logs: Path = Path(".postmask/logs")  # each function's output, <LogicalId>.log
    parameters: dict[str, str] = field(default_factory=dict)  # template parameter overrides
    region: str = "eu-west-1"
    workers_per_function: int = 4
    host: str = "127.0.0.1"  # loopback only: the dev token is an admin's


class Service(Protocol):
    def stop(self) -> None: ...


class LocalStack:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.services: list[Service] = []  # started, in order
        self.endpoints: list[tuple[str, str]] = []  # (label, where): what the banner lists
        # `NAME=value ` for each variable the helper commands read that is not its default ("" when none is)
        self.helper_environment = ""
        self.base_url = ""
        self.token = ""
        self.admin_email = DEV_ADMIN_EMAIL
        self.resources: LocalResources | None = None
        self.functions: WorkerPool | None = None
        self.specs: dict[str, FunctionSpec] = {}
        self.gateway: Gateway | None = None

    def start(self) -> None:
        """Start everything; if anything fails, what was started is stopped and the error raised."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        config = self.config
        emulate_ses()  # before moto's server builds its SES (provisioning's first call): the routes it adds
        aws = EmbeddedAws(config.host)
        aws.start()
        self.services.append(aws)
        # Where helper commands find this stack's AWS (`python -m local.reconcile`); gone when the stack stops.
        endpoint_file = config.logs.parent / ENDPOINT_FILE
        endpoint_file.parent.mkdir(parents=True, exist_ok=True)
        endpoint_file.write_text(aws.url, encoding="utf-8")
        self.services.append(_Forget(lambda: endpoint_file.unlink(missing_ok=True)))
        aws_environment = local_aws_environment(aws.url, config.region)
        parameters = self.parameters()
        resources, self.token = provision_local_aws(aws_environment, parameters, config.dev_token)
        self.resources = resources

        self.specs = specs = sam_template.function_specs(parameters=parameters)
        environments = {name: self._environment(spec, aws_environment) for name, spec in specs.items()}
        self.functions = WorkerPool(
            specs,
            lambda spec: environments[spec.logical_id],
            logs_dir=config.logs,
            per_function=config.workers_per_function,
        )
        self.services.append(self.functions)
        # A function invoking another (the sign-in mailer) reaches the embedded AWS: its Lambda runs ours.
        self.services.append(AsyncInvoker({resources.name(name): name for name in specs}, self.functions.invoke))
        self.gateway = Gateway.from_template(self.functions, parameters=parameters)
        for route in self.gateway.routes:
            missing = {route.function, *([route.authorizer.function] if route.authorizer else [])} - set(specs)
            if missing:
                raise UnresolvableError(f"{route.key}: no function {', '.join(missing)} in this deployment")
        server = GatewayServer(self.gateway, config.host, config.port)
        server.start()
        self.services.append(server)
        self.base_url = server.url
        self._start_services()

    def parameters(self) -> dict[str, str]:
        return local_parameters(self.config.host, self.config.port, self.config.parameters)

    def _environment(self, spec: FunctionSpec, aws_environment: Mapping[str, str]) -> dict[str, str]:
        """Lambda's variables, then the template's (Globals + the function's), as in AWS."""
        assert self.resources is not None
        name = self.resources.name(spec.logical_id)
        # POSTMASK_FAULTS: the fault-injecting layer (local/faults.py) in every function's worker.
        # POSTMASK_NEW_DESTINATIONS_PER_DAY: the end-to-end tests' one user adds more than a person's 20 a day.
        passed = ("POSTMASK_FAULTS", "POSTMASK_NEW_DESTINATIONS_PER_DAY")
        faults = {name: os.environ[name] for name in passed if os.environ.get(name)}
        return {
            **lambda_runtime_environment(spec, name, aws_environment),
            **self.resources.function_environment(spec),
            **faults,
        }

    def _start_services(self) -> None:
        """Services beside the API: start each, append it to `services`, add its banner line to `endpoints`."""
        assert self.resources is not None
        assert self.functions is not None
        if FORWARDER in self.specs:  # EnableForwarding=false leaves it out, and the SMTP ingress with it
            self._start_smtp(self.functions)

    def _start_smtp(self, functions: WorkerPool) -> None:
        """The SMTP ingress plays SES's receipt rule: store to the mail bucket, then invoke the forwarder (in its
        worker, like every function); what the forwarder sends through (moto's) SES lands in the outbox."""
        assert self.resources is not None
        emulate_ses()  # moto runs in this process: its SES gets Easy DKIM tokens, as SES has
        forwarder = self.specs[FORWARDER]
        prefix = str(self.resources.function_environment(forwarder).get("MAIL_PREFIX", MAIL_PREFIX))
        region = self.config.region
        outbox = Outbox(self.config.outbox, region=region)
        sending.install()  # what a bounce of a message reports (local/feedback.py)

        def write_outbox() -> None:  # whichever function sent it: the forwarder, or one mailing a link
            for path in outbox.flush():
                log.info("outbox: %s", path)

        sending.on_send(write_outbox)
        self.services.append(_Forget(sending.forget_listeners))

        def feedback(kind: str, content: bytes) -> str:
            return smtp_answer(kind, content, region=region, invoke=lambda event: functions.invoke(FEEDBACK, event))

        smtp = start_smtp(
            MailSetup(self.resources.name("MailBucket"), prefix),
            outbox,
            host=self.config.host,
            port=self.config.smtp_port,
            forward=lambda event, _context: functions.invoke(FORWARDER, event),
            feedback=feedback if FEEDBACK in self.specs else None,
        )
        self.services.append(smtp)
        self.endpoints.append(("SMTP", f"{self.config.host}:{smtp.port}   (mail it sends: {self.config.outbox}/*.eml)"))
        # The helper commands read the variables `make run` reads: spell out those that are not the defaults.
        settings = self.helper_environment = "".join(
            f"{name}={shlex.quote(str(value))} "
            for name, value, default in (
                ("PORT", self.config.port, 3000),
                ("SMTP_PORT", smtp.port, 2525),
                ("POSTMASK_OUTBOX", self.config.outbox, Path(".postmask/outbox")),
            )
            if value != default
        )
        self.endpoints.append(
            (
                "Verify",
                "mail goes to a destination once the link mailed to it is opened (the mail is in the outbox);\n"
                f"             {settings}.venv/bin/python -m local.verify <address>   opens it for you",
            )
        )
        if FEEDBACK in self.specs:
            self.endpoints.append(
                ("Bounce", f"{settings}.venv/bin/python -m local.bounce <address> [--complaint]   (suspends it)")
            )

    def stop(self) -> None:
        """Stop every service, last started first. Safe to call twice."""
        while self.services:
            service = self.services.pop()
            started = time.monotonic()
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s failed", type(service).__name__)
            if time.monotonic() - started > SLOW_STOP_SECONDS:  # Ctrl-C should be quick: say what held it up
                log.info("stopping %s took %.1f s", type(service).__name__, time.monotonic() - started)

    def banner(self) -> str:
        """What a user needs next: where things are, the token, a first command."""
        assert self.gateway is not None
        url = self.base_url
        lines = [
            "postmask is running on this machine. AWS is emulated (moto, in memory): stopping forgets everything.",
            "",
            f"  API        {url}/api   (try /api/me, /api/domains, /api/aliases)",
        ]
        if self.gateway.route_for("GET", "/api/docs"):
            lines.append(f"  API docs   {url}/api/docs")
        if self.gateway.route_for("GET", "/"):
            lines.append(f"  Web        {url}/")
        lines += [f"  {label:<10} {where}" for label, where in self.endpoints]
        lines += [
            "",
            f"  Admin      {self.admin_email}",
            f"  Token      {self.token}",
        ]
        if self.gateway.route_for("GET", "/"):
            lines += [
                f"  Sign in    {url}/ as {self.admin_email}: the link is mailed to {self.config.outbox}/*.eml;",
                f"             {self.helper_environment}.venv/bin/python -m local.signin [<address>] [--ask]"
                "   prints it whole",
            ]
        lines += [
            "",
            "Try it:",
            f"  curl -H {shlex.quote('Authorization: Bearer ' + self.token)} {url}/api/me",
            "",
            f"Function logs: {self.config.logs}/<Function>.log"
            + ("" if self.config.dev_token else "   Same token every run: POSTMASK_DEV_TOKEN=<secret> make run"),
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)


@dataclass
class _Forget:
    """A service whose stop() undoes a registration (the outbox's listener on moto's sends)."""

    undo: Callable[[], None]

    def stop(self) -> None:
        self.undo()


def local_parameters(host: str, port: int, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The template parameters of a local deployment: links in postmask's mail point at its API on `host:port`
    (PublicUrl), and it comes from LOCAL_SENDER (SenderAddress), unless the user says otherwise."""
    return {"PublicUrl": f"http://{host}:{port}", "SenderAddress": LOCAL_SENDER, **(overrides or {})}


def local_aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What boto3 needs to talk to the local AWS at `endpoint_url`, and to nothing else."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **FAKE_CREDENTIALS,
        # No ~/.aws: a profile's settings or credentials must not leak into the emulation.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def provision_local_aws(
    aws_environment: Mapping[str, str], parameters: Mapping[str, str], dev_token: str | None
) -> tuple[LocalResources, str]:
    """A fresh local AWS made ready as a deployment is: the template's resources, the admin dev user (their
    token is returned) and the sender's SES identity. This process's boto3 talks to that AWS from now on."""
    _point_boto3_at(aws_environment)
    resources = provision(parameters=parameters, region=aws_environment["AWS_REGION"])
    token = create_admin(resources.name("Table"), dev_token)
    assert token is not None, "a fresh moto has no users"
    _ses_may_send_from(parameters.get("SenderAddress", ""))
    return resources, token


def _ses_may_send_from(sender_address: str) -> None:
    """A SenderAddress given locally is an identity SES (moto) may send from, as the operator makes it in AWS."""
    if sender_address:
        import boto3

        boto3.client("sesv2").create_email_identity(EmailIdentity=sender_address)


def _point_boto3_at(aws_environment: Mapping[str, str]) -> None:
    """This process's boto3 (provisioning, the dev user) talks to the embedded AWS and nothing else."""
    for name in list(os.environ):
        if name in ("AWS_PROFILE", "AWS_SESSION_TOKEN") or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(aws_environment)
