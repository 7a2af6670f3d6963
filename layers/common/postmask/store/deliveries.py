"""Delivery records: the forwarder's guard against sending one message twice to one destination.

One item per (message, recipient, destination): `MAIL#<SES message id>/SEND#<recipient>#<destination>`.
- `claim` writes it as `sending` with a lease that outlives the invocation, only if it is absent or its lease
  ran out (the invocation that held it timed out or crashed);
- `complete` marks it `sent` (or `too_large`) for good; `release` deletes it when sending failed, so a retry
  sends again.
A retried or replayed event finds `sent` and skips that destination; two copies of one event running at once
find the other's live lease and back off (Lambda retries later). The one window left, a crash after SES
accepted the message and before `complete`, re-sends once after the lease: at-least-once there, exactly-once
everywhere else. Records expire (DynamoDB TTL on `purge_at`) after RECORD_DAYS.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from botocore.exceptions import ClientError

from postmask.clock import now_iso
from postmask.store import _dynamo as db

# Longer than an event can live: Lambda's retries (hours), then 14 days in the dead-letter queue before a redrive.
RECORD_DAYS = 30


class Status(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    TOO_LARGE = "too_large"
    REJECTED = "rejected"  # SES refused the copy for good (its content or an address): not retried, recorded
    HELD = "held"  # not sent: its destination's OpenPGP key cannot be used and there is nowhere to keep it
    QUARANTINED = "quarantined"  # given up and quarantined (postmask.quarantine): sent only by a resend


class DeliveryInProgress(Exception):
    """Another invocation holds this delivery right now; retry later, when it has finished or expired."""


@dataclass(frozen=True)
class Claim:
    message_id: str
    recipient: str
    destination: str
    token: str  # proves this invocation holds the claim when it completes or releases it
    # The claim took over an expired lease: the invocation that held it stopped after claiming, perhaps after
    # SES accepted the copy. Sending again could deliver it twice (decision 0025: it is quarantined instead).
    taken_over: bool = False


def _item_kept(exc: ClientError) -> db.Item:
    """The item a conditional write found in its way (ReturnValuesOnConditionCheckFailure); any other error raised."""
    if not db.condition_failed(exc):
        raise exc
    return db.deserialize(exc.response.get("Item") or {})  # type: ignore[arg-type]  # botocore types it as object


def mail_pk(message_id: str) -> str:
    return f"MAIL#{message_id}"


def purge_at(days: int = RECORD_DAYS) -> int:
    """The TTL attribute's value: epoch seconds."""
    return int(time.time()) + days * 86_400


def _key(message_id: str, recipient: str, destination: str) -> dict[str, dict[str, str]]:
    return db.key(mail_pk(message_id), f"SEND#{recipient}#{destination.lower()}")


def claim(
    message_id: str, recipient: str, destination: str, *, lease_seconds: float, resend: bool = False
) -> Claim | Status:
    """Take this delivery for the next `lease_seconds`; or, when an earlier invocation already finished it,
    how it ended (`SENT`, `TOO_LARGE`, `REJECTED`, `QUARANTINED`). `resend`: a quarantined copy sent again on its
    owner's request, which may also take a delivery SES refused or that was quarantined (never a sent one).

    Raises DeliveryInProgress when another invocation holds a live lease on it.
    """
    token = secrets.token_hex(8)
    now = time.time()
    item = {
        **_key(message_id, recipient, destination),
        **db.serialize(
            {
                "status": str(Status.SENDING),
                "token": token,
                "lease_until": int(now + lease_seconds) + 1,
                "claimed_at": now_iso(),
                "purge_at": purge_at(),
            }
        ),
    }
    condition = "attribute_not_exists(pk) OR (#status = :sending AND lease_until < :now)"
    condition_values: dict[str, object] = {":sending": str(Status.SENDING), ":now": int(now)}
    if resend:
        condition += " OR #status IN (:rejected, :quarantined)"
        condition_values |= {":rejected": str(Status.REJECTED), ":quarantined": str(Status.QUARANTINED)}
    try:
        response = db.client().put_item(
            TableName=db.table(),
            Item=item,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=db.values(condition_values),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = _item_kept(exc)
        if old.get("status") == Status.SENDING:
            raise DeliveryInProgress(f"{message_id} to one destination is being sent by another invocation") from exc
        return Status(old["status"])
    replaced = response.get("Attributes") or {}
    taken_over = not resend and replaced.get("status", {}).get("S") == Status.SENDING
    return Claim(message_id, recipient, destination, token, taken_over=taken_over)


def hold(message_id: str, recipient: str, destination: str) -> Status | None:
    """Record the delivery as quarantined (the dead-letter reader gave it up), unless it ended otherwise. None
    when it had not started, `SENDING` when an invocation claimed it and never recorded how the send went (it
    may have left), else how it ended (`SENT`, ...). A redriven event then skips it; a resend may take it."""
    try:
        response = db.client().put_item(
            TableName=db.table(),
            Item={
                **_key(message_id, recipient, destination),
                **db.serialize({"status": str(Status.QUARANTINED), "done_at": now_iso(), "purge_at": purge_at()}),
            },
            ConditionExpression="attribute_not_exists(pk) OR #status = :sending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=db.values({":sending": str(Status.SENDING)}),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = _item_kept(exc)
        return Status(old["status"])
    replaced = response.get("Attributes") or {}
    return Status.SENDING if replaced else None


def complete(held: Claim, status: Status, ses_message_id: str | None = None, reason: str | None = None) -> None:
    """Record the delivery as done for good (`reason`: why SES refused it); later invocations skip it."""
    try:
        db.client().update_item(
            TableName=db.table(),
            Key=_key(held.message_id, held.recipient, held.destination),
            UpdateExpression=(
                "SET #status = :status, ses_message_id = :ses_id, done_at = :now, reason = :reason REMOVE lease_until"
            ),
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#status": "status", "#token": "token"},
            ExpressionAttributeValues=db.values(
                {
                    ":status": str(status),
                    ":ses_id": ses_message_id,
                    ":now": now_iso(),
                    ":reason": reason,
                    ":token": held.token,
                }
            ),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        # Our lease ran out and another invocation took over: it records the outcome itself.


def release(held: Claim) -> None:
    """Give the delivery back after a failed send, so that the retry sends it."""
    try:
        db.client().delete_item(
            TableName=db.table(),
            Key=_key(held.message_id, held.recipient, held.destination),
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues=db.values({":token": held.token}),
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise


# --- every message accounted for (postmask.reconcile, decision 0026) -------------------------------------------
# `MAIL#<id>/ACCOUNTED` is written once every recipient of a message has ended: forwarded, refused (blocked,
# dropped, skipped, replied...) or quarantined. The forwarder writes it at the end of an invocation without
# failures, the dead-letter reader after it quarantined what the retries could not send. The daily
# reconciliation looks for it beside every message the receipt rule stored.

ACCOUNTED = "ACCOUNTED"
# A message's records that name no recipient (its ACCOUNTED record, its loop markers): an account's deletion
# deletes them with a message that was the user's alone (store.accounts.mail_of).
MESSAGE_RECORDS = (ACCOUNTED, "HOP", "HOP#REPLY")


def account(message_id: str, outcomes: dict[str, str]) -> None:
    """Record that every recipient of the message ended, {recipient: outcome}; a retry rewrites the same."""
    db.client().put_item(
        TableName=db.table(),
        Item=db.serialize(
            {"pk": mail_pk(message_id), "sk": ACCOUNTED, "outcomes": outcomes, "at": now_iso(), "purge_at": purge_at()}
        ),
    )


def accounted(message_ids: list[str]) -> dict[str, dict[str, str]]:
    """{message id: {recipient: outcome}} of the messages accounted for: one BatchGetItem per 100 keys."""
    keys = [db.key(mail_pk(message_id), ACCOUNTED) for message_id in message_ids]
    found = db.batch_get(keys, attributes=("pk", "sk", "outcomes")) if keys else []
    return {str(item["pk"])[len("MAIL#") :]: dict(item.get("outcomes") or {}) for item in found}


# --- the loop marker ----------------------------------------------------------------------------------------
# Every copy carries `X-Postmask-Hop: <SES message id>.<token>`. The token is random, written once per message
# (`MAIL#<id>/HOP`), so nobody outside can make a valid marker, and a copy that comes back to postmask (a
# destination forwarding to another alias, a loop through another system) is recognised with one GetItem,
# made only when a message carries the header (docs/decisions/0060). Reply copies carry a marker of their own
# (`MAIL#<id>/HOP#REPLY`): one reaching another user's alias is a message between two postmask users and is
# forwarded; any marker reaching a reply address is a loop (docs/decisions/0111).


def _hop_sk(reply: bool) -> str:
    return "HOP#REPLY" if reply else "HOP"


def hop_token(message_id: str, *, reply: bool = False) -> str:
    """This message's marker token (of its forwarded copies, or of its reply copies): written the first time
    (conditional PutItem), the same on every retry."""
    token = secrets.token_hex(16)
    try:
        db.client().put_item(
            TableName=db.table(),
            Item=db.serialize(
                {"pk": mail_pk(message_id), "sk": _hop_sk(reply), "token": token, "purge_at": purge_at()}
            ),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = _item_kept(exc)
        return str(old["token"])
    return token


def is_our_hop(message_id: str, token: str, *, reply: bool = False) -> bool:
    """Whether `token` is the marker postmask gave the (reply) copies of `message_id`."""
    item = db.get_item(mail_pk(message_id), _hop_sk(reply))
    return item is not None and hmac.compare_digest(str(item.get("token", "")), token)
