"""Run a function's handler the way Lambda does: its CodeUri as the working module root.

Two invokers share one interface (`invoke(function, event) -> result`, raising FunctionError when the
function fails as Lambda would report it): `InProcessInvoker` here, for tests that want the handler in
their own process (fast, moto's in-process mock, debuggable), and `local.workers.WorkerPool`, one process
per function instance with the function's own environment, for the local stack.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionError(Exception):
    """A function invocation failed the way Lambda reports it (unhandled error, timeout, crash)."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.message = message


class Invoker(Protocol):
    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run `function` (a logical id) on `event`; its result, or FunctionError."""
        ...


# Which function's code is running in this context (its code folder, and the name its context gives): set while
# a handler loaded here runs, so that what the handler does (the AWS calls it makes, tests/support/aws_calls.py)
# can be told from what the code around it does.
running: contextvars.ContextVar[tuple[Path, str] | None] = contextvars.ContextVar("running", default=None)

_loading = threading.RLock()  # two threads loading one handler: the second waits for the module to be complete


def load_handler(code_dir: Path, handler: str) -> Handler:
    """`handler` is the template's `module.function`. Each function folder has its own `app.py`, so the
    module is imported under a name of its own (`fn_<folder>_app`): many functions can share one process."""
    module_name, _, attribute = handler.rpartition(".")
    unique = f"fn_{code_dir.name}_{module_name}"
    with _loading:
        module = sys.modules.get(unique) or _import(unique, code_dir, module_name)
    function: Handler = getattr(module, attribute)
    return _tagged(function, code_dir.resolve())


def _tagged(function: Handler, code_dir: Path) -> Handler:
    @functools.wraps(function)
    def handler(event: dict[str, Any], context: Any) -> Any:
        token = running.set((code_dir, str(getattr(context, "function_name", ""))))
        try:
            return function(event, context)
        finally:
            running.reset(token)

    return handler


def _import(unique: str, code_dir: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(unique, code_dir / f"{module_name.replace('.', '/')}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {module_name} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[unique]
        raise
    return module


class FakeLambdaContext:
    """What Powertools' Logger reads from a Lambda context."""

    def __init__(
        self,
        function_name: str = "local",
        request_id: str = "local-request",
        *,
        memory_limit_in_mb: int = 256,
        deadline_ms: int | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:local:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        if self._deadline_ms is None:
            return 10_000
        return max(0, self._deadline_ms - int(time.time() * 1000))


class InProcessInvoker:
    """Runs handlers in this process, in this process's environment. An exception a handler raises is
    re-raised as is (a test sees its traceback), not turned into a 500."""

    def __init__(self, handlers: Mapping[str, tuple[Path, str]]) -> None:
        self._handlers = dict(handlers)  # logical id -> (code dir, `module.function`)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        code_dir, handler = self._handlers[function]
        return load_handler(code_dir, handler)(event, FakeLambdaContext(function))
