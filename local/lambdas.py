"""Lambda's Invoke API for the template's own functions, played locally.

A function that invokes another one (POST /api/sessions hands the address to the sign-in mailer) does it
through its AWS SDK, as in AWS, and that call reaches moto. moto's Lambda knows only functions created in it,
and would run them in Docker; ours are the template's, run by the local stack's workers (or, in tests, in the
test's process). `emulate_lambda_invoke(dispatch)` makes moto's Lambda backend hand every invocation to
`dispatch(function_name, invocation_type, event)` instead, once per process (moto must run in this process:
`mock_aws()` or the local stack's embedded server). `function_name` is the plain name, whatever the caller
gave (a name, an ARN, an alias's ARN); the result is what a `RequestResponse` invocation returns (an `Event`
invocation's is ignored: moto answers 202).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("local.lambdas")

Dispatch = Callable[[str, str, dict[str, Any]], Any]


class NotOurs(LookupError):
    """Raised by a dispatch for a function it does not know: moto answers as Lambda would (not found)."""


_dispatch: Dispatch | None = None


def function_name(name_or_arn: str) -> str:
    """`postmask-local-x` from `postmask-local-x`, `arn:aws:lambda:r:a:function:postmask-local-x[:qualifier]`,
    or `postmask-local-x:qualifier`."""
    parts = name_or_arn.split(":")
    if len(parts) >= 7 and parts[0] == "arn":
        return parts[6]
    return parts[0]


def set_dispatch(dispatch: Dispatch | None) -> Dispatch | None:
    """Send invocations to `dispatch` from now on (None: moto's own Lambda again); the previous one."""
    global _dispatch
    previous, _dispatch = _dispatch, dispatch
    _install()
    return previous


def _install() -> None:
    from moto.awslambda.models import LambdaBackend

    backend: Any = LambdaBackend
    if getattr(backend, "postmask_emulated", False):
        return
    original = backend.invoke

    def invoke(
        self: Any, name: str, qualifier: str | None, body: Any, headers: Any, response_headers: dict[str, str]
    ) -> bytes | str | None:
        dispatch = _dispatch
        if dispatch is None:
            return original(self, name, qualifier, body, headers, response_headers)
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            result = dispatch(function_name(name), invocation_type, json.loads(text) if text else {})
        except NotOurs:  # moto's own answer: ResourceNotFoundException
            return original(self, name, qualifier, body, headers, response_headers)
        payload = b"" if invocation_type == "Event" else json.dumps(result).encode("utf-8")
        response_headers["Content-Length"] = str(len(payload))
        return payload

    backend.invoke = invoke
    backend.postmask_emulated = True


class AsyncInvoker:
    """The local stack's Lambda service for invocations one function makes of another: `Event` invocations
    run in a background thread (the caller gets its 202 at once, as from Lambda), `RequestResponse` ones
    at once. `invoke(logical_id, event)` runs a function (the worker pool's). A failure is logged: in AWS,
    Lambda would retry it, then drop it or send it to the function's failure destination."""

    def __init__(
        self, names: dict[str, str], invoke: Callable[[str, dict[str, Any]], Any], *, workers: int = 4
    ) -> None:
        self._logical_ids = dict(names)  # the function's local name -> its logical id
        self._invoke = invoke
        self._slots = threading.BoundedSemaphore(workers)  # at most this many run at once; the others wait
        self._stopping = threading.Event()
        set_dispatch(self.dispatch)

    def dispatch(self, name: str, invocation_type: str, event: dict[str, Any]) -> Any:
        logical_id = self._logical_ids.get(name)
        if logical_id is None:
            raise NotOurs(name)
        if invocation_type == "Event":
            # A daemon thread: one still waiting for a function's cold start never holds up the stack's exit.
            threading.Thread(target=self._run, args=(logical_id, event), name="lambda-event", daemon=True).start()
            return None
        return self._invoke(logical_id, event)

    def _run(self, logical_id: str, event: dict[str, Any]) -> None:
        """One asynchronous invocation; the console gets a line when it is over (as it does for a request)."""
        with self._slots:
            if self._stopping.is_set():
                return
            started = time.monotonic()
            outcome = "done"
            try:
                self._invoke(logical_id, event)
            except Exception as exc:
                outcome = f"failed (in AWS, Lambda would retry): {exc}"
            log.info(
                "%s, invoked asynchronously: %s in %d ms", logical_id, outcome, (time.monotonic() - started) * 1000
            )

    def stop(self) -> None:
        """No new invocations, and those waiting for a slot are dropped. Those running are not waited for: the
        worker pool, stopped next, ends them."""
        set_dispatch(None)
        self._stopping.set()
