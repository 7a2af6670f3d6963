"""The models of /api/domains: a domain, its DNS records and verification, what creates and changes one."""

from typing import Literal

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from postmask.schemas.common import DomainName, Email, Model, RequestModel, Timestamp


class DomainCreate(RequestModel):
    name: DomainName = Field(
        description=(
            "A domain you own, stored in lower case (an internationalised name in its punycode form). Not a "
            "public suffix (`co.uk`, `github.io`: the Public Suffix List), which no one owns."
        ),
        examples=["example.org"],
    )
    catch_all_destination: Email | None = Field(
        default=None, description="Where mail to unknown addresses on this domain goes; null drops it"
    )

    @field_validator("name")
    @classmethod
    def _not_a_public_suffix(cls, name: str) -> str:
        from postmask.public_suffix import is_public_suffix  # here: only registering pays for the list (~50 ms)

        if is_public_suffix(name):
            raise ValueError(f"{name} is a public suffix, under which anyone registers names: register your own")
        return name


class DomainUpdate(RequestModel):
    catch_all_destination: Email | None = Field(description="Set an address, or null to drop unknown mail")


VerificationStatus = Literal["pending", "verified", "failed"]


class DomainVerification(Model):
    status: VerificationStatus = Field(
        description="Amazon SES's verdict on the domain's DKIM records: `verified` once they resolve; mail is "
        "forwarded only from a verified domain"
    )


class DnsRecord(Model):
    type: Literal["MX", "TXT", "CNAME"]
    name: str = Field(description="The fully qualified name to publish the record at", examples=["alice.example"])
    value: str
    # Absent rather than null on records other than MX, so the document says "integer" only.
    priority: int | SkipJsonSchema[None] = Field(
        default=None, exclude_if=lambda value: value is None, description="MX records only", examples=[10]
    )
    purpose: str = Field(description="What the record is for, in plain words")


class Domain(Model):
    name: str
    created_at: Timestamp
    alias_count: int = Field(ge=0)
    catch_all_destination: str | None
    verification: DomainVerification
    dns_records: list[DnsRecord] = Field(
        description="Every record to publish for mail to flow through Amazon SES: MX, SPF, 3 DKIM CNAMEs, DMARC"
    )


class DomainList(Model):
    items: list[Domain]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")
