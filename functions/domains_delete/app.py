"""DELETE /api/domains/{domain}: forget a domain that has no aliases left."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, IfMatch, Path, Response, caller_id, errors, install, observed
from postmask.schemas.common import DomainInPath
from postmask.versions import parse_if_match

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/domains/<domain>",
    tags=["Domains"],
    operation_id="deleteDomain",
    summary="Delete a domain without aliases",
    security=BEARER,
    responses=errors(401, 404, 409, 412, 422, success=(204, "Deleted")),
)
def delete_domain(domain: Annotated[DomainInPath, Path()], if_match: IfMatch = None) -> Response[None]:
    mail_domains.delete(caller_id(app), domain, expected=parse_if_match(if_match))
    return Response(status_code=204)


lambda_handler = observed(app)
