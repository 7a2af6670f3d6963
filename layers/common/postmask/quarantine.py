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
    QuarantinedAddressGone,
    QuarantinedDeliveredAlready,
    QuarantinedKeyUnusable,
    QuarantinedMessageGone,
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
RESEND_LEASE_SECONDS = 60  # an API request's claim on a delivery: longer than API Gateway waits (29 s)
HEADER_BYTES = 64 * 1024  # what GET one reads of the stored message for its header fields
# S3 answers 403 AccessDenied, not 404, for a missing key to whoever may not ListBucket (the API's functions).
_GONE = frozenset({"NoSuchKey", "404", "NotFound", "AccessDenied", "403"})


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


# --- the API: one copy's header fields, resend, delete --------------------------------------------------------


def header_lines(held: store.Held) -> list[tuple[str, str]] | None:
    """The stored message's header fields as (name, value) to show: unfolded, encoded words decoded, control and
    invisible characters removed (mail is hostile input), as far as its first HEADER_BYTES hold them (one ranged
    GetObject); None when the stored message is gone (expired with QuarantineDays, or deleted), or there is no
    mail bucket (forwarding was turned off since)."""
    from postmask.mail.header_fields import parse_header
    from postmask.mail.headers import clean_text

    bucket = get_settings().mail_bucket
    if not bucket:
        return None
    try:
        response = _s3().get_object(Bucket=bucket, Key=held.object_key, Range=f"bytes=0-{HEADER_BYTES - 1}")
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    with response["Body"] as body:
        data = body.read(HEADER_BYTES)
    parsed = parse_header(data)
    fields = list(parsed.fields)
    if parsed.body_offset >= len(data) and len(data) >= HEADER_BYTES and fields:
        fields.pop()  # the header block goes on past what was read: its last field may be cut off
    return [(field.name, clean_text(field.text())) for field in fields]


def _gone(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _GONE


# --- resend and delete -------------------------------------------------------------------------------


def resend(user_id: str, quarantine_id: str, destination: str | None) -> Resent:
    """Send the quarantined copy to `destination` (a verified destination of the user; default: the one it was
    for), at most once per destination (the delivery ledger). The copy is made by the forwarder's own code
    (postmask.mail.copies): trackers removed per the alias's `trackers`, encrypted to the destination's OpenPGP key
    when the alias encrypts. Reads: the copy (GetItem), the stored message (S3), then the destination, the alias's
    route and the contacts the copy names (one BatchGetItem)."""
    from postmask import ses
    from postmask.mail import copies, trackers
    from postmask.mail.message import RawMessage
    from postmask.schemas.quarantine import Resent
    from postmask.store import deliveries, destinations

    held = store.get(user_id, quarantine_id)
    target = destinations.canonical(destination) if destination else held.destination
    if held.size > ses.MAX_MESSAGE_BYTES:
        raise QuarantinedNeverFits
    if target.lower() in (address.lower() for address in held.resent_to):
        raise QuarantinedDeliveredAlready
    message = RawMessage.parse(_stored(held))
    wanted = _wanted_contacts(held, message)
    found = store.resend_reads(held, target, [address for _, address in wanted])
    if not found.address_theirs:
        raise QuarantinedAddressGone(
            f"{held.address} is no longer an address of yours (its alias or its domain was deleted): mail is not "
            "sent from it any more. Delete this entry."
        )
    if found.status != "verified":
        raise ResendDestinationInvalid(
            f"{target} is not a verified destination of yours"
            + (f" (it is {found.status})" if found.status else "")
            + ": only verified destinations receive mail"
        )
    body, _ = copies.forwarded_body(message, held.message_id, trackers.mode_of(found.trackers))
    copy = copies.forwarded(
        message,
        body,
        alias=held.address,
        destination=target,
        envelope_sender=held.envelope_sender,
        received={},
        hop=f"{held.message_id}.{deliveries.hop_token(held.message_id)}",
        reply_addresses=_reply_addresses(held, wanted, found.known),
        key=found.key,
        encrypt=found.encrypt,
    )
    try:
        if copy.held:  # never sent in clear: checked before the claim, so nothing is recorded and it stays here
            problem = copy.sealed.problem if copy.sealed is not None else None
            raise QuarantinedKeyUnusable(
                f"The OpenPGP key of {target} cannot be used"
                + (f" ({problem})" if problem else "")
                + ", and its fallback keeps mail in quarantine rather than send it in clear: replace the key, or set "
                "its fallback to plain, then resend. The message stays quarantined."
            )
        ses_message_id = _send(held, target, copy.parts)
    finally:
        copy.close()  # an encrypted copy's files in /tmp
    store.add_resent(user_id, quarantine_id, target)
    metrics.add_metric(name="MailResent", unit=MetricUnit.Count, value=1)
    logger.info(
        "quarantined copy resent",
        quarantine_id=quarantine_id,
        ses_message_id=ses_message_id,
        encrypted=copy.encrypted,
        plain_fallback=copy.plain_fallback,
    )
    return Resent(id=quarantine_id, destination=target)


def _stored(held: store.Held) -> bytearray:
    """The quarantined message's bytes; QuarantinedMessageGone when it expired or was deleted."""
    from postmask.mail import inbox

    bucket = get_settings().mail_bucket
    if not bucket:
        raise QuarantinedMessageGone("There is no mail bucket (forwarding is off): the message can no longer be sent")
    try:
        return inbox.read(bucket, held.object_key)
    except inbox.MessageMissing as exc:
        raise QuarantinedMessageGone from exc
    except ClientError as exc:
        if _gone(exc):
            raise QuarantinedMessageGone from exc
        raise


def _send(held: store.Held, target: str, parts: tuple[bytes | memoryview, ...]) -> str:
    """Send once per (message, address, destination) through the delivery ledger; SES's message id."""
    from postmask import ses
    from postmask.mail import delivery
    from postmask.store import deliveries

    try:
        claim = deliveries.claim(held.message_id, held.address, target, lease_seconds=RESEND_LEASE_SECONDS, resend=True)
    except deliveries.DeliveryInProgress as exc:
        raise QuarantinedDeliveredAlready("This message is being delivered to that destination right now") from exc
    if not isinstance(claim, deliveries.Claim):
        if claim is deliveries.Status.TOO_LARGE:
            raise QuarantinedNeverFits
        raise QuarantinedDeliveredAlready
    try:
        tags = delivery.forward_tags(held.user_id, held.alias_id)
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
    return ses_message_id


def _wanted_contacts(held: store.Held, message: Any) -> list[tuple[str, str]]:
    """Whom the copy needs contacts for, as the forwarder picks them; nobody for a catch-all's copy."""
    if held.alias_id is None:
        return []
    from postmask.mail.decisions import wanted_contacts

    return wanted_contacts(message, held.address, held.envelope_sender)


def _reply_addresses(held: store.Held, wanted: list[tuple[str, str]], known: dict[str, Any]) -> dict[str, str] | None:
    """{address: its contact's reply address} for an alias's copy, the missing contacts created; None for a
    catch-all's copy. As the forwarder does: a reply never leaves from the real mailbox."""
    if held.alias_id is None:
        return None
    from postmask.store import contacts

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
