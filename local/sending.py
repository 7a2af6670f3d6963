"""moto's SESv2 SendEmail as the local stack needs it: it remembers what each send named, and says it sent.

moto keeps a sent message's source, destinations and raw data, and drops the rest. The local stack needs two
more things, in its own process (where moto runs):
- the configuration set and message tags of each send: a bounce injected for a destination (local/feedback.py)
  carries the tags SES would report (`postmask-user` says whose destination it is);
- to know when something was sent: the outbox writes it at once, whichever function sent it (the forwarder,
  or an API function mailing a verification link), not only after mail arrived by SMTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SendDetails:
    configuration_set: str | None
    tags: dict[str, str]


_details: dict[str, SendDetails] = {}
_listeners: list[Callable[[], object]] = []
_lock = threading.Lock()


def send_details(message_id: str) -> SendDetails | None:
    with _lock:
        return _details.get(message_id)


def on_send(listener: Callable[[], object]) -> None:
    """Call `listener()` after every SendEmail moto accepted (the outbox's flush)."""
    install()
    with _lock:
        _listeners.append(listener)


def forget_listeners() -> None:
    with _lock:
        _listeners.clear()


def install() -> None:
    """Wrap moto's SESv2 SendEmail, once per process."""
    from moto.sesv2.responses import SESV2Response

    response_class: Any = SESV2Response
    if getattr(response_class, "postmask_observed", False):
        return
    original = response_class.send_email

    def send_email(self: Any) -> str:
        answer: str = original(self)
        params = json.loads(self.body)
        details = SendDetails(
            configuration_set=params.get("ConfigurationSetName"),
            tags={tag["Name"]: tag["Value"] for tag in params.get("EmailTags") or []},
        )
        with _lock:
            _details[json.loads(answer)["MessageId"]] = details
            listeners = list(_listeners)
        for listener in listeners:
            listener()
        return answer

    response_class.send_email = send_email
    response_class.postmask_observed = True
