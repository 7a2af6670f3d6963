"""`python -m local` (what `make run` runs): postmask on this machine, no Docker, no AWS account.

Every option also reads an environment variable, so `PORT=8080 make run` works.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local.sam_template import UnresolvableError
from local.stack import Config, LocalStack


def _parameters(pairs: list[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise argparse.ArgumentTypeError(f"a parameter is NAME=VALUE, not {pair!r}")
        parameters[name] = value
    return parameters


def parse_args(argv: list[str] | None = None) -> Config:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Serve postmask on 127.0.0.1: the API (routed from template.yaml) and its pages, on embedded moto.",
    )
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "3000")), help="HTTP port [PORT, 3000]")
    parser.add_argument(
        "--smtp-port", type=int, default=int(env.get("SMTP_PORT", "2525")), help="SMTP port [SMTP_PORT, 2525]"
    )
    parser.add_argument(
        "--dev-token",
        default=env.get("POSTMASK_DEV_TOKEN") or None,
        help="the admin dev user's token [POSTMASK_DEV_TOKEN; generated]",
    )
    parser.add_argument(
        "--outbox",
        type=Path,
        default=Path(env.get("POSTMASK_OUTBOX", ".postmask/outbox")),
        help="where forwarded mail is written [POSTMASK_OUTBOX, .postmask/outbox]",
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path(env.get("POSTMASK_LOGS", ".postmask/logs")),
        help="each function's output, <Function>.log [POSTMASK_LOGS, .postmask/logs]",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=env.get("POSTMASK_PARAMETERS", "").split(),
        metavar="NAME=VALUE",
        help="a template parameter, e.g. AuthorizerCacheTtl=0 (repeatable) [POSTMASK_PARAMETERS, space-separated]",
    )
    parser.add_argument("--workers-per-function", type=int, default=4, help="concurrent instances of one function")
    args = parser.parse_args(argv)
    try:
        parameters = _parameters(args.parameter)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    return Config(
        port=args.port,
        smtp_port=args.smtp_port,
        dev_token=args.dev_token,
        outbox=args.outbox,
        logs=args.logs,
        parameters=parameters,
        region=env.get("AWS_DEFAULT_REGION") or "eu-west-1",
        workers_per_function=args.workers_per_function,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    logging.getLogger("local").setLevel(logging.INFO)  # one line per request; boto3's chatter stays out
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Ctrl-C and `kill` both stop cleanly; until start() returns, the request just waits its turn.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(config)
    try:
        stack.start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"Port {config.port} is in use (another `make run`?). Try: PORT={config.port + 1} make run", file=sys.stderr
        )
        return 1
    except UnresolvableError as exc:
        print(f"template.yaml cannot run locally: {exc}", file=sys.stderr)
        return 1
    if not stopping.is_set():
        print(stack.banner(), flush=True)
    while not stopping.wait(timeout=0.5):
        pass
    print("Stopping...", file=sys.stderr, flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is stopped and written. What is left is the interpreter freeing moto's in-memory AWS, which after
    # a long session holds gigabytes of objects: on a busy machine that took longer than Ctrl-C should.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
