"""DELETE /api/tokens/{token_id}: revoke one of the caller's tokens; it stops working."""

from postmask.api import BEARER, APIGatewayHttpResolver, Response, caller_id, errors, install, observed
from postmask.store import tokens

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.delete(
    "/api/tokens/<token_id>",
    tags=["Tokens"],
    operation_id="deleteToken",
    summary="Revoke an API token",
    security=BEARER,
    responses=errors(401, 404, success=(204, "Revoked")),
)
def delete_token(token_id: str) -> Response[None]:
    tokens.revoke(caller_id(app), token_id)
    return Response(status_code=204)


lambda_handler = observed(app)
