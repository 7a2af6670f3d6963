"""The DNS records a domain's owner publishes so that mail flows through Amazon SES, each with its purpose.

What each record proves, and to whom (decision 0085):
- MX: where mail for the domain goes (senders' servers find SES's inbound endpoint).
- The three DKIM CNAMEs: SES's public keys; receivers check the signature SES puts on every copy postmask sends
  from the domain, which aligns with the From (DMARC passes by DKIM).
- The custom MAIL FROM's MX and SPF TXT (`bounce.<domain>` by default): the copies' envelope sender is then on
  the domain, SPF passes for it and aligns with the From (DMARC passes by SPF too, so one broken signature no
  longer fails it); the MX is where receivers send bounces, and what SES checks before using it.
- DMARC: the domain's policy for mail that fails both, and where receivers send their reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from postmask.schemas.domains import DnsRecord, VerificationStatus

MX_PRIORITY = 10
SPF = "v=spf1 include:amazonses.com ~all"
# Monitoring only: the copies postmask forwards pass DMARC through Easy DKIM and the custom MAIL FROM, but the
# owner may send from the domain elsewhere too; they tighten the policy once reports show nothing legitimate fails.
DMARC = "v=DMARC1; p=none"


@dataclass(frozen=True)
class RecordStatuses:
    """SES's verdicts on the records it checks; None where it reports none."""

    dkim: VerificationStatus | None = None
    mail_from: VerificationStatus | None = None


def inbound_endpoint(region: str) -> str:
    return f"inbound-smtp.{region}.amazonaws.com"


def feedback_endpoint(region: str) -> str:
    """Where the custom MAIL FROM domain's MX points: SES's feedback servers in the stack's region."""
    return f"feedback-smtp.{region}.amazonses.com"


def dmarc_value(report_address: str | None) -> str:
    """The DMARC record, with the reports' `rua` when there is an address. RFC 7489 section 6.4: a URI's `,` and
    `!` must be escaped (they separate URIs and a size limit), and `;` ends the tag: the mailto is percent-encoded."""
    if not report_address:
        return DMARC
    return f"{DMARC}; rua=mailto:{quote(report_address, safe='@+')}"


def _mx(name: str, value: str, purpose: str, *, status: VerificationStatus | None = None) -> DnsRecord:
    return DnsRecord(type="MX", name=name, value=value, priority=MX_PRIORITY, purpose=purpose, status=status)


def records_for(
    domain: str,
    dkim_tokens: Sequence[str],
    region: str,
    *,
    mail_from_domain: str | None = None,
    dmarc_report_address: str | None = None,
    statuses: RecordStatuses = RecordStatuses(),
) -> list[DnsRecord]:
    """MX (receiving), one CNAME per Easy DKIM token (SES issues three), the custom MAIL FROM's MX and SPF (when
    the domain has one) and DMARC, each with SES's status where SES checks it."""
    records = [
        _mx(
            domain,
            inbound_endpoint(region),
            f"Receiving: mail for any address @{domain} goes to Amazon SES in {region}, which hands it to "
            "postmask. Replace any other MX record of the domain.",
        ),
    ]
    for number, token in enumerate(dkim_tokens, start=1):
        records.append(
            DnsRecord(
                type="CNAME",
                name=f"{token}._domainkey.{domain}",
                value=f"{token}.dkim.amazonses.com",
                purpose=f"DKIM key {number} of {len(dkim_tokens)}: lets receivers check the signature SES puts on "
                "mail it forwards from this domain. SES marks the domain verified once all of them resolve.",
                status=statuses.dkim,
            )
        )
    if mail_from_domain:
        records += [
            _mx(
                mail_from_domain,
                feedback_endpoint(region),
                f"MAIL FROM: forwarded copies leave with an envelope sender @{mail_from_domain}, so SPF checks "
                "this domain's own record and aligns with the From. Receivers send bounces here; SES uses it once "
                "it finds this record (until then, and if it goes, mail still goes out from SES's own "
                "amazonses.com, passing DMARC by DKIM alone). Receive no other mail here.",
                status=statuses.mail_from,
            ),
            DnsRecord(
                type="TXT",
                name=mail_from_domain,
                value=SPF,
                purpose=f"SPF for the MAIL FROM domain: says Amazon SES may send with an envelope sender "
                f"@{mail_from_domain}. It stands apart from any SPF record of {domain} itself. SES checks only "
                "the MX above (no status here): publish both, or receivers see SPF fail.",
            ),
        ]
    records.append(
        DnsRecord(
            type="TXT",
            name=f"_dmarc.{domain}",
            value=dmarc_value(dmarc_report_address),
            purpose="DMARC (recommended): tells receivers how to treat mail that claims to come from this domain "
            "but passes neither DKIM nor SPF aligned (p=none: deliver it, only report)"
            + (f", and to send daily reports to {dmarc_report_address}." if dmarc_report_address else ".")
            + " Large mailbox providers expect one.",
        )
    )
    return records
