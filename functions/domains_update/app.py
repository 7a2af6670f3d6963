"""PATCH /api/domains/{domain}: set or clear the catch-all destination and the DMARC report address (only the
version read, with If-Match)."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IfMatch,
    Path,
    Response,
    api_host,
    caller_id,
    errors,
    install,
    observed,
    tagged,
)
from postmask.schemas.common import DomainInPath
from postmask.schemas.domains import Domain, DomainUpdate
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/domains/<domain>",
    tags=["Domains"],
    operation_id="updateDomain",
    summary="Set or clear the catch-all destination or the DMARC report address",
    security=BEARER,
    responses=errors(401, 404, 412, 415, 422, etag=True),
)
def update_domain(
    domain: Annotated[DomainInPath, Path()], body: DomainUpdate, if_match: IfMatch = None
) -> Response[Domain]:
    changed = mail_domains.update(
        caller_id(app), domain, body.changes(), api_host=api_host(app), expected=parse_if_match(if_match)
    )
    return tagged(changed.value, changed.version)


lambda_handler = observed(app)
