"""What the forwarder hands to SES, byte for byte: a recorder on the SESv2 client's `before-call` event.

It reads the request body exactly as it would go over the wire (the streamed JSON included), decodes the raw
message out of it, and answers like SES accepting it, or with an error a test queued. With `pass_through`,
the request goes on to moto's SES (which needs a verified identity and UTF-8 content).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto.core.botocore_stubber import MockRawResponse

from postmask.mail.message import RawMessage


@dataclass(frozen=True)
class SentMail:
    sender: str
    destinations: list[str]
    raw: bytes
    configuration_set: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> RawMessage:
        return RawMessage.parse(self.raw)

    @property
    def body(self) -> bytes:
        return bytes(self.message.body)

    def header(self, name: str) -> str | None:
        found = self.message.first(name)
        return found.text() if found is not None else None

    def headers(self, name: str) -> list[str]:
        return [f.text() for f in self.message.fields if f.key == name.lower()]

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, address) pairs of a header, decoded."""
        value = self.header(name)
        return getaddresses([value]) if value is not None else []


@dataclass
class SesRecorder:
    """`sent`: forwarded copies and replies; `system`: postmask's own mail (postmask.system_mail, its
    `postmask-mail` tag names a template), so that a test about forwarding sees only what was forwarded."""

    pass_through: bool = False
    sent: list[SentMail] = field(default_factory=list)
    system: list[SentMail] = field(default_factory=list)
    _errors: list[tuple[int, str, str]] = field(default_factory=list)

    def fail_next(self, status: int, code: str, message: str) -> None:
        """The next SendEmail gets this error response instead of being sent."""
        self._errors.append((status, code, message))

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """botocore `before-call`, after postmask.ses swapped in the streamed body: a response here is the
        call's response (the request is not made), None lets it go on to moto."""
        body = params["body"]
        wire = body.read() if hasattr(body, "read") else body
        if hasattr(body, "seek"):
            body.seek(0)
            assert len(body) == len(wire), "the length botocore sends as Content-Length must be the body's"
        if self._errors:
            status, code, message = self._errors.pop(0)
            error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return AWSResponse(params["url"], status, HTTPHeaders(), MockRawResponse(b"")), error
        request = json.loads(wire)
        kind = next((tag["Value"] for tag in request.get("EmailTags", []) if tag["Name"] == "postmask-mail"), None)
        (self.sent if kind in (None, "forward", "reply") else self.system).append(
            SentMail(
                sender=request["FromEmailAddress"],
                destinations=request["Destination"]["ToAddresses"],
                raw=base64.b64decode(request["Content"]["Raw"]["Data"], validate=True),
                configuration_set=request.get("ConfigurationSetName"),
                tags={tag["Name"]: tag["Value"] for tag in request.get("EmailTags", [])},
            )
        )
        if self.pass_through:
            return None
        answer = {
            "MessageId": f"recorded-{len(self.sent) + len(self.system)}",
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse(params["url"], 200, HTTPHeaders(), MockRawResponse(b"")), answer

    def install(self, client: Any) -> SesRecorder:
        client.meta.events.register_last("before-call.sesv2.SendEmail", self)
        return self

    def to(self, destination: str) -> list[SentMail]:
        return [mail for mail in self.sent if destination in mail.destinations]

    def system_to(self, destination: str) -> list[SentMail]:
        return [mail for mail in self.system if destination in mail.destinations]


def ses_says(domain: str, status: str, *, region: str = "eu-west-1") -> None:
    """Play SES's own DNS check on moto's identity: PENDING until the DKIM records resolve, then SUCCESS or
    FAILED."""
    from moto.ses.models import ses_backends

    ses_backends["123456789012"][region].email_identities[domain].verification_status = status


def mail_from_says(domain: str, status: str, *, region: str = "eu-west-1") -> None:
    """Play SES's own check of the custom MAIL FROM's MX on moto's identity (local/ses.py keeps its attributes):
    PENDING before SES looked, SUCCESS once it found it, FAILED when it is missing or went."""
    from moto.ses.models import ses_backends

    identity: Any = ses_backends["123456789012"][region].email_identities[domain]  # local/ses.py adds the attribute
    identity.mail_from_attributes = {**identity.mail_from_attributes, "MailFromDomainStatus": status}
