"""The forwarder's dead-letter queue, read into quarantine by a function, not by a person (decision 0025).

Lambda hands an SES event the forwarder failed on after its retries to the queue (an on-failure destination:
`{"requestContext": {"condition": "RetriesExhausted", ...}, "requestPayload": <the SES event>, ...}`). For
each message and recipient of it, every copy that did not end (no `sent`, `too_large`, `rejected` or
`quarantined` record in the delivery ledger) to a verified destination is quarantined with the reason
`retries_exhausted`: the ledger says `quarantined` first (a redriven event then skips it), then
`postmask.quarantine.hold` keeps it and tells the owner. A recipient the forwarder would not forward to (a block,
a drop, an unverified destination: its decisions, recorded when it ran) is left as it is. Then the message is
accounted for (`store.deliveries.account`). A record that fails is reported back (`batchItemFailures`): SQS
delivers it again, and every step above may run twice without doing anything twice.

Messages to reply addresses whose send failed are logged as an error (`reply not sent after retries`) and
accounted for as `failed`: there is no quarantine of replies (their sender is the user, who still has them).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from postmask import clock, ids, quarantine
from postmask.observability import logger, metrics
from postmask.store import deliveries, destinations

# How a copy's delivery ended (None: it had not) -> why it is quarantined; a sent one is not. A copy the forwarder
# gave up itself is quarantined again here (the same item: nothing twice), in case its own quarantine failed.
_REASON = {
    None: quarantine.Reason.RETRIES_EXHAUSTED,
    deliveries.Status.SENDING: quarantine.Reason.UNCONFIRMED,  # claimed, then nothing recorded: it may have left
    deliveries.Status.QUARANTINED: quarantine.Reason.RETRIES_EXHAUSTED,
    deliveries.Status.REJECTED: quarantine.Reason.REJECTED,
    deliveries.Status.TOO_LARGE: quarantine.Reason.TOO_LARGE,
}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of dead-lettered invocations; the records to deliver again (SQS partial batch response)."""
    failures = []
    for record in event.get("Records") or []:
        try:
            read(json.loads(record["body"]))
        except Exception:
            logger.exception("dead letter not quarantined; SQS delivers it again", sqs_id=record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def read(dead_letter: dict[str, Any]) -> None:
    """Quarantine what one dead-lettered invocation of the forwarder could not send."""
    payload = dead_letter.get("requestPayload")
    if not isinstance(payload, dict):
        logger.error("dead letter without the forwarder's event; nothing to quarantine", keys=sorted(dead_letter))
        return
    metrics.add_metric(name="DeadLetterRead", unit=MetricUnit.Count, value=1)
    for record in payload.get("Records") or []:
        _message(record)


def _message(event_record: dict[str, Any]) -> None:
    from aws_lambda_powertools.utilities.data_classes.ses_event import SESEventRecord

    from postmask.mail import decisions, delivery
    from postmask.mail.arrival import arrive

    arrival = arrive(SESEventRecord(event_record), clock.now_iso())
    verdict_failed = decisions._verdict_failed(arrival.receipt)
    outcomes: dict[str, str] = {}
    for recipient in arrival.recipients:
        address = decisions.normalise(recipient)
        if address is not None and ids.is_reply_local_part(address.partition("@")[0]):
            logger.error("reply not sent after retries", message_id=arrival.message_id, recipient=address)
            outcomes[recipient] = "failed"
            continue
        decision = decisions.decide(
            recipient,
            verdict_failed=verdict_failed,
            bounce=arrival.bounce,
            now_iso=arrival.now_iso,
            sender=arrival.sender,
        )
        if decision.action is not decisions.Action.FORWARD or decision.owner_id is None:
            outcomes[recipient] = str(decision.action)
            continue
        owner = decision.owner_id
        statuses = destinations.statuses([(owner, address) for address in decision.destinations])
        held = 0
        for destination in decision.destinations:
            if statuses.get((owner, destinations.canonical(destination))) != "verified":
                continue  # skipped when the forwarder ran (a suspended one's copy was quarantined then)
            reason = _REASON.get(deliveries.hold(arrival.message_id, decision.recipient, destination))
            if reason is None:
                continue  # sent
            delivery.quarantine_copy(arrival, decision, destination, reason)
            held += 1
        outcomes[recipient] = "quarantined" if held else "forwarded"
    deliveries.account(arrival.message_id, outcomes)


__all__ = ["handle", "read"]
