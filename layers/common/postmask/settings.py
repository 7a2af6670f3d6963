"""Runtime settings, read from the environment the first time they are needed (never at import).

A dataclass checked by hand, not a pydantic model: the authorizer reads two settings and imports nothing of
pydantic (decision 0130). `Field` takes pydantic's keywords for the few constraints settings need.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cache
from typing import Any


def Field(  # spelt as pydantic's, whose keywords it takes
    default: Any = dataclasses.MISSING,
    *,
    description: str,
    ge: int | None = None,
    le: int | None = None,
    min_length: int | None = None,
) -> Any:
    """A setting: its default, what it means, and the bounds `Settings` checks when it is made."""
    return dataclasses.field(
        default=default, metadata={"description": description, "ge": ge, "le": le, "min_length": min_length}
    )


_TYPES: dict[str, type] = {"str": str, "int": int}


class InvalidSettings(ValueError):
    """The function's environment names a setting out of its bounds: a deployment error, raised on first use."""


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str = Field(min_length=1, description="The DynamoDB table (TABLE_NAME).")
    token_last_used_resolution_seconds: int = Field(
        default=300, ge=0, description="How stale a token's last_used_at may get before the authorizer writes it."
    )
    mail_bucket: str = Field(default="", description="Where SES's receipt rule stores raw mail (MAIL_BUCKET).")
    mail_prefix: str = Field(default="inbound/", description="The receipt rule's S3 object key prefix (MAIL_PREFIX).")
    region: str = Field(default="", description="The stack's region, where SES receives mail (AWS_REGION).")
    sender_address: str = Field(
        default="",
        description="postmask's own mail comes from here when set, else postmask@<a verified domain> "
        "(SENDER_ADDRESS, the template parameter SenderAddress).",
    )
    public_url: str = Field(
        default="", description="Where links in postmask's mail point; empty: the API's own URL (PUBLIC_URL)."
    )
    configuration_set: str = Field(
        default="",
        description="The SES configuration set every send names, for bounces and complaints "
        "(CONFIGURATION_SET); empty: none.",
    )
    session_days: int = Field(
        default=30, ge=1, le=365, description="Days a session token (sign-in by link) works (SESSION_DAYS)."
    )
    signin_mailer: str = Field(
        default="", description="The function that mails sign-in links, invoked asynchronously (SIGNIN_MAILER)."
    )
    stack_name: str = Field(
        default="postmask", min_length=1, description="The stack: the postmask:stack tag of its SES identities."
    )
    domain_claim_days: int = Field(
        default=7, ge=1, description="Days an unverified domain stays its claimant's (DOMAIN_CLAIM_DAYS)."
    )
    mail_from_subdomain: str = Field(
        default="bounce",
        min_length=1,
        description="The label of each domain's custom MAIL FROM subdomain, `<label>.<domain>` "
        "(MAIL_FROM_SUBDOMAIN, the template parameter MailFromSubdomain).",
    )
    max_aliases_per_user: int = Field(
        default=10_000, ge=1, description="How many aliases one user may have (MAX_ALIASES_PER_USER)."
    )
    activity_retention_days: int = Field(
        default=30, ge=1, le=3650, description="Days an activity event is kept (ACTIVITY_RETENTION_DAYS)."
    )
    quarantine_days: int = Field(
        default=14, ge=1, le=3650, description="Days a quarantined copy is kept to be resent (QUARANTINE_DAYS)."
    )

    def __post_init__(self) -> None:
        problems = []
        for setting in dataclasses.fields(self):
            value: Any = getattr(self, setting.name)
            bounds = setting.metadata
            expected = _TYPES[str(setting.type)]  # an annotation as text (`from __future__ import annotations`)
            if type(value) is not expected:  # not isinstance: a bool is no number of days
                problems.append(f"{setting.name} must be {expected.__name__}")
            elif bounds["min_length"] is not None and len(str(value)) < bounds["min_length"]:
                problems.append(f"{setting.name} must have at least {bounds['min_length']} character(s)")
            elif bounds["ge"] is not None and value < bounds["ge"]:
                problems.append(f"{setting.name} must be at least {bounds['ge']}")
            elif bounds["le"] is not None and value > bounds["le"]:
                problems.append(f"{setting.name} must be at most {bounds['le']}")
        if problems:
            raise InvalidSettings("; ".join(problems))


@cache
def get_settings() -> Settings:
    """The settings of this container; tests call `get_settings.cache_clear()` after changing the env."""
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        token_last_used_resolution_seconds=int(os.environ.get("TOKEN_LAST_USED_RESOLUTION_SECONDS", "300")),
        mail_bucket=os.environ.get("MAIL_BUCKET", ""),
        mail_prefix=os.environ.get("MAIL_PREFIX", "inbound/"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
        sender_address=os.environ.get("SENDER_ADDRESS", "").strip(),
        public_url=os.environ.get("PUBLIC_URL", "").strip().rstrip("/"),
        configuration_set=os.environ.get("CONFIGURATION_SET", "").strip(),
        session_days=int(os.environ.get("SESSION_DAYS") or "30"),
        signin_mailer=os.environ.get("SIGNIN_MAILER", "").strip(),
        stack_name=os.environ.get("STACK_NAME") or "postmask",
        domain_claim_days=int(os.environ.get("DOMAIN_CLAIM_DAYS") or "7"),
        mail_from_subdomain=(os.environ.get("MAIL_FROM_SUBDOMAIN") or "bounce").strip().lower(),
        max_aliases_per_user=int(os.environ.get("MAX_ALIASES_PER_USER") or "10000"),
        activity_retention_days=int(os.environ.get("ACTIVITY_RETENTION_DAYS") or "30"),
        quarantine_days=int(os.environ.get("QUARANTINE_DAYS") or "14"),
    )
