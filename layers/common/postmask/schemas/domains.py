"""The models of /api/domains: a domain, its DNS records and verification, what creates and changes one."""

from typing import Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from postmask.schemas.common import DomainName, Email, Model, RequestModel, Timestamp

_DMARC_REPORT_ADDRESS = (
    "Where receivers send their daily DMARC reports (the DMARC record's `rua`); null: no reports. postmask sends "
    "nothing there: it only writes the address into the DMARC record it lists. An address on another domain "
    "receives reports only if that domain allows it (RFC 7489 section 7.1)."
)


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
    dmarc_report_address: Email | None = Field(
        default=None, description=_DMARC_REPORT_ADDRESS, examples=["dmarc-reports@example.org"]
    )

    @field_validator("name")
    @classmethod
    def _not_a_public_suffix(cls, name: str) -> str:
        from postmask.public_suffix import is_public_suffix  # here: only registering pays for the list (~50 ms)

        if is_public_suffix(name):
            raise ValueError(f"{name} is a public suffix, under which anyone registers names: register your own")
        return name


class DomainUpdate(RequestModel):
    """Any subset of the fields, at least one: a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    catch_all_destination: Email | None = Field(
        default=None, description="Set an address, or null to drop unknown mail; absent: unchanged"
    )
    dmarc_report_address: Email | None = Field(default=None, description=_DMARC_REPORT_ADDRESS + " Absent: unchanged.")

    def changes(self) -> dict[str, str | None]:
        """Only the fields the client sent."""
        return self.model_dump(include=self.model_fields_set)

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Give catch_all_destination, dmarc_report_address or both")
        return self


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
    # Absent where SES reports nothing on the record (the inbound MX, DMARC, a page of GET /api/domains for the
    # MAIL FROM's MX, SPF): SES checks only the DKIM CNAMEs and the MAIL FROM's MX (decision 0085).
    status: VerificationStatus | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Amazon SES's current verdict on this record, where SES checks it: the DKIM CNAMEs (all "
        "three together) and the custom MAIL FROM's MX",
    )


class Domain(Model):
    name: str
    created_at: Timestamp
    alias_count: int = Field(ge=0)
    catch_all_destination: str | None
    dmarc_report_address: str | None = Field(default=None, description=_DMARC_REPORT_ADDRESS)
    verification: DomainVerification
    dns_records: list[DnsRecord] = Field(
        description="Every record to publish for mail to flow through Amazon SES: MX, 3 DKIM CNAMEs, the custom MAIL "
        "FROM's MX and SPF TXT, DMARC"
    )


class DomainList(Model):
    items: list[Domain]
    next_token: str | None = Field(description="Pass as `next_token` for the next page; null on the last page")
