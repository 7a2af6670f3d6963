"""POST /api/aliases: a new alias on one of the caller's domains."""

from postmask import verification
from postmask.api import (
    ALIASES_CREATE_SCOPE,
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
from postmask.observability import metrics
from postmask.schemas.aliases import Alias, AliasCreate
from postmask.store import aliases

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/aliases",
    tags=["Aliases"],
    operation_id="createAlias",
    summary="Create an alias",
    security=BEARER,
    responses=errors(
        401, 403, 404, 409, 415, 422, success=(201, "Created"), location="The new alias: `/api/aliases/{id}`"
    ),
)
def create_alias(body: AliasCreate, idempotency_key: IdempotencyKey = None) -> Response[Alias]:
    alias = verification.mailed(aliases.create(caller_id(app), body), api_host=api_host(app))
    metrics.add_metric(name="AliasCreated", unit="Count", value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=alias,
        headers={"Location": f"/api/aliases/{alias.id}"},
    )


lambda_handler = observed(app, idempotent=True, scope=ALIASES_CREATE_SCOPE)  # password managers' tokens too
