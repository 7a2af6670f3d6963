"""PATCH /api/domains/{domain}: set or clear the catch-all destination."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Path, api_host, caller_id, errors, install, observed
from postmask.schemas.common import DomainInPath
from postmask.schemas.domains import Domain, DomainUpdate

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.patch(
    "/api/domains/<domain>",
    tags=["Domains"],
    operation_id="updateDomain",
    summary="Set or clear the catch-all destination",
    security=BEARER,
    responses=errors(401, 404, 415, 422),
)
def update_domain(domain: Annotated[DomainInPath, Path()], body: DomainUpdate) -> Domain:
    return mail_domains.set_catch_all(caller_id(app), domain, body.catch_all_destination, api_host=api_host(app))


lambda_handler = observed(app)
