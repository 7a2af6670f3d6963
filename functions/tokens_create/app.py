"""POST /api/tokens: a new API token for the caller; the secret is in this response only."""

from postmask.api import (
    BEARER,
    APIGatewayHttpResolver,
    IdempotencyKey,
    Response,
    caller,
    content_types,
    errors,
    install,
    observed,
)
from postmask.schemas.tokens import TokenCreate, TokenCreated
from postmask.store import tokens

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/tokens",
    tags=["Tokens"],
    operation_id="createToken",
    summary="Create an API token",
    security=BEARER,
    responses=errors(401, 409, 415, 422, success=(201, "Created")),
)
def create_token(body: TokenCreate, idempotency_key: IdempotencyKey = None) -> Response[TokenCreated]:
    created = tokens.create(caller(app), body.name, body.expires_at, body.scope)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


lambda_handler = observed(app, idempotent=True)
