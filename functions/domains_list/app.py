"""GET /api/domains: the caller's domains, by name."""

from typing import Annotated

from postmask import mail_domains
from postmask.api import BEARER, APIGatewayHttpResolver, Limit, NextToken, Query, caller_id, errors, install, observed
from postmask.schemas.domains import DomainList

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get(
    "/api/domains",
    tags=["Domains"],
    operation_id="listDomains",
    summary="List your domains",
    security=BEARER,
    responses=errors(400, 401, 422),
)
def list_domains(
    name: Annotated[str | None, Query(max_length=253, description="Substring of the domain name")] = None,
    limit: Limit = 50,
    next_token: NextToken = None,
) -> DomainList:
    return mail_domains.list_page(caller_id(app), name_contains=name, limit=limit, next_token=next_token)


lambda_handler = observed(app)
