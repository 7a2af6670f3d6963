"""DELETE /api/admin/domains/{domain}: an admin removes any user's domain, its aliases and its SES identity."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Path, Response, errors, install, observed, require_admin
from postmask.schemas.common import DomainInPath

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/admin/domains/<domain>",
    tags=["Domains"],
    operation_id="adminRemoveDomain",
    summary="Remove any user's domain, with its aliases (admins only)",
    description=(
        "Removes the domain whoever registered it: its aliases (their addresses stop receiving mail), its catch-all "
        "and the Amazon SES identity postmask created for it. A domain with very many aliases may need the request "
        "repeated (409 until the last alias is gone)."
    ),
    security=BEARER,
    responses=errors(401, 403, 404, 409, 422, success=(204, "Removed")),
)
def remove_domain(domain: Annotated[DomainInPath, Path()]) -> Response[None]:
    require_admin(app)
    mail_domains.remove(domain)
    return Response(status_code=204)


lambda_handler = observed(app)
