"""Import a function's handler the way Lambda does: its CodeUri as the working module root."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(code_dir: Path, handler: str) -> Handler:
    """`handler` is the template's `module.function`. Each function folder has its own `app.py`, so the
    module is imported under a name of its own (`fn_<folder>_app`): many functions can share one process."""
    module_name, _, attribute = handler.rpartition(".")
    unique = f"fn_{code_dir.name}_{module_name}"
    module = sys.modules.get(unique)
    if module is None:
        spec = importlib.util.spec_from_file_location(unique, code_dir / f"{module_name.replace('.', '/')}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {handler} from {code_dir}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[unique]
            raise
    function: Handler = getattr(module, attribute)
    return function


class FakeLambdaContext:
    """What Powertools' Logger reads from a Lambda context."""

    def __init__(self, function_name: str = "local", request_id: str = "local-request") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:local:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
