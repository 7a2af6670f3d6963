"""A fault-injecting layer for the local stack: AWS calls that fail, and invocations that die (decision 0026).

Installed in a process (a function's worker of `python -m local`, when `POSTMASK_FAULTS` is set, or a test's
or benchmark's own process), it sits where every boto3 call passes (`BaseClient._make_api_call`, after
botocore's own retries) and, from a seeded random stream:
- fails `rate` of the calls to SES and DynamoDB, as AWS fails them: throttling (`ThrottlingException`,
  `TooManyRequestsException`, `ProvisionedThroughputExceededException`) or a 5xx (`InternalFailure`,
  `ServiceUnavailable`), before the call reaches the service;
- after `crash` of the SES sends that succeeded, kills the invocation (`Crash`, a BaseException nothing in
  postmask catches): the copy left, its record in the delivery ledger was never written.
A duplicate delivery of an event is the invoker's to play (`duplicate`: bench/faults.py, as Lambda's
at-least-once delivery does it).

`POSTMASK_FAULTS="rate=0.2,crash=0.01,seed=7"` turns it on in the local stack's functions (`python -m local`
passes the variable on); unset, nothing is installed.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

SERVICES = ("sesv2", "dynamodb")
_ERRORS = {
    "sesv2": (("TooManyRequestsException", 429), ("InternalFailure", 500), ("ServiceUnavailable", 503)),
    "dynamodb": (
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("InternalServerError", 500),
    ),
}
ENVIRONMENT = "POSTMASK_FAULTS"


class Crash(BaseException):
    """The invocation dies here (a timeout, an out-of-memory kill): nothing after it runs."""


@dataclass
class Plan:
    rate: float = 0.0  # of SES and DynamoDB calls that fail
    crash: float = 0.0  # of successful SES sends after which the invocation dies
    duplicate: float = 0.0  # of events delivered twice (played by the invoker)
    seed: int = 0

    @classmethod
    def parse(cls, text: str) -> Plan:
        """`rate=0.2,crash=0.01,duplicate=0.05,seed=7`."""
        values: dict[str, Any] = {}
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            name, _, value = part.partition("=")
            if name not in ("rate", "crash", "duplicate", "seed"):
                raise ValueError(f"{ENVIRONMENT}: unknown setting {name!r} (rate, crash, duplicate, seed)")
            values[name] = int(value) if name == "seed" else float(value)
        return cls(**values)


@dataclass
class Injector:
    """Installed with `install()`, removed with `uninstall()`; `enabled` pauses it (a test's own set-up calls)."""

    plan: Plan
    enabled: bool = True
    injected: Counter[str] = field(default_factory=Counter)  # "<service>.<Operation>" -> calls failed
    crashes: int = 0
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _original: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.plan.seed)

    def roll(self, probability: float) -> bool:
        with self._lock:
            return self._random.random() < probability

    def install(self) -> Injector:
        client_class: Any = botocore.client.BaseClient  # _make_api_call is private: not in botocore's stubs
        self._original = client_class._make_api_call
        injector = self

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if not injector.enabled or service not in SERVICES:
                return injector._original(client, operation_name, api_params)
            if injector.roll(injector.plan.rate):
                injector.injected[f"{service}.{operation_name}"] += 1
                code, status = injector._random.choice(_ERRORS[service])
                error = {
                    "Error": {"Code": code, "Message": "injected fault"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                }
                raise ClientError(error, operation_name)  # type: ignore[arg-type]  # botocore types it loosely
            result = injector._original(client, operation_name, api_params)
            if service == "sesv2" and operation_name == "SendEmail" and injector.roll(injector.plan.crash):
                injector.crashes += 1
                raise Crash("injected crash between the send and its record")
            return result

        client_class._make_api_call = make_api_call
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            client_class: Any = botocore.client.BaseClient
            client_class._make_api_call = self._original
            self._original = None


def install_from_environment() -> Injector | None:
    """In a function's worker: the plan `POSTMASK_FAULTS` names, installed; None when it is unset."""
    text = os.environ.get(ENVIRONMENT, "").strip()
    return Injector(Plan.parse(text)).install() if text else None
