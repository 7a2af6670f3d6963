"""POST /api/v1/aliases: addy.io's "create an alias", for Bitwarden's generator and addy.io's clients.

`Authorization: Bearer <token>`; answers and errors in addy.io's shapes (postmask.compatible, decision 0003).
"""

from postmask import compatible
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
from postmask.schemas.compatible import AddyAliasCreate, AddyAliasCreated, AddyError

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/v1/aliases",
    tags=["Compatible"],
    operation_id="createAddyAlias",
    summary="Create an alias, as addy.io's API does (Bitwarden: addy.io)",
    description="On `domain` (one of yours) or your default domain for new aliases, forwarding to your default "
    "destinations (`PATCH /api/me`).",
    security=BEARER,
    responses=errors(
        401, 403, 404, 409, 415, 422, 429, success=(201, "Created"), model=AddyError, gateway_model=AddyError
    ),
)
def create_addy_alias(body: AddyAliasCreate, idempotency_key: IdempotencyKey = None) -> Response[AddyAliasCreated]:
    user_id = caller_id(app)
    alias = compatible.create_alias(
        user_id,
        note=body.description,
        domain=body.domain,
        format_=body.format,
        local_part=body.local_part,
        api_host=api_host(app),
    )
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body=compatible.addy_alias(user_id, alias)
    )


lambda_handler = observed(app, idempotent=True, scope=ALIASES_CREATE_SCOPE, error_shape=compatible.addy_error)
