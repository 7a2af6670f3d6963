"""The local outbox: what the forwarder sent through SES, one `.eml` file per message and destination.

It reads what moto's SES received (the forwarder itself has no local-only branch), so moto must run in this
process: `mock_aws()` or `ThreadedMotoServer`, not a separate `moto_server`. local/ses.py's `emulate_ses` keeps
each raw message's exact bytes, as SES sent it (its own Message-ID and Date): that is what is written.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
from pathlib import Path
from typing import Any

from postmask.clock import now

DEFAULT_DIRECTORY = ".postmask/outbox"
ACCOUNT_ID = "123456789012"  # moto's default account

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """`--port` and `--outbox`, read from the variables `make run` reads: for commands that act on its mail."""
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="[PORT, 3000]")
    parser.add_argument(
        "--outbox",
        type=Path,
        default=Path(os.environ.get("POSTMASK_OUTBOX") or DEFAULT_DIRECTORY),
        help=f"[POSTMASK_OUTBOX, {DEFAULT_DIRECTORY}]",
    )


def files_to(outbox: Path, address: str) -> list[Path]:
    """The outbox's files to `address`, in any case, oldest first (names start with the time they were written)."""
    if not outbox.is_dir():
        return []
    suffix = f"-{_UNSAFE.sub('_', address.strip())}.eml".lower()
    return sorted(path for path in outbox.glob("*.eml") if path.name.lower().endswith(suffix))


class Outbox:
    def __init__(self, directory: Path, *, region: str | None = None, account_id: str = ACCOUNT_ID) -> None:
        self.directory = directory
        self.region = region or os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")
        self.account_id = account_id
        self._written = 0  # how many of the backend's sent messages are already files
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Outbox:
        """`${POSTMASK_OUTBOX:-.postmask/outbox}`."""
        return cls(Path(os.environ.get("POSTMASK_OUTBOX") or DEFAULT_DIRECTORY))

    def _sent_messages(self) -> list[Any]:
        from moto.ses.models import ses_backends

        messages: list[Any] = ses_backends[self.account_id][self.region].sent_messages
        return messages

    def flush(self) -> list[Path]:
        """Write every message SES accepted since the last flush; the new files."""
        with self._lock:
            sent = self._sent_messages()
            if len(sent) < self._written:  # moto was reset (a new mock): start over
                self._written = 0
            new, self._written = sent[self._written :], len(sent)
            self.directory.mkdir(parents=True, exist_ok=True)
            return [self._write(message) for message in new if hasattr(message, "raw_data")]

    def _write(self, message: Any) -> Path:
        # moto lists the SendEmail destination first, then the addresses it read from the To/Cc headers.
        destination = _UNSAFE.sub("_", message.destinations[0])  # files_to() finds it
        stamp = now().strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{message.id}-{destination}.eml"
        raw = getattr(message, "raw_bytes", None)  # local/ses.py keeps the exact bytes; moto alone keeps text
        content = raw if isinstance(raw, bytes) else message.raw_data.encode("utf-8")
        envelope = getattr(message, "envelope_sender", None)
        if envelope:  # what the recipient's mailbox adds on delivery: SES's MAIL FROM, custom or its own
            newline = b"\r\n" if b"\r\n" in content[:4096] else b"\n"
            content = f"Return-Path: <{envelope}>".encode("ascii") + newline + content
        path.write_bytes(content)
        return path
