"""Quarantine: a copy that cannot be delivered for good is kept, told, and can be resent (decision 0025).

`hold(copy, reason)` is the one way in, for the forwarder's delivery (SES refused the copy, it is over SES's
40 MB, its destination is suspended, the forwarder stopped between sending and recording it), the dead-letter
reader (the event exhausted its retries) and any later stage that gives a copy up (encryption's `fallback:
quarantine`). It:
1. copies the stored message to `quarantine/<user_id>/<quarantine_id>` in the mail bucket, whose lifecycle rule
   keeps that prefix QuarantineDays however short MailRetentionDays is (a prefix, not a tag: S3 applies the
   shortest expiration of every rule an object matches, so a tag could never outlive the `inbound/` rule);
2. writes the quarantined copy (store/quarantine.py), on condition it is new, so that a retry, a duplicate
   event or the dead-letter reader after the forwarder quarantine it once;
3. records the activity event `quarantined` with the reason, and counts MailQuarantined;
4. mails the owner a notice listing what is waiting, at most one per alias (or catch-all address) per hour.
Steps 1 and 2 raise (the caller retries: nothing is lost); 3 and 4 never cost the copy its quarantine.

`resend` sends a quarantined copy again through the delivery ledger (store.deliveries), so each destination
gets it at most once, whoever asks how often: the forwarder's own record of a refused copy is taken over, a
`sent` one answers 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from postmask import activity, aws, clock
from postmask.errors import (
    NoSystemMailSender,
    QuarantinedDeliveredAlready,
    QuarantinedNeverFits,
    ResendDestinationInvalid,
)
from postmask.observability import logger, metrics
from postmask.settings import get_settings
from postmask.store import quarantine as store

if TYPE_CHECKING:
    from postmask.schemas.quarantine import Resent

PREFIX = "quarantine/"
NOTICE = "quarantine_notice"  # the system mail's template folder
NOTICE_INTERVAL_SECONDS = 3600  # at most one notice per alias per hour
NOTICE_LISTS = 10  # how many waiting copies a notice names
FORWARD_TAG = "forward"  # the postmask-mail tag of forwarded copies (as the forwarder's)
RESEND_LEASE_SECONDS = 60  # an API request's claim on a delivery: longer than API Gateway waits (29 s)


class Reason:
    """Why a copy is quarantined (the activity event's reason; schemas.quarantine.QuarantineReason)."""

    REJECTED = "rejected_by_ses"
    TOO_LARGE = "too_large"
    DESTINATION_SUSPENDED = "destination_suspended"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNCONFIRMED = "delivery_unconfirmed"
    PGP_KEY_UNUSABLE = "pgp_key_unusable"  # the destination's OpenPGP key cannot be used; its fallback is quarantine


@dataclass(frozen=True)
class Copy:
    """One copy of a message for one destination, as SES's event and the route describe it."""

    user_id: str  # whose mail it is (the alias's or the catch-all domain's owner)
    message_id: str  # SES's; the stored message is <MAIL_PREFIX><message_id>
    address: str  # the recipient: the alias or catch-all address
    alias_id: str | None
    destination: str
    at: str  # when SES received it
    sender: str | None = None  # the From address
    envelope_sender: str = ""
    subject: str | None = None
    size: int | None = None  # of the stored message, when the caller read it


@cache
def _s3() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    return aws.new_client("s3")


def _bucket() -> str:
    bucket = get_settings().mail_bucket
    if not bucket:
        raise RuntimeError("MAIL_BUCKET is not set: quarantine keeps the messages SES stored there")
    return bucket


def object_key(user_id: str, quarantine_id: str) -> str:
    return f"{PREFIX}{user_id}/{quarantine_id}"


def hold(copy: Copy, reason: str) -> bool:
    """Quarantine `copy` for `reason` (see the module's doc); False when it was quarantined before."""
    settings = get_settings()
    quarantine_id = store.quarantine_id(copy.at, copy.message_id, copy.address, copy.destination)
    key = object_key(copy.user_id, quarantine_id)
    bucket = _bucket()
    source = {"Bucket": bucket, "Key": settings.mail_prefix + copy.message_id}
    _s3().copy_object(Bucket=bucket, Key=key, CopySource=source)
    size = copy.size if copy.size is not None else int(_s3().head_object(Bucket=bucket, Key=key)["ContentLength"])
    now = clock.now()
    held = store.Held(
        user_id=copy.user_id,
        quarantine_id=quarantine_id,
        message_id=copy.message_id,
        address=copy.address,
        alias_id=copy.alias_id,
        destination=copy.destination,
        reason=reason,
        sender=copy.sender,
        envelope_sender=copy.envelope_sender,
        subject=copy.subject,
        size=size,
        object_key=key,
        quarantined_at=clock.iso(now),
        expires_at=clock.iso(now + timedelta(days=settings.quarantine_days)),
    )
    if not store.put(held):
        return False
    metrics.add_metric(name="MailQuarantined", unit=MetricUnit.Count, value=1)
    logger.warning(
        "copy quarantined",
        message_id=copy.message_id,
        recipient=copy.address,
        alias_id=copy.alias_id,
        destination=copy.destination,
        outcome="quarantined",
        reason=reason,
        quarantine_id=quarantine_id,
    )
    activity.record(
        activity.Event(
            user_id=copy.user_id,
            key=f"{copy.message_id}\n{copy.address}\n{copy.destination}",
            at=copy.at,
            address=copy.address,
            outcome="quarantined",
            reason=reason,
            alias_id=copy.alias_id,
            sender=copy.sender,
            destination=copy.destination,
            subject=copy.subject,
            message_id=copy.message_id,
        )
    )
    notify(copy.user_id, copy.alias_id or copy.address, copy.address)
    return True


def notify(user_id: str, about: str, address: str) -> None:
    """Mail the owner what is waiting in quarantine, unless a notice about `about` went out within the hour.
    Never raises: a notice that cannot go is logged, and the next quarantined copy tries again."""
    try:
        token = store.claim_notice(user_id, about, interval_seconds=NOTICE_INTERVAL_SECONDS)
    except Exception:
        logger.exception("quarantine notice not claimed", user_id=user_id)
        return
    if token is None:
        return
    try:
        _send_notice(user_id, address)
    except Exception:
        logger.exception("quarantine notice not sent; the next quarantined copy tries again", user_id=user_id)
        try:
            store.release_notice(user_id, about, token)
        except Exception:
            logger.exception("quarantine notice not released", user_id=user_id)
        return
    metrics.add_metric(name="QuarantineNoticeSent", unit=MetricUnit.Count, value=1)
    logger.info("quarantine notice sent", user_id=user_id)


def _send_notice(user_id: str, address: str) -> None:
    from postmask import ses, system_mail
    from postmask.store import leaks

    to = leaks.owner_email(user_id)
    domain = address.rpartition("@")[2]
    # From SenderAddress, else from the alias's own domain (no Query of the owner's domains on the mail path).
    sender = get_settings().sender_address or (
        f"{system_mail.SENDER_LOCAL_PART}@{domain}" if ses.is_verified(domain) else ""
    )
    if not to or not sender:
        raise NoSystemMailSender("no account e-mail, or no verified domain to send the notice from")
    waiting = store.waiting(user_id, limit=NOTICE_LISTS)
    context = {
        "items": [
            {"address": h.address, "sender": h.sender or "", "subject": h.subject or "", "reason": h.reason}
            for h in waiting
        ],
        "more": len(waiting) >= NOTICE_LISTS,
        "days": get_settings().quarantine_days,
        "link": f"{system_mail.public_url()}/quarantine",
    }
    system_mail.send(NOTICE, to=to, user_id=user_id, context=context, sender=sender)


# --- resend and delete (the API) -------------------------------------------------------------------------------


def resend(user_id: str, quarantine_id: str, destination: str | None) -> Resent:
    """Send the quarantined copy to `destination` (a verified destination of the user; default: the one it was
    for), at most once per destination (the delivery ledger)."""
    from postmask import ses
    from postmask.schemas.quarantine import Resent
    from postmask.store import deliveries, destinations

    held = store.get(user_id, quarantine_id)
    target = destinations.canonical(destination) if destination else held.destination
    if held.size > ses.MAX_MESSAGE_BYTES:
        raise QuarantinedNeverFits
    if target.lower() in (address.lower() for address in held.resent_to):
        raise QuarantinedDeliveredAlready
    status = destinations.statuses([(user_id, target)]).get((user_id, destinations.canonical(target)))
    if status != "verified":
        raise ResendDestinationInvalid(
            f"{target} is not a verified destination of yours"
            + (f" (it is {status})" if status else "")
            + ": only verified destinations receive mail"
        )
    parts, tags = _copy_for(held, target)
    try:
        claim = deliveries.claim(held.message_id, held.address, target, lease_seconds=RESEND_LEASE_SECONDS, resend=True)
    except deliveries.DeliveryInProgress as exc:
        raise QuarantinedDeliveredAlready("This message is being delivered to that destination right now") from exc
    if not isinstance(claim, deliveries.Claim):
        if claim is deliveries.Status.TOO_LARGE:
            raise QuarantinedNeverFits
        raise QuarantinedDeliveredAlready
    try:
        ses_message_id = ses.send_raw(sender=held.address, destination=target, parts=parts, tags=tags)
    except ses.MessageTooLarge as exc:
        deliveries.complete(claim, deliveries.Status.TOO_LARGE)
        raise QuarantinedNeverFits from exc
    except ses.SendRefused as exc:
        deliveries.complete(claim, deliveries.Status.REJECTED, reason=exc.code)
        raise ResendDestinationInvalid(f"Amazon SES refused the copy for {target} again ({exc.code})") from exc
    except BaseException:
        deliveries.release(claim)
        raise
    deliveries.complete(claim, deliveries.Status.SENT, ses_message_id)
    store.add_resent(user_id, quarantine_id, target)
    metrics.add_metric(name="MailResent", unit=MetricUnit.Count, value=1)
    logger.info("quarantined copy resent", quarantine_id=quarantine_id, ses_message_id=ses_message_id)
    return Resent(id=quarantine_id, destination=target)


def _copy_for(held: store.Held, destination: str) -> tuple[tuple[bytes | memoryview, ...], dict[str, str]]:
    """The copy as the forwarder sends it (From the alias, Reply-To the sender's reply address, the loop marker),
    read from the quarantined message; and its message tags."""
    from postmask import ses
    from postmask.mail import inbox
    from postmask.mail.message import RawMessage, forwarded_header_block
    from postmask.store import deliveries

    message = RawMessage.parse(inbox.read(_bucket(), held.object_key))
    body = message.sendable_body()
    header_block = forwarded_header_block(
        message,
        alias=held.address,
        envelope_sender=held.envelope_sender,
        now=clock.now(),
        hop=f"{held.message_id}.{deliveries.hop_token(held.message_id)}",
        transfer_encoding=body.transfer_encoding,
        reply_addresses=_reply_addresses(held, message),
    )
    tags = {ses.KIND_TAG: FORWARD_TAG, ses.USER_TAG: held.user_id}
    if held.alias_id:
        tags[ses.ALIAS_TAG] = held.alias_id
    return (header_block, *body.chunks), tags


def _reply_addresses(held: store.Held, message: Any) -> dict[str, str] | None:
    """{address: its contact's reply address} for an alias's copy (the sender, To and Cc), the missing contacts
    created; None for a catch-all's copy. As the forwarder does: a reply never leaves from the real mailbox."""
    if held.alias_id is None:
        return None
    from postmask.mail.message import contact_sender, correspondents
    from postmask.store import _dynamo, contacts

    sender = contact_sender(message, held.envelope_sender)
    wanted = [sender] if sender is not None else []
    wanted += [found for found in correspondents(message, held.address) if sender is None or found[1] != sender[1]]
    wanted = wanted[:20]
    keys = [contacts.sender_key(held.alias_id, address) for _, address in wanted]
    items = _dynamo.batch_get(keys, attributes=contacts.FORWARDER_READS) if keys else []
    known = {address: found for (_, address), found in contacts.known_from(items).items()}
    alias = contacts.AliasRef(held.user_id, held.alias_id, held.address)
    found = contacts.find_or_create(alias, [(address, name or None) for name, address in wanted], known)
    return {address: entry.reply_address for address, entry in found.items()}


def delete(user_id: str, quarantine_id: str) -> None:
    """Delete the quarantined copy and its stored message."""
    held = store.delete(user_id, quarantine_id)
    try:
        _s3().delete_object(Bucket=_bucket(), Key=held.object_key)
    except ClientError:
        # The item is gone, so nobody can reach the object; the lifecycle rule deletes it within QuarantineDays.
        logger.exception("quarantined message not deleted; its lifecycle rule will", quarantine_id=quarantine_id)


__all__ = ["Copy", "Reason", "delete", "hold", "notify", "resend"]
