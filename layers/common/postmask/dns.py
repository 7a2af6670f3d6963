"""The DNS records a domain's owner publishes so that mail flows through Amazon SES, each with its purpose."""

from __future__ import annotations

from collections.abc import Sequence

from postmask.schemas.domains import DnsRecord

MX_PRIORITY = 10
SPF = "v=spf1 include:amazonses.com ~all"
# Monitoring only: the copies postmask forwards pass DMARC through Easy DKIM, but the owner may send from the
# domain elsewhere too; they can tighten the policy once reports show nothing legitimate fails.
DMARC = "v=DMARC1; p=none"


def inbound_endpoint(region: str) -> str:
    return f"inbound-smtp.{region}.amazonaws.com"


def records_for(domain: str, dkim_tokens: Sequence[str], region: str) -> list[DnsRecord]:
    """MX (receiving), SPF, one CNAME per Easy DKIM token (SES issues three) and DMARC."""
    records = [
        DnsRecord(
            type="MX",
            name=domain,
            value=inbound_endpoint(region),
            priority=MX_PRIORITY,
            purpose=f"Receiving: mail for any address @{domain} goes to Amazon SES in {region}, which hands it to "
            "postmask. Replace any other MX record of the domain.",
        ),
        DnsRecord(
            type="TXT",
            name=domain,
            value=SPF,
            purpose="SPF: says Amazon SES may send mail for this domain. If the domain already has a TXT record "
            'starting with "v=spf1", add "include:amazonses.com" to it instead of publishing a second one.',
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
            )
        )
    records.append(
        DnsRecord(
            type="TXT",
            name=f"_dmarc.{domain}",
            value=DMARC,
            purpose="DMARC: tells receivers how to treat mail that claims to come from this domain but fails "
            "DKIM and SPF (p=none: deliver it, only report). Large mailbox providers expect one.",
        )
    )
    return records
