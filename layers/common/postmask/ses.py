"""Amazon SES (v2): domain identities (Easy DKIM, verification) and sending a raw message without copying it.

SESv2 `SendEmail` carries a raw message as base64 inside a JSON body (up to 40 MB; v1 `SendRawEmail` takes
only 10 MB). Serialised the ordinary way, one 30 MB message becomes a 40 MB base64 string, a 40 MB JSON string
and 40 MB of encoded bytes, on top of the message itself: five to six times its size. Instead, botocore
serialises a small placeholder and, just before the request is signed and sent, the body becomes a seekable
stream that produces the base64 of the header block and the untouched body slice by slice. Peak memory stays
close to the message's own size. See docs/decisions/0021-streamed-ses-request-body.md.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from postmask import aws
from postmask.settings import get_settings

if TYPE_CHECKING:  # not at run time: the routes that send mail need no domain models (decision 0130)
    from postmask.schemas.domains import VerificationStatus

# SES refuses a message larger than this (SESv2 SendEmail, headers and attachments included).
MAX_MESSAGE_BYTES = 40 * 1024 * 1024

_PLACEHOLDER = b"postmask:raw-message-placeholder"
# The most the stream produces per read: botocore hashes the body in 1 MB reads, and each read holds its raw
# slice and its base64 at once; small reads keep that transient small next to the message (what a 1 MB message
# costs beyond itself is mostly this: at 256 KB a read held about 0.9 MB). urllib3 sends in 16 KB blocks anyway.
_MAX_READ = 48 * 1024
_PLACEHOLDER_B64 = base64.b64encode(_PLACEHOLDER)
_pending_parts: ContextVar[Sequence[memoryview] | None] = ContextVar("postmask_ses_pending_parts", default=None)


# What SES answers when it will not send a message. Two kinds, one taxonomy for every sender of mail:
# - PERMANENT_ERRORS: no retry can change it, this message (its content, or an address in it) is refused.
#   send_raw raises SendRefused: the forwarder records the copy `rejected`; system mail answers 409.
# - ACCOUNT_ERRORS: all sending stops until an operator acts (a paused or suspended account, an unverified MAIL
#   FROM domain). Raised as the ClientError it is: the forwarder leaves it to Lambda's retries and the
#   dead-letter queue (redrive once fixed); system mail answers 409 saying what is wrong.
# Anything else (throttling above all) is raised as it comes, and retried.
PERMANENT_ERRORS = frozenset(
    {"MessageRejected", "BadRequestException", "InvalidParameterValue", "InvalidParameterValueException"}
)
ACCOUNT_ERRORS = frozenset(
    {"MailFromDomainNotVerifiedException", "AccountSuspendedException", "SendingPausedException"}
)


class SendRefused(Exception):
    """SES refused this message for good (PERMANENT_ERRORS): retrying cannot help. `detail` is SES's own text."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def received_message_id(ses_message_id: str, region: str) -> str:
    """The Message-ID the recipient of a message SES sent sees: SES replaces any Message-ID with its own,
    `<SES message id@<region>.amazonses.com>` (`@email.amazonses.com` in us-east-1)."""
    host = "email.amazonses.com" if region in ("", "us-east-1") else f"{region}.amazonses.com"
    return f"<{ses_message_id}@{host}>"


class MessageTooLarge(Exception):
    """SES will never accept this message: retrying cannot help."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the message is {size} bytes; SES sends at most {MAX_MESSAGE_BYTES}")
        self.size = size


@cache
def client() -> Any:  # botocore builds the client class at run time; there is nothing static to name
    """One SESv2 client per container, made on first use, with the streaming body installed."""
    sesv2 = aws.new_client("sesv2")
    sesv2.meta.events.register("before-call.sesv2.SendEmail", _stream_raw_data)
    return sesv2


# --- domain identities ------------------------------------------------------------------------------------

# How long the forwarder trusts that a domain is verified before asking SES again (per container).
VERIFIED_CACHE_SECONDS = 300
_verified_until: dict[str, float] = {}


# The tag on every identity postmask creates, valued with its stack's name: it adopts and deletes only those, and
# the IAM policies of the functions that delete or create identities say so too (decision 0073).
STACK_TAG = "postmask:stack"


@dataclass(frozen=True)
class DomainIdentity:
    status: VerificationStatus
    dkim_tokens: tuple[str, ...]
    ours: bool = True  # tagged by this stack
    ever_verified: bool = False  # SES verified it at some time (it may have failed since)
    mail_from_domain: str | None = None  # the custom MAIL FROM domain SES has for it, if any
    mail_from_status: VerificationStatus | None = None  # MailFromDomainStatus: SES's check of its MX


def _stack() -> str:
    from postmask.settings import get_settings

    return get_settings().stack_name


def _status(verification_status: str | None, verified_for_sending: bool | None = None) -> VerificationStatus:
    """SES's PENDING / SUCCESS / FAILED / TEMPORARY_FAILURE / NOT_STARTED, as the API says it."""
    if verification_status == "SUCCESS" or (verification_status is None and verified_for_sending):
        return "verified"
    if verification_status == "FAILED":
        return "failed"
    return "pending"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def create_domain_identity(domain: str) -> DomainIdentity:
    """Create the domain's SES identity with Easy DKIM (2048-bit), tagged with this stack. One that exists is
    returned as it is, `ours` saying whether this stack created it: the caller decides whether to adopt it."""
    try:
        response = client().create_email_identity(
            EmailIdentity=domain,
            DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"},
            Tags=[{"Key": STACK_TAG, "Value": _stack()}],
        )
    except ClientError as exc:
        if _error_code(exc) != "AlreadyExistsException":
            raise
        existing = get_domain_identity(domain)
        if existing is None:  # deleted in between: create it again
            return create_domain_identity(domain)
        return existing
    # A new identity: SES has not seen the DKIM records yet.
    tokens = tuple(response.get("DkimAttributes", {}).get("Tokens", ()))
    return DomainIdentity(_status(None, response.get("VerifiedForSendingStatus")), tokens)


def get_domain_identity(domain: str) -> DomainIdentity | None:
    """SES's current view of the domain, or None when it has no identity."""
    try:
        response = client().get_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _error_code(exc) == "NotFoundException":
            return None
        raise
    tokens = tuple(response.get("DkimAttributes", {}).get("Tokens", ()))
    status = _status(response.get("VerificationStatus"), response.get("VerifiedForSendingStatus"))
    tags = {tag.get("Key"): tag.get("Value") for tag in response.get("Tags") or ()}
    # VerificationInfo.LastSuccessTimestamp: the last time SES verified it, even if its records failed since.
    ever_verified = status == "verified" or bool((response.get("VerificationInfo") or {}).get("LastSuccessTimestamp"))
    mail_from = response.get("MailFromAttributes") or {}
    return DomainIdentity(
        status,
        tokens,
        ours=tags.get(STACK_TAG) == _stack(),
        ever_verified=ever_verified,
        mail_from_domain=mail_from.get("MailFromDomain") or None,
        mail_from_status=_status(mail_from.get("MailFromDomainStatus")) if mail_from.get("MailFromDomain") else None,
    )


def set_mail_from(domain: str, mail_from_domain: str) -> None:
    """Give the domain's identity its custom MAIL FROM domain. On MX failure SES uses its own (USE_DEFAULT_VALUE):
    until the MX resolves, or if it goes, mail still goes out, passing DMARC by DKIM alone (decision 0085)."""
    client().put_email_identity_mail_from_attributes(
        EmailIdentity=domain, MailFromDomain=mail_from_domain, BehaviorOnMxFailure="USE_DEFAULT_VALUE"
    )


def verification_statuses() -> dict[str, VerificationStatus]:
    """The status of every identity in this account and region: one call per 1000 identities."""
    statuses: dict[str, VerificationStatus] = {}
    kwargs: dict[str, Any] = {"PageSize": 1000}
    while True:
        response = client().list_email_identities(**kwargs)
        for identity in response.get("EmailIdentities", []):
            statuses[identity["IdentityName"].lower()] = _status(identity.get("VerificationStatus"))
        if not response.get("NextToken"):
            return statuses
        kwargs["NextToken"] = response["NextToken"]


def delete_domain_identity(domain: str) -> bool:
    """Delete the domain's identity if this stack created it (its tag); True when it did. Any other identity is
    left alone, whatever IAM would allow (it allows no more)."""
    identity = get_domain_identity(domain)
    if identity is None or not identity.ours:
        return False
    try:
        client().delete_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _error_code(exc) != "NotFoundException":
            raise
    _verified_until.pop(domain, None)
    return True


def is_verified(domain: str) -> bool:
    """Whether SES will send from `domain`. A yes is trusted for VERIFIED_CACHE_SECONDS; a no is asked again."""
    if _verified_until.get(domain, 0.0) > time.monotonic():
        return True
    identity = get_domain_identity(domain)
    if identity is None or identity.status != "verified":
        return False
    _verified_until[domain] = time.monotonic() + VERIFIED_CACHE_SECONDS
    return True


def forget_verifications() -> None:
    """Drop the forwarder's cached answers (tests, or a container that must re-check)."""
    _verified_until.clear()


# --- sending ----------------------------------------------------------------------------------------------


# The message tag naming the postmask user a message was sent for: SES puts a configuration set's tags on every
# bounce and complaint it reports, and the feedback function suspends that user's destination.
USER_TAG = "postmask-user"
# What kind of mail it was (`forward`, or the system mail's template): for the logs of feedback.
KIND_TAG = "postmask-mail"
# The alias a forwarded copy was sent for: its bounce or complaint is recorded in that alias's activity.
ALIAS_TAG = "postmask-alias"


def send_raw(
    *,
    sender: str,
    destination: str,
    parts: Sequence[bytes | bytearray | memoryview],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Send the message made of `parts` (joined in order) from `sender` to `destination`; SES's message id.

    Every send names the stack's configuration set (settings `configuration_set`, when there is one), so SES
    reports its bounces and complaints with `tags` (SES's rule for tags: ASCII letters, digits, `_` and `-`).
    Raises MessageTooLarge before calling SES when the message is over the limit, or when SES says so (413);
    SendRefused when SES refuses this message for good (PERMANENT_ERRORS). Any other error is raised as it
    comes: the caller lets Lambda retry, or says what the operator must do (ACCOUNT_ERRORS).
    """
    views = [memoryview(part).cast("B") for part in parts]
    size = sum(view.nbytes for view in views)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(size)
    options: dict[str, Any] = {}
    configuration_set = get_settings().configuration_set
    if configuration_set:
        options["ConfigurationSetName"] = configuration_set
    if tags:
        options["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    token = _pending_parts.set(views)
    try:
        response = client().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [destination]},
            Content={"Raw": {"Data": _PLACEHOLDER}},
            **options,
        )
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 413:
            raise MessageTooLarge(size) from exc
        code = _error_code(exc)
        if code in PERMANENT_ERRORS:
            raise SendRefused(code, str(exc.response.get("Error", {}).get("Message", ""))[:300]) from exc
        raise
    finally:
        _pending_parts.reset(token)
    message_id: str = response["MessageId"]
    return message_id


def _stream_raw_data(params: dict[str, Any], **_: Any) -> None:
    """botocore `before-call` handler: swap the serialised placeholder for the streamed message."""
    parts = _pending_parts.get()
    if parts is None:
        return  # a SendEmail that send_raw did not make: leave it alone
    body = params["body"]
    before, found, after = body.partition(_PLACEHOLDER_B64)
    if not found:
        raise RuntimeError("the SendEmail request no longer carries the raw-message placeholder")
    params["body"] = Base64Splice(before, parts, after)


class Base64Splice(io.RawIOBase):
    """`prefix + base64(b"".join(parts)) + suffix` as a seekable, read-only stream, computed on demand.

    base64 turns every 3 input bytes into 4 output bytes, so any output range maps to a small input range:
    reading never holds more than the slice asked for.
    """

    def __init__(self, prefix: bytes, parts: Sequence[memoryview], suffix: bytes) -> None:
        super().__init__()
        self._prefix = prefix
        self._parts = list(parts)
        self._suffix = suffix
        self._raw_size = sum(part.nbytes for part in self._parts)
        self._encoded_size = 4 * ((self._raw_size + 2) // 3)
        self._size = len(prefix) + self._encoded_size + len(suffix)
        self._position = 0

    def __len__(self) -> int:  # botocore sets Content-Length from it
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        chunk = self.read(target.nbytes)
        target[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (at most _MAX_READ of them: callers read until b""), or all that is left."""
        start = self._position
        end = self._size if size is None or size < 0 else min(self._size, start + min(size, _MAX_READ))
        if start >= end:
            return b""
        self._position = end
        pieces = []
        encoded_start = len(self._prefix)
        encoded_end = encoded_start + self._encoded_size
        if start < encoded_start:
            pieces.append(self._prefix[start : min(end, encoded_start)])
        if start < encoded_end and end > encoded_start:
            pieces.append(
                self._encoded(max(start, encoded_start) - encoded_start, min(end, encoded_end) - encoded_start)
            )
        if end > encoded_end:
            pieces.append(self._suffix[max(start, encoded_end) - encoded_end : end - encoded_end])
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)  # one piece: no copy of it

    def _encoded(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the base64 text (a range on whole groups of 4 is encoded without a copy)."""
        first_group, last_group = start // 4, (end + 3) // 4
        encoded = base64.b64encode(self._raw(3 * first_group, min(3 * last_group, self._raw_size)))
        offset = 4 * first_group
        if start == offset and end - offset == len(encoded):
            return encoded
        return encoded[start - offset : end - offset]

    def _raw(self, start: int, end: int) -> bytes | memoryview:
        """Bytes [start, end) of the joined parts: a view of one part when the range lies in it (no copy)."""
        pieces = []
        part_start = 0
        for part in self._parts:
            part_end = part_start + part.nbytes
            if start < part_end and end > part_start:
                pieces.append(part[max(start, part_start) - part_start : min(end, part_end) - part_start])
            part_start = part_end
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
