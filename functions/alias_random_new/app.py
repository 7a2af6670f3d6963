"""POST /api/alias/random/new: SimpleLogin's "new random alias", for Bitwarden's generator and SimpleLogin's clients.

Authenticated by `Authentication: <token>` (SimpleLogin's header; the authorizer reads it on this route only) or
`Authorization: Bearer <token>`; answers and errors in SimpleLogin's shapes (postmask.compatible, decision 0003).
"""

from typing import Annotated, Literal

from postmask import compatible
from postmask.api import (
    ALIASES_CREATE_SCOPE,
    SIMPLELOGIN_KEY_OR_BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Query,
    Response,
    api_host,
    caller_id,
    content_types,
    errors,
    install,
    observed,
)
from postmask.schemas.compatible import SimpleLoginAlias, SimpleLoginAliasCreate, SimpleLoginError, SimpleLoginRefusal

app = APIGatewayHttpResolver(enable_validation=True)
install(app)

Mode = Annotated[
    Literal["uuid", "word"] | None,
    Query(description="SimpleLogin's `word` (words: `quiet.river427`) or `uuid` (random characters); omitted: yours"),
]
Hostname = Annotated[
    str | None,
    Query(max_length=2048, description="The website the alias is for (its registrable domain becomes the `site`)"),
]


@app.post(
    "/api/alias/random/new",
    tags=["Compatible"],
    operation_id="createSimpleLoginRandomAlias",
    summary="Create an alias, as SimpleLogin's API does (Bitwarden: SimpleLogin)",
    description="On your default domain for new aliases, forwarding to your default destinations (`PATCH /api/me`).",
    security=SIMPLELOGIN_KEY_OR_BEARER,
    responses=errors(
        401,
        403,
        404,
        409,
        415,
        422,
        429,
        success=(201, "Created"),
        model=SimpleLoginError,
        gateway_model=SimpleLoginRefusal,
    ),
)
def create_random_alias(
    body: SimpleLoginAliasCreate | None = None,
    hostname: Hostname = None,
    mode: Mode = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[SimpleLoginAlias]:
    user_id = caller_id(app)
    note = body.note if body is not None else None  # SimpleLogin's clients may send no body at all
    alias = compatible.create_alias(user_id, note=note, hostname=hostname, format_=mode, api_host=api_host(app))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=compatible.simplelogin_alias(user_id, alias),
    )


lambda_handler = observed(app, idempotent=True, scope=ALIASES_CREATE_SCOPE, error_shape=compatible.simplelogin_error)
