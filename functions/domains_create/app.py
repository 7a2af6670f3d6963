"""POST /api/domains: register a domain you own (and create its Amazon SES identity)."""

from postmask import mail_domains
from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Response,
    api_host,
    caller_id,
    content_types,
    errors,
    install,
    observed,
)
from postmask.schemas.domains import Domain, DomainCreate

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/domains",
    tags=["Domains"],
    operation_id="createDomain",
    summary="Register a domain",
    security=BEARER,
    responses=errors(401, 409, 415, 422, success=(201, "Registered"), location="The domain: `/api/domains/{name}`"),
)
def create_domain(body: DomainCreate, idempotency_key: IdempotencyKey = None) -> Response[Domain]:
    domain = mail_domains.register(
        caller_id(app),
        body.name,
        body.catch_all_destination,
        dmarc_report_address=body.dmarc_report_address,
        api_host=api_host(app),
    )
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=domain,
        headers={"Location": f"/api/domains/{domain.name}"},
    )


lambda_handler = observed(app, idempotent=True)
