"""GET /api/domains/{domain}: one of the caller's domains, with its ETag."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Path, Response, caller_id, errors, install, observed, tagged
from postmask.schemas.common import DomainInPath
from postmask.schemas.domains import Domain

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/domains/<domain>",
    tags=["Domains"],
    operation_id="getDomain",
    summary="Get a domain",
    security=BEARER,
    responses=errors(401, 404, 422, etag=True),
)
def get_domain(domain: Annotated[DomainInPath, Path()]) -> Response[Domain]:
    found = mail_domains.read(caller_id(app), domain)
    return tagged(found.value, found.version)


lambda_handler = observed(app)
