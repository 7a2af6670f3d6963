"""GET /api/domains/{domain}: one of the caller's domains."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Path, caller_id, errors, install, observed
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
    responses=errors(401, 404, 422),
)
def get_domain(domain: Annotated[DomainInPath, Path()]) -> Domain:
    return mail_domains.get(caller_id(app), domain)


lambda_handler = observed(app)
