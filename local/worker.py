"""One Lambda execution environment: imports one function's handler and runs the events it is sent.

Started by `local.workers.WorkerPool` as `python -I local/worker.py HANDLER CODE_DIR [LAYER_DIR ...]`, with
the function's own environment and the code directory as its working directory. `-I` keeps the repository,
PYTHONPATH and user site-packages off `sys.path`: the function sees its code (Lambda's /var/task), its
layers (/opt/python) and the virtualenv's packages (the runtime's), nothing else.

Protocol, one JSON document per line: the worker says `{"ready": true}` or `{"init_error": {...}}` once,
then answers each `{"event": ..., "request_id": ..., "deadline_ms": ...}` with `{"result": ...}` or
`{"error": {"errorType", "errorMessage", "stackTrace"}}`, Lambda's own error shape. The function's stdout
and stderr (its logs) go to the worker's stderr, so nothing it prints can corrupt the protocol.

Only the standard library is imported here, before the function's own code.
"""

from __future__ import annotations

import decimal
import importlib
import importlib.util
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def _lambda_json(value: Any) -> Any:
    # Lambda's Python runtime encodes Decimal (boto3's numbers) and nothing else beyond plain JSON.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _load_beside(file_name: str, module_name: str) -> Any:
    # Loaded by path so the repository stays off sys.path.
    spec = importlib.util.spec_from_file_location(module_name, Path(__file__).with_name(file_name))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _context_class() -> Any:
    return _load_beside("functions.py", "_postmask_local_functions").FakeLambdaContext


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the pool, not the keyboard, ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handler, code_dir, *layer_dirs = sys.argv[1:]
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the function's prints and logs go where its stderr goes
    sys.stdout = sys.stderr
    sys.path[0:0] = [code_dir, *layer_dirs]
    context_class = _context_class()

    def send(message: dict[str, Any]) -> None:
        try:
            line = json.dumps(message, default=_lambda_json)
        except (TypeError, ValueError) as exc:  # what Lambda's runtime says of a result it cannot encode
            line = json.dumps({"error": {**_error(exc), "errorType": "Runtime.MarshalError"}})
        protocol.write(line + "\n")
        protocol.flush()

    if os.environ.get("POSTMASK_FAULTS"):  # the local stack's fault-injecting layer (local/faults.py)
        _load_beside("faults.py", "_postmask_local_faults").install_from_environment()
    module_name, _, attribute = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # Lambda's Runtime.ImportModuleError / handler-not-found
        traceback.print_exc()
        send({"init_error": _error(exc)})
        return
    send({"ready": True})

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    for line in sys.stdin:
        request = json.loads(line)
        context = context_class(
            function_name, request["request_id"], memory_limit_in_mb=memory, deadline_ms=request.get("deadline_ms")
        )
        try:
            send({"result": function(request["event"], context)})
        except Exception as exc:
            traceback.print_exc()
            send({"error": _error(exc)})
    # Lambda never finalises an environment, it discards it; finalising boto3 and pydantic takes a second.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
