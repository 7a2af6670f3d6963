"""Encrypted forwarding (contract: "Encrypted forwarding (OpenPGP)", decisions 0027 and 0028): how one copy goes.

A copy to a destination with an OpenPGP key, for an alias whose `encrypt` is on (a catch-all's copy: always), is
sent encrypted (postmask.mail.encryption). When the key cannot be used (expired, revoked since, broken), the key's
`fallback` decides: `plain` sends the copy in clear; `quarantine` (the default) never does: the copy is not sent:
it is quarantined with the reason `pgp_key_unusable` (postmask.quarantine; recorded `failed` when there is nowhere
to keep it), to resend once the key is replaced or its fallback changed. A key that expires within 14 days (or has
expired) earns its owner one notice mail per key (`pgp_key_expiry`), claimed on the destination item so that
concurrent copies send one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit

from postmask.mail import encryption
from postmask.observability import logger, metrics
from postmask.store.pgp_keys import ForwardingKey

NOTICE = "pgp_key_expiry"  # the system mail's template folder
NOTICE_DAYS = 14
UNUSABLE = "pgp_key_unusable"  # the activity reason of a copy not sent because its key cannot be used


class Way(StrEnum):
    CLEAR = "clear"  # no key, or the alias does not encrypt
    ENCRYPTED = "encrypted"
    PLAIN_FALLBACK = "plain_fallback"  # the key cannot be used and its fallback is `plain`
    HELD = "held"  # the key cannot be used and its fallback is `quarantine`: not sent


@dataclass
class Sealed:
    """How one destination's copy goes: `copy` (to send and close) when encrypted."""

    way: Way
    copy: encryption.EncryptedCopy | None = None
    problem: str | None = None  # why the key could not be used

    def close(self) -> None:
        if self.copy is not None:
            self.copy.close()


def seal(
    header_block: bytes,
    body_chunks: Sequence[bytes | memoryview],
    *,
    key: ForwardingKey | None,
    encrypt: bool,
    alias: str,
    destination: str,
    now: datetime,
) -> Sealed:
    """The copy for `destination` (`header_block` + `body_chunks`, as it would be sent in clear), encrypted when it
    should be; what to do instead when the key cannot be used."""
    if key is None or not encrypt:
        return Sealed(Way.CLEAR)
    try:
        if key.expires_at is not None and key.expires_at <= now:
            # Checked here: Sequoia encrypts to an expired key without a word (pysequoia passes it no time).
            raise encryption.KeyUnusable(f"the key expired on {key.expires_at.date().isoformat()}")
        copy = encryption.encrypt_copy(
            header_block, body_chunks, key=key.key, alias=alias, destination=destination, now=now
        )
    except encryption.KeyUnusable as exc:
        metrics.add_metric(name="MailPgpKeyUnusable", unit=MetricUnit.Count, value=1)
        way = Way.PLAIN_FALLBACK if key.fallback == "plain" else Way.HELD
        logger.warning("OpenPGP key unusable", destination=destination, fingerprint=key.fingerprint, fallback=way)
        return Sealed(way, problem=str(exc))
    metrics.add_metric(name="MailEncrypted", unit=MetricUnit.Count, value=1)
    return Sealed(Way.ENCRYPTED, copy)


def notice_if_expiring(owner_id: str, alias: str, destination: str, key: ForwardingKey | None, now: datetime) -> None:
    """Mail the owner the key's one expiry notice when it expires within NOTICE_DAYS (or has expired). Never
    raises: a notice that cannot go is tried again by the next copy."""
    if key is None or key.expiry_noticed or not key.expires_within(now, NOTICE_DAYS):
        return
    from postmask import ses, system_mail
    from postmask.settings import get_settings
    from postmask.store import leaks, pgp_keys

    try:
        if not pgp_keys.claim_expiry_notice(owner_id, destination, key.fingerprint):
            return
    except Exception:
        logger.exception("could not claim the OpenPGP expiry notice", destination=destination)
        return
    try:
        to = leaks.owner_email(owner_id)
        domain = alias.rpartition("@")[2]
        from_address = get_settings().sender_address or (
            f"{system_mail.SENDER_LOCAL_PART}@{domain}" if ses.is_verified(domain) else ""
        )
        if not to or not from_address:
            raise RuntimeError("no account e-mail, or no verified domain to send the notice from")
        assert key.expires_at is not None  # expires_within says so
        context = {
            "destination": destination,
            "fingerprint": key.fingerprint,
            "expires_on": key.expires_at.date().isoformat(),
            "expired": key.expires_at <= now,
            "fallback": key.fallback,
            "link": f"{system_mail.public_url()}/destinations",
        }
        system_mail.send(NOTICE, to=to, user_id=owner_id, context=context, sender=from_address)
    except Exception:
        logger.exception("OpenPGP expiry notice not sent; the next copy tries again", destination=destination)
        try:
            pgp_keys.release_expiry_notice(owner_id, destination, key.fingerprint)
        except Exception:
            logger.exception("could not release the OpenPGP expiry notice", destination=destination)
        return
    logger.info("OpenPGP expiry notice sent", destination=destination)
