"""Invocations one function makes of another (the sign-in mailer), in tests: kept until the test runs them.

Every moto world of the suite (the `aws` fixture) hands Lambda invocations to an `Invocations` (local/lambdas.py),
so a handler that invokes a function gets Lambda's 202 and nothing runs behind the test's back: the test
runs what was invoked, in this process, when it chooses (`invocations.run()`), and can see what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local import sam_template
from local.functions import FakeLambdaContext, load_handler
from local.lambdas import NotOurs


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id (tests name functions by it: SIGNIN_MAILER=SignInMailerFunction)
    invocation_type: str
    event: dict[str, Any]


class Invocations:
    def __init__(self) -> None:
        self.made: list[Invocation] = []  # every invocation, in order
        self._pending: list[Invocation] = []

    def dispatch(self, name: str, invocation_type: str, event: dict[str, Any]) -> Any:
        if name not in sam_template.functions():
            raise NotOurs(name)
        invocation = Invocation(name, invocation_type, event)
        self.made.append(invocation)
        if invocation_type != "Event":
            return self._run(invocation)
        self._pending.append(invocation)
        return None

    def run(self) -> list[Any]:
        """Run every asynchronous invocation made so far (and those they make), in order; their results."""
        results = []
        while self._pending:
            results.append(self._run(self._pending.pop(0)))
        return results

    @staticmethod
    def _run(invocation: Invocation) -> Any:
        function = sam_template.functions()[invocation.function]["Properties"]
        handler = load_handler(sam_template.ROOT / function["CodeUri"], function["Handler"])
        return handler(invocation.event, FakeLambdaContext(invocation.function))
