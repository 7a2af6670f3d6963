"""Nothing unaccounted for: every message the receipt rule stored in a day ended somewhere (decision 0026).

Run daily (an EventBridge schedule) for the day before, or locally with `python -m local.reconcile`. It lists the
messages stored under the mail bucket's inbound/ prefix that day (S3 `ListObjectsV2`) and reads each one's
`MAIL#<id>/ACCOUNTED` record (store.deliveries: one `BatchGetItem` per 100), written once every recipient of the
message was forwarded, refused (blocked, dropped, skipped: with its reason in the activity log) or quarantined.
A message without one is either still inside its retry window (Lambda retries an event for up to 6 hours, then
the dead-letter reader quarantines it) or **unaccounted**: counted in the `Unaccounted` metric (an alarm
watches it) and listed in the logs, message id by message id, for an operator to look at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask import aws, clock
from postmask.observability import logger, metrics
from postmask.settings import get_settings
from postmask.store import deliveries

# The forwarder's MaximumEventAgeInSeconds (6 hours), and an hour for the dead-letter reader to have run.
RETRY_WINDOW = timedelta(hours=7)
MAX_LISTED = 1000  # message ids named in one log line


@dataclass
class Report:
    day: str
    stored: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # per recipient: forwarded, blocked, quarantined...
    pending: list[str] = field(default_factory=list)  # still inside the retry window
    unaccounted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "stored": self.stored,
            "outcomes": dict(self.outcomes),
            "pending": len(self.pending),
            "unaccounted": len(self.unaccounted),
            "unaccounted_ids": self.unaccounted[:MAX_LISTED],
        }


@cache
def _s3() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    return aws.new_client("s3")


def stored_on(day: date) -> dict[str, datetime]:
    """{message id: when it was stored} of the messages the receipt rule stored on `day` (UTC)."""
    settings = get_settings()
    prefix = settings.mail_prefix
    found: dict[str, datetime] = {}
    pages = _s3().get_paginator("list_objects_v2").paginate(Bucket=settings.mail_bucket, Prefix=prefix)
    for page in pages:
        for listed in page.get("Contents") or []:
            stored = listed["LastModified"].astimezone(UTC)
            if stored.date() == day and listed["Key"] != prefix:
                found[listed["Key"][len(prefix) :]] = stored
    return found


def run(day: date | None = None) -> Report:
    """Reconcile `day` (default: yesterday, UTC); log and count what is unaccounted."""
    now = clock.now()
    day = day or (now - timedelta(days=1)).date()
    stored = stored_on(day)
    ended = deliveries.accounted(list(stored))
    report = Report(day.isoformat(), stored=len(stored))
    for message_id, when in sorted(stored.items(), key=lambda entry: entry[1]):
        outcomes = ended.get(message_id)
        if outcomes is not None:
            report.outcomes.update(outcomes.values())
        elif now - when < RETRY_WINDOW:
            report.pending.append(message_id)
        else:
            report.unaccounted.append(message_id)
    metrics.add_metric(name="MessagesStored", unit=MetricUnit.Count, value=report.stored)
    metrics.add_metric(name="MessagesPending", unit=MetricUnit.Count, value=len(report.pending))
    metrics.add_metric(name="Unaccounted", unit=MetricUnit.Count, value=len(report.unaccounted))
    if report.unaccounted:
        logger.error(
            "messages unaccounted for: stored, but neither forwarded, refused nor quarantined",
            day=report.day,
            count=len(report.unaccounted),
            message_ids=report.unaccounted[:MAX_LISTED],
        )
    logger.info("reconciled", **report.as_dict())
    return report
