"""DELETE /api/domains/{domain}: forget a domain that has no aliases left."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Path, Response, caller_id, errors, install, observed
from postmask.schemas.common import DomainInPath

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/domains/<domain>",
    tags=["Domains"],
    operation_id="deleteDomain",
    summary="Delete a domain without aliases",
    security=BEARER,
    responses=errors(401, 404, 409, 422, success=(204, "Deleted")),
)
def delete_domain(domain: Annotated[DomainInPath, Path()]) -> Response[None]:
    mail_domains.delete(caller_id(app), domain)
    return Response(status_code=204)


lambda_handler = observed(app)
