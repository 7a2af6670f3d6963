"""The activity log, as the mail paths write it: one `record(...)` per decision, where its reason is known.

The forwarder, the reply path and the feedback function call `record` with what they decided; the event and
the day's count are written in one transaction (store/activity.py), once however often the decision is retried.
Recording never costs a message its delivery: a failure to write is logged (with the decision's fields, which
the log line of the decision carries anyway) and counted in the ActivityNotRecorded metric, nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask.clock import iso
from postmask.observability import logger, metrics
from postmask.store.activity import MAX_SUBJECT, Event

__all__ = ["Event", "at_of", "record", "subject_of"]


def record(event: Event) -> None:
    """Write `event` (see store/activity.py); a failure is logged, never raised."""
    from postmask.store import activity

    try:
        activity.write(event)
    except Exception:
        metrics.add_metric(name="ActivityNotRecorded", unit=MetricUnit.Count, value=1)
        logger.exception("activity not recorded", outcome=event.outcome, reason=event.reason, alias_id=event.alias_id)


def at_of(timestamp: Any, fallback: str) -> str:
    """An SES timestamp (`2026-01-31T10:00:00.123Z`) in postmask's form; `fallback` when it is none."""
    if isinstance(timestamp, str) and timestamp:
        try:
            return iso(datetime.fromisoformat(timestamp.replace("Z", "+00:00")))
        except ValueError:
            pass
    return fallback


def subject_of(value: Any) -> str | None:
    """A subject as a reader may be shown it: encoded words decoded, invisible characters gone, at most 200
    characters. Whatever a sender wrote, this never raises."""
    if not isinstance(value, str) or not value.strip():
        return None
    from postmask.mail.headers import clean_text

    text = value
    if "=?" in text:
        from email.header import decode_header, make_header

        try:
            text = str(make_header(decode_header(text)))
        except Exception:  # a malformed encoded word: shown as written
            text = value
    return clean_text(text)[:MAX_SUBJECT] or None
